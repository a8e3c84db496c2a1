package config

import "github.com/sentinel-oss/sentinel/model"

// SLO defaults, applied by the slo package when it compiles the section and
// listed in docs/configuration.md.
const (
	// DefaultSLOTimeZone is the time zone of calendar windows.
	DefaultSLOTimeZone = "UTC"
	// DefaultSLOMinEvents is the minimum-events guard of burn alerts: a tier
	// fires only when its long window holds at least this many events.
	DefaultSLOMinEvents = 10
)

// SLO is one service level objective (slos[]): what is measured (the SLI),
// the share of good events promised (Objective, in percent) and over which
// window. Exactly one SLI source is set.
type SLO struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	Service     string `yaml:"service,omitempty"`
	// Objective is the promised share of good events in percent, in (0, 100): 99.9.
	Objective float64 `yaml:"objective"`
	// Window is a rolling duration ("30d", "28d", "7d") or a calendar
	// period ("month", "week": weeks start on Monday) in TimeZone.
	Window string `yaml:"window"`
	// TimeZone is the IANA zone calendar windows follow (default UTC).
	TimeZone string       `yaml:"timezone,omitempty"`
	Labels   model.Labels `yaml:"labels,omitempty"`
	SLI      SLI          `yaml:"sli"`
	// MinEvents guards burn alerts against low traffic: a tier fires only
	// when its long window holds at least this many events (default 10).
	MinEvents int64 `yaml:"min_events,omitempty"`
}

// SLI says where an SLO's good and total events come from; exactly one of
// the fields is set.
type SLI struct {
	// Probe names a probe: good = passing runs, total = runs.
	Probe string `yaml:"probe,omitempty"`
	// RUM counts page views measured by real users.
	RUM *SLIRUM `yaml:"rum,omitempty"`
	// Events are counts pushed to POST /api/v1/slos/{name}/events.
	Events *SLIEvents `yaml:"events,omitempty"`
	// Prometheus SLIs are computed by Prometheus from the exported rules
	// only; Sentinel does not count them.
	Prometheus *SLIPrometheus `yaml:"prometheus,omitempty"`
}

// SLIRUM is a real-user SLI: either page views whose Metric is at or under
// Threshold, or page views without a JavaScript error (JSErrorFree).
type SLIRUM struct {
	// Metric is lcp, inp, cls, fcp or ttfb.
	Metric string `yaml:"metric,omitempty"`
	// Threshold is a duration ("2500ms") for timed metrics and a plain
	// number for cls; the default is web-vitals' "good" limit.
	Threshold string `yaml:"threshold,omitempty"`
	// JSErrorFree counts page views without a JavaScript error as good.
	JSErrorFree bool `yaml:"js_error_free,omitempty"`
	// Route, Site and Device keep only page views with that label value.
	Route  string `yaml:"route,omitempty"`
	Site   string `yaml:"site,omitempty"`
	Device string `yaml:"device,omitempty"`
}

// SLIEvents marks an SLO fed by applications through the events API; it has
// no settings yet (write `events: {}`).
type SLIEvents struct{}

// SLIPrometheus is an SLI that Prometheus computes: two queries holding a
// {{.window}} placeholder, as Sloth writes them.
type SLIPrometheus struct {
	// Errors counts bad events per second over {{.window}}.
	Errors string `yaml:"errors"`
	// Total counts all events per second over {{.window}}.
	Total string `yaml:"total"`
}
