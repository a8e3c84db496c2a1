package slo

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// tableSource is a CountSource from a function of the minute over the
// minutes [lo, hi], summed and sliced the slow, obvious way: the reference
// the series is checked against.
type tableSource struct {
	f      func(m int64) Counts
	lo, hi int64
	sl     *slicing
}

// table is a tableSource over [lo, hi] (Unix minutes).
func minuteTable(lo, hi int64, f func(m int64) Counts) *tableSource {
	return &tableSource{f: f, lo: lo, hi: hi}
}

// slicedFor gives the table the slicing of sp.
func (ts *tableSource) slicedFor(sp *Spec) *tableSource {
	ts.sl = slicingOf(sp)
	return ts
}

func (ts *tableSource) at(m int64) Counts {
	if m < ts.lo || m > ts.hi {
		return Counts{}
	}
	return ts.f(m)
}

func (ts *tableSource) Sum(from, to time.Time) Counts {
	var c Counts
	for m := max(unixMinute(from), ts.lo); m < unixMinute(to) && m <= ts.hi; m++ {
		c = c.Add(ts.f(m))
	}
	return c
}

func (ts *tableSource) Slices(from, to time.Time) Slices {
	var out Slices
	if ts.sl == nil {
		return out
	}
	for m := unixMinute(from); m < unixMinute(to); m++ {
		if floorDiv(m, ts.sl.k)*ts.sl.k != m {
			continue
		}
		var c Counts
		for i := m; i < m+ts.sl.k; i++ {
			c = c.Add(ts.at(i))
		}
		out = out.Add(classifySlice(c, ts.sl.target))
	}
	return out
}

func (ts *tableSource) FirstData() time.Time {
	for m := ts.lo; m <= ts.hi; m++ {
		if ts.f(m).Total > 0 {
			return time.Unix(m*60, 0).UTC()
		}
	}
	return time.Time{}
}

func mustSpec(t testing.TB, c config.SLO, probes ...ProbeRef) *Spec {
	t.Helper()
	specs, ps := Compile([]config.SLO{c}, probes)
	if len(ps) > 0 {
		t.Fatalf("compile: %v", ps)
	}
	return specs[0]
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestFactors(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		period time.Duration
		want   []float64
	}{
		{30 * day, []float64{14.4, 6, 3, 1}},
		{28 * day, []float64{13.44, 5.6, 2.8, 0.933333333333}},
	}
	for _, tc := range tests {
		for i, td := range Tiers {
			if got := Factor(td.Share, tc.period, td.Long); !near(got, tc.want[i]) {
				t.Errorf("period %s tier %d: k = %v, want %v", tc.period, i, got, tc.want[i])
			}
		}
	}
}

// scenario: 1000 events a minute for 30 days, none bad, except 20 bad a
// minute during the last hour (an error ratio of 2%: burn 20 at 99.9%).
func scenario(now time.Time) *tableSource {
	nowMin := unixMinute(now)
	return minuteTable(nowMin-30*24*60-4, nowMin, func(m int64) Counts {
		if m > nowMin-60 {
			return Counts{Good: 980, Total: 1000}
		}
		return Counts{Good: 1000, Total: 1000}
	})
}

func TestEvaluateHandComputed(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "checkout", Objective: 99.9, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}})
	now := time.Date(2024, 5, 17, 12, 34, 56, 0, time.UTC)
	st := Evaluate(sp, scenario(now), now)

	// Hand-computed: bad = 60 min * 20 = 1200; total over 30d = 43,200,000.
	want := map[string]float64{
		"5m": 20, "30m": 20, "1h": 20,
		"2h":     1200.0 / 120000 / 0.001,
		"6h":     1200.0 / 360000 / 0.001,
		"1d":     1200.0 / 1440000 / 0.001,
		"3d":     1200.0 / 4320000 / 0.001,
		"window": 1200.0 / 43200000 / 0.001,
	}
	for w, v := range want {
		if !near(st.BurnRates[w], v) {
			t.Errorf("burn rate %s = %v, want %v", w, st.BurnRates[w], v)
		}
	}
	if st.Window.Total != 43_200_000 || st.Window.Bad() != 1200 {
		t.Fatalf("window counts = %+v", st.Window)
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"sli", st.SLI, 1 - 1200.0/43200000},
		{"budget fraction", st.BudgetFraction, 0.001},
		{"budget events", st.Budget.Allowed, 43200},
		{"budget spent", st.Budget.Spent, 1200},
		{"budget consumed", st.BudgetConsumed, 1200.0 / 43200},
		{"budget remaining", st.BudgetRemaining, 1 - 1200.0/43200},
		{"coverage", st.Budget.Coverage, 1},
	}
	if st.Budget.Projected || st.Budget.Unit != "events" {
		t.Errorf("a fully covered events window: projected %v unit %q", st.Budget.Projected, st.Budget.Unit)
	}
	if _, ok := st.Budget.Minutes(1); ok {
		t.Error("events budget converted to outage minutes")
	}
	for _, c := range checks {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// Remaining 0.97222 of a 30-day budget at burn 20: 0.97222*30d/20 = 35h.
	if st.TimeToExhaustion == nil || st.TimeToExhaustion.Round(time.Second) != 35*time.Hour {
		t.Errorf("time to exhaustion = %v, want 35h", st.TimeToExhaustion)
	}
	firing := []bool{true, false, false, false}
	for i, tier := range st.Tiers {
		if tier.Firing != firing[i] {
			t.Errorf("tier %d (%s %s/%s, k=%v, long %v short %v) firing = %v, want %v",
				i, tier.Name, tier.LongWindow, tier.ShortWindow, tier.Factor, tier.LongRate, tier.ShortRate, tier.Firing, firing[i])
		}
	}
	if st.Tiers[0].Severity != model.SeverityCritical || st.Tiers[2].Severity != model.SeverityWarning {
		t.Errorf("severities = %s, %s", st.Tiers[0].Severity, st.Tiers[2].Severity)
	}
	if st.Exhausted {
		t.Error("exhausted with 97% of the budget left")
	}
	state := st.State()
	if state.Name != "checkout" || state.Window != 30*24*time.Hour || state.Events != 43_200_000 || len(state.Tiers) != 4 {
		t.Errorf("state = %+v", state)
	}
}

// TestSeriesMatchesTable checks the in-memory series (hour sums plus
// minute detail) against summing every minute, for every window, at
// minute offsets that cut hours.
func TestSeriesMatchesTable(t *testing.T) {
	for _, c := range []config.SLO{
		{Name: "x", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}},
		{Name: "t", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}, Budgeting: "timeslices", TimesliceTarget: 90,
			TimesliceWindow: model.Duration(5 * time.Minute)},
		{Name: "r", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}, Budgeting: "ratio_timeslices"},
	} {
		t.Run(c.Name, func(t *testing.T) { seriesMatchesTable(t, mustSpec(t, c)) })
	}
}

func seriesMatchesTable(t *testing.T, sp *Spec) {
	now := time.Date(2024, 5, 17, 12, 34, 56, 0, time.UTC)
	f := func(m int64) Counts { // varied traffic: bursts of bad minutes
		total := 50 + m%37
		bad := int64(0)
		if m%97 < 5 {
			bad = total / 3
		}
		return Counts{Good: total - bad, Total: total}
	}
	s := newSeries(retentionOf(sp), slicingOf(sp))
	start := unixMinute(now) - 37*24*60
	for m := start; m <= unixMinute(now); m++ {
		c := f(m)
		s.add(m, c.Good, c.Total)
	}
	// The series keeps minute detail only for recent hours; give it the
	// edges from the "store", as the engine would.
	for at := now; at.After(now.Add(-time.Hour)); at = at.Add(-7 * time.Minute) {
		s.trim(floorDiv(at.Unix(), 3600))
		st := Evaluate(sp, s, at)
		for _, h := range s.takeMissed() {
			b := new(block)
			for i := range int64(60) {
				b[i] = f(h*60 + i)
			}
			s.edges[h] = b
		}
		st = Evaluate(sp, s, at)
		if m := s.takeMissed(); len(m) > 0 {
			t.Fatalf("still missing %v", m)
		}
		ref := Evaluate(sp, minuteTable(start, unixMinute(now), f).slicedFor(sp), at)
		for w, v := range ref.BurnRates {
			if !near(st.BurnRates[w], v) {
				t.Errorf("at %s: burn %s = %v, want %v", at, w, st.BurnRates[w], v)
			}
		}
		if st.Window != ref.Window || !near(st.Budget.Spent, ref.Budget.Spent) || !near(st.Budget.Remaining, ref.Budget.Remaining) {
			t.Errorf("at %s: window %+v budget %+v, want %+v %+v", at, st.Window, st.Budget, ref.Window, ref.Budget)
		}
	}
	if !s.FirstData().Equal(time.Unix(start*60, 0).UTC()) {
		t.Errorf("first data %s", s.FirstData())
	}
}

func TestCalendarMonthBoundary(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "m", Objective: 99, Window: "month", SLI: config.SLI{Events: &config.SLIEvents{}}})
	// One bad event a minute on 29 February 2024; good traffic afterwards.
	feb29 := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	mar1 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	src := minuteTable(unixMinute(feb29), unixMinute(mar1)+24*60, func(m int64) Counts {
		if m < unixMinute(mar1) {
			return Counts{Good: 9, Total: 10}
		}
		return Counts{Good: 10, Total: 10}
	})
	before := Evaluate(sp, src, mar1.Add(-time.Second)) // 23:59:59 on the 29th
	if !before.WindowStart.Equal(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)) || before.Period != 29*24*time.Hour {
		t.Fatalf("February window = %s + %s", before.WindowStart, before.Period)
	}
	if before.Window.Bad() != 1440 || !near(before.SLI, 0.9) {
		t.Errorf("February counts = %+v sli %v", before.Window, before.SLI)
	}
	// Page factor in a 29-day month: 0.02 * 29*24 = 13.92.
	if !near(before.Tiers[0].Factor, 13.92) {
		t.Errorf("February page factor = %v, want 13.92", before.Tiers[0].Factor)
	}
	after := Evaluate(sp, src, mar1.Add(10*time.Minute+30*time.Second))
	if !after.WindowStart.Equal(mar1) || after.Period != 31*24*time.Hour {
		t.Fatalf("March window = %s + %s", after.WindowStart, after.Period)
	}
	if after.Window.Total != 110 || after.Window.Bad() != 0 || after.BudgetRemaining != 1 {
		t.Errorf("March counts = %+v remaining %v: February's bad minutes leaked in", after.Window, after.BudgetRemaining)
	}
	// The 1h burn window still sees February's last 49 minutes.
	if after.BurnRates["1h"] <= 0 {
		t.Errorf("1h burn rate = %v, want February's errors in it", after.BurnRates["1h"])
	}
}

func TestCalendarTimeZones(t *testing.T) {
	mustWin := func(s, tz string) Window {
		w, err := ParseWindow(s, tz)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		w         Window
		now       time.Time
		start     time.Time
		periodHrs float64
	}{
		// 31 March 2024 has 23 hours in Berlin (DST starts).
		{mustWin("month", "Europe/Berlin"), time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, berlin), 31*24 - 1},
		// 23:30 UTC on 30 April is 1 May in Berlin.
		{mustWin("month", "Europe/Berlin"), time.Date(2024, 4, 30, 23, 30, 0, 0, time.UTC), time.Date(2024, 5, 1, 0, 0, 0, 0, berlin), 31 * 24},
		// Weeks start on Monday: Sunday 19 May 2024 belongs to the week of 13 May.
		{mustWin("week", ""), time.Date(2024, 5, 19, 23, 0, 0, 0, time.UTC), time.Date(2024, 5, 13, 0, 0, 0, 0, time.UTC), 168},
		{mustWin("week", ""), time.Date(2024, 5, 20, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 20, 0, 0, 0, 0, time.UTC), 168},
		{mustWin("28d", ""), time.Date(2024, 5, 20, 0, 0, 0, 0, time.UTC), time.Date(2024, 4, 22, 0, 0, 0, 0, time.UTC), 28 * 24},
	}
	for _, tc := range tests {
		start, period := tc.w.Bounds(tc.now)
		if !start.Equal(tc.start) || period.Hours() != tc.periodHrs {
			t.Errorf("%s at %s: %s + %vh, want %s + %vh", tc.w, tc.now, start, period.Hours(), tc.start, tc.periodHrs)
		}
	}
}

func TestLowTrafficGuard(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "quiet", Objective: 99.9, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}})
	now := time.Date(2024, 5, 17, 3, 0, 0, 0, time.UTC)
	// Five events in the last hour, one bad: a burn of 200, but too few events to page.
	src := minuteTable(unixMinute(now)-60, unixMinute(now), func(m int64) Counts {
		d := unixMinute(now) - m
		switch d {
		case 0:
			return Counts{Good: 0, Total: 1}
		case 10, 20, 30, 40:
			return Counts{Good: 1, Total: 1}
		}
		return Counts{}
	})
	st := Evaluate(sp, src, now)
	if st.BurnRates["1h"] != 200 || st.BurnRates["5m"] != 1000 {
		t.Fatalf("burn rates = %v", st.BurnRates)
	}
	for _, tier := range st.Tiers {
		if tier.Firing {
			t.Errorf("tier %s %s fired on 5 events (min_events 10)", tier.Name, tier.LongWindow)
		}
	}
	if st.Exhausted {
		t.Error("budget exhausted fired on 5 events")
	}
	// With the guard lowered, the same traffic pages. The budget is not
	// spent: five events in the 40 minutes since the first project to
	// 5 * 43,200 / 40 = 5,400 over 30 days, so 5.4 may be bad and one was:
	// 1 - 1/5.4 = 0.8148 left, empty in 0.8148 * 30d / 200 = 2h56m.
	sp.MinEvents = 1
	st = Evaluate(sp, src, now)
	if !st.Tiers[0].Firing || st.Exhausted || st.TimeToExhaustion == nil || *st.TimeToExhaustion != 2*time.Hour+56*time.Minute {
		t.Errorf("with min_events 1: page %v exhausted %v tte %v", st.Tiers[0].Firing, st.Exhausted, st.TimeToExhaustion)
	}
	if !near(st.Budget.Expected, 5400) || !near(st.BudgetRemaining, 1-1/5.4) || !st.Budget.Projected {
		t.Errorf("budget = %+v", st.Budget)
	}
}

func TestNoEvents(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "idle", Objective: 99, Window: "7d", SLI: config.SLI{Events: &config.SLIEvents{}}})
	st := Evaluate(sp, minuteTable(0, -1, func(int64) Counts { return Counts{} }), time.Unix(1e9, 0))
	if st.SLI != 1 || st.BudgetRemaining != 1 || st.TimeToExhaustion != nil || st.Exhausted || !st.Budget.NoData || !math.IsNaN(st.Budget.SLI) {
		t.Errorf("idle SLO: %+v", st)
	}
	for w, v := range st.BurnRates {
		if v != 0 || math.IsNaN(v) {
			t.Errorf("burn %s = %v", w, v)
		}
	}
}

func TestConsume(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "checkout", Objective: 99.9, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}})
	now := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	src := scenario(now.Add(-time.Minute))
	c := Consume(sp, src, now.Add(-30*time.Minute), now)
	// 30 minutes of 20 bad of 1000: 600 bad; budget = 0.001 * 43.2M = 43,200.
	if c.Total != 30000 || c.Good != 29400 || !near(c.BudgetConsumed, 600.0/43200) {
		t.Errorf("consumption = %+v", c)
	}
	if want := now.Add(-30 * time.Minute); !c.CountedFrom.Equal(want) || !c.CountedTo.Equal(now) {
		t.Errorf("counted %v to %v, want %v to %v", c.CountedFrom, c.CountedTo, want, now)
	}
}

// A probe run every 10 s, good until 03:22:30 and failing from then on:
// a span of instants counts the whole minutes it touches, and says so.
func TestEngineConsumedCountsWholeMinutes(t *testing.T) {
	day := func(h, m, s, ns int) time.Time { return time.Date(2026, 12, 6, h, m, s, ns, time.UTC) }
	now := day(3, 20, 0, 0)
	specs, ps := Compile([]config.SLO{{Name: "avail", Objective: 99, Window: "30d", SLI: config.SLI{Probe: "checkout"}}},
		[]ProbeRef{{Name: "checkout", Interval: 10 * time.Second}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	e, err := New(Options{Specs: specs, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	next := now // the next run
	runUntil := func(end time.Time) {
		for ; !next.After(end); next = next.Add(10 * time.Second) {
			now = next
			good := int64(0)
			if next.Before(day(3, 22, 30, 0)) {
				good = 1
			}
			e.RecordOutcome(ctx, model.Outcome{Source: model.SourceProbe, Name: "checkout", Good: good, Total: 1, Time: next})
		}
		now = end
	}
	from, to := day(3, 22, 32, 756714300), day(3, 25, 11, 893910466)
	check := func(wantTo time.Time, good, total int64) {
		t.Helper()
		c, err := e.Consumed(ctx, "avail", from, to)
		if err != nil {
			t.Fatal(err)
		}
		if !c.From.Equal(from) || !c.To.Equal(to) || !c.CountedFrom.Equal(day(3, 22, 0, 0)) || !c.CountedTo.Equal(wantTo) {
			t.Errorf("at %v: span %v to %v counted %v to %v, want counted 03:22 to %v", now, c.From, c.To, c.CountedFrom, c.CountedTo, wantTo)
		}
		if c.Good != good || c.Total != total {
			t.Errorf("at %v: good %d of %d, want %d of %d", now, c.Good, c.Total, good, total)
		}
	}
	// Resolved at 03:25:11.89 and read at 03:25:47: the runs of 03:22 to
	// 03:25:40 (6+6+6+5 = 23; good only 03:22:00-:20) are counted, up to now.
	runUntil(day(3, 25, 47, 0))
	check(day(3, 25, 47, 0), 3, 23)
	// Read after 03:26: the whole minutes 03:22 to 03:26, 24 runs, 21
	// failed (by the instants alone it would be 16 of 16).
	runUntil(day(3, 30, 0, 0))
	check(day(3, 26, 0, 0), 3, 24)
}

func TestEngineRecordAndClassify(t *testing.T) {
	now := time.Date(2024, 5, 17, 12, 0, 30, 0, time.UTC)
	specs, ps := Compile([]config.SLO{
		{Name: "avail", Objective: 99, Window: "30d", SLI: config.SLI{Probe: "checkout"}},
		{Name: "lcp", Objective: 95, Window: "30d", SLI: config.SLI{RUM: &config.SLIRUM{Metric: "lcp", Threshold: "2500ms", Route: "/cart"}}},
		{Name: "cls", Objective: 95, Window: "30d", SLI: config.SLI{RUM: &config.SLIRUM{Metric: "cls"}}},
		{Name: "jsfree", Objective: 99, Window: "30d", SLI: config.SLI{RUM: &config.SLIRUM{JSErrorFree: true}}},
		{Name: "orders", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}},
	}, []ProbeRef{{Name: "checkout", Interval: 10 * time.Second}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	e, err := New(Options{Specs: specs, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cart := model.Labels{"route": "/cart", "site": "shop", "device": "desktop"}
	home := model.Labels{"route": "/", "site": "shop", "device": "desktop"}
	for _, o := range []model.Outcome{
		{Source: model.SourceProbe, Name: "checkout", Good: 1, Total: 1, Time: now},
		{Source: model.SourceProbe, Name: "checkout", Good: 0, Total: 1, Time: now},
		{Source: model.SourceProbe, Name: "other", Good: 0, Total: 1, Time: now},
		{Source: model.SourceRUM, Name: "lcp", Labels: cart, Total: 1, Value: 2.5, HasValue: true},
		{Source: model.SourceRUM, Name: "lcp", Labels: cart, Total: 1, Value: 2.6, HasValue: true},
		{Source: model.SourceRUM, Name: "lcp", Labels: home, Total: 1, Value: 9, HasValue: true}, // filtered out
		{Source: model.SourceRUM, Name: "cls", Labels: home, Total: 2, Value: 0.05, HasValue: true},
		{Source: model.SourceRUM, Name: "cls", Labels: home, Total: 1, Value: 0.3, HasValue: true},
		{Source: model.SourceRUM, Name: "page_view", Labels: home, Good: 1, Total: 1},
		{Source: model.SourceRUM, Name: "page_view", Labels: home, Good: 0, Total: 1},
		{Source: model.SourceProbe, Name: "checkout", Good: 1, Total: 1, Time: now.Add(-2 * time.Hour)}, // too late
	} {
		e.RecordOutcome(ctx, o)
	}
	if err := e.RecordEvents(ctx, "orders", 7, 10, time.Time{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]Counts{"avail": {1, 2}, "lcp": {1, 2}, "cls": {2, 3}, "jsfree": {1, 2}, "orders": {7, 10}}
	for _, st := range e.Statuses(ctx) {
		if st.Window != want[st.Spec.Name] {
			t.Errorf("%s: counts %+v, want %+v", st.Spec.Name, st.Window, want[st.Spec.Name])
		}
	}
}

func TestRecordEventsValidation(t *testing.T) {
	now := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	specs, _ := Compile([]config.SLO{
		{Name: "orders", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}},
		{Name: "avail", Objective: 99, Window: "30d", SLI: config.SLI{Probe: "p"}},
		{Name: "prom", Objective: 99, Window: "30d", SLI: config.SLI{Prometheus: &config.SLIPrometheus{Errors: "a[{{.window}}]", Total: "b[{{.window}}]"}}},
	}, []ProbeRef{{Name: "p"}})
	e, _ := New(Options{Specs: specs, Now: func() time.Time { return now }})
	tests := []struct {
		name        string
		slo         string
		good, total int64
		at          time.Time
		field       string
		notFound    bool
		conflict    bool
	}{
		{name: "ok", slo: "orders", good: 1, total: 2},
		{name: "ok past", slo: "orders", good: 1, total: 2, at: now.Add(-59 * time.Minute)},
		{name: "negative good", slo: "orders", good: -1, total: 2, field: "good"},
		{name: "negative total", slo: "orders", good: 0, total: -2, field: "total"},
		{name: "good over total", slo: "orders", good: 3, total: 2, field: "good"},
		{name: "too many", slo: "orders", good: 0, total: MaxEventsPerCall + 1, field: "total"},
		{name: "too old", slo: "orders", good: 1, total: 1, at: now.Add(-2 * time.Hour), field: "time"},
		{name: "future", slo: "orders", good: 1, total: 1, at: now.Add(time.Hour), field: "time"},
		{name: "unknown", slo: "nope", good: 1, total: 1, notFound: true},
		{name: "prometheus slo", slo: "prom", good: 1, total: 1, notFound: true},
		{name: "probe slo", slo: "avail", good: 1, total: 1, conflict: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.RecordEvents(context.Background(), tc.slo, tc.good, tc.total, tc.at)
			var se *Error
			switch {
			case tc.field == "" && !tc.notFound && !tc.conflict:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			case err == nil:
				t.Fatal("no error")
			default:
				if !asError(err, &se) {
					t.Fatalf("err %T %v is not *Error", err, err)
				}
				if se.Field != tc.field || se.NotFound() != tc.notFound || se.Conflict() != tc.conflict || se.Invalid() != (tc.field != "") {
					t.Errorf("err = %+v", se)
				}
			}
		})
	}
}

func asError(err error, target **Error) bool {
	se, ok := err.(*Error)
	if ok {
		*target = se
	}
	return ok
}

// TestSeriesLateEvent: an event for a finished hour (within the lateness
// allowed) must reach every window, past the cached hour sums.
func TestSeriesLateEvent(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "x", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}})
	now := time.Date(2024, 5, 17, 12, 5, 0, 0, time.UTC)
	specs := []*Spec{sp}
	e, _ := New(Options{Specs: specs, Now: func() time.Time { return now }})
	ctx := context.Background()
	for i := range 48 * 60 {
		at := now.Add(-time.Duration(i) * time.Minute)
		if now.Sub(at) < maxLateness {
			if err := e.RecordEvents(ctx, "x", 10, 10, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	before, _ := e.Status(ctx, "x")
	if err := e.RecordEvents(ctx, "x", 0, 5, now.Add(-50*time.Minute)); err != nil { // 11:15, a finished hour
		t.Fatal(err)
	}
	after, _ := e.Status(ctx, "x")
	for _, w := range []string{"1h", "2h", "1d", "window"} {
		if after.WindowEvents[w] != before.WindowEvents[w]+5 {
			t.Errorf("%s: %d events after the late ones, want %d", w, after.WindowEvents[w], before.WindowEvents[w]+5)
		}
	}
}
