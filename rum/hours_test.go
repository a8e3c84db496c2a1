package rum

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var hourT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func hoursGroup(fp string, since time.Time, counts map[int]float64) ErrorGroup {
	g := ErrorGroup{Fingerprint: fp, FirstSeen: since, LastSeen: since, HourlySince: since.Truncate(time.Hour)}
	for h := -400; h <= 400; h++ {
		if n, ok := counts[h]; ok {
			g.Hours = append(g.Hours, HourCount{Hour: hourT0.Add(time.Duration(h) * time.Hour), Count: n})
			g.Count += n
		}
	}
	return g
}

func TestCountInCountsWholeHours(t *testing.T) {
	// 4 at 10:00-11:00, 2 at 11:00-12:00, 7 at 12:00-13:00.
	g := hoursGroup("a", hourT0.Add(-2*time.Hour), map[int]float64{-2: 4, -1: 2, 0: 7})
	cases := []struct {
		from, to     time.Time
		want         float64
		cfrom, ctoHH string
	}{
		// A window from 11:00 exactly starts with the 11:00 hour.
		{hourT0.Add(-time.Hour), hourT0.Add(30 * time.Minute), 9, "11:00", "13:00"},
		// 1 ns before 11:00 touches the 10:00 hour.
		{hourT0.Add(-time.Hour - 1), hourT0.Add(30 * time.Minute), 13, "10:00", "13:00"},
		// 1 ns after 11:00 is still in the 11:00 hour.
		{hourT0.Add(-time.Hour + 1), hourT0.Add(30 * time.Minute), 9, "11:00", "13:00"},
		// A window ending at 12:00 exactly leaves the 12:00 hour out; 1 ns later takes it.
		{hourT0.Add(-2 * time.Hour), hourT0, 6, "10:00", "12:00"},
		{hourT0.Add(-2 * time.Hour), hourT0.Add(1), 13, "10:00", "13:00"},
		// Before the group was first seen: everything, counted from the start of the window.
		{hourT0.Add(-48 * time.Hour), hourT0.Add(time.Hour), 13, "12:00", "13:00"},
	}
	for _, tc := range cases {
		n, from, to, ok := g.CountIn(tc.from, tc.to)
		if !ok || n != tc.want || from.Format("15:04") != tc.cfrom || to.Format("15:04") != tc.ctoHH {
			t.Errorf("CountIn(%s, %s) = %g from %s to %s (%v), want %g from %s to %s",
				tc.from.Format(time.RFC3339Nano), tc.to.Format(time.RFC3339Nano), n, from.Format("15:04"), to.Format("15:04"), ok, tc.want, tc.cfrom, tc.ctoHH)
		}
	}
	// Two days before 12:00 on the same clock: from is 10:00 two days earlier (not 12:00).
	if _, from, _, _ := g.CountIn(hourT0.Add(-50*time.Hour), hourT0); !from.Equal(hourT0.Add(-50 * time.Hour)) {
		t.Errorf("window from before first seen counts from %s", from)
	}

	if _, _, _, ok := (ErrorGroup{Fingerprint: "old", Count: 5}).CountIn(hourT0.Add(-time.Hour), hourT0); ok {
		t.Error("a group without counts per hour has a count in a window")
	}
}

func TestHoursAreBoundedAndMerge(t *testing.T) {
	// Seen every hour for 15 days: only the last 14 days (336 hours) are kept,
	// and counts are complete from the oldest hour kept.
	g := ErrorGroup{}
	for h := range 15 * 24 {
		at := hourT0.Add(time.Duration(h)*time.Hour + 10*time.Minute)
		MergeErrorGroup(&g, ErrorGroup{Fingerprint: "a", Count: 1, FirstSeen: at, LastSeen: at,
			Hours: []HourCount{{Hour: at.Truncate(time.Hour), Count: 1}}, HourlySince: at.Truncate(time.Hour)})
	}
	last := hourT0.Add((15*24 - 1) * time.Hour)
	if len(g.Hours) != GroupHours || !g.Hours[len(g.Hours)-1].Hour.Equal(last) || !g.Hours[0].Hour.Equal(last.Add(-(GroupHours-1)*time.Hour)) {
		t.Fatalf("%d hours from %s to %s", len(g.Hours), g.Hours[0].Hour, g.Hours[len(g.Hours)-1].Hour)
	}
	if !g.HourlySince.Equal(g.Hours[0].Hour) || g.Count != 360 {
		t.Errorf("hourly since %s, count %g", g.HourlySince, g.Count)
	}
	// The whole 15 days: 336 counted, from the oldest hour kept.
	if n, from, _, _ := g.CountIn(hourT0, last.Add(time.Hour)); n != GroupHours || !from.Equal(g.HourlySince) {
		t.Errorf("15 days count %g from %s", n, from)
	}

	// A write retried after a failure brings an earlier hour back into a
	// newer pending group: hours stay sorted and counted from the earlier.
	cur := hoursGroup("b", hourT0, map[int]float64{0: 2})
	MergeErrorGroup(&cur, hoursGroup("b", hourT0.Add(-time.Hour), map[int]float64{-1: 3}))
	if len(cur.Hours) != 2 || cur.Hours[0].Count != 3 || cur.Hours[1].Count != 2 || !cur.HourlySince.Equal(hourT0.Add(-time.Hour)) {
		t.Errorf("merged %+v since %s", cur.Hours, cur.HourlySince)
	}
}

func TestSortErrorGroupsByWindow(t *testing.T) {
	gs := []ErrorGroup{
		{Fingerprint: "legacy", Count: 100, LastSeen: hourT0},
		hoursGroup("old", hourT0.Add(-5*time.Hour), map[int]float64{-5: 50, 0: 1}),
		hoursGroup("new", hourT0, map[int]float64{0: 3}),
		hoursGroup("tie", hourT0, map[int]float64{-1: 4, 0: 3}),
	}
	SortErrorGroups(gs, hourT0.Add(10*time.Minute))
	var got []string
	for _, g := range gs {
		got = append(got, g.Fingerprint)
	}
	// 3 (tie, 7 in all), 3 (new, 3 in all), 1 (old), then the group without hourly counts.
	if strings.Join(got, ",") != "tie,new,old,legacy" {
		t.Errorf("order %v", got)
	}
}

func TestCollectorCountsErrorsPerHour(t *testing.T) {
	f := newFixture(t, nil) // the clock starts at 12:00:30
	ctx := context.Background()
	post := func() {
		t.Helper()
		if w := f.post([]byte(validBeacon), "10.0.0.1", nil); w.Code != 202 {
			t.Fatal(w.Body)
		}
	}
	post()
	post()
	if err := f.c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Hour) // 13:00:30
	post()
	f.advance(20 * time.Minute) // 13:20:30
	if err := f.c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := f.c.Service().Errors(ctx, f.clock().Add(-time.Hour), 0)
	if err != nil || len(rep.Groups) != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	g := rep.Groups[0]
	// validBeacon reports its error twice: 4 at 12:00:30, 2 at 13:00:30.
	// The last hour from 13:20:30 touches 12:00-13:00 and 13:00-now: all 6.
	if g.Count != 6 || g.CountInWindow == nil || *g.CountInWindow != 6 || len(g.Hours) != 2 || g.Hours[0].Count != 4 || g.Hours[1].Count != 2 {
		t.Errorf("group %+v in window %v", g, g.CountInWindow)
	}
	if !g.CountedFrom.Equal(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)) || !g.CountedTo.Equal(f.clock()) || !rep.To.Equal(f.clock()) {
		t.Errorf("counted %s to %s, report to %s", g.CountedFrom, g.CountedTo, rep.To)
	}
	// From 13:00 on: the two of 13:00:30.
	rep, _ = f.c.Service().Errors(ctx, time.Date(2025, 3, 1, 13, 0, 0, 0, time.UTC), 0)
	if n := rep.Groups[0].CountInWindow; n == nil || *n != 2 {
		t.Errorf("since 13:00: %v", n)
	}
	b, _ := json.Marshal(rep.Groups[0])
	for _, want := range []string{`"count_in_window":2`, `"counted_from":"2025-03-01T13:00:00Z"`, `"counted_to":"2025-03-01T13:20:30Z"`, `"hours":[{"hour":"2025-03-01T12:00:00Z","count":4},{"hour":"2025-03-01T13:00:00Z","count":2}]`, `"hourly_since":"2025-03-01T12:00:00Z"`, `"count":6,`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
}
