package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sentinel-oss/sentinel/model"
)

// ProbeKind says what a probe checks.
type ProbeKind string

// The probe kinds: HTTP journeys, single tcp, dns and tls checks, and
// browser journeys driven in headless Chromium.
const (
	ProbeKindHTTP    ProbeKind = "http"
	ProbeKindTCP     ProbeKind = "tcp"
	ProbeKindDNS     ProbeKind = "dns"
	ProbeKindTLS     ProbeKind = "tls"
	ProbeKindBrowser ProbeKind = "browser"
)

// Probe defaults, applied by applyProbeDefaults and listed in docs/probes.md.
const (
	DefaultProbeInterval         = 30 * time.Second
	DefaultProbeTimeout          = 10 * time.Second
	DefaultProbeLocation         = "local"
	DefaultProbeFailureThreshold = 3
	DefaultProbeSuccessThreshold = 2
	DefaultProbeRetryDelay       = time.Second
	DefaultProbeMaxBodyBytes     = 1 << 20
	DefaultProbeRetention        = 14 * 24 * time.Hour
	DefaultProbeMaxConcurrent    = 16
	DefaultTLSMinDaysLeft        = 14
)

// ProbeSettings are the settings shared by every probe (probe_settings:).
type ProbeSettings struct {
	// Location is the default location label of every probe.
	Location string `yaml:"location"`
	// Retention is how long probe runs are kept.
	Retention model.Duration `yaml:"retention"`
	// MaxConcurrent caps the probe runs in flight at once.
	MaxConcurrent int `yaml:"max_concurrent"`
	// Browser are the settings of browser journeys' Chromium.
	Browser ProbeBrowserSettings `yaml:"browser"`
}

// Probe is one synthetic check (probes[]): an HTTP or browser journey of steps, or a
// tcp, dns or tls check of a target.
type Probe struct {
	Name string    `yaml:"name"`
	Kind ProbeKind `yaml:"kind"`
	// Interval between runs; Timeout bounds one attempt of the whole journey.
	Interval model.Duration `yaml:"interval"`
	Timeout  model.Duration `yaml:"timeout"`
	// MaxDuration fails a journey that succeeded but took longer (0: off).
	MaxDuration model.Duration `yaml:"max_duration"`
	Labels      model.Labels   `yaml:"labels"`
	// Location labels every metric and outcome (default probe_settings.location).
	Location string `yaml:"location"`
	// Retries re-runs a failed journey inside the same run, after RetryDelay.
	Retries    int            `yaml:"retries"`
	RetryDelay model.Duration `yaml:"retry_delay"`
	// FailureThreshold failed runs in a row make the probe failing;
	// SuccessThreshold passing runs in a row make it pass again.
	FailureThreshold int `yaml:"failure_threshold"`
	SuccessThreshold int `yaml:"success_threshold"`
	// Secrets are usable in templates ({{ .card }}) and masked in every output.
	Secrets map[string]Secret `yaml:"secrets"`
	// MaxBodyBytes caps how much of each response is read.
	MaxBodyBytes int64       `yaml:"max_body_bytes"`
	TLS          ProbeTLS    `yaml:"tls"`
	Steps        []ProbeStep `yaml:"steps"`
	// Target is what tcp (host:port), dns (a name) and tls (host[:port]) probes check.
	Target string   `yaml:"target"`
	TCP    ProbeTCP `yaml:"tcp"`
	DNS    ProbeDNS `yaml:"dns"`
	// Browser holds the settings of a browser journey (kind: browser).
	Browser ProbeBrowser `yaml:"browser"`
}

// ProbeTLS are the TLS client settings of a probe; verification stays on
// unless InsecureSkipVerify is set.
type ProbeTLS struct {
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	// MinDaysLeft fails a check whose earliest certificate expires sooner
	// (default 14 for kind tls; unset means no check for other kinds).
	MinDaysLeft *int `yaml:"min_days_left"`
}

// ProbeStep is one step of a journey: for HTTP journeys a request with what
// to expect from it and what to extract for later steps; for browser
// journeys an action (navigate, click, fill or select) followed by an
// optional wait and assertions, in that order.
type ProbeStep struct {
	Name string `yaml:"name"`
	// Timeout bounds this step inside the journey's timeout (0: what is left).
	Timeout model.Duration        `yaml:"timeout"`
	Request ProbeRequest          `yaml:"request"`
	Expect  ProbeExpect           `yaml:"expect"`
	Extract map[string]Extraction `yaml:"extract"`

	// Browser steps (kind: browser); at most one of Navigate, Click, Fill
	// and Select per step.
	Navigate   string        `yaml:"navigate"`
	Click      string        `yaml:"click"`
	Fill       *BrowserInput `yaml:"fill"`
	Select     *BrowserInput `yaml:"select"`
	WaitFor    *WaitFor      `yaml:"wait_for"`
	AssertText *AssertText   `yaml:"assert_text"`
	AssertURL  *AssertURL    `yaml:"assert_url"`
}

// ProbeRequest is an HTTP request; every string may hold {{ .name }}
// templates. At most one of JSON, Form and Body is set.
type ProbeRequest struct {
	Method  string            `yaml:"method"`
	URL     string            `yaml:"url"`
	Headers map[string]string `yaml:"headers"`
	JSON    any               `yaml:"json"`
	Form    map[string]string `yaml:"form"`
	Body    string            `yaml:"body"`
	// FollowRedirects defaults to true.
	FollowRedirects *bool `yaml:"follow_redirects"`
}

// ProbeExpect are the assertions on a step's response.
type ProbeExpect struct {
	// Status is a code, a range ("200-299", "2xx") or a list of them (default 200-299).
	Status       StatusSpec        `yaml:"status"`
	BodyContains string            `yaml:"body_contains"`
	BodyMatches  string            `yaml:"body_matches"`
	JSON         map[string]any    `yaml:"json"`
	JSONExists   []string          `yaml:"json_exists"`
	Headers      map[string]string `yaml:"headers"`
	MaxDuration  model.Duration    `yaml:"max_duration"`
}

// ProbeTCP checks a TCP service at the probe's target.
type ProbeTCP struct {
	// Send is written after connecting; Expect must then appear in what is read.
	Send   string `yaml:"send"`
	Expect string `yaml:"expect"`
	// TLS wraps the connection in TLS (using the probe's tls settings).
	TLS bool `yaml:"tls"`
}

// ProbeDNS resolves the probe's target.
type ProbeDNS struct {
	// Type is A (default), AAAA, CNAME, MX, TXT or NS.
	Type string `yaml:"type"`
	// Server is host:port of the resolver to ask (default: the system's).
	Server string `yaml:"server"`
	// Expect lists answers that must all be present.
	Expect []string `yaml:"expect"`
}

// Extraction takes a value out of a response for later steps: a JSON path
// (written bare, "$.cart.id", or as json:), the first group of a regex on
// the body, a response header, or a cookie set during the run.
type Extraction struct {
	JSON   string `yaml:"json"`
	Regex  string `yaml:"regex"`
	Header string `yaml:"header"`
	Cookie string `yaml:"cookie"`
}

// UnmarshalYAML reads a bare JSON path or a mapping with exactly one of
// json, regex, header or cookie.
func (e *Extraction) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if !strings.HasPrefix(strings.TrimSpace(n.Value), "$") {
			return fmt.Errorf("write a JSON path such as $.cart.id, or a mapping with one of json, regex, header or cookie")
		}
		*e = Extraction{JSON: strings.TrimSpace(n.Value)}
		return nil
	case yaml.MappingNode:
		var out Extraction
		set := 0
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s: expected a string", k.Value)
			}
			switch k.Value {
			case "json":
				out.JSON = v.Value
			case "regex":
				out.Regex = v.Value
			case "header":
				out.Header = v.Value
			case "cookie":
				out.Cookie = v.Value
			default:
				return fmt.Errorf("unknown key %q (want one of json, regex, header or cookie)", k.Value)
			}
			set++
		}
		if set != 1 {
			return fmt.Errorf("set exactly one of json, regex, header or cookie")
		}
		*e = out
		return nil
	}
	return fmt.Errorf("expected a JSON path or a mapping, such as {header: Location}")
}

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Min, Max int }

// StatusSpec is the set of accepted status codes.
type StatusSpec []StatusRange

// Contains reports whether code is accepted.
func (s StatusSpec) Contains(code int) bool {
	for _, r := range s {
		if code >= r.Min && code <= r.Max {
			return true
		}
	}
	return false
}

// String prints the spec as it would be written: 200, 200-299, [200, 204].
func (s StatusSpec) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = r.String()
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts, " or ")
}

// String prints one code or a range.
func (r StatusRange) String() string {
	if r.Min == r.Max {
		return strconv.Itoa(r.Min)
	}
	if r.Min%100 == 0 && r.Max == r.Min+99 {
		return strconv.Itoa(r.Min/100) + "xx"
	}
	return fmt.Sprintf("%d-%d", r.Min, r.Max)
}

// ParseStatusRange reads "200", "200-299" or "2xx"; codes must lie in 100-599.
func ParseStatusRange(s string) (StatusRange, error) {
	s = strings.TrimSpace(s)
	code := func(v string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 100 || n > 599 {
			return 0, fmt.Errorf("invalid status %q: want a code from 100 to 599, a range such as 200-299, or 2xx", s)
		}
		return n, nil
	}
	if len(s) == 3 && (strings.HasSuffix(s, "xx") || strings.HasSuffix(s, "XX")) {
		if s[0] < '1' || s[0] > '5' {
			return StatusRange{}, fmt.Errorf("invalid status class %q: want 1xx to 5xx", s)
		}
		base := int(s[0]-'0') * 100
		return StatusRange{base, base + 99}, nil
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		a, err := code(lo)
		if err != nil {
			return StatusRange{}, err
		}
		b, err := code(hi)
		if err != nil {
			return StatusRange{}, err
		}
		if a > b {
			return StatusRange{}, fmt.Errorf("invalid status range %q: the first code is larger than the second", s)
		}
		return StatusRange{a, b}, nil
	}
	n, err := code(s)
	if err != nil {
		return StatusRange{}, err
	}
	return StatusRange{n, n}, nil
}

// UnmarshalYAML reads a code, a range or a list of them.
func (s *StatusSpec) UnmarshalYAML(n *yaml.Node) error {
	var items []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		items = []*yaml.Node{n}
	case yaml.SequenceNode:
		items = n.Content
		if len(items) == 0 {
			return fmt.Errorf("empty status list")
		}
	default:
		return fmt.Errorf("expected a status code, a range such as 200-299, or a list of them")
	}
	out := make(StatusSpec, 0, len(items))
	for _, it := range items {
		if it.Kind != yaml.ScalarNode {
			return fmt.Errorf("expected a status code or range, got a nested value")
		}
		r, err := ParseStatusRange(it.Value)
		if err != nil {
			return err
		}
		out = append(out, r)
	}
	*s = out
	return nil
}

// applyProbeDefaults fills the defaults of probe_settings and of every probe
// and step; validation of the result is the probes package's (probes.Compile).
func applyProbeDefaults(c *Config) {
	s := &c.ProbeSettings
	if s.Location == "" {
		s.Location = DefaultProbeLocation
	}
	if s.Retention == 0 {
		s.Retention = model.Duration(DefaultProbeRetention)
	}
	if s.MaxConcurrent == 0 {
		s.MaxConcurrent = DefaultProbeMaxConcurrent
	}
	for i := range c.Probes {
		ApplyProbeDefaults(&c.Probes[i], s.Location)
	}
}

// ApplyProbeDefaults fills the unset fields of one probe; location is the
// default location. Exported so tests and tools building probes in code get
// the same defaults as a file.
func ApplyProbeDefaults(p *Probe, location string) {
	if p.Kind == "" {
		p.Kind = ProbeKindHTTP
	}
	if p.Interval == 0 {
		p.Interval = model.Duration(DefaultProbeInterval)
		if p.Kind == ProbeKindBrowser {
			p.Interval = model.Duration(DefaultBrowserInterval)
		}
	}
	if p.Timeout == 0 {
		p.Timeout = model.Duration(DefaultProbeTimeout)
		if p.Kind == ProbeKindBrowser {
			p.Timeout = model.Duration(DefaultBrowserTimeout)
		}
	}
	if p.Location == "" {
		p.Location = location
	}
	if p.Location == "" {
		p.Location = DefaultProbeLocation
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = DefaultProbeFailureThreshold
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = DefaultProbeSuccessThreshold
	}
	if p.RetryDelay == 0 && p.Retries > 0 {
		p.RetryDelay = model.Duration(DefaultProbeRetryDelay)
	}
	if p.MaxBodyBytes == 0 {
		p.MaxBodyBytes = DefaultProbeMaxBodyBytes
	}
	if p.Kind == ProbeKindTLS && p.TLS.MinDaysLeft == nil {
		d := DefaultTLSMinDaysLeft
		p.TLS.MinDaysLeft = &d
	}
	if p.Kind == ProbeKindDNS && p.DNS.Type == "" {
		p.DNS.Type = "A"
	}
	if p.Kind == ProbeKindBrowser {
		applyBrowserDefaults(p)
		return
	}
	for j := range p.Steps {
		st := &p.Steps[j]
		if st.Request.Method == "" {
			st.Request.Method = "GET"
			if st.Request.JSON != nil || st.Request.Form != nil || st.Request.Body != "" {
				st.Request.Method = "POST"
			}
		}
		if len(st.Expect.Status) == 0 {
			st.Expect.Status = StatusSpec{{200, 299}}
		}
	}
}
