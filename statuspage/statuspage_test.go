package statuspage_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/statuspage"
	"github.com/sentinel-oss/sentinel/store"
)

// t0 is Wednesday 2026-03-25 10:00:30 UTC.
var t0 = time.Date(2026, 3, 25, 10, 0, 30, 0, time.UTC)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type probeStates []model.ProbeState

func (p *probeStates) ProbeStates(context.Context) ([]model.ProbeState, error) { return *p, nil }

type sloStates []model.SLOState

func (s *sloStates) States() []model.SLOState { return *s }

type windows []statuspage.Window

func (w *windows) MaintenanceWindows(_ context.Context, from, to time.Time) ([]statuspage.Window, error) {
	var out []statuspage.Window
	for _, x := range *w {
		if x.End.After(from) && x.Start.Before(to) {
			out = append(out, x)
		}
	}
	return out, nil
}

func testConfig() (config.StatusPage, []config.Probe, []config.SLO) {
	sp := config.DefaultStatusPage()
	sp.Enabled = true
	sp.Components = []config.StatusComponent{
		{Name: "Storefront", Description: "Browsing the shop", Probe: "storefront"},
		{Name: "Checkout & Payments", Service: "checkout"},
		{Name: "Orders API", SLO: "orders"},
	}
	probes := []config.Probe{
		{Name: "storefront", Location: "eu", Labels: model.Labels{"service": "storefront"}},
		{Name: "checkout", Location: "eu", Labels: model.Labels{"service": "checkout"}},
	}
	slos := []config.SLO{
		{Name: "orders", Service: "orders", Objective: 99},
		{Name: "checkout-success", Service: "checkout", Objective: 99.9},
	}
	return sp, probes, slos
}

type fixture struct {
	svc    *statuspage.Service
	clock  *clock
	probes *probeStates
	slos   *sloStates
	maint  *windows
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sp, pr, sl := testConfig()
	page, ps := statuspage.Compile(sp, pr, sl)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	f := &fixture{clock: &clock{t0}, probes: &probeStates{}, slos: &sloStates{}, maint: &windows{}}
	svc, err := statuspage.New(statuspage.Options{Page: page, Store: store.NewStatusPage(store.NewMemory()),
		Probes: f.probes, SLOs: f.slos, Maintenance: f.maint, Now: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

func (f *fixture) statuses(t *testing.T) map[string]statuspage.ComponentState {
	t.Helper()
	snap, err := f.svc.Current(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]statuspage.ComponentState{}
	for _, c := range snap.Components {
		out[c.ID] = c
	}
	return out
}

func TestCompile(t *testing.T) {
	sp, pr, sl := testConfig()
	page, ps := statuspage.Compile(sp, pr, sl)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	var ids []string
	for _, c := range page.Components {
		ids = append(ids, c.ID)
	}
	if got := strings.Join(ids, ","); got != "storefront,checkout-payments,orders-api" {
		t.Fatalf("ids = %s", got)
	}
	sp.LogoURL = "https://cdn.shop.example.com/logo.svg"
	sp.Components = append(sp.Components,
		config.StatusComponent{Name: "Ghost", Probe: "ghost"},
		config.StatusComponent{Name: "Latency", SLO: "nope"},
		config.StatusComponent{Name: "Search", Service: "search"},
		config.StatusComponent{Name: "Prom", SLO: "prom-latency"},
	)
	sl = append(sl, config.SLO{Name: "prom-latency", SLI: config.SLI{Prometheus: &config.SLIPrometheus{}}})
	_, ps = statuspage.Compile(sp, pr, sl)
	want := []string{
		`status_page.components[3].probe: no probe named "ghost"`,
		`status_page.components[4].slo: no SLO named "nope"`,
		`status_page.components[5].service: no probe (labels: {service: search}) and no SLO (service: search) belongs to service "search"`,
		`status_page.components[6].slo: SLO "prom-latency" is computed by Prometheus`,
	}
	if len(ps) != len(want) {
		t.Fatalf("problems = %v", ps)
	}
	for i, w := range want {
		if !strings.Contains(ps[i].String(), w) {
			t.Errorf("problem %d = %q, want %q", i, ps[i].String(), w)
		}
	}
	sp, pr, sl = testConfig()
	sp.LogoURL = "https://cdn.shop.example.com/img/logo.svg?v=2"
	page, _ = statuspage.Compile(sp, pr, sl)
	if page.LogoOrigin != "https://cdn.shop.example.com" {
		t.Errorf("logo origin = %q", page.LogoOrigin)
	}
}

func TestStatusRules(t *testing.T) {
	f := newFixture(t)
	// Nothing has run: operational, unknown.
	st := f.statuses(t)
	if c := st["storefront"]; c.Status != statuspage.Operational || c.Known {
		t.Fatalf("before any run: %+v", c)
	}

	ran := t0.Add(-time.Minute)
	*f.probes = probeStates{
		{Probe: "storefront", Location: "eu", Failing: true, LastRun: ran},
		{Probe: "storefront", Location: "us", Failing: false, LastRun: ran},
		{Probe: "checkout", Location: "eu", Failing: true, LastRun: ran},
	}
	st = f.statuses(t)
	if c := st["storefront"]; c.Status != statuspage.PartialOutage || !c.Known || !strings.Contains(c.Why, "1 of 2 locations (eu)") {
		t.Errorf("one of two locations failing: %+v", c)
	}
	if c := st["checkout-payments"]; c.Status != statuspage.MajorOutage {
		t.Errorf("service whose only probe fails everywhere: %+v", c)
	}
	(*f.probes)[1].Failing = true
	if c := f.statuses(t)["storefront"]; c.Status != statuspage.MajorOutage {
		t.Errorf("every location failing: %+v", c)
	}

	// SLO: the page tier graded by the 5m error ratio (objective 99: B = 0.01).
	page := func(firing bool) []model.BurnTier {
		return []model.BurnTier{{Name: "page", Firing: firing}, {Name: "ticket", Firing: true}}
	}
	for _, tc := range []struct {
		burn5m float64
		firing bool
		want   statuspage.Status
	}{
		{burn5m: 3, firing: false, want: statuspage.Operational},           // slow burn only
		{burn5m: 20, firing: true, want: statuspage.DegradedPerformance},   // 20% of events failed
		{burn5m: 49.9, firing: true, want: statuspage.DegradedPerformance}, // 49.9%
		{burn5m: 50, firing: true, want: statuspage.PartialOutage},         // 50%
		{burn5m: 89, firing: true, want: statuspage.PartialOutage},         // 89%
		{burn5m: 90.0000001, firing: true, want: statuspage.MajorOutage},   // 90%
		{burn5m: 100, firing: true, want: statuspage.MajorOutage},          // everything failed
	} {
		*f.slos = sloStates{{Name: "orders", Objective: 99, Events: 5000, BurnRates: map[string]float64{"5m": tc.burn5m}, Tiers: page(tc.firing)}}
		if c := f.statuses(t)["orders-api"]; c.Status != tc.want || !c.Known {
			t.Errorf("burn %v firing %v: got %s (%s), want %s", tc.burn5m, tc.firing, c.Status, c.Why, tc.want)
		}
	}
	*f.slos = sloStates{{Name: "orders", Objective: 99, Events: 0, Tiers: page(true), BurnRates: map[string]float64{"5m": 100}}}
	if c := f.statuses(t)["orders-api"]; c.Status != statuspage.Operational || c.Known {
		t.Errorf("SLO without events: %+v", c)
	}

	// A service takes the worst of its probes and SLOs.
	(*f.probes)[2].Failing = false
	*f.slos = sloStates{{Name: "checkout-success", Objective: 99.9, Events: 100, BurnRates: map[string]float64{"5m": 100}, Tiers: page(true)}}
	if c := f.statuses(t)["checkout-payments"]; c.Status != statuspage.DegradedPerformance {
		t.Errorf("service with a passing probe and a fast-burning SLO (10%% errors): %+v", c)
	}
}

func TestMaintenanceAndOverrides(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	*f.probes = probeStates{{Probe: "checkout", Location: "eu", Failing: true, LastRun: t0}}
	byService := func(svc string) func(model.Labels) bool {
		return func(l model.Labels) bool { return l["service"] == svc }
	}
	*f.maint = windows{
		{ID: "db-upgrade", Start: t0.Add(-10 * time.Minute), End: t0.Add(20 * time.Minute), Matches: byService("checkout")},
		{ID: "weekly", Start: t0.Add(48 * time.Hour), End: t0.Add(50 * time.Hour), Matches: byService("storefront")},
		{ID: "internal-only", Start: t0.Add(-time.Hour), End: t0.Add(time.Hour), Matches: byService("batch-jobs")},
		{ID: "far", Start: t0.Add(20 * 24 * time.Hour), End: t0.Add(21 * 24 * time.Hour), Matches: byService("checkout")},
	}
	snap, err := f.svc.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := snap.Components[1]; c.Status != statuspage.UnderMaintenance || c.Automatic != statuspage.MajorOutage || len(c.Maintenance) != 1 {
		t.Fatalf("failing probe inside a window: %+v", c)
	}
	if len(snap.Maintenance) != 2 || snap.Maintenance[0].ID != "db-upgrade" || !snap.Maintenance[0].InProgress ||
		snap.Maintenance[1].ID != "weekly" || snap.Maintenance[1].InProgress || snap.Maintenance[1].Components[0].ID != "storefront" {
		t.Fatalf("planned windows = %+v", snap.Maintenance)
	}

	// An override wins over maintenance and signals, until it ends.
	until := t0.Add(time.Hour)
	o, err := f.svc.SetOverride(ctx, "checkout-payments", statuspage.NewOverride{Status: statuspage.PartialOutage, Reason: "card payments fail for Visa only", Until: &until}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if o.Actor != "alice" || !o.At.Equal(t0) {
		t.Fatalf("override = %+v", o)
	}
	if c := f.statuses(t)["checkout-payments"]; c.Status != statuspage.PartialOutage || c.Override == nil {
		t.Fatalf("with override: %+v", c)
	}
	f.clock.t = t0.Add(61 * time.Minute)
	*f.maint = nil
	if c := f.statuses(t)["checkout-payments"]; c.Status != statuspage.MajorOutage || c.Override != nil {
		t.Fatalf("after the override's end: %+v", c)
	}
	if _, err := f.svc.SetOverride(ctx, "checkout-payments", statuspage.NewOverride{Status: statuspage.Operational, Reason: "probe target is a test shop being rebuilt"}, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ClearOverride(ctx, "checkout-payments", "rebuilt", "bob"); err != nil {
		t.Fatal(err)
	}
	log, err := f.svc.OverrideLog(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 || log[0].Action != statuspage.ActionCleared || log[0].Actor != "bob" || log[2].Reason != "card payments fail for Visa only" || log[2].Until == nil {
		t.Fatalf("log = %+v", log)
	}

	for _, tc := range []struct {
		id string
		n  statuspage.NewOverride
		is error
	}{
		{"nope", statuspage.NewOverride{Status: statuspage.Operational, Reason: "x"}, statuspage.ErrNotFound},
		{"storefront", statuspage.NewOverride{Status: "down", Reason: "x"}, statuspage.ErrInvalid},
		{"storefront", statuspage.NewOverride{Status: statuspage.MajorOutage, Reason: "  "}, statuspage.ErrInvalid},
		{"storefront", statuspage.NewOverride{Status: statuspage.MajorOutage, Reason: "x\x1b[31m"}, statuspage.ErrInvalid},
		{"storefront", statuspage.NewOverride{Status: statuspage.MajorOutage, Reason: strings.Repeat("x", 1001)}, statuspage.ErrInvalid},
		{"storefront", statuspage.NewOverride{Status: statuspage.MajorOutage, Reason: "x", Until: &t0}, statuspage.ErrInvalid},
	} {
		if _, err := f.svc.SetOverride(ctx, tc.id, tc.n, "alice"); !errors.Is(err, tc.is) {
			t.Errorf("SetOverride(%s, %+v) = %v, want %v", tc.id, tc.n, err, tc.is)
		}
	}
}

// TestHistoryAndUptime records minutes by hand and checks the figures
// against arithmetic done here.
func TestHistoryAndUptime(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	day0 := time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC)
	// Today from 00:00: 600 minutes up, 10 major, 100 partial, 30
	// degraded, 20 under maintenance; the clock stops at 12:40.
	record := func(from, n int, probeFailing bool, maint bool) {
		for m := from; m < from+n; m++ {
			f.clock.t = day0.Add(time.Duration(m)*time.Minute + 5*time.Second)
			*f.probes = probeStates{{Probe: "storefront", Location: "eu", Failing: probeFailing, LastRun: f.clock.t}}
			*f.maint = nil
			if maint {
				*f.maint = windows{{ID: "w", Start: day0, End: day0.Add(24 * time.Hour), Matches: func(l model.Labels) bool { return l["probe"] == "storefront" }}}
			}
			if _, err := f.svc.RecordNow(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	record(0, 600, false, false)
	record(600, 10, true, false)
	// partial outage and degraded minutes through overrides
	f.clock.t = day0.Add(610 * time.Minute)
	if _, err := f.svc.SetOverride(ctx, "storefront", statuspage.NewOverride{Status: statuspage.PartialOutage, Reason: "EU only"}, "a"); err != nil {
		t.Fatal(err)
	}
	record(610, 100, false, false)
	if _, err := f.svc.SetOverride(ctx, "storefront", statuspage.NewOverride{Status: statuspage.DegradedPerformance, Reason: "slow"}, "a"); err != nil {
		t.Fatal(err)
	}
	record(710, 30, false, false)
	if err := f.svc.ClearOverride(ctx, "storefront", "done", "a"); err != nil {
		t.Fatal(err)
	}
	record(740, 20, false, true)
	record(760, 3, false, false)

	days, err := f.svc.History(ctx, "storefront", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 3 || !days[2].Date.Equal(day0) || days[0].HasData() || days[1].HasData() {
		t.Fatalf("days = %+v", days)
	}
	d := days[2]
	want := map[statuspage.Status]int{statuspage.Operational: 603, statuspage.MajorOutage: 10, statuspage.PartialOutage: 100, statuspage.DegradedPerformance: 30, statuspage.UnderMaintenance: 20}
	for st, n := range want {
		if d.Minutes[st] != n {
			t.Errorf("%s minutes = %d, want %d", st, d.Minutes[st], n)
		}
	}
	// counted = 763 - 20 = 743; down = 10 + 0.3*100 = 40; uptime = 703/743.
	up, ok := d.Uptime()
	if !ok || math.Abs(up-703.0/743.0) > 1e-12 {
		t.Fatalf("uptime = %v %v, want %v", up, ok, 703.0/743.0)
	}
	if d.Worst() != statuspage.MajorOutage {
		t.Errorf("worst = %s", d.Worst())
	}
	all, ok := statuspage.Uptime(days)
	if !ok || all != up {
		t.Errorf("overall = %v, want the one day's %v", all, up)
	}
	if _, ok := statuspage.Uptime(days[:2]); ok {
		t.Error("days without data have an uptime")
	}
	since, ok := statuspage.Since(days, statuspage.Operational)
	if !ok || !since.Equal(day0.Add(760*time.Minute)) {
		t.Errorf("operational since %v %v, want 12:40", since, ok)
	}
	// An unknown component (no run) records nothing: the orders SLO had no events.
	od, err := f.svc.History(ctx, "orders-api", 1)
	if err != nil {
		t.Fatal(err)
	}
	if od[0].HasData() {
		t.Errorf("a component without data recorded %d minutes", od[0].Observed())
	}
}

// Today's bar shows what holds now even before its minute is recorded: a
// day with no data, or none in the current status, gains one minute of it;
// a day that already has it is left as recorded.
func TestDayWithCurrent(t *testing.T) {
	empty := statuspage.Day{Date: time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC)}
	if d := empty.WithCurrent(statuspage.MajorOutage); d.Worst() != statuspage.MajorOutage || d.Observed() != 1 {
		t.Errorf("empty day with a major outage now: worst %s, %d minutes", d.Worst(), d.Observed())
	}
	up := statuspage.Day{Minutes: map[statuspage.Status]int{statuspage.Operational: 600}}
	d := up.WithCurrent(statuspage.MajorOutage)
	if d.Worst() != statuspage.MajorOutage || d.Minutes[statuspage.MajorOutage] != 1 || up.Minutes[statuspage.MajorOutage] != 0 {
		t.Errorf("600 up minutes and an outage now: %+v (recorded day changed: %+v)", d.Minutes, up.Minutes)
	}
	if d := up.WithCurrent(statuspage.Operational); d.Observed() != 600 {
		t.Errorf("a status already recorded was counted again: %d minutes", d.Observed())
	}
}
