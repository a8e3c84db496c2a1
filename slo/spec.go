package slo

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

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
// probes are the names of configured probes.
func Compile(slos []config.SLO, probes []string) ([]*Spec, config.Problems) {
	var ps config.Problems
	known := map[string]bool{}
	for _, p := range probes {
		known[p] = true
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

func compileOne(c config.SLO, path string, probes map[string]bool, ps *config.Problems) *Spec {
	n := len(*ps)
	s := &Spec{
		Name: c.Name, Description: c.Description, Service: c.Service, Labels: c.Labels.Clone(),
		Objective: c.Objective, MinEvents: c.MinEvents,
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
	if len(*ps) > n {
		return nil
	}
	return s
}

func compileSLI(s *Spec, c config.SLI, path string, probes map[string]bool, ps *config.Problems) {
	set := 0
	if c.Probe != "" {
		set++
		s.Kind, s.Probe = KindProbe, c.Probe
		if !probes[c.Probe] {
			ps.Add(config.JoinPath(path, "probe"), "no probe named %q in probes", c.Probe)
		}
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

// roundSig rounds x to 12 significant digits, so that 1 - 99.9/100 is
// 0.001 and not 0.0010000000000000009.
func roundSig(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	return v
}
