package alerting

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// nightly is 02:00 to 04:00 UTC on weekdays; t0 (2026-03-02) is a Monday.
var nightly = config.TimeIntervalSpec{Name: "nightly", TimeIntervals: []config.TimeInterval{{
	Times:    []config.TimeRange{{StartTime: "02:00", EndTime: "04:00"}},
	Weekdays: []string{"monday:friday"},
}}}

func maintenanceConfig() config.Alerting {
	return config.Alerting{
		Rules:         []config.AlertRule{probeRule("CheckoutProbeFailing", 0, 0)},
		TimeIntervals: []config.TimeIntervalSpec{nightly},
		Maintenance:   []config.RecurringMaintenance{{Name: "db-upgrades", TimeIntervals: []string{"nightly"}, Matchers: []string{"service=checkout"}, Comment: "nightly DB work"}},
	}
}

func groupKeys(gs []model.AlertGroup) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Key)
	}
	return out
}

// TestRecurringMaintenanceKeepsAPageFromGoingOut: on Tuesday at 02:30 the
// checkout probe fails inside the nightly window: the alert fires, is
// recorded as muted by the window, and its group is not handed to
// incidents (no page). The window's start and end are announced; at 04:00
// the still-firing alert pages. On Saturday at 02:30 (outside the
// weekdays) the same failure pages at once.
func TestRecurringMaintenanceKeepsAPageFromGoingOut(t *testing.T) {
	f := newFixture(t, maintenanceConfig())
	f.clock.t = time.Date(2026, 3, 3, 1, 59, 0, 0, time.UTC) // Tuesday, before the window
	f.eval(t)
	if len(f.sink.Announcements()) != 0 {
		t.Fatalf("announced before the window: %+v", f.sink.Announcements())
	}
	f.clock.t = time.Date(2026, 3, 3, 2, 0, 10, 0, time.UTC)
	f.eval(t)
	anns := f.sink.Announcements()
	if len(anns) != 1 || anns[0].Kind != "maintenance_started" ||
		!strings.Contains(anns[0].Text, `Maintenance window db-upgrades {service="checkout"} has started; until 2026-03-03T04:00:00Z`) ||
		anns[0].Labels["service"] != "checkout" || anns[0].Labels["maintenance"] != "db-upgrades" {
		t.Fatalf("start announcement: %+v", anns)
	}
	f.clock.t = time.Date(2026, 3, 3, 2, 30, 0, 0, time.UTC)
	f.probe(true) // a probe keeps running inside the window, and fails
	f.eval(t)
	as := f.alerts(t)
	if len(as) != 1 || as[0].State != model.AlertFiring || !as[0].Silenced || len(as[0].MaintenanceBy) != 1 {
		t.Fatalf("alert inside the window: %+v", as)
	}
	if gs := f.sink.Groups(); len(gs) != 0 {
		t.Fatalf("paged inside the maintenance window: %v", groupKeys(gs))
	}
	ws, err := f.svc.MaintenanceWindows(context.Background())
	if err != nil || len(ws) != 1 || ws[0].ID != as[0].MaintenanceBy[0] || ws[0].Recurring != "db-upgrades" ||
		!ws[0].StartsAt.Equal(time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC)) || !ws[0].EndsAt.Equal(time.Date(2026, 3, 3, 4, 0, 0, 0, time.UTC)) {
		t.Fatalf("recorded occurrence: %+v %v", ws, err)
	}

	// A restart inside the window records nothing twice and announces nothing again.
	f.svc = f.build(t)
	f.eval(t)
	if n := len(f.sink.Announcements()); n != 1 {
		t.Fatalf("%d announcements after a restart inside the window", n)
	}

	f.clock.t = time.Date(2026, 3, 3, 4, 0, 5, 0, time.UTC)
	f.eval(t)
	anns = f.sink.Announcements()
	if len(anns) != 2 || anns[1].Kind != "maintenance_ended" || !strings.Contains(anns[1].Text, "has ended") ||
		!strings.Contains(anns[1].Text, "Still firing: CheckoutProbeFailing service=checkout") {
		t.Fatalf("end announcement: %+v", anns)
	}
	if gs := f.sink.Groups(); len(gs) != 1 || gs[0].Key != "service=checkout" || !gs[0].Firing || gs[0].Alerts[0].Silenced {
		t.Fatalf("no page once the window ended: %+v", gs)
	}

	// Saturday 02:30 is outside monday:friday: the same failure pages.
	g := newFixture(t, maintenanceConfig())
	g.clock.t = time.Date(2026, 3, 7, 2, 30, 0, 0, time.UTC)
	g.probe(true)
	g.eval(t)
	if gs := g.sink.Groups(); len(gs) != 1 || gs[0].Key != "service=checkout" {
		t.Fatalf("Saturday: groups %v", groupKeys(gs))
	}
}

func TestRecurringWindowOccurrences(t *testing.T) {
	tz := config.TimeIntervalSpec{Name: "berlin-sundays", TimeIntervals: []config.TimeInterval{{
		Times: []config.TimeRange{{StartTime: "22:00", EndTime: "24:00"}}, Weekdays: []string{"sunday"}, Location: "Europe/Berlin"}}}
	intervals, ps := compileTimeIntervals(config.Alerting{TimeIntervals: []config.TimeIntervalSpec{nightly, tz}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	w := recurringWindow{name: "n", spans: intervals["nightly"]}
	start, end := w.occurrence(time.Date(2026, 3, 4, 3, 17, 42, 0, time.UTC))
	if !start.Equal(time.Date(2026, 3, 4, 2, 0, 0, 0, time.UTC)) || !end.Equal(time.Date(2026, 3, 4, 4, 0, 0, 0, time.UTC)) {
		t.Fatalf("occurrence %s to %s", start, end)
	}
	// From Friday 03:00 the next occurrence is Monday 02:00.
	start, end, ok := w.next(time.Date(2026, 3, 6, 3, 0, 0, 0, time.UTC), 7*24*time.Hour)
	if !ok || !start.Equal(time.Date(2026, 3, 9, 2, 0, 0, 0, time.UTC)) || !end.Equal(time.Date(2026, 3, 9, 4, 0, 0, 0, time.UTC)) {
		t.Fatalf("next %s to %s (%v)", start, end, ok)
	}
	// Sunday 22:00 in Berlin is 21:00 UTC in winter (CET, UTC+1) and
	// 20:00 UTC in summer (CEST, UTC+2; from 29 March 2026).
	b := recurringWindow{name: "b", spans: intervals["berlin-sundays"]}
	start, end, _ = b.next(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), 8*24*time.Hour)
	if !start.Equal(time.Date(2026, 3, 8, 21, 0, 0, 0, time.UTC)) || !end.Equal(time.Date(2026, 3, 8, 23, 0, 0, 0, time.UTC)) {
		t.Fatalf("winter Sunday %s to %s", start, end)
	}
	start, _, _ = b.next(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), 8*24*time.Hour)
	if !start.Equal(time.Date(2026, 4, 5, 20, 0, 0, 0, time.UTC)) {
		t.Fatalf("summer Sunday starts %s", start)
	}
}

func TestTimeIntervalAndMaintenanceProblems(t *testing.T) {
	cfg := config.Alerting{
		TimeIntervals: []config.TimeIntervalSpec{{Name: "bad", TimeIntervals: []config.TimeInterval{{
			Times:       []config.TimeRange{{StartTime: "04:00", EndTime: "02:00"}},
			Weekdays:    []string{"funday"},
			DaysOfMonth: []string{"1:40"},
			Months:      []string{"smarch"},
			Years:       []string{"20x6"},
			Location:    "Mars/Olympus",
		}}}},
		Maintenance: []config.RecurringMaintenance{{TimeIntervals: []string{"bad", "nope"}, Matchers: []string{"foo=bar}"}}},
	}
	cfg.MatcherSyntax = config.MatcherSyntaxUTF8Strict
	_, ps := Compile(cfg, Refs{})
	text := ps.Error()
	for _, want := range []string{
		"alerting.time_intervals[0].time_intervals[0].times[0]: start time cannot be equal or greater than end time",
		`alerting.time_intervals[0].time_intervals[0].weekdays[0]: "funday": `,
		`alerting.time_intervals[0].time_intervals[0].days_of_month[0]: "1:40": `,
		`alerting.time_intervals[0].time_intervals[0].months[0]: "smarch": `,
		`alerting.time_intervals[0].time_intervals[0].years[0]: "20x6": `,
		`alerting.time_intervals[0].time_intervals[0].location: unknown time zone "Mars/Olympus"`,
		`alerting.maintenance[0].time_intervals[1]: no time interval named "nope" in alerting.time_intervals (known: bad)`,
		`alerting.maintenance[0].matchers[0]: "foo=bar}": 0:8: }: expected opening brace`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
}

// TestOneOffMaintenanceWindow: made through the service, listed, changed
// in place while pending, announced when it starts, muting while active,
// ended early by hand (announced with who ended it); a silence ID is not a
// window ID; an occurrence of a recurring window cannot be edited.
func TestOneOffMaintenanceWindow(t *testing.T) {
	f := newFixture(t, maintenanceConfig())
	ctx := context.Background()
	n := NewSilence{Matchers: TextInputs("service=checkout"), StartsAt: t0.Add(time.Hour), EndsAt: t0.Add(3 * time.Hour), Comment: "DB failover test", Author: "alice"}
	w, err := f.svc.CreateMaintenance(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if w.Kind != KindMaintenance || w.WindowState(t0) != "pending" {
		t.Fatalf("window %+v", w)
	}
	n.EndsAt = t0.Add(4 * time.Hour)
	w2, err := f.svc.UpdateMaintenance(ctx, w.ID, n)
	if err != nil || w2.ID != w.ID || !w2.EndsAt.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("in-place edit: %+v %v", w2, err)
	}
	if _, err := f.svc.ExpireSilence(ctx, w.ID, "bob"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a window ended through the silence API: %v", err)
	}
	if sils, _ := f.svc.Silences(ctx); len(sils) != 0 {
		t.Fatalf("windows listed as silences: %+v", sils)
	}
	f.clock.Advance(time.Hour)
	f.probe(true)
	f.eval(t)
	if gs := f.sink.Groups(); len(gs) != 0 {
		t.Fatalf("paged during a one-off window: %v", groupKeys(gs))
	}
	f.clock.Advance(30 * time.Minute)
	ended, err := f.svc.EndMaintenance(ctx, w.ID, "bob")
	if err != nil || ended.WindowState(f.clock.Now()) != "ended" || ended.ExpiredBy != "bob" {
		t.Fatalf("end: %+v %v", ended, err)
	}
	anns := f.sink.Announcements()
	if len(anns) != 2 || anns[0].Kind != "maintenance_started" || anns[1].Kind != "maintenance_ended" ||
		!strings.Contains(anns[1].Text, "was ended early by bob") || !strings.Contains(anns[1].Text, "(DB failover test)") {
		t.Fatalf("announcements: %+v", anns)
	}
	if gs := f.sink.Groups(); len(gs) != 1 || gs[0].Key != "service=checkout" {
		t.Fatalf("no page after the window was ended: %v", groupKeys(gs))
	}
	// Starting in the past is refused, as for silences: the start is now.
	past := NewSilence{Matchers: TextInputs("service=cart"), StartsAt: f.clock.Now().Add(-time.Hour), Duration: time.Hour, Author: "alice"}
	if w, err := f.svc.CreateMaintenance(ctx, past); err != nil || !w.StartsAt.Equal(f.clock.Now()) {
		t.Fatalf("backdated window: %+v %v", w, err)
	}
	// An occurrence of a recurring window is changed in the config.
	f.clock.t = time.Date(2026, 3, 3, 2, 30, 0, 0, time.UTC)
	f.eval(t)
	ws, _ := f.svc.MaintenanceWindows(ctx)
	var occ string
	for _, w := range ws {
		if w.Recurring == "db-upgrades" {
			occ = w.ID
		}
	}
	edit := NewSilence{Matchers: TextInputs("service=checkout"), Duration: time.Hour, Author: "alice"}
	if _, err := f.svc.UpdateMaintenance(ctx, occ, edit); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "change it in the config") {
		t.Fatalf("edit of an occurrence: %v", err)
	}
	// Ending an occurrence early holds: it is not recorded again.
	if _, err := f.svc.EndMaintenance(ctx, occ, "carol"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	f.eval(t)
	for _, a := range f.alerts(t) {
		if len(a.MaintenanceBy) > 0 {
			t.Fatalf("still in maintenance after the occurrence was ended: %+v", a)
		}
	}
}

// FuzzTimeIntervals feeds any text to the time interval fields: compiling
// never panics, a refusal names its field, and an accepted window's
// occurrences are computed without panicking.
func FuzzTimeIntervals(f *testing.F) {
	f.Add("monday:friday", "1:7", "january:march", "2026", "02:00", "04:00", "Europe/Berlin")
	f.Add("sunday", "-1", "12", "2025:2027", "22:00", "24:00", "")
	f.Add("funday", "0:40", "smarch", "x", "25:00", "00:00", "Mars/Olympus")
	f.Fuzz(func(t *testing.T, wd, dom, month, year, start, end, loc string) {
		spec := config.TimeIntervalSpec{Name: "x", TimeIntervals: []config.TimeInterval{{
			Times: []config.TimeRange{{StartTime: start, EndTime: end}}, Weekdays: []string{wd}, DaysOfMonth: []string{dom},
			Months: []string{month}, Years: []string{year}, Location: loc}}}
		intervals, ps := compileTimeIntervals(config.Alerting{TimeIntervals: []config.TimeIntervalSpec{spec}})
		for _, p := range ps {
			if !strings.HasPrefix(p.Path, "alerting.time_intervals[0].time_intervals[0].") {
				t.Fatalf("problem without its field: %v", p)
			}
		}
		if len(ps) > 0 {
			return
		}
		w := recurringWindow{name: "x", spans: intervals["x"]}
		at := time.Date(2026, 3, 3, 2, 30, 0, 0, time.UTC)
		if w.contains(at) {
			if s, e := w.occurrence(at); s.After(at) || !e.After(at) {
				t.Fatalf("occurrence %s to %s does not hold %s", s, e, at)
			}
		}
		w.next(at, 40*24*time.Hour)
	})
}

func TestMaintenanceSpansForAnSLO(t *testing.T) {
	f := newFixture(t, maintenanceConfig())
	ctx := context.Background()
	f.clock.t = time.Date(2026, 3, 3, 2, 30, 0, 0, time.UTC) // inside Tuesday's nightly window
	f.eval(t)
	w, err := f.svc.CreateMaintenance(ctx, NewSilence{Matchers: TextInputs("service=checkout"), StartsAt: time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC),
		EndsAt: time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC), Author: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateMaintenance(ctx, NewSilence{Matchers: TextInputs("service=cart"), Duration: time.Hour, Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	checkout := model.Labels{"slo": "checkout-availability", "service": "checkout"}
	got := f.svc.MaintenanceSpans(checkout, time.Date(2026, 3, 3, 3, 0, 0, 0, time.UTC), time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC))
	if len(got) != 2 || got[0].Name != "db-upgrades" || !got[0].From.Equal(time.Date(2026, 3, 3, 3, 0, 0, 0, time.UTC)) ||
		!got[0].To.Equal(time.Date(2026, 3, 3, 4, 0, 0, 0, time.UTC)) || got[1].ID != w.ID || !got[1].To.Equal(time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC)) {
		t.Fatalf("spans %+v", got)
	}
	if got := f.svc.MaintenanceSpans(model.Labels{"slo": "search", "service": "search"}, time.Time{}, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)); len(got) != 0 {
		t.Fatalf("search SLO spans %+v", got)
	}
}
