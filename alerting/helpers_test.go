package alerting

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// recordingSink records every group and announcement handed to it.
type recordingSink struct {
	mu     sync.Mutex
	groups []model.AlertGroup
	anns   []model.Announcement
	fail   bool
}

func (r *recordingSink) HandleAlertGroup(_ context.Context, g model.AlertGroup) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return context.DeadlineExceeded
	}
	r.groups = append(r.groups, g)
	return nil
}

func (r *recordingSink) Announce(_ context.Context, a model.Announcement) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.anns = append(r.anns, a)
	return nil
}

func (r *recordingSink) Groups() []model.AlertGroup {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]model.AlertGroup(nil), r.groups...)
}

func (r *recordingSink) Announcements() []model.Announcement {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]model.Announcement(nil), r.anns...)
}

// fakeSLOs is an SLOSource returning fixed states.
type fakeSLOs struct {
	mu     sync.Mutex
	states []model.SLOState
}

func (f *fakeSLOs) SLOStates() []model.SLOState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]model.SLOState(nil), f.states...)
}

func (f *fakeSLOs) set(st ...model.SLOState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.states = st
}

// clock is a settable fixed clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

type fixture struct {
	svc   *Service
	sink  *recordingSink
	slos  *fakeSLOs
	clock *clock
	store *MemoryStore
	cfg   config.Alerting
}

// newFixture builds a service over cfg with a memory store, a recording
// sink, a fake SLO source and a fixed clock at t0. Probes checkout and
// search and SLO checkout-availability are known.
func newFixture(t *testing.T, cfg config.Alerting) *fixture {
	t.Helper()
	f := &fixture{sink: &recordingSink{}, slos: &fakeSLOs{}, clock: &clock{t: t0}, store: NewMemoryStore(), cfg: cfg}
	f.svc = f.build(t)
	return f
}

// build makes a new service over the fixture's store (a restart).
func (f *fixture) build(t *testing.T) *Service {
	t.Helper()
	rules, ps := Compile(f.cfg, Refs{Probes: []string{"checkout", "search"}, SLOs: []string{"checkout-availability"}})
	if len(ps) > 0 {
		t.Fatalf("compile: %v", ps)
	}
	svc, err := New(Options{
		Config: f.cfg, Rules: rules, Store: f.store, Sink: f.sink, Announcer: f.sink, SLOs: f.slos,
		Registerer: prometheus.NewRegistry(), Now: f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func (f *fixture) eval(t *testing.T) {
	t.Helper()
	if err := f.svc.Evaluate(context.Background()); err != nil {
		t.Fatalf("evaluate: %v", err)
	}
}

func (f *fixture) probe(failing bool) {
	f.svc.RecordProbeState(context.Background(), model.ProbeState{
		Probe: "checkout", Location: "local", Labels: model.Labels{"service": "checkout"}, Failing: failing, LastRun: f.clock.Now(),
	})
}

func (f *fixture) alerts(t *testing.T) []ActiveAlert {
	t.Helper()
	as, err := f.svc.Alerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func (f *fixture) stateOf(t *testing.T, name string) model.AlertState {
	t.Helper()
	for _, a := range f.alerts(t) {
		if a.Name == name {
			return a.State
		}
	}
	return model.AlertInactive
}

func probeRule(name string, forDur, keep time.Duration) config.AlertRule {
	return config.AlertRule{Name: name, When: config.AlertCondition{Probe: "checkout"}, For: model.Duration(forDur),
		KeepFiringFor: model.Duration(keep), Severity: model.SeverityCritical,
		Annotations: map[string]string{"summary": "{{ .Labels.probe }} failing in {{ .Labels.location }}"}}
}

// eighteenHours is 0.5 of a 30-day budget at burn rate 20: 0.5 x 720 h / 20;
// lastHour is what rate 20 spends in an hour at steady traffic: 20/720.
var (
	eighteenHours = 18 * time.Hour
	lastHour      = 20.0 / 720
)

func burnState(page, ticket bool) model.SLOState {
	return model.SLOState{
		Name: "checkout-availability", Service: "checkout", Objective: 99.9, BudgetRemaining: 0.5,
		Window: 30 * 24 * time.Hour, BurnRates: map[string]float64{"1h": 20, "5m": 20}, TimeToExhaustion: &eighteenHours, SpentLastHour: &lastHour,
		Tiers: []model.BurnTier{
			{Name: "page", Severity: model.SeverityCritical, LongWindow: time.Hour, ShortWindow: 5 * time.Minute, Factor: 14.4, LongRate: 20, ShortRate: 20, Firing: page},
			{Name: "page", Severity: model.SeverityCritical, LongWindow: 6 * time.Hour, ShortWindow: 30 * time.Minute, Factor: 6, LongRate: 7, ShortRate: 7, Firing: page},
			{Name: "ticket", Severity: model.SeverityWarning, LongWindow: 24 * time.Hour, ShortWindow: 2 * time.Hour, Factor: 3, LongRate: 4, ShortRate: 4, Firing: ticket},
		},
	}
}
