package config

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sentinel-oss/sentinel/model"
)

// StatusPage is the status_page: section: the public page shoppers and
// merchants read at /status, without signing in.
type StatusPage struct {
	// Enabled serves /status and its feeds, JSON and badges; when false
	// they answer 404.
	Enabled bool `yaml:"enabled"`
	// Title heads the page and names it in the feeds and JSON.
	Title string `yaml:"title"`
	// LogoURL is an http(s) image shown beside the title; its origin is
	// added to the page's img-src.
	LogoURL string `yaml:"logo_url"`
	// Components are what the page reports on, in this order; each
	// follows one probe, one SLO or one service.
	Components []StatusComponent `yaml:"components"`
	// History is how many days the uptime bars show and the store keeps,
	// in whole days.
	History model.Duration `yaml:"history"`
	// RateLimit bounds requests per client IP across the page's paths.
	RateLimit StatusRateLimit `yaml:"rate_limit"`
}

// StatusComponent is one line of the status page; exactly one of Probe,
// SLO and Service is set.
type StatusComponent struct {
	// Name is what the public reads ("Checkout"); the component's ID in
	// URLs and JSON is derived from it (see ID).
	Name string `yaml:"name"`
	// Description is an optional sentence under the name.
	Description string `yaml:"description"`
	// Probe names the probe whose state the component follows.
	Probe string `yaml:"probe"`
	// SLO names the SLO whose burn the component follows.
	SLO string `yaml:"slo"`
	// Service follows every probe labelled service: NAME and every SLO
	// of that service, the worst of them.
	Service string `yaml:"service"`
}

// StatusRateLimit is a token bucket per client IP.
type StatusRateLimit struct {
	// PerIP is requests per second per client IP.
	PerIP float64 `yaml:"per_ip"`
	// PerIPBurst is how many requests one IP may make at once.
	PerIPBurst int `yaml:"per_ip_burst"`
	// TrackedIPs bounds the buckets kept; the least recently used are
	// forgotten first.
	TrackedIPs int `yaml:"tracked_ips"`
}

// Limits of the status_page: section.
const (
	MaxStatusComponents      = 100
	maxStatusTitle           = 100
	maxStatusComponentName   = 100
	maxStatusComponentDetail = 1000
	maxStatusHistory         = 366 * 24 * time.Hour
)

// DefaultStatusPage is the section's defaults: off, 90 days of history,
// 10 requests a second per IP with bursts of 30.
func DefaultStatusPage() StatusPage {
	return StatusPage{
		Title:     "Service status",
		History:   model.Duration(90 * 24 * time.Hour),
		RateLimit: StatusRateLimit{PerIP: 10, PerIPBurst: 30, TrackedIPs: 65536},
	}
}

// HistoryDays is History in whole days.
func (s StatusPage) HistoryDays() int { return int(s.History.Std() / (24 * time.Hour)) }

// Source names what the component follows: "probe", "slo" or "service",
// and the name.
func (c StatusComponent) Source() (kind, name string) {
	switch {
	case c.Probe != "":
		return "probe", c.Probe
	case c.SLO != "":
		return "slo", c.SLO
	case c.Service != "":
		return "service", c.Service
	}
	return "", ""
}

// ID is the component's identifier in URLs and JSON: its name in lower
// case, with every run of other characters than letters and digits turned
// into one hyphen ("Checkout & Payments" is checkout-payments). Renaming
// a component therefore starts its history afresh.
func (c StatusComponent) ID() string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(c.Name) {
		// A few letters are upper case with no lower form (U+03D3 ϓ): they
		// separate like punctuation, so an ID is lower case throughout.
		if (unicode.IsLetter(r) || unicode.IsDigit(r)) && !unicode.IsUpper(r) {
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
			continue
		}
		hyphen = true
	}
	return b.String()
}

// Validate reports every problem in the section that needs nothing else
// (whether probes and SLOs exist is checked where the page is built).
func (s StatusPage) Validate(path string) Problems {
	var ps Problems
	if strings.TrimSpace(s.Title) == "" {
		ps.Add(JoinPath(path, "title"), "must not be empty")
	} else if msg := plainText(s.Title, maxStatusTitle); msg != "" {
		ps.Add(JoinPath(path, "title"), "%s", msg)
	}
	if s.LogoURL != "" {
		CheckURL(&ps, JoinPath(path, "logo_url"), s.LogoURL, "https", "http")
	}
	h := s.History.Std()
	if h < 24*time.Hour || h > maxStatusHistory || h%(24*time.Hour) != 0 {
		ps.Add(JoinPath(path, "history"), "must be whole days from 1d to 366d, got %s", s.History)
	}
	if len(s.Components) > MaxStatusComponents {
		ps.Add(JoinPath(path, "components"), "at most %d components (got %d)", MaxStatusComponents, len(s.Components))
	}
	ids := map[string]int{}
	for i, c := range s.Components {
		p := fmt.Sprintf("%s.components[%d]", path, i)
		switch {
		case strings.TrimSpace(c.Name) == "":
			ps.Add(JoinPath(p, "name"), "must not be empty")
		case plainText(c.Name, maxStatusComponentName) != "":
			ps.Add(JoinPath(p, "name"), "%s", plainText(c.Name, maxStatusComponentName))
		case c.ID() == "":
			ps.Add(JoinPath(p, "name"), "must hold a letter or a digit (the component's ID is made of them)")
		default:
			if j, dup := ids[c.ID()]; dup {
				ps.Add(JoinPath(p, "name"), "%q has the same ID %q as components[%d]; names must differ in more than case and punctuation", c.Name, c.ID(), j)
			} else {
				ids[c.ID()] = i
			}
		}
		if msg := plainText(c.Description, maxStatusComponentDetail); msg != "" {
			ps.Add(JoinPath(p, "description"), "%s", msg)
		}
		set := 0
		for _, v := range []string{c.Probe, c.SLO, c.Service} {
			if v != "" {
				set++
			}
		}
		if set != 1 {
			ps.Add(p, "set exactly one of probe, slo and service (got %d)", set)
		}
	}
	rl := s.RateLimit
	checkBucket(&ps, JoinPath(path, "rate_limit"), "per_ip", rl.PerIP, rl.PerIPBurst, rl.TrackedIPs)
	return ps
}

// plainText says what is wrong with text shown to the public: too long,
// or holding control characters; "" when it is fine.
func plainText(s string, max int) string {
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Sprintf("longer than %d characters (%d)", max, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Sprintf("holds the control character %U", r)
		}
	}
	return ""
}
