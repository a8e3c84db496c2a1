package slo

import (
	"math"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Counts are good and total events over some span; bad = total - good.
type Counts struct {
	Good  int64
	Total int64
}

// Bad is the number of events that were not good.
func (c Counts) Bad() int64 { return c.Total - c.Good }

// Add returns c + o.
func (c Counts) Add(o Counts) Counts { return Counts{c.Good + o.Good, c.Total + o.Total} }

// ErrorRatio is bad/total, 0 when there were no events.
func (c Counts) ErrorRatio() float64 {
	if c.Total <= 0 {
		return 0
	}
	return float64(c.Bad()) / float64(c.Total)
}

// CountSource reads counted events over time; the engine's in-memory
// series and tests' fixed tables implement it.
type CountSource interface {
	// Sum returns the events counted in the minutes [from, to); both ends
	// are truncated to the minute.
	Sum(from, to time.Time) Counts
	// Slices returns the time slices (of the SLO's slice length and
	// target) that start in [from, to); zero for occurrences budgeting.
	Slices(from, to time.Time) Slices
	// FirstData is the start of the first minute with events that is still
	// kept, zero when there is none.
	FirstData() time.Time
}

// BurnWindow is one of the windows burn rates are reported over.
type BurnWindow struct {
	Name string
	D    time.Duration
}

// BurnWindows are the contract's burn-rate windows besides "window".
var BurnWindows = []BurnWindow{
	{"5m", 5 * time.Minute}, {"30m", 30 * time.Minute}, {"1h", time.Hour}, {"2h", 2 * time.Hour},
	{"6h", 6 * time.Hour}, {"1d", 24 * time.Hour}, {"3d", 72 * time.Hour},
}

// TierDef is one multi-window multi-burn-rate condition of the SRE
// Workbook: it fires when both windows burn faster than the factor that
// spends Share percent of the budget within the long window.
type TierDef struct {
	Name     string // page or ticket
	Severity model.Severity
	Long     time.Duration
	Short    time.Duration
	Share    float64 // percent of the period's budget
}

// Tiers are the four workbook tiers: page (critical) at 2% in 1h and 5% in
// 6h, ticket (warning) at 10% in 1d and 10% in 3d.
var Tiers = []TierDef{
	{"page", model.SeverityCritical, time.Hour, 5 * time.Minute, 2},
	{"page", model.SeverityCritical, 6 * time.Hour, 30 * time.Minute, 5},
	{"ticket", model.SeverityWarning, 24 * time.Hour, 2 * time.Hour, 10},
	{"ticket", model.SeverityWarning, 72 * time.Hour, 6 * time.Hour, 10},
}

// Factor is the burn rate k a tier must exceed: share/100 * period / long
// (14.4, 6, 3, 1 at 30 days; 13.44, 5.6, 2.8, 0.933... at 28 days).
func Factor(share float64, period, long time.Duration) float64 {
	return roundSig(share / 100 * float64(period) / float64(long))
}

// Status is an SLO evaluated at one instant, with everything the API,
// alerting and incidents report.
type Status struct {
	Spec *Spec
	At   time.Time
	// WindowStart and Period: the window holds [WindowStart, At]; Period is
	// its full length (a calendar month's length for a month window).
	WindowStart time.Time
	Period      time.Duration
	// Window are the counts over the window (outside excluded time).
	Window Counts
	// SLI is the measured ratio over the window (see Budget.SLI); 1 when
	// there was no data (Budget.NoData tells).
	SLI float64
	// Budget is the error budget of the window: the budget model's answer.
	Budget Budget
	// BudgetFraction is 1 - objective (0.001 at 99.9%).
	BudgetFraction float64
	// BudgetConsumed and BudgetRemaining repeat Budget.Consumed and
	// Budget.Remaining.
	BudgetConsumed  float64
	BudgetRemaining float64
	// BurnRates by window name, including "window".
	BurnRates map[string]float64
	// WindowEvents are the event totals of each burn window, for the
	// minimum-events guard.
	WindowEvents map[string]int64
	// TimeToExhaustion projects the remaining budget at the 1h burn rate;
	// nil when not burning, 0 when spent.
	TimeToExhaustion *time.Duration
	// HourConsumed is the share of the window's budget the last hour spent.
	HourConsumed float64
	// HourObserved is how much of the last hour has data: the hour, or
	// less while data is younger.
	HourObserved time.Duration
	Tiers        []model.BurnTier
	Exhausted    bool
}

// BurnRate is the error ratio of c divided by the budget fraction.
func BurnRate(c Counts, budget float64) float64 { return burnRate(c.ErrorRatio(), budget) }

// windowBounds returns the window of spec that holds now: [start, end) with
// end now rounded up to the minute (the current, unfinished minute is part
// of every window), and the window's full length.
func windowBounds(spec *Spec, now time.Time) (start, end time.Time, period time.Duration) {
	return boundsEnding(spec, now, now.Truncate(time.Minute).Add(time.Minute))
}

// boundsEnding returns the window of spec that holds instant, cut at end.
func boundsEnding(spec *Spec, instant, end time.Time) (start, _ time.Time, period time.Duration) {
	start, period = spec.Window.Bounds(instant)
	if !spec.Window.Calendar() {
		start = end.Add(-period)
	}
	return start, end, period
}

// BudgetAt is the budget model applied to the window that holds now: what
// Evaluate, History and the reports read. excluded is time left out of the
// budget (such as maintenance).
func BudgetAt(spec *Spec, src CountSource, now time.Time, excluded []Interval) Budget {
	start, end, period := windowBounds(spec, now)
	return ComputeBudget(spec, period, usageOf(spec, src, start, end, now, excluded))
}

// Evaluate computes an SLO's status from counts at now, leaving the
// excluded intervals out of the budget. It is a pure function: the same
// counts and now give the same status.
func Evaluate(spec *Spec, src CountSource, now time.Time, excluded ...Interval) Status {
	start, end, period := windowBounds(spec, now)
	u := usageOf(spec, src, start, end, now, excluded)
	b := ComputeBudget(spec, period, u)
	st := Status{
		Spec: spec, At: now, WindowStart: start, Period: period,
		BurnRates:      make(map[string]float64, len(BurnWindows)+1),
		WindowEvents:   make(map[string]int64, len(BurnWindows)+1),
		BudgetFraction: spec.Budget, Window: u.Counts, Budget: b,
		BudgetConsumed: b.Consumed, BudgetRemaining: b.Remaining, SLI: 1,
	}
	if !b.NoData {
		st.SLI = b.SLI
	}
	for _, bw := range BurnWindows {
		from := end.Add(-bw.D)
		wu := usageOf(spec, src, from, end, now, excluded)
		st.BurnRates[bw.Name] = burnRate(errorRatio(spec, wu.Counts, wu.Slices), spec.Budget)
		st.WindowEvents[bw.Name] = wu.Counts.Total
		if bw.D == time.Hour {
			st.HourObserved = hourObserved(wu)
			if b.Allowed > 0 {
				st.HourConsumed = spent(spec, wu.Counts, wu.Slices) / b.Allowed
			}
		}
	}
	st.BurnRates["window"] = burnRate(b.ErrorRatio, spec.Budget)
	st.WindowEvents["window"] = u.Counts.Total
	st.Exhausted = !b.NoData && u.Counts.Total >= spec.MinEvents && b.Remaining <= 0
	span := period - u.Excluded
	switch burn := st.BurnRates["1h"]; {
	case !b.NoData && b.Remaining <= 0:
		zero := time.Duration(0)
		st.TimeToExhaustion = &zero
	case st.HourConsumed > 0 && st.HourObserved > 0:
		// The remaining units at the rate the last hour spent them (over
		// the part of it with data), so that "x% spent in the last hour;
		// the rest lasts y" holds: y = remaining / x hours.
		secs := b.Remaining * st.HourObserved.Seconds() / st.HourConsumed
		d := time.Duration(math.Min(secs, float64(math.MaxInt64/2)/float64(time.Second)) * float64(time.Second))
		st.TimeToExhaustion = &d
	case burn > 0:
		// No budget to measure the hour against: remaining x period / burn
		// (the rate of units per second is expected / period).
		secs := b.Remaining * span.Seconds() / burn
		d := time.Duration(math.Min(secs, float64(math.MaxInt64/2)/float64(time.Second)) * float64(time.Second))
		st.TimeToExhaustion = &d
	}
	st.Tiers = make([]model.BurnTier, len(Tiers))
	for i, td := range Tiers {
		k := Factor(td.Share, period, td.Long)
		long := st.BurnRates[durName(td.Long)]
		short := st.BurnRates[durName(td.Short)]
		st.Tiers[i] = model.BurnTier{
			Name: td.Name, Severity: td.Severity, LongWindow: td.Long, ShortWindow: td.Short,
			Factor: k, LongRate: long, ShortRate: short,
			Firing: long > k && short > k && st.WindowEvents[durName(td.Long)] >= spec.MinEvents,
		}
	}
	return st
}

// durName names a burn window as BurnWindows does ("5m", "1h", "1d").
func durName(d time.Duration) string {
	for _, bw := range BurnWindows {
		if bw.D == d {
			return bw.Name
		}
	}
	return model.Duration(d).String()
}

// Firing returns the tiers that fire.
func (s Status) Firing() []model.BurnTier {
	var out []model.BurnTier
	for _, t := range s.Tiers {
		if t.Firing {
			out = append(out, t)
		}
	}
	return out
}

// hourObserved is how much of the last hour u has data for, counting the
// hour observed into its last, running minute as the whole hour. At the
// instant a minute starts the hour window holds 59 whole minutes and an
// empty one, and the rate is of those 59 minutes: exact, where the budget
// (ComputeBudget) only decides whether to project.
func hourObserved(u Usage) time.Duration {
	span := time.Hour - u.Excluded
	if u.Observed <= 0 || span <= 0 {
		return 0
	}
	if span-u.Observed < time.Minute {
		return span
	}
	return u.Observed
}

// State converts the status to the model value alerting and incidents use.
func (s Status) State() model.SLOState {
	rates := make(map[string]float64, len(s.BurnRates))
	for k, v := range s.BurnRates {
		rates[k] = v
	}
	tiers := make([]model.BurnTier, len(s.Tiers))
	copy(tiers, s.Tiers)
	var hour *float64
	if s.Budget.Allowed > 0 {
		h := s.HourConsumed
		hour = &h
	}
	return model.SLOState{
		Name: s.Spec.Name, Service: s.Spec.Service, Probe: s.Spec.Probe, Labels: s.Spec.Labels.Clone(),
		Objective: s.Spec.Objective, Window: s.Period, SLI: s.SLI,
		BudgetRemaining: s.BudgetRemaining, BudgetProjected: s.Budget.Projected, BurnRates: rates, Events: s.Window.Total,
		Tiers: tiers, Exhausted: s.Exhausted, EvaluatedAt: s.At, TimeToExhaustion: s.TimeToExhaustion,
		SpentLastHour: hour, SpentOver: s.HourObserved, Alerting: s.Spec.Alerting,
	}
}

// Consumption is what happened between two instants: the events counted
// and the share of the error budget they spent. Counts are kept per
// minute, so the figures cover the whole minutes [CountedFrom, CountedTo)
// that [From, To) touches, not the instants themselves.
type Consumption struct {
	SLO  string
	From time.Time
	To   time.Time
	// CountedFrom is From floored to the minute; CountedTo is To rounded
	// up to the minute (Engine.Consumed cuts it at now: later minutes
	// hold nothing yet).
	CountedFrom time.Time
	CountedTo   time.Time
	Good        int64
	// Total events in [CountedFrom, CountedTo).
	Total int64
	// Spent is the bad units of [CountedFrom, CountedTo) (events, runs or
	// slices, as the budget counts them) outside excluded time.
	Spent float64
	// BudgetConsumed is Spent over the budget of the SLO window that ends
	// at To (Budget.Allowed): the share of that window's budget the span
	// spent.
	BudgetConsumed float64
	// Budget is the budget of the window ending at To.
	Budget Budget
}

// Consume computes the consumption of [from, to) from counts, leaving out
// the excluded intervals; it is pure.
func Consume(spec *Spec, src CountSource, from, to time.Time, excluded ...Interval) Consumption {
	// Counts are kept per minute: the span holds the minutes it touches,
	// so a span ending now includes the current minute, as the window does.
	end := to.Truncate(time.Minute)
	if end.Before(to) {
		end = end.Add(time.Minute)
	}
	u := usageOf(spec, src, from, end, to, excluded)
	out := Consumption{SLO: spec.Name, From: from, To: to, CountedFrom: from.Truncate(time.Minute), CountedTo: end,
		Good: u.Counts.Good, Total: u.Counts.Total, Spent: spent(spec, u.Counts, u.Slices)}
	// The budget of the window that ends where the span ends.
	ws, we, period := boundsEnding(spec, to.Add(-time.Nanosecond), end)
	out.Budget = ComputeBudget(spec, period, usageOf(spec, src, ws, we, to, excluded))
	switch {
	case out.Budget.Allowed > 0:
		out.BudgetConsumed = out.Spent / out.Budget.Allowed
	case out.Spent > 0:
		out.BudgetConsumed = 1
	}
	return out
}
