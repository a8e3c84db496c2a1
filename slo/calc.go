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

// CountSource sums counts over time; the engine's in-memory series and
// tests' fixed tables implement it.
type CountSource interface {
	// Sum returns the events counted in the minutes [from, to); both ends
	// are truncated to the minute.
	Sum(from, to time.Time) Counts
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
	// Window are the counts over the window.
	Window Counts
	// SLI is good/total over the window; 1 when there were no events.
	SLI float64
	// Budget* describe the error budget: as a fraction of events (B), in
	// events (B*total), and in minutes of full outage (B*period).
	BudgetFraction   float64
	BudgetEvents     float64
	ConsumedEvents   int64
	BudgetConsumed   float64 // fraction of the budget spent
	BudgetRemaining  float64 // 1 - BudgetConsumed, negative when overspent
	BudgetMinutes    float64
	ConsumedMinutes  float64
	RemainingMinutes float64
	// BurnRates by window name, including "window".
	BurnRates map[string]float64
	// WindowEvents are the event totals of each burn window, for the
	// minimum-events guard.
	WindowEvents map[string]int64
	// TimeToExhaustion projects the remaining budget at the 1h burn rate;
	// nil when not burning, 0 when spent.
	TimeToExhaustion *time.Duration
	Tiers            []model.BurnTier
	Exhausted        bool
}

// BurnRate is the error ratio of c divided by the budget fraction.
func BurnRate(c Counts, budget float64) float64 {
	if budget <= 0 {
		return 0
	}
	return c.ErrorRatio() / budget
}

// Evaluate computes an SLO's status from counts at now. It is a pure
// function: the same counts and now give the same status. The current,
// unfinished minute is part of every window.
func Evaluate(spec *Spec, src CountSource, now time.Time) Status {
	end := now.Truncate(time.Minute).Add(time.Minute)
	start, period := spec.Window.Bounds(now)
	if !spec.Window.Calendar() {
		start = end.Add(-period)
	}
	st := Status{
		Spec: spec, At: now, WindowStart: start, Period: period,
		BurnRates:      make(map[string]float64, len(BurnWindows)+1),
		WindowEvents:   make(map[string]int64, len(BurnWindows)+1),
		BudgetFraction: spec.Budget,
	}
	w := src.Sum(start, end)
	st.Window = w
	st.SLI = 1
	if w.Total > 0 {
		st.SLI = float64(w.Good) / float64(w.Total)
	}
	st.BudgetEvents = spec.Budget * float64(w.Total)
	st.ConsumedEvents = w.Bad()
	if st.BudgetEvents > 0 {
		st.BudgetConsumed = float64(w.Bad()) / st.BudgetEvents
	}
	st.BudgetRemaining = 1 - st.BudgetConsumed
	st.BudgetMinutes = spec.Budget * period.Minutes()
	st.ConsumedMinutes = st.BudgetConsumed * st.BudgetMinutes
	st.RemainingMinutes = st.BudgetMinutes - st.ConsumedMinutes
	for _, bw := range BurnWindows {
		c := src.Sum(end.Add(-bw.D), end)
		st.BurnRates[bw.Name] = BurnRate(c, spec.Budget)
		st.WindowEvents[bw.Name] = c.Total
	}
	st.BurnRates["window"] = BurnRate(w, spec.Budget)
	st.WindowEvents["window"] = w.Total
	st.Exhausted = w.Total > 0 && w.Total >= spec.MinEvents && st.BudgetRemaining <= 0
	switch burn := st.BurnRates["1h"]; {
	case w.Total > 0 && st.BudgetRemaining <= 0:
		zero := time.Duration(0)
		st.TimeToExhaustion = &zero
	case burn > 0:
		secs := st.BudgetRemaining * period.Seconds() / burn
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

// State converts the status to the model value alerting and incidents use.
func (s Status) State() model.SLOState {
	rates := make(map[string]float64, len(s.BurnRates))
	for k, v := range s.BurnRates {
		rates[k] = v
	}
	tiers := make([]model.BurnTier, len(s.Tiers))
	copy(tiers, s.Tiers)
	return model.SLOState{
		Name: s.Spec.Name, Service: s.Spec.Service, Labels: s.Spec.Labels.Clone(),
		Objective: s.Spec.Objective, Window: s.Period, SLI: s.SLI,
		BudgetRemaining: s.BudgetRemaining, BurnRates: rates, Events: s.Window.Total,
		Tiers: tiers, Exhausted: s.Exhausted, EvaluatedAt: s.At, TimeToExhaustion: s.TimeToExhaustion,
	}
}

// Consumption is what happened between two instants: the events counted
// and the share of the error budget they spent.
type Consumption struct {
	SLO  string
	From time.Time
	To   time.Time
	Good int64
	// Total events in [From, To).
	Total int64
	// BudgetConsumed is bad(From, To) / (B * total events of the SLO window
	// ending at To): the fraction of that window's budget the span spent.
	BudgetConsumed float64
}

// Consume computes the consumption of [from, to) from counts; it is pure.
func Consume(spec *Spec, src CountSource, from, to time.Time) Consumption {
	c := src.Sum(from, to)
	out := Consumption{SLO: spec.Name, From: from, To: to, Good: c.Good, Total: c.Total}
	wstart, period := spec.Window.Bounds(to)
	if !spec.Window.Calendar() {
		wstart = to.Add(-period)
	}
	w := src.Sum(wstart, to)
	if budget := spec.Budget * float64(w.Total); budget > 0 {
		out.BudgetConsumed = float64(c.Bad()) / budget
	}
	return out
}
