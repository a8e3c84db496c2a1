package config

import (
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

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
	// Budgeting is how the error budget is counted: occurrences (default:
	// bad events or probe runs against the window's expected ones),
	// timeslices (bad time slices: a slice is good when its ratio meets
	// TimesliceTarget) or ratio_timeslices (the mean of the slices' ratios).
	Budgeting string `yaml:"budgeting,omitempty"`
	// TimesliceTarget is the share of good events that makes a time slice
	// good, in percent like Objective (99) or as a ratio (0.99); timeslices
	// budgeting only.
	TimesliceTarget float64 `yaml:"timeslice_target,omitempty"`
	// TimesliceWindow is the length of a time slice (default 1m; whole
	// minutes that divide an hour).
	TimesliceWindow model.Duration `yaml:"timeslice_window,omitempty"`
	// Alerting customises the SLO's burn-rate alerts: their name, labels
	// and annotations, and turning a tier off.
	Alerting *SLOAlerting `yaml:"alerting,omitempty"`
	// ExcludeMaintenance leaves the maintenance windows whose matchers
	// select the SLO's labels (slo, service and its own) out of its budget.
	ExcludeMaintenance bool `yaml:"exclude_maintenance,omitempty"`
}

// Budgeting methods of slos[].budgeting.
const (
	BudgetingOccurrences     = "occurrences"
	BudgetingTimeslices      = "timeslices"
	BudgetingRatioTimeslices = "ratio_timeslices"
)

// DefaultTimesliceWindow is the length of a time slice.
const DefaultTimesliceWindow = model.Duration(time.Minute)

// SLOAlerting customises an SLO's multi-window multi-burn-rate alerts, as
// Sloth's alerting: section does: one name for both tiers (default
// SLOErrorBudgetBurn in Sentinel, SLOBurnRatePage/Ticket in the rule
// export), labels and annotations for both, and per tier.
type SLOAlerting struct {
	Name        string       `yaml:"name,omitempty"`
	Labels      model.Labels `yaml:"labels,omitempty"`
	Annotations model.Labels `yaml:"annotations,omitempty"`
	Page        SLOAlertTier `yaml:"page,omitempty"`
	Ticket      SLOAlertTier `yaml:"ticket,omitempty"`
}

// SLOAlertTier customises one tier (page or ticket) of an SLO's alerts.
type SLOAlertTier struct {
	// Disable turns the tier's alert off (Sentinel's own and the exported rule).
	Disable     bool         `yaml:"disable,omitempty"`
	Labels      model.Labels `yaml:"labels,omitempty"`
	Annotations model.Labels `yaml:"annotations,omitempty"`
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
