package slo

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// The budget model, each case worked out by hand in its comment. The
// reference instant is 2024-05-17 12:00 UTC.
var refNow = time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)

func checkNear(t *testing.T, name string, got, want float64) {
	t.Helper()
	if !near(got, want) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

// A probe SLO whose window is 30 s old: the probe runs every second and
// failed 20 of its 30 runs. The window expects 30d / 1s = 2,592,000 runs;
// 0.1% of them, 2,592, may fail; 20 did: 20/2,592 = 0.77% spent.
func TestBudgetProbeWindow30sOld(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "checkout", Objective: 99.9, Window: "30d", SLI: config.SLI{Probe: "checkout"}},
		ProbeRef{Name: "checkout", Interval: time.Second, Locations: 1})
	now := refNow.Add(30 * time.Second)
	src := minuteTable(unixMinute(refNow), unixMinute(refNow), func(int64) Counts { return Counts{Good: 10, Total: 30} })
	st := Evaluate(sp, src, now)
	b := st.Budget
	if b.Unit != "runs" || b.Projected || b.NoData {
		t.Fatalf("budget = %+v", b)
	}
	checkNear(t, "expected runs", b.Expected, 2_592_000)
	checkNear(t, "allowed runs", b.Allowed, 2592)
	checkNear(t, "spent", b.Spent, 20)
	checkNear(t, "consumed", b.Consumed, 20.0/2592)
	checkNear(t, "remaining", st.BudgetRemaining, 1-20.0/2592) // 0.99228
	checkNear(t, "sli", st.SLI, 10.0/30)
	checkNear(t, "coverage", b.Coverage, 30.0/2_592_000)
	if b.Observed != 30*time.Second {
		t.Errorf("observed = %s, want 30s", b.Observed)
	}
	// Burn over the last hour: (20/30) / 0.001 = 666.7. Left: 2,572 runs,
	// at 20 bad of every 30 a second: 2,572 / (2/3) = 3,858 s.
	checkNear(t, "burn 1h", st.BurnRates["1h"], 20.0/30/0.001)
	if st.TimeToExhaustion == nil || st.TimeToExhaustion.Round(time.Second) != 3858*time.Second {
		t.Errorf("time to exhaustion = %v, want 1h4m18s", st.TimeToExhaustion)
	}
	// A failing run at 1 s is a second of outage: 2,572 runs are 42.9 minutes.
	if m, ok := b.Minutes(b.Allowed - b.Spent); !ok || !near(m, 2572.0/60) {
		t.Errorf("outage minutes left = %v %v, want 42.87", m, ok)
	}
	if st.Exhausted {
		t.Error("exhausted")
	}
	// The incident that spans the failures spent the same 0.77%.
	c := Consume(sp, src, refNow, now)
	checkNear(t, "incident consumed", c.BudgetConsumed, 20.0/2592)
}

// An events SLO 30 s old: 100 events, 5 bad, objective 99%. The 30 s seen
// project to 100 * 30d/30s = 8,640,000 events; 1% of them, 86,400, may be
// bad; 5 were.
func TestBudgetEventsWindow30sOld(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "orders", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}})
	src := minuteTable(unixMinute(refNow), unixMinute(refNow), func(int64) Counts { return Counts{Good: 95, Total: 100} })
	st := Evaluate(sp, src, refNow.Add(30*time.Second))
	b := st.Budget
	if !b.Projected || b.Unit != "events" {
		t.Fatalf("budget = %+v", b)
	}
	checkNear(t, "expected", b.Expected, 8_640_000)
	checkNear(t, "allowed", b.Allowed, 86_400)
	checkNear(t, "remaining", b.Remaining, 1-5.0/86_400)
	checkNear(t, "sli", st.SLI, 0.95)
	if _, ok := b.Minutes(1); ok {
		t.Error("an events budget has no outage minutes")
	}
}

// One day of events in a 30-day 99% SLO: 1,000 a minute for 1,440
// minutes, 10 of them bad in each of the last 60. Seen: 1,440,000 events,
// 600 bad; projected: 1,440,000 * 30 = 43,200,000; allowed 432,000; spent
// 600/432,000 = 0.139%. Burn over the last hour: 1% / 1% = 1, so the rest
// lasts the rest of a period: 0.998611 * 30d = 2,588,400 s.
func TestBudgetEventsOneDay(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "orders", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}})
	nowMin := unixMinute(refNow)
	src := minuteTable(nowMin-1440, nowMin-1, func(m int64) Counts {
		if m >= nowMin-60 {
			return Counts{Good: 990, Total: 1000}
		}
		return Counts{Good: 1000, Total: 1000}
	})
	st := Evaluate(sp, src, refNow)
	b := st.Budget
	if b.Observed != 24*time.Hour || !b.Projected {
		t.Fatalf("observed %s projected %v", b.Observed, b.Projected)
	}
	checkNear(t, "coverage", b.Coverage, 1.0/30)
	checkNear(t, "expected", b.Expected, 43_200_000)
	checkNear(t, "allowed", b.Allowed, 432_000)
	checkNear(t, "consumed", b.Consumed, 600.0/432_000)
	checkNear(t, "remaining", st.BudgetRemaining, 1-600.0/432_000)
	checkNear(t, "sli", st.SLI, 1-600.0/1_440_000)
	checkNear(t, "burn 1h", st.BurnRates["1h"], 1)
	if st.TimeToExhaustion == nil || st.TimeToExhaustion.Round(time.Second) != 2_588_400*time.Second {
		t.Errorf("time to exhaustion = %v, want 2,588,400 s", st.TimeToExhaustion)
	}
}

// An events SLO read exactly as a minute starts is not projected: at
// 12:00:00.000 with data through 11:59:59 only the running minute, still
// empty, lacks data. 1,000 events a minute, 1 bad, for 34 days; 99%.
//   - 11:59:59.999999999: the window is the 43,200 minutes to 12:00:
//     43,200,000 events, 432,000 may be bad, 43,200 are: 10% spent.
//   - 12:00:00.000 and 1 ns later: the window runs to 12:01 and holds the
//     43,199 minutes 11:59 back (12:00 has none yet): 43,199,000 events,
//     431,990 allowed, 43,199 bad: 10% spent. Projecting the empty minute
//     would make it 43,200,000 expected and 9.9998% spent, "(projected)".
//
// Data only a day old is projected at all three instants.
func TestBudgetEventsAtAMinuteBoundary(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "orders", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}})
	nowMin := unixMinute(refNow)
	src := minuteTable(nowMin-34*1440, nowMin-1, func(int64) Counts { return Counts{Good: 999, Total: 1000} })
	for _, c := range []struct {
		name  string
		at    time.Time
		total int64
	}{
		{"1 ns before", refNow.Add(-time.Nanosecond), 43_200_000},
		{"at the boundary", refNow, 43_199_000},
		{"1 ns after", refNow.Add(time.Nanosecond), 43_199_000},
	} {
		b := Evaluate(sp, src, c.at).Budget
		if b.Projected || b.Coverage != 1 || b.Observed != 30*24*time.Hour {
			t.Errorf("%s: projected %v, coverage %v, observed %s; want counted, 1, 720h", c.name, b.Projected, b.Coverage, b.Observed)
		}
		checkNear(t, c.name+" expected", b.Expected, float64(c.total))
		checkNear(t, c.name+" allowed", b.Allowed, float64(c.total)/100)
		checkNear(t, c.name+" spent", b.Spent, float64(c.total)/1000)
		checkNear(t, c.name+" remaining", b.Remaining, 0.9)
		if got := Evaluate(sp, src, c.at).State().BudgetProjected; got {
			t.Errorf("%s: the state alerts read says projected", c.name)
		}
	}
	young := minuteTable(nowMin-1440, nowMin-1, func(int64) Counts { return Counts{Good: 999, Total: 1000} })
	for _, at := range []time.Time{refNow.Add(-time.Nanosecond), refNow, refNow.Add(time.Nanosecond)} {
		if b := Evaluate(sp, young, at).Budget; !b.Projected || b.Coverage >= 1 {
			t.Errorf("a day of data at %s: projected %v, coverage %v", at.Format(time.RFC3339Nano), b.Projected, b.Coverage)
		}
	}
}

// The time to exhaustion is the remaining units at the rate the last hour
// spent them, so an alert's "x% spent in the last hour; the rest lasts y"
// holds (y = remaining / x hours), even when the last hour's traffic is
// far below the window's. Events: 100 a minute, all good, for an hour;
// then 10 a minute with 1 bad, for an hour. Seen 6,600 in 2 h: projected
// 6,600 * 360 = 2,376,000, allowed 23,760, of which 60 spent, leaving
// 23,700. The 1h window ends with the running minute (no data yet at the
// minute's start), so it has data for 59 minutes with 59 bad events: 1 a
// minute, and 23,700 last 23,700 minutes = 395 h. (At the 1h burn rate,
// 10, it would say 72 h: the rate of the window's average traffic, not of
// the bad events that are happening.)
func TestTimeToExhaustionFollowsTheLastHoursSpend(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "orders", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}})
	nowMin := unixMinute(refNow)
	src := minuteTable(nowMin-120, nowMin-1, func(m int64) Counts {
		if m >= nowMin-60 {
			return Counts{Good: 9, Total: 10}
		}
		return Counts{Good: 100, Total: 100}
	})
	st := Evaluate(sp, src, refNow)
	checkNear(t, "allowed", st.Budget.Allowed, 23_760)
	checkNear(t, "hour consumed", st.HourConsumed, 59.0/23_760)
	if st.HourObserved != 59*time.Minute {
		t.Errorf("hour observed = %s, want 59m", st.HourObserved)
	}
	if st.TimeToExhaustion == nil || st.TimeToExhaustion.Round(time.Second) != 395*time.Hour {
		t.Errorf("time to exhaustion = %v, want 395h", st.TimeToExhaustion)
	}
}

// Data younger than an hour: the probe runs every 10 s and started 2
// minutes ago; 1 of its 12 runs failed. Allowed: 0.5% of 259,200 = 1,296
// runs; the 2 minutes spent 1 (HourObserved 2m); the other 1,295 last
// 1,295 * 2 min = 43h10m at that rate.
func TestTimeToExhaustionWithDataYoungerThanAnHour(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "checkout", Objective: 99.5, Window: "30d", SLI: config.SLI{Probe: "checkout"}},
		ProbeRef{Name: "checkout", Interval: 10 * time.Second, Locations: 1})
	nowMin := unixMinute(refNow)
	src := minuteTable(nowMin-2, nowMin-1, func(m int64) Counts {
		if m == nowMin-2 {
			return Counts{Good: 5, Total: 6}
		}
		return Counts{Good: 6, Total: 6}
	})
	st := Evaluate(sp, src, refNow)
	checkNear(t, "hour consumed", st.HourConsumed, 1.0/1296)
	if st.HourObserved != 2*time.Minute {
		t.Errorf("hour observed = %s, want 2m", st.HourObserved)
	}
	if st.TimeToExhaustion == nil || st.TimeToExhaustion.Round(time.Second) != 1295*2*time.Minute {
		t.Errorf("time to exhaustion = %v, want 43h10m", st.TimeToExhaustion)
	}
	if got := st.State().SpentOver; got != 2*time.Minute {
		t.Errorf("SpentOver = %s, want 2m", got)
	}
}

// A probe SLO with a gap: every 10 s, two good hours, three hours with no
// run at all (Sentinel was down), then an hour in which 30 of 360 runs
// failed; now is the end of that hour. Expected runs: 30d/10s = 259,200,
// allowed 259.2, spent 30: 1 - 30/259.2 = 0.88426. The SLI counts only
// runs that happened: 1,050 good of 1,080. The gap is observed time (data
// began 6 h ago) but no hour in it has an SLI: the history shows it as a
// gap, and the hours before the first run as gaps too, never as 100%.
func TestBudgetProbeWithGap(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "checkout", Objective: 99.9, Window: "30d", SLI: config.SLI{Probe: "checkout"}},
		ProbeRef{Name: "checkout", Interval: 10 * time.Second})
	nowMin := unixMinute(refNow)
	f := func(m int64) Counts {
		switch {
		case m < nowMin-240: // hours 1 and 2
			return Counts{Good: 6, Total: 6}
		case m < nowMin-60: // the gap
			return Counts{}
		case m < nowMin-30: // the last hour: the first 30 minutes fail one run each
			return Counts{Good: 5, Total: 6}
		}
		return Counts{Good: 6, Total: 6}
	}
	src := minuteTable(nowMin-360, nowMin-1, f)
	st := Evaluate(sp, src, refNow)
	b := st.Budget
	checkNear(t, "expected", b.Expected, 259_200)
	checkNear(t, "allowed", b.Allowed, 259.2)
	checkNear(t, "remaining", st.BudgetRemaining, 1-30/259.2)
	checkNear(t, "sli", st.SLI, 1050.0/1080)
	if b.Observed != 6*time.Hour {
		t.Errorf("observed = %s, want 6h", b.Observed)
	}
	// The same through the engine's series, and its history.
	s := newSeries(retentionOf(sp), nil)
	for m := nowMin - 360; m < nowMin; m++ {
		if c := f(m); c.Total > 0 {
			s.add(m, c.Good, c.Total)
		}
	}
	hist := history(sp, s, refNow, nil)
	byHour := map[int]HistoryPoint{}
	for _, p := range hist {
		byHour[int(refNow.Sub(p.At)/time.Hour)] = p
	}
	for h := 7; h <= 30; h++ { // before the first run
		if p := byHour[h]; !math.IsNaN(p.BudgetRemaining) || !math.IsNaN(p.HourSLI) || !math.IsNaN(p.SLI) {
			t.Errorf("%d h ago, before any data: %+v, want gaps", h, p)
		}
	}
	for _, h := range []int{2, 3} { // the hours ending in the gap
		p := byHour[h]
		if !math.IsNaN(p.HourSLI) || p.HourTotal != 0 || p.BudgetRemaining != 1 {
			t.Errorf("%d h ago, in the gap: %+v, want no hourly SLI and the budget untouched", h, p)
		}
	}
	if p := byHour[4]; p.HourSLI != 1 || p.HourTotal != 360 {
		t.Errorf("4 h ago: %+v", p)
	}
	// The last point is now; its hour, like the 1h burn window, holds the
	// current minute and the 59 before it: 354 runs, 29 of them failed.
	last := hist[len(hist)-1]
	if !last.At.Equal(refNow) || !near(last.BudgetRemaining, 1-30/259.2) || !near(last.HourSLI, 325.0/354) {
		t.Errorf("now: %+v", last)
	}
}

// An events SLO with a gap projects from the span since its first event,
// the gap included: one hour of 600 events, a three-hour gap, one hour of
// 600 events with 6 bad. 1,200 events over 5 h project to 1,200 * 144 =
// 172,800 in 30 days; 1% = 1,728 may be bad; 6 were.
func TestBudgetEventsWithGap(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "orders", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}})
	nowMin := unixMinute(refNow)
	src := minuteTable(nowMin-300, nowMin-1, func(m int64) Counts {
		switch {
		case m < nowMin-240:
			return Counts{Good: 10, Total: 10}
		case m < nowMin-60:
			return Counts{}
		case m < nowMin-54:
			return Counts{Good: 9, Total: 10}
		}
		return Counts{Good: 10, Total: 10}
	})
	b := Evaluate(sp, src, refNow).Budget
	checkNear(t, "expected", b.Expected, 172_800)
	checkNear(t, "remaining", b.Remaining, 1-6.0/1728)
}

// Timeslices: 30 days of 1-minute slices, objective 99.9%, a slice is good
// at 95% good events. One day of data: 30 minutes at 90% (bad), one
// minute at exactly 95% (good), one minute without events (a gap, neither),
// the rest at 100%. Slices in the window: 43,200; allowed 43.2; spent 30:
// 1 - 30/43.2 = 0.30556, and 13.2 minutes of bad slices left. SLI: 1,409
// good of 1,439 slices with data.
func TestBudgetTimeslices(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "avail", Objective: 99.9, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}},
		Budgeting: "timeslices", TimesliceTarget: 95})
	if sp.SliceTarget != 0.95 || sp.Slice != time.Minute {
		t.Fatalf("slicing %v %s", sp.SliceTarget, sp.Slice)
	}
	nowMin := unixMinute(refNow)
	f := func(m int64) Counts {
		switch d := nowMin - m; {
		case d <= 30:
			return Counts{Good: 9, Total: 10}
		case d == 31:
			return Counts{Good: 19, Total: 20}
		case d == 32:
			return Counts{}
		}
		return Counts{Good: 10, Total: 10}
	}
	src := minuteTable(nowMin-1440, nowMin-1, f).slicedFor(sp)
	st := Evaluate(sp, src, refNow)
	b := st.Budget
	if b.Unit != "slices" || b.Projected {
		t.Fatalf("budget = %+v", b)
	}
	checkNear(t, "expected", b.Expected, 43_200)
	checkNear(t, "allowed", b.Allowed, 43.2)
	checkNear(t, "spent", b.Spent, 30)
	checkNear(t, "remaining", st.BudgetRemaining, 1-30/43.2)
	checkNear(t, "sli", st.SLI, 1409.0/1439)
	if m, ok := b.Minutes(b.Allowed - b.Spent); !ok || !near(m, 13.2) {
		t.Errorf("minutes left = %v %v", m, ok)
	}
	// Burn over the last hour (the current minute, empty, and the 59
	// before it, one of them a gap): 30 bad of 58 slices / 0.1% = 517.2.
	checkNear(t, "burn 1h", st.BurnRates["1h"], 30.0/58/0.001)
	// The series classifies the same slices.
	s := newSeries(retentionOf(sp), slicingOf(sp))
	for m := nowMin - 1440; m < nowMin; m++ {
		if c := f(m); c.Total > 0 {
			s.add(m, c.Good, c.Total)
		}
	}
	sst := Evaluate(sp, s, refNow)
	if sst.Budget.Spent != 30 || !near(sst.SLI, 1409.0/1439) {
		t.Errorf("series: %+v", sst.Budget)
	}
	// Ratio timeslices spends each slice's error: 30 * 0.1 + 0.05 = 3.05
	// of 43.2; the SLI is the slices' mean ratio, 1 - 3.05/1,439.
	rsp := mustSpec(t, config.SLO{Name: "avail", Objective: 99.9, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}},
		Budgeting: "ratio_timeslices"})
	rst := Evaluate(rsp, minuteTable(nowMin-1440, nowMin-1, f).slicedFor(rsp), refNow)
	checkNear(t, "ratio spent", rst.Budget.Spent, 3.05)
	checkNear(t, "ratio remaining", rst.BudgetRemaining, 1-3.05/43.2)
	checkNear(t, "ratio sli", rst.SLI, 1-3.05/1439)
}

// Five-minute slices: minutes are summed before the slice is judged. Over
// 10 minutes, one minute at 50% inside a slice of five otherwise perfect
// minutes of 10 events: 45 of 50 = 90% < 95%: one bad slice of two.
func TestBudgetFiveMinuteSlices(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "avail", Objective: 99, Window: "7d", SLI: config.SLI{Events: &config.SLIEvents{}},
		Budgeting: "timeslices", TimesliceTarget: 0.95, TimesliceWindow: model.Duration(5 * time.Minute)})
	nowMin := unixMinute(refNow)
	f := func(m int64) Counts {
		if m == nowMin-3 {
			return Counts{Good: 5, Total: 10}
		}
		return Counts{Good: 10, Total: 10}
	}
	src := minuteTable(nowMin-10, nowMin-1, f).slicedFor(sp)
	b := Evaluate(sp, src, refNow).Budget
	// 7d / 5m = 2,016 slices; 1% = 20.16 may be bad.
	checkNear(t, "expected", b.Expected, 2016)
	checkNear(t, "spent", b.Spent, 1)
	checkNear(t, "sli", b.SLI, 0.5)
	s := newSeries(retentionOf(sp), slicingOf(sp))
	for m := nowMin - 10; m < nowMin; m++ {
		c := f(m)
		s.add(m, c.Good, c.Total)
	}
	if got := Evaluate(sp, s, refNow).Budget; got.Spent != 1 || got.SLI != 0.5 {
		t.Errorf("series: %+v", got)
	}
}

// A RUM SLO through the engine, 30 s old: 10 page views, two with an LCP
// over 2.5 s, objective 95%. 10 views in 30 s project to 10 * 30d/30s =
// 864,000 views in the window; 5% = 43,200 may be slow; 2 were.
func TestBudgetRUMThroughEngine(t *testing.T) {
	now := refNow
	clock := func() time.Time { return now }
	specs, ps := Compile([]config.SLO{{Name: "lcp", Objective: 95, Window: "30d", SLI: config.SLI{RUM: &config.SLIRUM{Metric: "lcp"}}}}, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	e, err := New(Options{Specs: specs, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 10 {
		v := 1.2
		if i < 2 {
			v = 3.1
		}
		e.RecordOutcome(ctx, model.Outcome{Source: model.SourceRUM, Name: "lcp", Total: 1, Value: v, HasValue: true, Time: now})
	}
	now = now.Add(30 * time.Second)
	st, err := e.Status(ctx, "lcp")
	if err != nil {
		t.Fatal(err)
	}
	checkNear(t, "expected", st.Budget.Expected, 864_000)
	checkNear(t, "remaining", st.BudgetRemaining, 1-2.0/43_200)
	checkNear(t, "sli", st.SLI, 0.8)
}

// Maintenance (any excluded interval) leaves its time and its failures out
// of the budget: a 1 s probe with an excluded hour in which all 3,600 runs
// failed, and 20 failures outside it. Expected runs: 2,592,000 - 3,600 =
// 2,588,400; allowed 2,588.4; spent 20.
func TestBudgetExcludedInterval(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "checkout", Objective: 99.9, Window: "30d", SLI: config.SLI{Probe: "checkout"}},
		ProbeRef{Name: "checkout", Interval: time.Second})
	nowMin := unixMinute(refNow)
	src := minuteTable(nowMin-180, nowMin-1, func(m int64) Counts {
		switch {
		case m >= nowMin-120 && m < nowMin-60: // maintenance
			return Counts{Good: 0, Total: 60}
		case m == nowMin-1:
			return Counts{Good: 40, Total: 60}
		}
		return Counts{Good: 60, Total: 60}
	})
	maint := Interval{refNow.Add(-2 * time.Hour), refNow.Add(-time.Hour)}
	st := Evaluate(sp, src, refNow, maint)
	checkNear(t, "expected", st.Budget.Expected, 2_588_400)
	checkNear(t, "remaining", st.BudgetRemaining, 1-20/2588.4)
	if st.Window.Total != 7200 || st.Window.Bad() != 20 {
		t.Errorf("window counts = %+v", st.Window)
	}
	// Overlapping intervals are not left out twice.
	st2 := Evaluate(sp, src, refNow, maint, Interval{refNow.Add(-90 * time.Minute), refNow.Add(-80 * time.Minute)})
	checkNear(t, "overlap expected", st2.Budget.Expected, 2_588_400)
	c := Consume(sp, src, refNow.Add(-3*time.Hour), refNow, maint)
	checkNear(t, "consumed", c.BudgetConsumed, 20/2588.4)
}

// A calendar month on its 3rd day (2 days and 12 hours in) with events
// since the month began: 100 a minute, 1 bad a minute for the last hour.
// Seen: 360,000, 60 bad; May has 31 days, so the month projects to
// 360,000 * 31/2.5 = 4,464,000, of which 0.1% = 4,464 may be bad.
func TestBudgetCalendarMonthProjects(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "orders", Objective: 99.9, Window: "month", SLI: config.SLI{Events: &config.SLIEvents{}}})
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	now := start.Add(60 * time.Hour)
	nowMin := unixMinute(now)
	src := minuteTable(unixMinute(start), nowMin-1, func(m int64) Counts {
		if m >= nowMin-60 {
			return Counts{Good: 99, Total: 100}
		}
		return Counts{Good: 100, Total: 100}
	})
	b := BudgetAt(sp, src, now, nil)
	checkNear(t, "coverage", b.Coverage, 2.5/31)
	checkNear(t, "expected", b.Expected, 4_464_000)
	checkNear(t, "remaining", b.Remaining, 1-60.0/4464)
}

// No data at all: nothing spent, but no SLI either.
func TestBudgetNoData(t *testing.T) {
	sp := mustSpec(t, config.SLO{Name: "checkout", Objective: 99.9, Window: "30d", SLI: config.SLI{Probe: "checkout"}},
		ProbeRef{Name: "checkout", Interval: 10 * time.Second})
	b := BudgetAt(sp, minuteTable(0, -1, nil), refNow, nil)
	if !b.NoData || !math.IsNaN(b.SLI) || b.Remaining != 1 || b.Coverage != 0 {
		t.Errorf("budget = %+v", b)
	}
}

type fixedExclusions []Interval

func (f fixedExclusions) Excluded(_ *Spec, from, to time.Time) []Interval {
	return clipIntervals(f, from, to)
}

// The engine asks its Exclusions for the time to leave out: the seam
// maintenance windows plug into. A 1 s probe failing in an excluded
// window and twice outside it spends 2 runs of a smaller budget.
func TestEngineExclusions(t *testing.T) {
	now := refNow
	specs, ps := Compile([]config.SLO{{Name: "checkout", Objective: 99.9, Window: "30d", SLI: config.SLI{Probe: "checkout"}}},
		[]ProbeRef{{Name: "checkout", Interval: time.Second}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	maint := fixedExclusions{{now.Add(-30 * time.Minute), now.Add(30 * time.Minute)}}
	e, err := New(Options{Specs: specs, Now: func() time.Time { return now }, Exclusions: maint})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 60 { // the first 10 minutes of the maintenance: every run fails
		e.RecordOutcome(ctx, model.Outcome{Source: model.SourceProbe, Name: "checkout", Total: 1, Time: now.Add(-30*time.Minute + time.Duration(i)*10*time.Second)})
	}
	for _, d := range []time.Duration{-50 * time.Minute, -40 * time.Minute} { // before it
		e.RecordOutcome(ctx, model.Outcome{Source: model.SourceProbe, Name: "checkout", Total: 1, Time: now.Add(d)})
	}
	st, err := e.Status(ctx, "checkout")
	if err != nil {
		t.Fatal(err)
	}
	// Excluded so far: the maintenance up to the window's end, which holds
	// the current minute: 31 minutes, so 2,592,000 - 1,860 runs expected.
	checkNear(t, "expected", st.Budget.Expected, 2_592_000-1860)
	checkNear(t, "spent", st.Budget.Spent, 2)
	c, err := e.Consumed(ctx, "checkout", now.Add(-time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	// The span ends at now: the window ending there excludes 30 minutes.
	checkNear(t, "consumed", c.BudgetConsumed, 2/(0.001*(2_592_000-1800)))
}
