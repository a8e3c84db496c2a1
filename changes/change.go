// Package changes keeps change markers: deploys, config pushes and
// feature-flag flips that teams report (PagerDuty's Change Events), so an
// incident can answer "what changed?" with the changes to its services in
// the hours before it started.
//
// The package declares the store it needs (Store); the store package
// implements it. Changes older than Retention are pruned.
package changes

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sentinel-oss/sentinel/model"
)

// Kind is what sort of change it was.
type Kind string

// The kinds a change may have.
const (
	KindDeploy      Kind = "deploy"
	KindConfig      Kind = "config"
	KindFeatureFlag Kind = "feature_flag"
	KindOther       Kind = "other"
)

// Change is one change marker as stored.
type Change struct {
	ID      int64        `json:"id"`
	Service string       `json:"service"`
	Title   string       `json:"title"`
	Kind    Kind         `json:"kind"`
	URL     string       `json:"url,omitempty"`
	At      time.Time    `json:"at"`
	Labels  model.Labels `json:"labels"`
	// RecordedAt and RecordedBy are when and by whom (the token's name)
	// it was reported.
	RecordedAt time.Time `json:"recorded_at"`
	RecordedBy string    `json:"recorded_by"`
}

// NewChange is a change as a client reports it; At defaults to now and Kind to
// other.
type NewChange struct {
	Service string `json:"service"`
	Title   string `json:"title"`
	Kind    Kind   `json:"kind"`
	URL     string `json:"url"`
	// At is an RFC 3339 time; empty means now.
	At     string       `json:"at"`
	Labels model.Labels `json:"labels"`
}

// Limits on what a change may hold and how long changes are kept.
const (
	MaxService = 100
	MaxTitle   = 200
	MaxURL     = 2000
	MaxLabels  = 32
	// Retention is how long a change is kept after it happened.
	Retention = 90 * 24 * time.Hour
	// MaxFuture is how far ahead of the clock a change may be dated (a
	// client's clock may run a little fast).
	MaxFuture = 5 * time.Minute
)

// ErrInvalid is a change or query that must change: 400.
var ErrInvalid = model.NewKindError(model.KindInvalid, "invalid change")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// plainText names what is wrong with a one-line field.
func plainText(field, s string, max int) error {
	if p := model.TextProblem(field, s, max, false); p != "" {
		return invalid("%s", p)
	}
	return nil
}

// Check validates n against now and returns the change to store (without
// its ID and recorder). Errors name the field.
func (n NewChange) Check(now time.Time) (Change, error) {
	if err := plainText("service", n.Service, MaxService); err != nil {
		return Change{}, err
	}
	if err := plainText("title", n.Title, MaxTitle); err != nil {
		return Change{}, err
	}
	kind := n.Kind
	switch kind {
	case "":
		kind = KindOther
	case KindDeploy, KindConfig, KindFeatureFlag, KindOther:
	default:
		return Change{}, invalid("kind must be deploy, config, feature_flag or other, got %q", model.Clip(string(kind), 40))
	}
	if n.URL != "" {
		u, err := url.Parse(n.URL)
		switch {
		case len(n.URL) > MaxURL:
			return Change{}, invalid("url is longer than %d characters", MaxURL)
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return Change{}, invalid("url must be an absolute http or https URL")
		}
	}
	at := now
	if n.At != "" {
		t, err := time.Parse(time.RFC3339, n.At)
		if err != nil {
			return Change{}, invalid("at must be an RFC 3339 time such as 2026-03-25T09:48:00Z, got %q", model.Clip(n.At, 40))
		}
		at = t
		switch {
		case at.After(now.Add(MaxFuture)):
			return Change{}, invalid("at is more than %s in the future", MaxFuture)
		case at.Before(now.Add(-Retention)):
			return Change{}, invalid("at is older than the %d days changes are kept", int(Retention.Hours()/24))
		}
	}
	if len(n.Labels) > MaxLabels {
		return Change{}, invalid("labels: at most %d", MaxLabels)
	}
	for k, v := range n.Labels {
		if k == "" || len(k) > 100 || len(v) > 1000 || !utf8.ValidString(k) || !utf8.ValidString(v) || strings.ContainsAny(k, "=,{}\" \n") {
			return Change{}, invalid("labels: invalid label %q", model.Clip(k, 40))
		}
	}
	return Change{
		Service: strings.TrimSpace(n.Service), Title: strings.TrimSpace(n.Title), Kind: kind, URL: n.URL,
		At: at.UTC(), Labels: n.Labels.Clone(),
	}, nil
}

// Words says a change as pages show it beside an incident that started
// at start: "deploy checkout: v42, 12 min before".
func (c Change) Words(start time.Time) string {
	d := start.Sub(c.At)
	when := model.SpokenDuration(d) + " before"
	if d < time.Minute {
		when = "just before"
	}
	return fmt.Sprintf("%s %s: %s, %s", strings.ReplaceAll(string(c.Kind), "_", " "), c.Service, c.Title, when)
}
