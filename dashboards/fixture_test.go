package dashboards

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/incidents/postmortem"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/probes"
	"github.com/sentinel-oss/sentinel/rum"
	"github.com/sentinel-oss/sentinel/runbooks"
	"github.com/sentinel-oss/sentinel/slo"
)

// fixtureNow is the fixed time of every fixture.
var fixtureNow = time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)

// fixture is a Dashboards over real SLO and incident services and fake
// probe and RUM sources, filled with data.
type fixture struct {
	d       *Dashboards
	engine  *slo.Engine
	inc     *incidents.Service
	specs   []*slo.Spec
	probes  *fakeProbes
	rum     *fakeRUM
	oncall  *fakeOnCall
	pm      *postmortem.Service
	alerts  *fakeAlerts
	lastInc int64
	// store holds the incidents, for tests that set a state directly.
	store *incidents.MemoryStore
}

const fixturePeople = `
people:
  - {name: alice, email: alice@shop.example.com}
  - {name: bob, email: bob@shop.example.com}
oncall:
  schedules:
    - {name: primary, timezone: Europe/Berlin, rotation: {every: 1w, handoff: "Mon 09:00", members: [alice, bob]}}
  escalation_policies:
    - {name: default, steps: [{notify: "schedule:primary"}]}
    - name: payments
      urgency: by_severity
      repeat: 1
      repeat_after: 20m
      steps:
        - {notify: "schedule:primary"}
        - {after: 10m, notify: ["user:bob", "channel:#payments"]}
  routes:
    - {match: {service: payments}, policy: payments}
`

// newFixture builds nSLO events SLOs with 30 days of counts (the first one
// burning), nInc incidents (the newest ones open) and nProbes probes.
func newFixture(tb testing.TB, nSLO, nInc, nProbes int) *fixture {
	tb.Helper()
	var yml strings.Builder
	yml.WriteString(fixturePeople)
	yml.WriteString("slos:\n")
	for i := range nSLO {
		svc := []string{"checkout", "storefront", "search", "payments"}[i%4]
		fmt.Fprintf(&yml, "  - {name: slo-%03d, service: %s, objective: 99.5, window: 30d, sli: {events: {}}}\n", i, svc)
	}
	cfg, err := config.Parse("fixture.yaml", []byte(yml.String()), config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		tb.Fatal(err)
	}
	specs, ps := slo.Compile(cfg.SLOs, nil)
	if len(ps) > 0 {
		tb.Fatal(ps)
	}
	clock := fixtureNow.Add(-30 * 24 * time.Hour)
	now := func() time.Time { return clock }
	eng, err := slo.New(slo.Options{Specs: specs, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	for h := 0; clock.Before(fixtureNow); h++ {
		for i, sp := range specs {
			bad := int64(h % 3)
			if i == 0 && h > 600 {
				bad = 40 // the first SLO burns hard in its last days
			}
			if err := eng.RecordEvents(ctx, sp.Name, 1000-bad, 1000, time.Time{}); err != nil {
				tb.Fatal(err)
			}
		}
		clock = clock.Add(time.Hour)
	}
	clock = fixtureNow

	oc, ops := oncall.Compile(cfg.People, cfg.Oncall)
	if len(ops) > 0 {
		tb.Fatal(ops)
	}
	st := incidents.NewMemoryStore()
	svc, err := incidents.New(incidents.Options{Config: cfg.Incidents, OnCall: oc, Store: st, Budgets: budgets{eng}, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	var last int64
	err = st.Update(ctx, func(tx incidents.Tx) error {
		for i := range nInc {
			id, err := tx.NextID()
			if err != nil {
				return err
			}
			created := fixtureNow.Add(-time.Duration(nInc-i) * 37 * time.Minute)
			inc := &incidents.Incident{
				ID: id, Title: fmt.Sprintf("Checkout errors above threshold (%d)", i), Severity: model.SeverityCritical,
				Status: incidents.StatusResolved, Summary: "Checkout answered 5xx to 12% of requests.",
				Labels: model.Labels{"service": "checkout"}, Source: incidents.SourceSentinel, CreatedAt: created,
				DedupKey: fmt.Sprintf("service=checkout-%d", i), SLONames: []string{specs[0].Name},
				Timeline: []incidents.TimelineEntry{{At: created, Kind: incidents.KindTriggered, Actor: "sentinel", Text: "CheckoutProbeFailing fired"}},
			}
			if i%5 == 0 {
				inc.Severity = model.SeverityWarning
			}
			switch {
			case i >= nInc-2:
				inc.Status = incidents.StatusTriggered
			case i == nInc-3:
				inc.Status = incidents.StatusAcknowledged
				t := created.Add(4 * time.Minute)
				inc.AcknowledgedAt = &t
			default:
				t := created.Add(4 * time.Minute)
				r := created.Add(25 * time.Minute)
				inc.AcknowledgedAt, inc.ResolvedAt = &t, &r
				inc.Timeline = append(inc.Timeline,
					incidents.TimelineEntry{At: t, Kind: incidents.KindAcknowledged, Actor: "alice", Text: "Acknowledged"},
					incidents.TimelineEntry{At: r, Kind: incidents.KindResolved, Actor: "alice", Text: "Resolved"})
			}
			if err := tx.Put(inc); err != nil {
				return err
			}
			last = id
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}

	fp := &fakeProbes{}
	for i := range nProbes {
		fp.add(fmt.Sprintf("journey-%02d", i), i%17 == 3)
	}
	fr := newFakeRUM()
	fo := &fakeOnCall{oc: oc}
	pms, err := postmortem.NewService(postmortem.Options{
		Config: cfg.Postmortems, Store: postmortem.NewMemoryStore(), Incidents: svc, Now: now,
		Sources: postmortem.Sources{SLOs: pmSLOs{eng}, RUM: pmRUM{fr}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	fa := newFakeAlerts()
	d, err := New(Options{
		SLOs: eng, Incidents: svc, OnCall: fo, Probes: fp, RUM: fr,
		Runbooks: runbooks.New(runbooks.Runbook{Name: "checkout-down", Title: "Checkout is down", Owners: []string{"payments"}, Alerts: []string{"CheckoutProbeFailing"},
			Body: "# Steps\n\n1. Check the **payments** dashboard.\n2. Roll back: `kubectl rollout undo deploy/checkout`\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1))\n"}),
		Postmortems: pms,
		Alerts:      fa,
		Now:         now,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &fixture{d: d, engine: eng, inc: svc, specs: specs, probes: fp, rum: fr, oncall: fo, pm: pms, alerts: fa, lastInc: last, store: st}
}

// pmSLOs adapts the engine for postmortem impact, as internal/app does.
type pmSLOs struct{ e *slo.Engine }

func (p pmSLOs) SLOsForLabels(model.Labels) []string { return nil }
func (p pmSLOs) Consumed(ctx context.Context, name string, from, to time.Time) (postmortem.SLOImpact, error) {
	c, err := p.e.Consumed(ctx, name, from, to)
	return postmortem.SLOImpact{Name: name, Good: c.Good, Total: c.Total, BudgetConsumed: c.BudgetConsumed, CountedFrom: c.CountedFrom, CountedTo: c.CountedTo}, err
}

// pmRUM sums the fake RUM rows for postmortem impact.
type pmRUM struct{ f *fakeRUM }

func (p pmRUM) Traffic(ctx context.Context, from, to time.Time, route string) (postmortem.RUMTraffic, error) {
	rows, _ := p.f.Minutes(ctx, from, to)
	t := postmortem.RUMTraffic{From: from.Truncate(time.Minute), To: to.Truncate(time.Minute).Add(time.Minute), Route: route}
	for _, r := range rows {
		if route != "" && r.Route != route {
			continue
		}
		t.PageViews += r.Views
		t.JSErrors += r.Errors
	}
	return t, nil
}

// fakeAlerts serves a firing alert, a pending one and a silenced one, and
// an active and an expired silence.
type fakeAlerts struct {
	alerts   []alerting.ActiveAlert
	silences []alerting.Silence
}

func newFakeAlerts() *fakeAlerts {
	m, _ := alerting.ParseMatchers(`service="search"`)
	return &fakeAlerts{
		alerts: []alerting.ActiveAlert{
			{Alert: model.Alert{Name: "CheckoutProbeFailing", Fingerprint: "fp1", State: model.AlertFiring, Severity: model.SeverityCritical,
				Labels: model.Labels{"alertname": "CheckoutProbeFailing", "service": "checkout", "probe": "checkout"}, Annotations: model.Labels{"summary": "The checkout journey fails."},
				Runbook: "checkout-down", StartsAt: fixtureNow.Add(-10 * time.Minute), FiredAt: fixtureNow.Add(-8 * time.Minute)}},
			{Alert: model.Alert{Name: "JSErrorSpike", Fingerprint: "fp2", State: model.AlertPending, Severity: model.SeverityWarning,
				Labels: model.Labels{"alertname": "JSErrorSpike", "service": "storefront"}, StartsAt: fixtureNow.Add(-time.Minute)}},
			{Alert: model.Alert{Name: "SearchSlow", Fingerprint: "fp3", State: model.AlertFiring, Severity: model.SeverityWarning, Silenced: true,
				Labels: model.Labels{"alertname": "SearchSlow", "service": "search"}, StartsAt: fixtureNow.Add(-time.Hour)}, SilencedBy: []string{"0123456789abcdef"}},
		},
		silences: []alerting.Silence{
			{ID: "0123456789abcdef", Matchers: m, StartsAt: fixtureNow.Add(-time.Hour), EndsAt: fixtureNow.Add(time.Hour),
				CreatedBy: "ops", Comment: "reindexing search", CreatedAt: fixtureNow.Add(-time.Hour)},
			{ID: "fedcba9876543210", Matchers: m, StartsAt: fixtureNow.Add(-3 * time.Hour), EndsAt: fixtureNow.Add(-2 * time.Hour),
				CreatedBy: "ops", Comment: "old maintenance", CreatedAt: fixtureNow.Add(-3 * time.Hour), ExpiredBy: "ops"},
		},
	}
}

func (f *fakeAlerts) Alerts(context.Context) ([]alerting.ActiveAlert, error) {
	return append([]alerting.ActiveAlert(nil), f.alerts...), nil
}

func (f *fakeAlerts) Silences(context.Context) ([]alerting.Silence, error) {
	return append([]alerting.Silence(nil), f.silences...), nil
}

// budgets adapts the engine for incidents' SLO impact, as internal/app does.
type budgets struct{ e *slo.Engine }

func (b budgets) SLOsForLabels(model.Labels) []string { return nil }
func (b budgets) Consumed(ctx context.Context, name string, from, to time.Time) (incidents.Consumption, error) {
	c, err := b.e.Consumed(ctx, name, from, to)
	return incidents.Consumption{Share: c.BudgetConsumed, CountedFrom: c.CountedFrom, CountedTo: c.CountedTo}, err
}

type fakeOnCall struct {
	oc  *oncall.Config
	ovs []oncall.Override
}

func (f *fakeOnCall) Schedules() []*oncall.Schedule { return f.oc.Schedules() }
func (f *fakeOnCall) Policies() []*oncall.Policy    { return f.oc.Policies() }
func (f *fakeOnCall) Routes() []oncall.Route        { return f.oc.Routes() }
func (f *fakeOnCall) Overrides(context.Context, time.Time) ([]oncall.Override, error) {
	return f.ovs, nil
}

type fakeProbes struct {
	list []probes.Status
	runs map[string][]probes.Result
}

func dur(d time.Duration) model.Duration { return model.Duration(d) }

func (f *fakeProbes) add(name string, failing bool) {
	if f.runs == nil {
		f.runs = map[string][]probes.Result{}
	}
	var runs []probes.Result
	for i := range 50 {
		ok := !(failing && i < 4) && i%23 != 7
		r := probes.Result{
			ID: fmt.Sprintf("01J%04d%s", 50-i, name), Probe: name, At: fixtureNow.Add(-time.Duration(i) * 30 * time.Second),
			Success: ok, Duration: dur(640 * time.Millisecond), Location: "eu-1", Attempts: 1,
			Steps: []probes.StepResult{
				{Name: "home", Success: true, Status: 200, Duration: dur(210 * time.Millisecond), Phases: map[string]float64{"resolve": 0.004, "connect": 0.012, "tls": 0.041, "processing": 0.130, "transfer": 0.023}},
				{Name: "add-to-cart", Success: true, Status: 201, Duration: dur(180 * time.Millisecond), Phases: map[string]float64{"processing": 0.160, "transfer": 0.020}},
				{Name: "pay", Success: ok, Status: 200, Duration: dur(250 * time.Millisecond), Phases: map[string]float64{"processing": 0.230, "transfer": 0.020}},
			},
		}
		if !ok {
			r.FailedStep, r.Error = "pay", "status 502, want 200"
			r.Steps[2].Status = 502
			r.Steps[2].Error = r.Error
			r.Steps[2].Failures = []string{"status 502, want 200", `$.status is missing, want "paid"`}
			r.Steps[2].Excerpt = `<html><body><h1>502 Bad Gateway</h1><p>upstream payments-api timed out</p></body></html>`
		}
		runs = append(runs, r)
	}
	f.runs[name] = runs
	since := fixtureNow.Add(-2 * time.Minute)
	last := runs[0]
	f.list = append(f.list, probes.Status{Name: name, Kind: config.ProbeKindHTTP, Target: "https://shop.example.com/", Location: "eu-1",
		Labels: model.Labels{"service": "checkout"}, Interval: dur(30 * time.Second), Failing: failing, Since: &since, LastRun: &last})
}

func (f *fakeProbes) List(context.Context) ([]probes.Status, error) { return f.list, nil }
func (f *fakeProbes) Results(_ context.Context, name string, limit int, before string) ([]probes.Result, error) {
	runs, ok := f.runs[name]
	if !ok {
		return nil, probes.ErrNotFound
	}
	for before != "" && len(runs) > 0 && runs[0].ID >= before {
		runs = runs[1:]
	}
	if limit > 0 && limit < len(runs) {
		runs = runs[:limit]
	}
	return runs, nil
}

type fakeRUM struct{ rows []rum.MinuteRow }

// newFakeRUM holds an hour of minutes on three routes, with LCPs spread
// over good, needs-improvement and poor.
func newFakeRUM() *fakeRUM {
	f := &fakeRUM{}
	for m := range 60 {
		for ri, route := range []string{"/", "/product/:id", "/checkout"} {
			row := rum.MinuteRow{Minute: fixtureNow.Add(-time.Duration(m) * time.Minute).Truncate(time.Minute), Site: "shop", Route: route,
				Views: 10, Errors: float64(ri), Vitals: map[string]rum.Sketch{}}
			for _, v := range Vitals {
				h := rum.Sketch{}
				for k := range 10 {
					// values from 0.4×good to 2×poor
					x := v.Good*0.4 + (v.Poor*2-v.Good*0.4)*float64(k)/9*float64(ri+1)/3
					h.Add(v.rv, x, 1)
				}
				row.Vitals[v.Name] = h
			}
			f.rows = append(f.rows, row)
		}
	}
	return f
}

func (f *fakeRUM) Minutes(_ context.Context, from, to time.Time) ([]rum.MinuteRow, error) {
	var out []rum.MinuteRow
	for _, r := range f.rows {
		if !r.Minute.Before(from) && r.Minute.Before(to) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeRUM) Vitals(ctx context.Context, from, to time.Time) (rum.VitalsReport, error) {
	rows, _ := f.Minutes(ctx, from, to)
	svc := rum.NewService(memCounts(rows), nil, func() time.Time { return fixtureNow })
	return svc.Vitals(ctx, from, to)
}

// Errors serves three groups through the real report: one counted per
// hour since first seen (37 in all, 15 from 09:00 on), one kept from
// before groups counted per hour (no count in a window), and one that
// counts per hour only since 10:00 although first seen before.
func (f *fakeRUM) Errors(ctx context.Context, since time.Time, limit int) (rum.ErrorsReport, error) {
	h := func(hours int) time.Time { return fixtureNow.Truncate(time.Hour).Add(time.Duration(hours) * time.Hour) }
	store := rum.NewMemoryStore(24*time.Hour, 10)
	err := store.AddErrors(ctx, []rum.ErrorGroup{
		{Fingerprint: "a1", Kind: "TypeError", Message: "Cannot read properties of undefined (reading 'price')", SampleStack: "TypeError: ...\n  at renderRecommendations (product.js:42:7)",
			Count: 37, FirstSeen: fixtureNow.Add(-3 * time.Hour), LastSeen: fixtureNow.Add(-time.Minute), Routes: []string{"/product/:id"},
			Culprit: "renderRecommendations (/product.js)", RouteCounts: map[string]float64{"/product/:id": 37},
			Browsers: []string{"Chrome 130", "Firefox 128"}, BrowserCounts: map[string]float64{"Chrome 130": 30, "Firefox 128": 7},
			Hours:       []rum.HourCount{{Hour: h(-3), Count: 10}, {Hour: h(-2), Count: 12}, {Hour: h(-1), Count: 5}, {Hour: h(0), Count: 10}},
			HourlySince: h(-3)},
		{Fingerprint: "b2", Kind: "Error", Message: "Script error.", Count: 4, FirstSeen: fixtureNow.Add(-50 * time.Minute), LastSeen: fixtureNow.Add(-40 * time.Minute)},
		{Fingerprint: "c3", Kind: "RangeError", Message: "Invalid array length", Count: 9, FirstSeen: fixtureNow.Add(-5 * time.Hour), LastSeen: fixtureNow.Add(-2 * time.Minute),
			Hours: []rum.HourCount{{Hour: h(0), Count: 3}}, HourlySince: h(0)},
	})
	if err != nil {
		return rum.ErrorsReport{}, err
	}
	return rum.NewService(memCounts(nil), store, func() time.Time { return fixtureNow }).Errors(ctx, since, limit)
}

// memCounts serves fixed rows as a rum.CountStore.
type memCounts []rum.MinuteRow

func (m memCounts) AddMinutes(context.Context, []rum.MinuteRow) error { return nil }
func (m memCounts) Minutes(context.Context, time.Time, time.Time) ([]rum.MinuteRow, error) {
	return m, nil
}
