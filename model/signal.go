package model

import "time"

// Source names where an outcome came from.
type Source string

// Signal sources.
const (
	SourceProbe  Source = "probe"
	SourceRUM    Source = "rum"
	SourceEvents Source = "events"
)

// Outcome is one measured fact from a signal source, the value that flows
// from probes, RUM and the events API into SLOs and alert rules.
//
// A probe run is Name=probe name, Good=1 or 0, Total=1, Value=duration in
// seconds. A RUM page view yields one outcome per measured metric (Name=lcp,
// inp, cls, fcp, ttfb with Value in seconds, CLS unitless), one page_view
// outcome (Good=1 when the view had no JS error) and js_error outcomes
// (Total=number of errors). Whoever owns a threshold classifies the Value.
type Outcome struct {
	Source   Source
	Name     string
	Labels   Labels
	Time     time.Time
	Good     int64
	Total    int64
	Value    float64
	HasValue bool
}

// ProbeState is a probe's state after flap suppression, which only the
// probes package applies: Failing turns true after N failed runs in a row
// and false after M passing ones.
type ProbeState struct {
	Probe    string
	Location string
	Labels   Labels
	Failing  bool
	Since    time.Time // when Failing last changed
	LastRun  time.Time
	RunID    string
	Step     string // the failed step of the last failing run
	Error    string // the failed assertion or error of the last failing run
	// Status is the HTTP status the failed step got (0 when none).
	Status int
	// ErrorExcerpt is what the failed step's response said went wrong: a
	// JSON body's error or message field, else its first line; masked
	// like the run's excerpt and cut short.
	ErrorExcerpt string
	Duration     time.Duration
	Successes    int // consecutive passing runs
	Failures     int // consecutive failing runs
}
