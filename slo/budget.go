package slo

import (
	"math"
	"sort"
	"time"
)

// Budgeting is how an SLO's error budget is counted (slos[].budgeting).
type Budgeting string

// The budgeting methods, as OpenSLO names them.
const (
	// Occurrences counts bad events (or probe runs) against the window's
	// expected ones.
	Occurrences Budgeting = "occurrences"
	// Timeslices counts bad time slices: a slice is good when its share of
	// good events meets the timeslice target.
	Timeslices Budgeting = "timeslices"
	// RatioTimeslices spends each slice's error ratio: the SLI is the mean
	// of the slices' ratios.
	RatioTimeslices Budgeting = "ratio_timeslices"
)

// Sliced reports whether the method counts time slices.
func (b Budgeting) Sliced() bool { return b == Timeslices || b == RatioTimeslices }

// Slices are the time slices with data over some span: those whose ratio
// of good events met the target, those that did not, and the sum of every
// slice's error ratio (1 - good/total), which ratio_timeslices spends.
// Slices without events are gaps: neither good nor bad.
type Slices struct {
	Good     int64
	Bad      int64
	ErrorSum float64
}

// N is the number of slices with data.
func (s Slices) N() int64 { return s.Good + s.Bad }

// Add returns s + o.
func (s Slices) Add(o Slices) Slices {
	return Slices{s.Good + o.Good, s.Bad + o.Bad, s.ErrorSum + o.ErrorSum}
}

// Sub returns s - o.
func (s Slices) Sub(o Slices) Slices {
	return Slices{s.Good - o.Good, s.Bad - o.Bad, s.ErrorSum - o.ErrorSum}
}

// classifySlice turns one slice's counts into a slice (none when empty).
func classifySlice(c Counts, target float64) Slices {
	if c.Total <= 0 {
		return Slices{}
	}
	r := float64(c.Good) / float64(c.Total)
	s := Slices{ErrorSum: 1 - r}
	// A slice meets the target when good/total >= target; compare
	// good >= target*total with a little slack so 99 of 100 meets 0.99.
	if float64(c.Good) >= target*float64(c.Total)-1e-9 {
		s.Good = 1
	} else {
		s.Bad = 1
	}
	return s
}

// Interval is the span [From, To).
type Interval struct {
	From, To time.Time
}

// Usage is what the budget model reads about one window: the events (or
// probe runs) and time slices counted in it outside excluded time, how much
// of it has data, and how much is excluded.
type Usage struct {
	Counts Counts
	Slices Slices
	// Observed is the part of the window that has data: from the window's
	// start, or from the first data ever counted when that came later, to
	// the instant evaluated, less excluded time. Zero when nothing was
	// ever counted.
	Observed time.Duration
	// Excluded is the time of the window left out of the budget (such as
	// maintenance); its events are not in Counts or Slices.
	Excluded time.Duration
}

// Budget is an SLO's error budget over one window: the one model from
// which the API's error_budget_remaining, time to exhaustion, burn alerts,
// incidents' and postmortems' "budget consumed", the dashboards and the
// reports all come.
//
// The budget is counted in units of what the window is expected to hold:
//   - probe SLIs: runs. The window's runs are known before they happen
//     (window / interval x locations), so the budget is (1 - objective) x
//     expected runs and a fresh SLO is not "spent" by its first failure;
//   - event SLIs (RUM, events): events. Only the events seen are known;
//     while data covers part of the window, the full window's events are
//     projected from the traffic seen so far (Projected);
//   - timeslices and ratio_timeslices: time slices, period / slice length.
//
// Time without data is never counted as good: it is a gap, shown as
// Coverage below 1.
type Budget struct {
	Budgeting Budgeting
	// Unit is what the budget counts: "runs", "events" or "slices".
	Unit string
	// Period is the window's full length.
	Period time.Duration
	// Expected is how many units the full window holds (less excluded time).
	Expected float64
	// Projected is true when Expected extrapolates events seen over
	// Observed to the whole window.
	Projected bool
	// Allowed is how many units may be bad: (1 - objective) x Expected.
	Allowed float64
	// Spent is the bad units: bad events or runs, bad slices, or the sum
	// of the slices' error ratios.
	Spent float64
	// Consumed is Spent / Allowed; Remaining is 1 - Consumed (negative
	// when overspent).
	Consumed  float64
	Remaining float64
	// Coverage is Observed / (Period - excluded time), in [0, 1].
	Coverage float64
	Observed time.Duration
	// NoData is true when the window holds no event or slice at all.
	NoData bool
	// SLI is the measured ratio: good/total events or runs, good slices
	// of all slices with data, or the mean of the slices' ratios; NaN
	// without data.
	SLI float64
	// ErrorRatio is 1 - SLI (0 without data).
	ErrorRatio float64
	// unitTime is how long one unit lasts in a full outage (probe runs and
	// slices), 0 for events.
	unitTime time.Duration
}

// ComputeBudget is the budget model: the error budget of spec over a
// window of length period whose usage is u. It is a pure function.
func ComputeBudget(sp *Spec, period time.Duration, u Usage) Budget {
	b := Budget{Budgeting: sp.Budgeting, Period: period, SLI: math.NaN()}
	span := period - u.Excluded
	if span < 0 {
		span = 0
	}
	if span-u.Observed <= time.Minute {
		// Counts are per minute: a window observed to its last, running
		// minute is fully observed, including the instant that minute
		// starts (read at 12:00:00.000 with data through 11:59:59, only
		// the running minute, still empty, is unobserved: nothing to
		// project).
		u.Observed = span
	}
	if span > 0 {
		b.Coverage = clamp01(float64(u.Observed) / float64(span))
	}
	b.Observed = u.Observed
	switch {
	case sp.Budgeting.Sliced():
		b.Unit = "slices"
		b.unitTime = sp.Slice
		b.Expected = float64(span) / float64(sp.Slice)
		if n := u.Slices.N(); n > 0 {
			if sp.Budgeting == Timeslices {
				b.Spent = float64(u.Slices.Bad)
			} else {
				b.Spent = u.Slices.ErrorSum
			}
			b.ErrorRatio = b.Spent / float64(n)
		}
		b.NoData = u.Slices.N() == 0
	case sp.Kind == KindProbe:
		b.Unit = "runs"
		b.unitTime = sp.ProbeInterval / time.Duration(max(sp.ProbeLocations, 1))
		b.Expected = span.Seconds() / sp.ProbeInterval.Seconds() * float64(max(sp.ProbeLocations, 1))
	default:
		b.Unit = "events"
		b.Expected = float64(u.Counts.Total)
		if u.Observed > 0 && u.Observed < span && u.Counts.Total > 0 {
			b.Expected = float64(u.Counts.Total) * float64(span) / float64(u.Observed)
			b.Projected = true
		}
	}
	if !sp.Budgeting.Sliced() {
		b.NoData = u.Counts.Total <= 0
		b.Spent = float64(u.Counts.Bad())
		b.ErrorRatio = u.Counts.ErrorRatio()
	}
	if !b.NoData {
		b.SLI = 1 - b.ErrorRatio
	}
	b.Allowed = sp.Budget * b.Expected
	switch {
	case b.Allowed > 0:
		b.Consumed = b.Spent / b.Allowed
	case b.Spent > 0:
		b.Consumed = 1
	}
	b.Remaining = 1 - b.Consumed
	return b
}

// Minutes converts units of this budget to minutes of full outage: real
// for probe runs (each expected run that fails is an interval of outage)
// and time slices; ok is false for events, whose outage time a ratio
// cannot tell.
func (b Budget) Minutes(units float64) (minutes float64, ok bool) {
	if b.unitTime <= 0 {
		return 0, false
	}
	return units * b.unitTime.Minutes(), true
}

// burnRate is an error ratio divided by the budget fraction: 1 spends the
// budget exactly over the SLO's period.
func burnRate(errorRatio, budget float64) float64 {
	if budget <= 0 {
		return 0
	}
	return errorRatio / budget
}

// errorRatio is the error ratio of a span under spec's budgeting: bad/total
// events, bad slices of all slices with data, or the slices' mean error.
func errorRatio(sp *Spec, c Counts, s Slices) float64 {
	switch sp.Budgeting {
	case Timeslices:
		if s.N() == 0 {
			return 0
		}
		return float64(s.Bad) / float64(s.N())
	case RatioTimeslices:
		if s.N() == 0 {
			return 0
		}
		return s.ErrorSum / float64(s.N())
	}
	return c.ErrorRatio()
}

// spent is what a span spends of a budget, in the budget's units.
func spent(sp *Spec, c Counts, s Slices) float64 {
	switch sp.Budgeting {
	case Timeslices:
		return float64(s.Bad)
	case RatioTimeslices:
		return s.ErrorSum
	}
	return float64(c.Bad())
}

// usageOf reads the usage of the window [start, end) from src as of now
// (now <= end; the window's end is now rounded up to the minute), leaving
// out the excluded intervals.
func usageOf(sp *Spec, src CountSource, start, end, now time.Time, excluded []Interval) Usage {
	u := Usage{Counts: src.Sum(start, end)}
	if sp.Budgeting.Sliced() {
		u.Slices = src.Slices(start, end)
	}
	ex := clipIntervals(excluded, start, end)
	for _, iv := range ex {
		c := src.Sum(iv.From, iv.To)
		u.Counts = Counts{u.Counts.Good - c.Good, u.Counts.Total - c.Total}
		if sp.Budgeting.Sliced() {
			u.Slices = u.Slices.Sub(src.Slices(iv.From, iv.To))
		}
		u.Excluded += iv.To.Sub(iv.From)
	}
	first := src.FirstData()
	switch {
	case first.IsZero() || !first.Before(end):
		// Nothing counted yet: nothing observed.
	case !first.After(start):
		// Data began before the window: all of it is observed so far.
		if now.After(end) {
			now = end
		}
		u.Observed = now.Sub(start) - u.Excluded
	default:
		if now.After(end) {
			now = end
		}
		if !now.After(first) {
			// Events stamped ahead of the clock (allowed by a few
			// minutes): count their minute as observed.
			now = first.Add(time.Minute)
		}
		u.Observed = now.Sub(first)
		for _, iv := range clipIntervals(ex, first, now) {
			u.Observed -= iv.To.Sub(iv.From)
		}
	}
	u.Observed = max(u.Observed, 0)
	return u
}

// clipIntervals returns the intervals cut to [from, to), sorted and with
// overlaps merged, so no time is excluded twice.
func clipIntervals(ivs []Interval, from, to time.Time) []Interval {
	var out []Interval
	for _, iv := range ivs {
		a, b := iv.From, iv.To
		if a.Before(from) {
			a = from
		}
		if b.After(to) {
			b = to
		}
		if b.After(a) {
			out = append(out, Interval{a, b})
		}
	}
	if len(out) < 2 {
		return out
	}
	sort.Slice(out, func(i, j int) bool { return out[i].From.Before(out[j].From) })
	merged := out[:1]
	for _, iv := range out[1:] {
		last := &merged[len(merged)-1]
		if !iv.From.After(last.To) {
			if iv.To.After(last.To) {
				last.To = iv.To
			}
			continue
		}
		merged = append(merged, iv)
	}
	return merged
}

func clamp01(v float64) float64 {
	switch {
	case math.IsNaN(v) || v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}
