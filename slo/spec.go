package slo

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Kind is where an SLO's events come from.
type Kind string

// The SLI kinds of the slos: section.
const (
	KindProbe      Kind = "probe"
	KindRUM        Kind = "rum"
	KindEvents     Kind = "events"
	KindPrometheus Kind = "prometheus"
)

// RUM metrics an SLI may name, with web-vitals' "good" limits (seconds;
// CLS unitless) used when no threshold is written.
var rumDefaults = map[string]float64{
	"lcp":  2.5,
	"inp":  0.2,
	"cls":  0.1,
	"fcp":  1.8,
	"ttfb": 0.8,
}

// Spec is one compiled SLO: validated, defaults applied, ready to count and
// evaluate. Specs are immutable once compiled.
type Spec struct {
	Name        string
	Description string
	Service     string
	Labels      model.Labels
	// Objective in percent (99.9) and Budget = 1 - Objective/100 (0.001).
	Objective float64
	Budget    float64
	Window    Window
	Kind      Kind
	// Probe is the probe name of a probe SLI.
	Probe string
	// RUM SLI settings: the metric (or "page_view" for js_error_free), the
	// threshold in seconds (CLS unitless) and label filters.
	RUMMetric    string
	Threshold    float64
	JSErrorFree  bool
	RouteFilter  string
	SiteFilter   string
	DeviceFilter string
	// Prometheus SLI queries, with {{.window}} placeholders.
	ErrorsQuery string
	TotalQuery  string
	MinEvents   int64
	// ProbeInterval and ProbeLocations are a probe SLI's schedule: the
	// window expects ProbeLocations runs every ProbeInterval.
	ProbeInterval  time.Duration
	ProbeLocations int
	// Budgeting is how the budget is counted; Slice and SliceTarget (a
	// ratio, 0.99) are the time slices of timeslices budgeting.
	Budgeting   Budgeting
	Slice       time.Duration
	SliceTarget float64
	// Alerting customises the burn alerts (slos[].alerting).
	Alerting model.SLOAlerting
	// ExcludeMaintenance leaves matching maintenance windows out of the
	// budget (through Options.Exclusions).
	ExcludeMaintenance bool
}

// ProbeRef is what an SLO needs to know of a probe: its name and how often
// it runs from how many locations.
type ProbeRef struct {
	Name      string
	Interval  time.Duration
	Locations int
}

// ProbeRefs lists the configured probes for Compile. Each probe runs from
// its one location; defaults are applied as the config applies them.
func ProbeRefs(ps []config.Probe) []ProbeRef {
	out := make([]ProbeRef, 0, len(ps))
	for _, p := range ps {
		out = append(out, ProbeRef{Name: p.Name, Interval: p.Interval.Std(), Locations: 1})
	}
	return out
}

// MatchLabels are the labels maintenance windows and silences select an SLO
// by: its own, with slo and service.
func (s *Spec) MatchLabels() model.Labels {
	l := s.Labels.Clone()
	if l == nil {
		l = model.Labels{}
	}
	l["slo"] = s.Name
	if s.Service != "" {
		l["service"] = s.Service
	}
	return l
}

// Counted reports whether Sentinel counts this SLO's events itself (every
// kind but prometheus).
func (s *Spec) Counted() bool { return s.Kind != KindPrometheus }

// SLIText describes the SLI in a few words, for the API and logs.
func (s *Spec) SLIText() string {
	switch s.Kind {
	case KindProbe:
		return "probe " + s.Probe
	case KindRUM:
		if s.JSErrorFree {
			return "rum page views without JS errors"
		}
		return fmt.Sprintf("rum %s <= %s", s.RUMMetric, formatThreshold(s.RUMMetric, s.Threshold))
	case KindEvents:
		return "events"
	}
	return "prometheus"
}

func formatThreshold(metric string, v float64) string {
	if metric == "cls" {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return model.Duration(time.Duration(math.Round(v * float64(time.Second)))).String()
}

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)
	labelRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// windowRE finds the placeholder Prometheus queries must hold.
	windowRE = regexp.MustCompile(`\{\{\s*\.window\s*\}\}`)
)

// reservedLabels are set by Sentinel on every SLO series and alert.
var reservedLabels = map[string]bool{
	"slo": true, "severity": true, "sloth_id": true, "sloth_service": true, "sloth_slo": true,
	"sloth_window": true, "sloth_severity": true, "alertname": true, "__name__": true,
}

// Compile validates the slos: section against the configured probes and
// returns the specs, or every problem with its path (slos[2].window).
func Compile(slos []config.SLO, probes []ProbeRef) ([]*Spec, config.Problems) {
	var ps config.Problems
	known := map[string]ProbeRef{}
	for _, p := range probes {
		if p.Interval <= 0 {
			p.Interval = config.DefaultProbeInterval
		}
		known[p.Name] = p
	}
	seen := map[string]bool{}
	out := make([]*Spec, 0, len(slos))
	for i, c := range slos {
		path := fmt.Sprintf("slos[%d]", i)
		s := compileOne(c, path, known, &ps)
		if c.Name != "" {
			if seen[c.Name] {
				ps.Add(config.JoinPath(path, "name"), "duplicate SLO name %q", c.Name)
			}
			seen[c.Name] = true
		}
		if s != nil {
			out = append(out, s)
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return out, nil
}

func compileOne(c config.SLO, path string, probes map[string]ProbeRef, ps *config.Problems) *Spec {
	n := len(*ps)
	s := &Spec{
		Name: c.Name, Description: c.Description, Service: c.Service, Labels: c.Labels.Clone(),
		Objective: c.Objective, MinEvents: c.MinEvents, ExcludeMaintenance: c.ExcludeMaintenance,
	}
	if !nameRE.MatchString(c.Name) {
		if c.Name == "" {
			ps.Add(config.JoinPath(path, "name"), "missing name")
		} else {
			ps.Add(config.JoinPath(path, "name"), "invalid name %q: use letters, digits, '.', '_' and '-' (at most 100), starting with a letter or digit", c.Name)
		}
	}
	if c.Service != "" && !nameRE.MatchString(c.Service) {
		ps.Add(config.JoinPath(path, "service"), "invalid service %q: use letters, digits, '.', '_' and '-'", c.Service)
	}
	if !(c.Objective > 0 && c.Objective < 100) || math.IsNaN(c.Objective) {
		ps.Add(config.JoinPath(path, "objective"), "must be a percentage above 0 and below 100, such as 99.9 (got %v)", c.Objective)
	} else {
		s.Budget = roundSig(1 - c.Objective/100)
	}
	tz := c.TimeZone
	if tz == "" {
		tz = config.DefaultSLOTimeZone
	}
	w, err := ParseWindow(c.Window, tz)
	switch {
	case err != nil && c.TimeZone != "" && strings.Contains(err.Error(), "time zone"):
		ps.Add(config.JoinPath(path, "timezone"), "%v", err)
	case err != nil:
		ps.Add(config.JoinPath(path, "window"), "%v", err)
	case c.TimeZone != "" && !w.Calendar():
		ps.Add(config.JoinPath(path, "timezone"), "only calendar windows (month, week) take a time zone; %s is rolling", c.Window)
	}
	s.Window = w
	if c.MinEvents < 0 {
		ps.Add(config.JoinPath(path, "min_events"), "must not be negative")
	}
	if s.MinEvents == 0 {
		s.MinEvents = config.DefaultSLOMinEvents
	}
	for _, k := range c.Labels.Keys() {
		switch {
		case !labelRE.MatchString(k):
			ps.Add(config.JoinPath(path, "labels."+k), "invalid label name %q: use letters, digits and '_', not starting with a digit", k)
		case reservedLabels[k]:
			ps.Add(config.JoinPath(path, "labels."+k), "label %q is set by Sentinel; choose another name", k)
		}
	}
	compileSLI(s, c.SLI, config.JoinPath(path, "sli"), probes, ps)
	compileBudgeting(s, c, path, ps)
	s.Alerting = compileAlerting(c.Alerting, config.JoinPath(path, "alerting"), ps)
	if len(*ps) > n {
		return nil
	}
	return s
}

func compileSLI(s *Spec, c config.SLI, path string, probes map[string]ProbeRef, ps *config.Problems) {
	set := 0
	if c.Probe != "" {
		set++
		s.Kind, s.Probe = KindProbe, c.Probe
		p, ok := probes[c.Probe]
		if !ok {
			ps.Add(config.JoinPath(path, "probe"), "no probe named %q in probes", c.Probe)
		}
		s.ProbeInterval, s.ProbeLocations = p.Interval, max(p.Locations, 1)
	}
	if c.RUM != nil {
		set++
		s.Kind = KindRUM
		compileRUM(s, *c.RUM, config.JoinPath(path, "rum"), ps)
	}
	if c.Events != nil {
		set++
		s.Kind = KindEvents
	}
	if c.Prometheus != nil {
		set++
		s.Kind = KindPrometheus
		p := config.JoinPath(path, "prometheus")
		s.ErrorsQuery, s.TotalQuery = strings.TrimSpace(c.Prometheus.Errors), strings.TrimSpace(c.Prometheus.Total)
		for _, q := range []struct{ key, v string }{{"errors", s.ErrorsQuery}, {"total", s.TotalQuery}} {
			switch {
			case q.v == "":
				ps.Add(config.JoinPath(p, q.key), "missing query")
			case !windowRE.MatchString(q.v):
				ps.Add(config.JoinPath(p, q.key), "the query must hold a {{.window}} placeholder, as in sum(rate(http_requests_total[{{.window}}]))")
			}
		}
	}
	switch {
	case set == 0:
		ps.Add(path, "missing SLI: set one of probe, rum, events or prometheus")
	case set > 1:
		ps.Add(path, "set only one of probe, rum, events or prometheus")
	}
}

func compileRUM(s *Spec, c config.SLIRUM, path string, ps *config.Problems) {
	s.RouteFilter, s.SiteFilter, s.DeviceFilter = c.Route, c.Site, c.Device
	if c.JSErrorFree {
		s.JSErrorFree, s.RUMMetric = true, "page_view"
		if c.Metric != "" || c.Threshold != "" {
			ps.Add(path, "js_error_free counts page views without JS errors; remove metric and threshold")
		}
		return
	}
	metric := strings.ToLower(c.Metric)
	def, ok := rumDefaults[metric]
	if !ok {
		if c.Metric == "" {
			ps.Add(config.JoinPath(path, "metric"), "missing metric: set lcp, inp, cls, fcp or ttfb (or js_error_free: true)")
		} else {
			ps.Add(config.JoinPath(path, "metric"), "unknown metric %q (want lcp, inp, cls, fcp or ttfb)", c.Metric)
		}
		return
	}
	s.RUMMetric, s.Threshold = metric, def
	if c.Threshold == "" {
		return
	}
	tp := config.JoinPath(path, "threshold")
	if metric == "cls" {
		v, err := strconv.ParseFloat(strings.TrimSpace(c.Threshold), 64)
		if err != nil || v <= 0 || math.IsInf(v, 0) {
			ps.Add(tp, "cls is unitless: write a positive number such as 0.1 (got %q)", c.Threshold)
			return
		}
		s.Threshold = v
		return
	}
	d, err := model.ParseDuration(c.Threshold)
	if err != nil || d <= 0 {
		ps.Add(tp, "write a positive duration such as 2500ms (got %q)", c.Threshold)
		return
	}
	if d.Std() > time.Hour {
		ps.Add(tp, "a %s threshold above 1h cannot be meant (got %s)", metric, c.Threshold)
		return
	}
	s.Threshold = d.Seconds()
}

// compileBudgeting reads budgeting, timeslice_target and timeslice_window.
func compileBudgeting(s *Spec, c config.SLO, path string, ps *config.Problems) {
	switch strings.ToLower(strings.TrimSpace(c.Budgeting)) {
	case "", config.BudgetingOccurrences:
		s.Budgeting = Occurrences
	case config.BudgetingTimeslices:
		s.Budgeting = Timeslices
	case config.BudgetingRatioTimeslices, "ratiotimeslices":
		s.Budgeting = RatioTimeslices
	default:
		ps.Add(config.JoinPath(path, "budgeting"), "unknown budgeting %q (want occurrences, timeslices or ratio_timeslices)", c.Budgeting)
		return
	}
	s.Slice = c.TimesliceWindow.Std()
	if s.Slice == 0 {
		s.Slice = config.DefaultTimesliceWindow.Std()
	}
	if !s.Budgeting.Sliced() {
		if c.TimesliceTarget != 0 {
			ps.Add(config.JoinPath(path, "timeslice_target"), "only timeslices budgeting has a timeslice target; set budgeting: timeslices")
		}
		if c.TimesliceWindow != 0 {
			ps.Add(config.JoinPath(path, "timeslice_window"), "only timeslices and ratio_timeslices budgeting have time slices")
		}
		return
	}
	if s.Slice < time.Minute || s.Slice%time.Minute != 0 || time.Hour%s.Slice != 0 {
		ps.Add(config.JoinPath(path, "timeslice_window"), "a time slice is whole minutes that divide an hour (1m, 2m, 5m, 10m, 15m, 30m, 1h), got %s", c.TimesliceWindow)
	}
	t := c.TimesliceTarget
	switch {
	case s.Budgeting == RatioTimeslices:
		if t != 0 {
			ps.Add(config.JoinPath(path, "timeslice_target"), "ratio_timeslices averages the slices' ratios and has no timeslice target")
		}
	case t == 0:
		ps.Add(config.JoinPath(path, "timeslice_target"), "timeslices budgeting needs a timeslice_target: the share of good events that makes a slice good, such as 99 (or 0.99)")
	case math.IsNaN(t) || t <= 0 || t > 100:
		ps.Add(config.JoinPath(path, "timeslice_target"), "must be a percentage above 0 and at most 100, such as 99 (or a ratio such as 0.99), got %v", t)
	case t <= 1:
		s.SliceTarget = t
	default:
		s.SliceTarget = roundSig(t / 100)
	}
}

// compileAlerting checks slos[].alerting.
func compileAlerting(c *config.SLOAlerting, path string, ps *config.Problems) model.SLOAlerting {
	if c == nil {
		return model.SLOAlerting{}
	}
	if c.Name != "" && (!utf8.ValidString(c.Name) || len(c.Name) > 200 || strings.ContainsFunc(c.Name, unicode.IsControl)) {
		ps.Add(config.JoinPath(path, "name"), "invalid alert name %q: at most 200 printable characters", c.Name)
	}
	checkLabels := func(p string, l model.Labels) {
		for _, k := range l.Keys() {
			switch {
			case !labelRE.MatchString(k):
				ps.Add(config.JoinPath(p, k), "invalid label name %q: use letters, digits and '_', not starting with a digit", k)
			case k == "alertname" || k == "slo" || k == "__name__" || strings.HasPrefix(k, "sloth_"):
				ps.Add(config.JoinPath(p, k), "label %q is set by Sentinel; choose another name", k)
			}
		}
	}
	checkLabels(config.JoinPath(path, "labels"), c.Labels)
	checkLabels(config.JoinPath(path, "page.labels"), c.Page.Labels)
	checkLabels(config.JoinPath(path, "ticket.labels"), c.Ticket.Labels)
	tier := func(t config.SLOAlertTier) model.SLOAlertTier {
		return model.SLOAlertTier{Disabled: t.Disable, Labels: t.Labels.Clone(), Annotations: t.Annotations.Clone()}
	}
	return model.SLOAlerting{
		Name: c.Name, Labels: c.Labels.Clone(), Annotations: c.Annotations.Clone(),
		Page: tier(c.Page), Ticket: tier(c.Ticket),
	}
}

// roundSig rounds x to 12 significant digits, so that 1 - 99.9/100 is
// 0.001 and not 0.0010000000000000009.
func roundSig(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	return v
}
