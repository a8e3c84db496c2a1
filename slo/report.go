package slo

import (
	"context"
	"fmt"
	"math"
	"time"
)

// MonthStore keeps monthly summaries of SLOs, so the monthly report reaches
// back past the counts kept (the current and the previous month). The
// store package implements it.
type MonthStore interface {
	// SaveMonths writes summaries, replacing those of the same SLO and month.
	SaveMonths(ctx context.Context, ms []MonthSummary) error
	// LoadMonth reads the summary of slo for month ("2024-05"); ok is
	// false when none was kept.
	LoadMonth(ctx context.Context, slo, month string) (m MonthSummary, ok bool, err error)
}

// MonthSummary is an SLO's budget over one calendar month: what the
// monthly report shows for it. Months follow the SLO's calendar time zone
// for calendar windows and UTC otherwise.
type MonthSummary struct {
	SLO   string
	Month string // "2024-05"
	// From and To bound the month; Through is how far counts reached
	// when it was summarised (To once the month is over).
	From, To, Through time.Time
	Objective         float64
	Budgeting         Budgeting
	Unit              string
	Good, Total       int64
	// SLI, Expected, Allowed, Spent, Consumed, Remaining, Coverage,
	// Projected and NoData are the budget model's answers for the month.
	SLI       float64
	Expected  float64
	Allowed   float64
	Spent     float64
	Consumed  float64
	Remaining float64
	Coverage  float64
	Projected bool
	NoData    bool
	// Final is true when the month had ended when it was summarised.
	Final bool
	// FromCounts is true when the summary was computed from the counts
	// kept now (false: read back from the month store).
	FromCounts bool `json:"-"`
}

// Met reports whether the month kept its objective: the budget was not
// overspent. Only meaningful for a final month with data.
func (m MonthSummary) Met() bool { return !m.NoData && m.Remaining >= 0 }

// Outcome is the month's verdict in a word: met, missed, on track (an
// unfinished month with budget left), spent (an unfinished month whose
// budget is gone) or no data.
func (m MonthSummary) Outcome() string {
	switch {
	case m.NoData:
		return "no data"
	case m.Final && m.Met():
		return "met"
	case m.Final:
		return "missed"
	case m.Met():
		return "on track"
	}
	return "spent"
}

// MonthKey formats a month as the report names it: "2024-05".
func MonthKey(year int, month time.Month) string { return fmt.Sprintf("%04d-%02d", year, int(month)) }

// ParseMonth reads "2024-05".
func ParseMonth(s string) (year int, month time.Month, err error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 {
		return 0, 0, fmt.Errorf("month %.20q is not a month such as 2024-05", s)
	}
	return t.Year(), t.Month(), nil
}

// monthBounds returns the month of sp that starts in year and month.
func monthBounds(sp *Spec, year int, month time.Month) (from, to time.Time) {
	loc := time.UTC
	if sp.Window.Calendar() {
		loc = sp.Window.Location()
	}
	from = time.Date(year, month, 1, 0, 0, 0, 0, loc)
	return from, from.AddDate(0, 1, 0)
}

// summarise applies the budget model to [from, to) as of now.
func summarise(sp *Spec, src CountSource, from, to, now time.Time, ex []Interval) MonthSummary {
	through := to
	if now.Before(to) {
		through = now
	}
	end := to
	if now.Before(to) {
		// A running month holds the current minute, as a window does.
		end = now.Truncate(time.Minute).Add(time.Minute)
	}
	u := usageOf(sp, src, from, end, through, ex)
	b := ComputeBudget(sp, to.Sub(from), u)
	return MonthSummary{
		SLO: sp.Name, Month: MonthKey(from.Year(), from.Month()), From: from, To: to, Through: through,
		Objective: sp.Objective, Budgeting: sp.Budgeting, Unit: b.Unit, Good: u.Counts.Good, Total: u.Counts.Total,
		SLI: b.SLI, Expected: b.Expected, Allowed: b.Allowed, Spent: b.Spent, Consumed: b.Consumed,
		Remaining: b.Remaining, Coverage: b.Coverage, Projected: b.Projected, NoData: b.NoData,
		Final: !now.Before(to), FromCounts: true,
	}
}

// kept reports whether the counts of [from, ...) are still held.
func (e *Engine) kept(sp *Spec, from time.Time) bool {
	return !from.Before(e.now().Add(-retentionOf(sp) + time.Hour))
}

// Month returns the summary of SLO name for a calendar month: computed
// from the counts while they are kept, else read back from the month
// store, else a summary with NoData. A month that has not begun is an
// error.
func (e *Engine) Month(ctx context.Context, name string, year int, month time.Month) (MonthSummary, error) {
	en := e.tab.Load().entries[name]
	if en == nil {
		return MonthSummary{}, e.notFound(name)
	}
	sp := en.spec
	from, to := monthBounds(sp, year, month)
	now := e.now()
	if !from.Before(now) {
		return MonthSummary{}, &Error{Field: "month", Msg: fmt.Sprintf("%s has not begun", MonthKey(year, month))}
	}
	if e.kept(sp, from) {
		ex := e.excluded(sp, from, to)
		var m MonthSummary
		e.evaluate(ctx, en, now, func(src CountSource) Status {
			m = summarise(sp, src, from, to, now, ex)
			return Status{}
		})
		return m, nil
	}
	if e.opts.Months != nil {
		m, ok, err := e.opts.Months.LoadMonth(ctx, name, MonthKey(year, month))
		if err != nil {
			return MonthSummary{}, fmt.Errorf("read the %s summary of SLO %s: %w", MonthKey(year, month), name, err)
		}
		if ok {
			return m, nil
		}
	}
	return MonthSummary{SLO: name, Month: MonthKey(year, month), From: from, To: to, Through: from,
		Objective: sp.Objective, Budgeting: sp.Budgeting, NoData: true, SLI: math.NaN(), Remaining: 1,
		Final: !now.Before(to)}, nil
}

// MonthSpent is what the span [from, to) spent of a month's budget: the
// share of m's allowed bad units it holds (clipped to the month). ok is
// false when the span's counts are no longer kept.
func (e *Engine) MonthSpent(ctx context.Context, m MonthSummary, from, to time.Time) (share float64, ok bool, err error) {
	en := e.tab.Load().entries[m.SLO]
	if en == nil {
		return 0, false, e.notFound(m.SLO)
	}
	if from.Before(m.From) {
		from = m.From
	}
	if to.After(m.Through) {
		to = m.Through
	}
	if !to.After(from) {
		return 0, true, nil
	}
	if !e.kept(en.spec, from) {
		return 0, false, nil
	}
	c, err := e.Consumed(ctx, m.SLO, from, to)
	if err != nil {
		return 0, false, err
	}
	switch {
	case m.Allowed > 0:
		return c.Spent / m.Allowed, true, nil
	case c.Spent > 0:
		return 1, true, nil
	}
	return 0, true, nil
}

// saveMonths summarises the current and the previous month of every
// counted SLO into the month store (hourly, and on the way out), so a
// month's summary outlives its counts.
func (e *Engine) saveMonths(ctx context.Context) {
	if e.opts.Months == nil {
		return
	}
	now := e.now()
	var out []MonthSummary
	t := e.tab.Load()
	for _, sp := range t.specs {
		if t.entries[sp.Name] == nil {
			continue
		}
		loc := time.UTC
		if sp.Window.Calendar() {
			loc = sp.Window.Location()
		}
		t := now.In(loc)
		cur, _ := monthBounds(sp, t.Year(), t.Month())
		prev := cur.AddDate(0, -1, 0)
		for _, from := range []time.Time{prev, cur} {
			if !e.kept(sp, from) {
				continue
			}
			m, err := e.Month(ctx, sp.Name, from.Year(), from.Month())
			if err != nil || m.NoData {
				continue
			}
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return
	}
	if err := e.opts.Months.SaveMonths(ctx, out); err != nil && ctx.Err() == nil {
		e.log.Warn("save monthly SLO summaries; retrying in an hour", "err", err)
	}
}
