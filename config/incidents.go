package config

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sentinel-oss/sentinel/model"
)

// Person is someone Sentinel can page, named once under people: and referred
// to by name everywhere else.
type Person struct {
	// Name is how schedules, policies and overrides refer to the person.
	Name string `yaml:"name"`
	// Email is where the email pager writes; Slack looks the person up by it
	// when SlackID is empty.
	Email string `yaml:"email"`
	// SlackID is the Slack member ID (U024BE7LH); optional.
	SlackID string `yaml:"slack_id"`
	// OIDCSubject is the person's subject (sub claim) at the single
	// sign-on provider, for auth.oidc.person_claim: subject.
	OIDCSubject string `yaml:"oidc_subject"`
	// Role is what the person may do when acting through Slack or a
	// dashboard sign-in: viewer, responder or admin. Empty means responder
	// for people on a schedule or an escalation policy, else viewer
	// (PersonRoles).
	Role Role `yaml:"role"`
}

// Incidents is the incidents: section: how alerts become incidents and how
// pages are delivered.
type Incidents struct {
	// GroupBy are the label names whose values group Sentinel's own alerts
	// into one incident (service=checkout).
	GroupBy []string `yaml:"group_by"`
	// ReopenWindow is how long after resolving an incident the same dedup
	// key reopens it instead of opening a new one; 0 never reopens.
	ReopenWindow model.Duration `yaml:"reopen_window"`
	// RepeatInterval is how long alerts that were still firing when a person
	// resolved an incident may go on firing before they open a new one (and
	// page again), as Alertmanager's repeat_interval re-notifies; 0 never.
	RepeatInterval model.Duration `yaml:"repeat_interval"`
	// AutoResolve resolves an incident when every alert in it has resolved.
	AutoResolve bool `yaml:"auto_resolve"`
	// AckTimeout re-triggers an acknowledged incident that is still open this
	// long after the acknowledgement; 0 turns it off.
	AckTimeout model.Duration `yaml:"ack_timeout"`
	// Pagers are where pages go; empty means the console pager (unless
	// another component, such as Slack, adds one).
	Pagers []PagerConfig `yaml:"pagers"`
	// FallbackPager names a pager in Pagers that is used only for deliveries
	// whose retries are spent; empty means the console pager.
	FallbackPager string `yaml:"fallback_pager"`
	// Delivery tunes the durable outbox that feeds the pagers.
	Delivery Delivery `yaml:"delivery"`
}

// PagerConfig is one pager: console, webhook or email.
type PagerConfig struct {
	// Name identifies the pager in logs, metrics and fallback_pager.
	Name string `yaml:"name"`
	// Type is console, webhook or email.
	Type string `yaml:"type"`
	// URL is where the webhook pager POSTs its JSON (webhook only).
	URL string `yaml:"url"`
	// Headers are extra HTTP headers sent by the webhook pager.
	Headers map[string]string `yaml:"headers"`
	// BearerToken is sent as Authorization: Bearer by the webhook pager.
	BearerToken     Secret `yaml:"bearer_token"`
	BearerTokenFile string `yaml:"bearer_token_file"`
	// SMTP is the mail server of the email pager.
	SMTP SMTP `yaml:"smtp"`
	// From is the sender address of the email pager.
	From string `yaml:"from"`
	// To are addresses that receive every email besides the people paged.
	To []string `yaml:"to"`
}

// SMTP is a mail server for the email pager.
type SMTP struct {
	// Host and Port of the server (port 587 by default).
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	// Username and Password for SMTP AUTH PLAIN; empty skips AUTH.
	Username     string `yaml:"username"`
	Password     Secret `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	// TLS is starttls (use STARTTLS when offered, required when a password
	// is set), tls (implicit TLS, port 465) or none.
	TLS string `yaml:"tls"`
}

// Delivery tunes the outbox: retries with exponential backoff, then the
// fallback pager.
type Delivery struct {
	// MaxAttempts is how many times a delivery is tried before it goes to
	// the fallback pager.
	MaxAttempts int `yaml:"max_attempts"`
	// Backoff is the wait after the first failure; it doubles after each
	// further failure up to MaxBackoff.
	Backoff    model.Duration `yaml:"backoff"`
	MaxBackoff model.Duration `yaml:"max_backoff"`
	// Timeout bounds one call to a pager.
	Timeout model.Duration `yaml:"timeout"`
	// Lease is how long a claimed delivery stays reserved; one found still
	// in flight after it (a crash) is reconciled, then retried.
	Lease model.Duration `yaml:"lease"`
}

// Oncall is the oncall: section: schedules, escalation policies, routes
// and overrides.
type Oncall struct {
	Schedules          []Schedule         `yaml:"schedules"`
	EscalationPolicies []EscalationPolicy `yaml:"escalation_policies"`
	// Routes pick a policy from an incident's labels; the first match wins,
	// and without a match the policy named default (or the first) is used.
	Routes    []EscalationRoute `yaml:"routes"`
	Overrides []Override        `yaml:"overrides"`
}

// Schedule says who is on call when. A schedule has one rotation, or
// several layers where a later layer wins while it is active.
type Schedule struct {
	Name string `yaml:"name"`
	// Timezone is the IANA zone hand-offs and restrictions are written in.
	Timezone string    `yaml:"timezone"`
	Rotation *Rotation `yaml:"rotation"`
	Layers   []Layer   `yaml:"layers"`
}

// Layer is one rotation of a schedule, optionally active only part of the
// day or week.
type Layer struct {
	Name     string    `yaml:"name"`
	Rotation Rotation  `yaml:"rotation"`
	Restrict *Restrict `yaml:"restrict"`
}

// Rotation hands the pager from one member to the next every period.
type Rotation struct {
	// Every is the shift length, a whole number of days (1d, 1w, 2w).
	Every model.Duration `yaml:"every"`
	// Handoff is when shifts change, in the schedule's time zone: "09:00",
	// or "Mon 09:00" to pin the weekday (then Every must be whole weeks).
	Handoff string `yaml:"handoff"`
	// Members take turns in this order: people's names or email addresses.
	Members []string `yaml:"members"`
	// Start is the date (2026-01-05) of the first member's first shift;
	// by default the first matching hand-off on or after 2024-01-01.
	Start string `yaml:"start"`
}

// Restrict limits a layer to a daily window, optionally on some weekdays.
type Restrict struct {
	// From and To are "HH:MM"; To before From spans midnight.
	From string `yaml:"from"`
	To   string `yaml:"to"`
	// Days are weekdays (Mon, Tue, ...) the window starts on; empty is every day.
	Days []string `yaml:"days"`
}

// EscalationPolicy is who gets paged, in steps, until someone acknowledges.
type EscalationPolicy struct {
	Name string `yaml:"name"`
	// Repeat is how many more times the steps run after the last one when
	// nobody acknowledges.
	Repeat int `yaml:"repeat"`
	// RepeatAfter is the wait after the last step before starting over.
	RepeatAfter model.Duration   `yaml:"repeat_after"`
	Steps       []EscalationStep `yaml:"steps"`
	// Urgency says which of the policy's incidents are urgent: high (the
	// default: every incident pages, escalates and repeats), low (every
	// incident notifies the first step once, without escalating or
	// repeating) or by_severity (critical incidents are high urgency,
	// warning and info low).
	Urgency string `yaml:"urgency"`
}

// EscalationStep pages its targets After the previous step (the first step
// at once, unless it sets After).
type EscalationStep struct {
	// Notify holds one target or a list: schedule:NAME, user:NAME,
	// user_group:ID (a Slack user group), channel:NAME.
	Notify Targets        `yaml:"notify"`
	After  model.Duration `yaml:"after"`
}

// Targets is one target or a list of them.
type Targets []string

// UnmarshalYAML accepts a single string or a list of strings.
func (t *Targets) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*t = Targets{n.Value}
		return nil
	case yaml.SequenceNode:
		out := make(Targets, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return fmt.Errorf("each target must be a string such as schedule:primary")
			}
			out = append(out, c.Value)
		}
		*t = out
		return nil
	}
	return fmt.Errorf("expected a target such as schedule:primary, or a list of them")
}

// EscalationRoute sends incidents whose labels match to a policy.
type EscalationRoute struct {
	// Match holds label values that must all be equal.
	Match  map[string]string `yaml:"match"`
	Policy string            `yaml:"policy"`
}

// Override puts User on call for Schedule between Start and End.
type Override struct {
	Schedule string `yaml:"schedule"`
	User     string `yaml:"user"`
	// Start and End are RFC 3339 times.
	Start string `yaml:"start"`
	End   string `yaml:"end"`
}

// DefaultIncidents is the incidents: section's defaults.
func DefaultIncidents() Incidents {
	return Incidents{
		GroupBy:        []string{"service"},
		ReopenWindow:   model.Duration(15 * time.Minute),
		RepeatInterval: model.Duration(4 * time.Hour),
		AutoResolve:    true,
		AckTimeout:     model.Duration(30 * time.Minute),
		Delivery: Delivery{
			MaxAttempts: 6,
			Backoff:     model.Duration(5 * time.Second),
			MaxBackoff:  model.Duration(5 * time.Minute),
			Timeout:     model.Duration(10 * time.Second),
			Lease:       model.Duration(time.Minute),
		},
	}
}

// Pager types.
const (
	PagerConsole = "console"
	PagerWebhook = "webhook"
	PagerEmail   = "email"
)

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Validate reports every problem in the incidents: section, with paths under
// path (normally "incidents").
func (in Incidents) Validate(path string) Problems {
	var ps Problems
	for i, g := range in.GroupBy {
		if !labelName.MatchString(g) {
			ps.Add(fmt.Sprintf("%s.group_by[%d]", path, i), "invalid label name %q", g)
		}
	}
	if in.ReopenWindow < 0 {
		ps.Add(JoinPath(path, "reopen_window"), "must not be negative")
	}
	if in.AckTimeout < 0 {
		ps.Add(JoinPath(path, "ack_timeout"), "must not be negative")
	}
	if in.RepeatInterval < 0 {
		ps.Add(JoinPath(path, "repeat_interval"), "must not be negative")
	}
	names := map[string]bool{PagerConsole: false}
	for i, p := range in.Pagers {
		pp := fmt.Sprintf("%s.pagers[%d]", path, i)
		if p.Name == "" {
			ps.Add(JoinPath(pp, "name"), "missing name")
		} else if names[p.Name] {
			ps.Add(JoinPath(pp, "name"), "duplicate pager name %q", p.Name)
		}
		names[p.Name] = true
		p.validate(&ps, pp)
	}
	if in.FallbackPager != "" {
		if _, ok := names[in.FallbackPager]; !ok {
			ps.Add(JoinPath(path, "fallback_pager"), "no pager named %q in incidents.pagers", in.FallbackPager)
		}
	}
	d, dp := in.Delivery, JoinPath(path, "delivery")
	if d.MaxAttempts < 1 || d.MaxAttempts > 100 {
		ps.Add(JoinPath(dp, "max_attempts"), "must be between 1 and 100, got %d", d.MaxAttempts)
	}
	if d.Backoff <= 0 {
		ps.Add(JoinPath(dp, "backoff"), "must be greater than 0")
	}
	if d.MaxBackoff < d.Backoff {
		ps.Add(JoinPath(dp, "max_backoff"), "must be at least delivery.backoff (%s)", d.Backoff)
	}
	if d.Timeout <= 0 {
		ps.Add(JoinPath(dp, "timeout"), "must be greater than 0")
	}
	if d.Lease <= d.Timeout {
		ps.Add(JoinPath(dp, "lease"), "must be longer than delivery.timeout (%s)", d.Timeout)
	}
	return ps
}

func (p PagerConfig) validate(ps *Problems, path string) {
	switch p.Type {
	case PagerConsole:
	case PagerWebhook:
		CheckURL(ps, JoinPath(path, "url"), p.URL, "http", "https")
		for k := range p.Headers {
			if k == "" || strings.ContainsAny(k, " :\r\n") {
				ps.Add(JoinPath(path, "headers"), "invalid header name %q", k)
			}
		}
	case PagerEmail:
		if p.SMTP.Host == "" {
			ps.Add(JoinPath(path, "smtp.host"), "missing SMTP host")
		}
		if p.SMTP.Port < 0 || p.SMTP.Port > 65535 {
			ps.Add(JoinPath(path, "smtp.port"), "must be between 1 and 65535")
		}
		switch p.SMTP.TLS {
		case "", "starttls", "tls", "none":
		default:
			ps.Add(JoinPath(path, "smtp.tls"), "unknown value %q (want starttls, tls or none)", p.SMTP.TLS)
		}
		if _, err := mail.ParseAddress(p.From); err != nil {
			ps.Add(JoinPath(path, "from"), "not an email address: %q", p.From)
		}
		for i, to := range p.To {
			if _, err := mail.ParseAddress(to); err != nil {
				ps.Add(fmt.Sprintf("%s.to[%d]", path, i), "not an email address: %q", to)
			}
		}
	case "":
		ps.Add(JoinPath(path, "type"), "missing type (want console, webhook or email)")
	default:
		ps.Add(JoinPath(path, "type"), "unknown pager type %q (want console, webhook or email)", p.Type)
	}
}

// ValidatePeople reports problems in the people: list (path normally "people").
func ValidatePeople(people []Person, path string) Problems {
	var ps Problems
	seen := map[string]bool{}
	for i, p := range people {
		pp := fmt.Sprintf("%s[%d]", path, i)
		if strings.TrimSpace(p.Name) == "" {
			ps.Add(JoinPath(pp, "name"), "missing name")
		} else if seen[p.Name] {
			ps.Add(JoinPath(pp, "name"), "duplicate person %q", p.Name)
		}
		seen[p.Name] = true
		if p.Email != "" {
			if _, err := mail.ParseAddress(p.Email); err != nil {
				ps.Add(JoinPath(pp, "email"), "not an email address: %q", p.Email)
			}
		}
		if p.Role != "" && !p.Role.Person() {
			ps.Add(JoinPath(pp, "role"), "unknown role %q for a person (want viewer, responder or admin)", p.Role)
		}
	}
	return ps
}
