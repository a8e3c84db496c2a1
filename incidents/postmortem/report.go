package postmortem

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
)

// Report is GET /api/v1/reports/incidents: the incidents created in
// [From, To) counted by severity and by week, their mean times to
// acknowledge and resolve, and the error budget each SLO lost while
// incidents that affect it were open.
type Report struct {
	From       time.Time      `json:"from"`
	To         time.Time      `json:"to"`
	Count      int            `json:"count"`
	BySeverity map[string]int `json:"by_severity"`
	Weeks      []WeekCount    `json:"weeks"`
	// MTTA and MTTR are means in seconds over the incidents acknowledged
	// (resolved); nil when there are none.
	MTTA         *float64    `json:"mtta_seconds"`
	MTTR         *float64    `json:"mttr_seconds"`
	Acknowledged int         `json:"acknowledged"`
	Resolved     int         `json:"resolved"`
	SLOs         []SLOBudget `json:"slos"`
	Errors       []string    `json:"errors,omitempty"`
}

// WeekCount counts the incidents created in one ISO week (starting Monday
// 00:00 UTC).
type WeekCount struct {
	Week       time.Time      `json:"week"`
	Count      int            `json:"count"`
	BySeverity map[string]int `json:"by_severity"`
}

// SLOBudget is the budget an SLO lost during incidents: the sum of its
// consumption over the union of those incidents' windows (clipped to the
// report's range), so overlapping incidents are not counted twice. SLO
// counts are kept per minute, so each window counts the whole minutes it
// touches; windows that touch the same minute are joined first, so no
// minute is counted twice either. Counted lists those spans and
// CountedMinutes how many minutes they hold (a running minute, counted up
// to the time of reading, is one).
type SLOBudget struct {
	Name           string        `json:"name"`
	Incidents      int           `json:"incidents"`
	BudgetConsumed float64       `json:"budget_consumed"`
	Counted        []CountedSpan `json:"counted"`
	CountedMinutes int           `json:"counted_minutes"`
}

// CountedSpan is one span of whole minutes a figure counts, as incidents
// and postmortems name it: [CountedFrom, CountedTo), the end the time of
// reading while its minute runs.
type CountedSpan struct {
	CountedFrom time.Time `json:"counted_from"`
	CountedTo   time.Time `json:"counted_to"`
}

// Minutes says the span as incidents and pagers do: "counted over the
// whole minutes 2026-12-06 03:22 to 03:26 UTC".
func (c CountedSpan) Minutes() string { return model.CountedMinutes(c.CountedFrom, c.CountedTo) }

// WeekStart is the Monday 00:00 UTC at or before t.
func WeekStart(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	offset := (int(day.Weekday()) + 6) % 7 // Monday = 0
	return day.AddDate(0, 0, -offset)
}

// BuildReport computes the report over incs (the incidents created in
// [from, to)); slos may be nil. now ends the windows of open incidents.
func BuildReport(ctx context.Context, incs []*incidents.Incident, from, to time.Time, slos SLOSource, now time.Time) Report {
	r := Report{From: from, To: to, BySeverity: map[string]int{}, Weeks: []WeekCount{}, SLOs: []SLOBudget{}}
	weeks := map[time.Time]*WeekCount{}
	var ackSum, resSum float64
	type span struct{ from, to time.Time }
	spans := map[string][]span{}
	for _, inc := range incs {
		r.Count++
		sev := string(inc.Severity)
		r.BySeverity[sev]++
		ws := WeekStart(inc.CreatedAt)
		w := weeks[ws]
		if w == nil {
			w = &WeekCount{Week: ws, BySeverity: map[string]int{}}
			weeks[ws] = w
		}
		w.Count++
		w.BySeverity[sev]++
		if d, ok := inc.MTTA(); ok {
			r.Acknowledged++
			ackSum += d.Seconds()
		}
		if d, ok := inc.MTTR(); ok {
			r.Resolved++
			resSum += d.Seconds()
		}
		if slos == nil {
			continue
		}
		names := inc.SLONames
		if len(names) == 0 {
			names = slos.SLOsForLabels(inc.Labels)
		}
		f, t := Window(inc, now)
		if t.After(to) {
			t = to
		}
		if !t.After(f) {
			continue
		}
		for _, n := range names {
			spans[n] = append(spans[n], span{f, t})
		}
	}
	for _, w := range weeks {
		r.Weeks = append(r.Weeks, *w)
	}
	sort.Slice(r.Weeks, func(i, j int) bool { return r.Weeks[i].Week.Before(r.Weeks[j].Week) })
	if r.Acknowledged > 0 {
		v := ackSum / float64(r.Acknowledged)
		r.MTTA = &v
	}
	if r.Resolved > 0 {
		v := resSum / float64(r.Resolved)
		r.MTTR = &v
	}
	names := make([]string, 0, len(spans))
	for n := range spans {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ss := spans[n]
		sort.Slice(ss, func(i, j int) bool { return ss[i].from.Before(ss[j].from) })
		merged := []span{ss[0]}
		for _, s := range ss[1:] {
			last := &merged[len(merged)-1]
			// Joined when they overlap or share a minute: counts are per
			// minute, so each counts the whole minutes it touches. The
			// instants stay as they were: the budget a span is measured
			// against is that of the window ending at its end.
			if !s.from.After(last.to) || s.from.Truncate(time.Minute).Before(ceilMinute(last.to)) {
				if s.to.After(last.to) {
					last.to = s.to
				}
				continue
			}
			merged = append(merged, s)
		}
		b := SLOBudget{Name: n, Incidents: len(ss), Counted: []CountedSpan{}}
		for _, s := range merged {
			c, err := slos.Consumed(ctx, n, s.from, s.to)
			if err != nil {
				r.Errors = append(r.Errors, fmt.Sprintf("slo %s: %v", n, err))
				break
			}
			b.BudgetConsumed += c.BudgetConsumed
			if !c.CountedFrom.IsZero() && c.CountedTo.After(c.CountedFrom) {
				b.Counted = append(b.Counted, CountedSpan{c.CountedFrom.UTC(), c.CountedTo.UTC()})
				b.CountedMinutes += int(ceilMinute(c.CountedTo).Sub(c.CountedFrom) / time.Minute)
			}
		}
		r.SLOs = append(r.SLOs, b)
	}
	return r
}

// ceilMinute rounds t up to the minute.
func ceilMinute(t time.Time) time.Time {
	if m := t.Truncate(time.Minute); !m.Equal(t) {
		return m.Add(time.Minute)
	}
	return t
}
