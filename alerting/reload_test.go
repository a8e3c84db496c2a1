package alerting

import (
	"context"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
)

// TestPrepareKeepsAlertStateAndResolvesRemovedRules reloads the rules of a
// running service: a pending alert whose rule stays keeps its start and
// fires when the new (shorter) `for` has passed; nothing changes before
// commit; an alert whose rule is removed resolves and its incident hears
// of it.
func TestPrepareKeepsAlertStateAndResolvesRemovedRules(t *testing.T) {
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{probeRule("CheckoutProbeFailing", 5*time.Minute, 0)}})
	f.probe(true)
	if got := f.stateOf(t, "CheckoutProbeFailing"); got != model.AlertPending {
		t.Fatalf("state %s, want pending", got)
	}
	f.clock.Advance(2 * time.Minute)

	next := config.Alerting{Rules: []config.AlertRule{probeRule("CheckoutProbeFailing", time.Minute, 0)}}
	rules, ps := Compile(next, Refs{Probes: []string{"checkout"}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	commit := f.svc.Prepare(Settings{Config: next, Rules: rules})
	f.eval(t)
	if got := f.stateOf(t, "CheckoutProbeFailing"); got != model.AlertPending {
		t.Fatalf("before commit: %s, want still pending under for: 5m", got)
	}
	commit()
	f.eval(t)
	gs := f.sink.Groups()
	if len(gs) != 1 || !gs[0].Firing || !gs[0].Alerts[0].StartsAt.Equal(t0) {
		t.Fatalf("after the reload: %+v, want one firing group started at t0", gs)
	}

	// The rule goes: its alert resolves.
	none := config.Alerting{}
	commit = f.svc.Prepare(Settings{Config: none})
	commit()
	f.clock.Advance(time.Second)
	f.eval(t)
	gs = f.sink.Groups()
	if len(gs) != 2 || gs[1].Firing || gs[1].Alerts[0].State != model.AlertResolved {
		t.Fatalf("removed rule's alert: %+v, want resolved", gs)
	}
}

// A running service resolves what a reload removed right after the
// commit, not an evaluation interval later.
func TestRunResolvesRemovedRulesRightAfterReload(t *testing.T) {
	cfg := config.Alerting{EvaluationInterval: model.Duration(time.Hour), Rules: []config.AlertRule{probeRule("CheckoutProbeFailing", 0, 0)}}
	f := newFixture(t, cfg)
	f.probe(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	// Run evaluates once when it starts: the alert fires.
	testutil.Eventually(t, 5*time.Second, "the alert firing", func() bool {
		gs := f.sink.Groups()
		return len(gs) == 1 && gs[0].Firing
	})
	// ... and that first evaluation has ended (it would resolve the alert
	// by itself if it ran after the commit below).
	testutil.Eventually(t, 5*time.Second, "the first evaluation ended", func() bool {
		var m dto.Metric
		return f.svc.m.evalDuration.Write(&m) == nil && m.GetHistogram().GetSampleCount() >= 1
	})
	commit := f.svc.Prepare(Settings{Config: config.Alerting{EvaluationInterval: model.Duration(time.Hour)}})
	commit()
	// The next tick is an hour away; only the reload's evaluation can
	// resolve it.
	testutil.Eventually(t, 5*time.Second, "the removed rule's alert resolved", func() bool {
		gs := f.sink.Groups()
		return len(gs) == 2 && !gs[1].Firing && gs[1].Alerts[0].State == model.AlertResolved
	})
}

// A reload that shortens the evaluation interval applies it from the
// reload: an SLO burn that starts after the reload's own evaluation fires
// on the new interval, not after the old interval's next tick (an hour
// away). SLO states are read only when evaluating, unlike probe results.
func TestRunAppliesANewIntervalFromTheReload(t *testing.T) {
	f := newFixture(t, config.Alerting{EvaluationInterval: model.Duration(time.Hour)})
	f.slos.set(burnState(false, false))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	evaluations := func() uint64 {
		var m dto.Metric
		if f.svc.m.evalDuration.Write(&m) != nil {
			return 0
		}
		return m.GetHistogram().GetSampleCount()
	}
	testutil.Eventually(t, 5*time.Second, "the first evaluation ended", func() bool { return evaluations() >= 1 })
	f.svc.Prepare(Settings{Config: config.Alerting{EvaluationInterval: model.Duration(time.Second)}})()
	testutil.Eventually(t, 5*time.Second, "the reload's evaluation", func() bool { return evaluations() >= 2 })
	f.slos.set(burnState(true, false))
	testutil.Eventually(t, 5*time.Second, "the burn alert firing on the new interval", func() bool {
		for _, g := range f.sink.Groups() {
			if g.Firing {
				return true
			}
		}
		return false
	})
}
