package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sentinel-oss/sentinel/model"
)

// SLOBurnMode says which burn-rate alerts Sentinel raises for every SLO.
type SLOBurnMode string

// The burn modes: the SRE Workbook's multi-window multi-burn-rate tiers
// (page and ticket) on every SLO, or none.
const (
	SLOBurnWorkbook SLOBurnMode = "sre-workbook"
	SLOBurnOff      SLOBurnMode = "off"
)

// UnmarshalYAML accepts exactly the two modes.
func (m *SLOBurnMode) UnmarshalYAML(n *yaml.Node) error {
	switch SLOBurnMode(n.Value) {
	case SLOBurnWorkbook, SLOBurnOff:
		*m = SLOBurnMode(n.Value)
		return nil
	}
	return fmt.Errorf("unknown slo_burn %q (want sre-workbook or off)", n.Value)
}

// MatcherSyntax selects which of Alertmanager's matcher parsers reads
// matcher text (silences, maintenance windows, inhibition rules, API filters).
type MatcherSyntax string

// The three modes Alertmanager offers: fallback (its default since 0.27:
// the UTF-8 parser, falling back to the classic one for inputs only that one
// reads), classic (--enable-feature=classic-mode) and utf8-strict
// (--enable-feature=utf8-strict-mode).
const (
	MatcherSyntaxFallback   MatcherSyntax = "fallback"
	MatcherSyntaxClassic    MatcherSyntax = "classic"
	MatcherSyntaxUTF8Strict MatcherSyntax = "utf8-strict"
)

// UnmarshalYAML accepts exactly the three modes.
func (m *MatcherSyntax) UnmarshalYAML(n *yaml.Node) error {
	switch MatcherSyntax(n.Value) {
	case MatcherSyntaxFallback, MatcherSyntaxClassic, MatcherSyntaxUTF8Strict:
		*m = MatcherSyntax(n.Value)
		return nil
	}
	return fmt.Errorf("unknown matcher_syntax %q (want fallback, classic or utf8-strict)", n.Value)
}

// Alerting defaults, applied by DefaultAlerting and listed in docs/configuration.md.
const (
	DefaultAlertEvaluationInterval  = 15 * time.Second
	DefaultSilenceExpiryWarning     = 15 * time.Minute
	DefaultAlertResolvedRetention   = time.Hour
	DefaultWebhookMaxBodyBytes      = 1 << 20
	DefaultWebhookMaxAlerts         = 1000
	DefaultAlertmanagerPushInterval = time.Minute
	DefaultAlertmanagerTimeout      = 10 * time.Second
	DefaultRUMRuleWindow            = 5 * time.Minute
	DefaultResolveTimeout           = 5 * time.Minute
	DefaultMaintenanceRetention     = 400 * 24 * time.Hour
)

// Alerting is the alerting: section: rules over Sentinel's own signals,
// the SLO burn-rate alerts, heartbeats, silences and the Alertmanager
// connection in both directions.
type Alerting struct {
	// SLOBurn raises the multi-window multi-burn-rate alerts on every SLO
	// (sre-workbook, the default) or none (off).
	SLOBurn SLOBurnMode `yaml:"slo_burn"`
	// MatcherSyntax is how matcher text is read: fallback (the default),
	// classic or utf8-strict, as Alertmanager's feature flags choose.
	MatcherSyntax MatcherSyntax `yaml:"matcher_syntax"`
	// EvaluationInterval is how often rules, heartbeats and silences are
	// evaluated.
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	// ResolvedRetention is how long resolved alerts are remembered, so a
	// late duplicate Alertmanager delivery cannot re-fire them.
	ResolvedRetention model.Duration `yaml:"resolved_retention"`
	// ResolveTimeout is how long an alert posted to the Alertmanager API v2
	// without an end keeps firing unless posted again (Alertmanager's
	// global resolve_timeout).
	ResolveTimeout model.Duration `yaml:"resolve_timeout"`
	Rules          []AlertRule    `yaml:"rules"`
	Heartbeats     []Heartbeat    `yaml:"heartbeats"`
	Silences       SilenceConfig  `yaml:"silences"`
	Webhook        WebhookConfig  `yaml:"webhook"`
	// Alertmanager, when url is set, also receives Sentinel's own alerts.
	Alertmanager AlertmanagerOut `yaml:"alertmanager"`
	// InhibitRules mute target alerts while a source alert fires, in
	// Alertmanager's syntax.
	InhibitRules []InhibitRule `yaml:"inhibit_rules"`
	// TimeIntervals are named recurring spans of time, in Alertmanager's
	// syntax; maintenance windows refer to them by name.
	TimeIntervals []TimeIntervalSpec `yaml:"time_intervals"`
	// Maintenance lists recurring maintenance windows: inside one of its
	// time intervals, alerts its matchers select do not page.
	Maintenance []RecurringMaintenance `yaml:"maintenance"`
	// MaintenanceRetention is how long ended maintenance windows are kept
	// (they stay out of SLO budgets for as long as they are kept).
	MaintenanceRetention model.Duration `yaml:"maintenance_retention"`
}

// InhibitRule is one alerting.inhibit_rules[] entry, in Alertmanager's
// syntax: while an alert matching SourceMatchers fires, alerts matching
// TargetMatchers that carry the same values of the Equal labels are
// muted. The deprecated source_match(_re) / target_match(_re) maps are
// read too, as Alertmanager still reads them. Matcher text is checked by
// the alerting package (with Alertmanager's parser).
type InhibitRule struct {
	SourceMatchers []string          `yaml:"source_matchers"`
	TargetMatchers []string          `yaml:"target_matchers"`
	Equal          []string          `yaml:"equal"`
	SourceMatch    map[string]string `yaml:"source_match"`
	SourceMatchRE  map[string]string `yaml:"source_match_re"`
	TargetMatch    map[string]string `yaml:"target_match"`
	TargetMatchRE  map[string]string `yaml:"target_match_re"`
}

// TimeIntervalSpec is one alerting.time_intervals[] entry, as
// Alertmanager writes it: a name and the spans of time it covers (any one
// of them).
type TimeIntervalSpec struct {
	Name          string         `yaml:"name"`
	TimeIntervals []TimeInterval `yaml:"time_intervals"`
}

// TimeInterval is one span of Alertmanager's time_intervals syntax; every
// field given must hold (times 17:00-24:00 on weekdays monday:friday ...).
// Values are kept as written and parsed by the alerting package with
// Alertmanager's own timeinterval package.
type TimeInterval struct {
	Times       []TimeRange `yaml:"times"`
	Weekdays    []string    `yaml:"weekdays"`
	DaysOfMonth []string    `yaml:"days_of_month"`
	Months      []string    `yaml:"months"`
	Years       []string    `yaml:"years"`
	// Location is an IANA time zone name (default UTC).
	Location string `yaml:"location"`
}

// TimeRange is a span of the day, "HH:MM" to "HH:MM" (end exclusive).
type TimeRange struct {
	StartTime string `yaml:"start_time"`
	EndTime   string `yaml:"end_time"`
}

// RecurringMaintenance is one alerting.maintenance[] entry: during any of
// the named time intervals, alerts matching all its matchers do not page.
type RecurringMaintenance struct {
	// Name labels the window in announcements and on dashboards
	// (default: the time interval names).
	Name          string   `yaml:"name"`
	TimeIntervals []string `yaml:"time_intervals"`
	Matchers      []string `yaml:"matchers"`
	Comment       string   `yaml:"comment"`
}

// AlertRule is one rule (alerting.rules[]): a typed condition under when,
// how long it must hold (for) and keep holding after it clears
// (keep_firing_for), and what the alert carries.
type AlertRule struct {
	Name string         `yaml:"name"`
	When AlertCondition `yaml:"when"`
	// For is how long the condition must hold before the alert fires.
	For model.Duration `yaml:"for"`
	// KeepFiringFor keeps the alert firing this long after the condition clears.
	KeepFiringFor model.Duration `yaml:"keep_firing_for"`
	Severity      model.Severity `yaml:"severity"`
	// Runbook names a runbook in runbooks.dir (its file name without .md).
	Runbook string `yaml:"runbook"`
	// Labels and Annotations are text/template strings over .Labels,
	// .Value and the facts of the rule's kind (.Probe, .RUM, .SLO); the
	// summary and description annotations have defaults that Annotations
	// replace.
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
	// Title is a template for the title of the incident the rule's alerts
	// open (default: the alert's summary).
	Title string `yaml:"title"`
}

// AlertCondition is a rule's when: exactly one of probe, rum or slo, with
// the comparison that kind needs.
type AlertCondition struct {
	// Probe fires while the named probe is failing (after its flap suppression).
	Probe string `yaml:"probe"`
	// RUM names a RUM measure: js_errors_per_minute, or the p75 of a vital
	// (lcp, inp, cls, fcp, ttfb); it fires while the measure is above Above.
	RUM string `yaml:"rum"`
	// Route narrows a RUM condition to one route template.
	Route string `yaml:"route"`
	// Window is the span a RUM measure is computed over (default 5m).
	Window model.Duration `yaml:"window"`
	// Above is the threshold of a RUM condition: a number, or a duration
	// such as 2500ms for timing vitals (compared in seconds).
	Above *Threshold `yaml:"above"`
	// SLO names an SLO; with BudgetRemainingBelow it fires while the
	// fraction of its error budget left is below the value.
	SLO                  string   `yaml:"slo"`
	BudgetRemainingBelow *float64 `yaml:"budget_remaining_below"`
}

// Kind names which signal the condition watches: probe, rum or slo ("" when none is set).
func (c AlertCondition) Kind() string {
	switch {
	case c.Probe != "":
		return "probe"
	case c.RUM != "":
		return "rum"
	case c.SLO != "":
		return "slo"
	}
	return ""
}

// Threshold is a number in a rule condition; a duration (2500ms) is read
// as seconds, the unit RUM reports timings in.
type Threshold float64

// UnmarshalYAML reads a number or a duration.
func (t *Threshold) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a number or a duration such as 2500ms")
	}
	s := strings.TrimSpace(n.Value)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		*t = Threshold(f)
		return nil
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("expected a number or a duration such as 2500ms: %v", err)
	}
	*t = Threshold(d.Seconds())
	return nil
}

// Heartbeat is a signal that must keep arriving (alerting.heartbeats[]):
// POST /api/v1/heartbeats/{name}, or an Alertmanager alert that is always
// firing (Watchdog); when none arrives for Timeout, an alert fires.
type Heartbeat struct {
	Name    string         `yaml:"name"`
	Timeout model.Duration `yaml:"timeout"`
	// AlertmanagerAlert is an alertname whose firing deliveries through the
	// webhook count as beats (and raise no alert of their own).
	AlertmanagerAlert string         `yaml:"alertmanager_alert"`
	Severity          model.Severity `yaml:"severity"`
	Labels            model.Labels   `yaml:"labels"`
	Runbook           string         `yaml:"runbook"`
}

// SilenceConfig are the silence settings (alerting.silences).
type SilenceConfig struct {
	// ExpiryWarning is how long before a silence ends, while it still mutes
	// a firing alert, people are told.
	ExpiryWarning model.Duration `yaml:"expiry_warning"`
	// MaxDuration caps how long one silence may last (0: no cap).
	MaxDuration model.Duration `yaml:"max_duration"`
}

// WebhookConfig limits the Alertmanager webhook (alerting.webhook).
type WebhookConfig struct {
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	MaxAlerts    int   `yaml:"max_alerts"`
}

// AlertmanagerOut is where Sentinel's own alerts are pushed (alerting.alertmanager).
type AlertmanagerOut struct {
	// URL is the Alertmanager base URL; empty disables pushing.
	URL string `yaml:"url"`
	// Interval is how often firing alerts are re-sent.
	Interval model.Duration `yaml:"interval"`
	Timeout  model.Duration `yaml:"timeout"`
	// BearerToken authenticates to the Alertmanager (or a proxy before it).
	BearerToken     Secret `yaml:"bearer_token"`
	BearerTokenFile string `yaml:"bearer_token_file"`
}

// DefaultAlerting is the alerting: section's defaults.
func DefaultAlerting() Alerting {
	return Alerting{
		SLOBurn:              SLOBurnWorkbook,
		MatcherSyntax:        MatcherSyntaxFallback,
		EvaluationInterval:   model.Duration(DefaultAlertEvaluationInterval),
		ResolvedRetention:    model.Duration(DefaultAlertResolvedRetention),
		ResolveTimeout:       model.Duration(DefaultResolveTimeout),
		MaintenanceRetention: model.Duration(DefaultMaintenanceRetention),
		Silences:             SilenceConfig{ExpiryWarning: model.Duration(DefaultSilenceExpiryWarning)},
		Webhook:              WebhookConfig{MaxBodyBytes: DefaultWebhookMaxBodyBytes, MaxAlerts: DefaultWebhookMaxAlerts},
		Alertmanager: AlertmanagerOut{
			Interval: model.Duration(DefaultAlertmanagerPushInterval),
			Timeout:  model.Duration(DefaultAlertmanagerTimeout),
		},
	}
}

// WithDefaults returns a copy with every unset setting at its default, so
// a section built in code (tests, the demo) behaves like a loaded one.
func (a Alerting) WithDefaults() Alerting {
	d := DefaultAlerting()
	if a.SLOBurn == "" {
		a.SLOBurn = d.SLOBurn
	}
	if a.MatcherSyntax == "" {
		a.MatcherSyntax = d.MatcherSyntax
	}
	if a.EvaluationInterval <= 0 {
		a.EvaluationInterval = d.EvaluationInterval
	}
	if a.ResolvedRetention <= 0 {
		a.ResolvedRetention = d.ResolvedRetention
	}
	if a.ResolveTimeout <= 0 {
		a.ResolveTimeout = d.ResolveTimeout
	}
	if a.MaintenanceRetention <= 0 {
		a.MaintenanceRetention = d.MaintenanceRetention
	}
	for i := range a.Maintenance {
		if a.Maintenance[i].Name == "" {
			a.Maintenance[i].Name = strings.Join(a.Maintenance[i].TimeIntervals, "+")
		}
	}
	if a.Silences.ExpiryWarning <= 0 {
		a.Silences.ExpiryWarning = d.Silences.ExpiryWarning
	}
	if a.Webhook.MaxBodyBytes <= 0 {
		a.Webhook.MaxBodyBytes = d.Webhook.MaxBodyBytes
	}
	if a.Webhook.MaxAlerts <= 0 {
		a.Webhook.MaxAlerts = d.Webhook.MaxAlerts
	}
	if a.Alertmanager.Interval <= 0 {
		a.Alertmanager.Interval = d.Alertmanager.Interval
	}
	if a.Alertmanager.Timeout <= 0 {
		a.Alertmanager.Timeout = d.Alertmanager.Timeout
	}
	for i := range a.Rules {
		if a.Rules[i].Severity == "" {
			a.Rules[i].Severity = model.SeverityWarning
		}
		if a.Rules[i].When.RUM != "" && a.Rules[i].When.Window <= 0 {
			a.Rules[i].When.Window = model.Duration(DefaultRUMRuleWindow)
		}
	}
	for i := range a.Heartbeats {
		if a.Heartbeats[i].Severity == "" {
			a.Heartbeats[i].Severity = model.SeverityCritical
		}
	}
	return a
}

// Validate checks what the section can check on its own (shapes, ranges,
// duplicate names); references to probes, SLOs and runbooks are checked by
// the alerting package when it compiles the rules. Paths start at path.
func (a Alerting) Validate(path string) Problems {
	var ps Problems
	if a.EvaluationInterval < model.Duration(time.Second) {
		ps.Add(JoinPath(path, "evaluation_interval"), "must be at least 1s")
	}
	if a.Webhook.MaxBodyBytes <= 0 {
		ps.Add(JoinPath(path, "webhook.max_body_bytes"), "must be greater than 0")
	}
	if a.Webhook.MaxAlerts <= 0 {
		ps.Add(JoinPath(path, "webhook.max_alerts"), "must be greater than 0")
	}
	if a.Alertmanager.URL != "" {
		CheckURL(&ps, JoinPath(path, "alertmanager.url"), a.Alertmanager.URL, "http", "https")
		if a.Alertmanager.Interval < model.Duration(time.Second) {
			ps.Add(JoinPath(path, "alertmanager.interval"), "must be at least 1s")
		}
	}
	seen := map[string]int{}
	for i, r := range a.Rules {
		p := fmt.Sprintf("%s.rules[%d]", path, i)
		if r.Name == "" {
			ps.Add(JoinPath(p, "name"), "required")
		} else if j, dup := seen[r.Name]; dup {
			ps.Add(JoinPath(p, "name"), "duplicate rule name %q (also rules[%d])", r.Name, j)
		} else {
			seen[r.Name] = i
		}
		set := 0
		for _, s := range []string{r.When.Probe, r.When.RUM, r.When.SLO} {
			if s != "" {
				set++
			}
		}
		if set != 1 {
			ps.Add(JoinPath(p, "when"), "set exactly one of probe, rum or slo")
			continue
		}
		w := JoinPath(p, "when")
		switch r.When.Kind() {
		case "probe":
			if r.When.Above != nil || r.When.BudgetRemainingBelow != nil || r.When.Route != "" || r.When.Window != 0 {
				ps.Add(w, "a probe condition takes no above, route, window or budget_remaining_below")
			}
		case "rum":
			switch r.When.RUM {
			case "js_errors_per_minute", "lcp", "inp", "cls", "fcp", "ttfb":
			default:
				ps.Add(JoinPath(w, "rum"), "unknown RUM measure %q (want js_errors_per_minute, lcp, inp, cls, fcp or ttfb)", r.When.RUM)
			}
			if r.When.Above == nil {
				ps.Add(JoinPath(w, "above"), "required for a rum condition")
			}
			if r.When.BudgetRemainingBelow != nil {
				ps.Add(JoinPath(w, "budget_remaining_below"), "only for an slo condition")
			}
		case "slo":
			if r.When.BudgetRemainingBelow == nil {
				ps.Add(JoinPath(w, "budget_remaining_below"), "required for an slo condition (burn-rate alerts come from slo_burn)")
			} else if b := *r.When.BudgetRemainingBelow; b <= 0 || b > 1 {
				ps.Add(JoinPath(w, "budget_remaining_below"), "must be a fraction above 0 and at most 1, such as 0.25")
			}
			if r.When.Above != nil || r.When.Route != "" || r.When.Window != 0 {
				ps.Add(w, "an slo condition takes no above, route or window")
			}
		}
		for k := range r.Labels {
			if !validLabelName(k) {
				ps.Add(JoinPath(p, "labels", k), "invalid label name (letters, digits and _, not starting with a digit)")
			}
		}
	}
	for i, r := range a.InhibitRules {
		p := fmt.Sprintf("%s.inhibit_rules[%d]", path, i)
		if len(r.SourceMatchers)+len(r.SourceMatch)+len(r.SourceMatchRE) == 0 {
			ps.Add(p, "set source_matchers: without them every firing alert would be a source")
		}
		if len(r.TargetMatchers)+len(r.TargetMatch)+len(r.TargetMatchRE) == 0 {
			ps.Add(p, "set target_matchers: without them every alert would be a target")
		}
	}
	intervals := map[string]int{}
	for i, ti := range a.TimeIntervals {
		p := fmt.Sprintf("%s.time_intervals[%d]", path, i)
		switch j, dup := intervals[ti.Name]; {
		case ti.Name == "":
			ps.Add(JoinPath(p, "name"), "required")
		case dup:
			ps.Add(JoinPath(p, "name"), "duplicate time interval name %q (also time_intervals[%d])", ti.Name, j)
		default:
			intervals[ti.Name] = i
		}
	}
	maint := map[string]int{}
	for i, m := range a.Maintenance {
		p := fmt.Sprintf("%s.maintenance[%d]", path, i)
		if len(m.TimeIntervals) == 0 {
			ps.Add(JoinPath(p, "time_intervals"), "name at least one of alerting.time_intervals")
		}
		for k, n := range m.TimeIntervals {
			if _, ok := intervals[n]; !ok {
				ps.Add(fmt.Sprintf("%s.time_intervals[%d]", p, k), "no time interval named %q in alerting.time_intervals%s", n, knownNames(a.TimeIntervals))
			}
		}
		if len(m.Matchers) == 0 {
			ps.Add(JoinPath(p, "matchers"), "required: which alerts the window mutes, such as \"service=checkout\"")
		}
		if m.Name != "" {
			if j, dup := maint[m.Name]; dup {
				ps.Add(JoinPath(p, "name"), "duplicate maintenance name %q (also maintenance[%d])", m.Name, j)
			}
			maint[m.Name] = i
		}
	}
	hb := map[string]int{}
	for i, h := range a.Heartbeats {
		p := fmt.Sprintf("%s.heartbeats[%d]", path, i)
		if h.Name == "" {
			ps.Add(JoinPath(p, "name"), "required")
		} else if !validHeartbeatName(h.Name) {
			ps.Add(JoinPath(p, "name"), "use letters, digits, '-', '_' and '.' only (it appears in a URL path)")
		} else if j, dup := hb[h.Name]; dup {
			ps.Add(JoinPath(p, "name"), "duplicate heartbeat name %q (also heartbeats[%d])", h.Name, j)
		} else {
			hb[h.Name] = i
		}
		if h.Timeout < model.Duration(time.Second) {
			ps.Add(JoinPath(p, "timeout"), "required, at least 1s")
		}
	}
	return ps
}

func knownNames(tis []TimeIntervalSpec) string {
	if len(tis) == 0 {
		return " (none are defined)"
	}
	names := make([]string, 0, len(tis))
	for _, ti := range tis {
		names = append(names, ti.Name)
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}

func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func validHeartbeatName(s string) bool {
	for _, c := range s {
		switch {
		case c == '-', c == '_', c == '.', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return len(s) <= 128
}
