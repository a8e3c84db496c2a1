package alerting

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

func TestAdvance(t *testing.T) {
	type step struct {
		at     time.Duration
		active bool
		want   model.AlertState
	}
	tests := []struct {
		name       string
		forD, keep time.Duration
		steps      []step
	}{
		{"fires at once without for", 0, 0, []step{{0, true, model.AlertFiring}, {time.Minute, false, model.AlertResolved}}},
		{"pending until for has passed", 2 * time.Minute, 0, []step{
			{0, true, model.AlertPending}, {time.Minute, true, model.AlertPending}, {2 * time.Minute, true, model.AlertFiring},
			{3 * time.Minute, false, model.AlertResolved}}},
		{"pending that clears goes inactive", 2 * time.Minute, 0, []step{
			{0, true, model.AlertPending}, {time.Minute, false, model.AlertInactive}, {90 * time.Second, true, model.AlertPending},
			{3 * time.Minute, true, model.AlertPending}, {210 * time.Second, true, model.AlertFiring}}},
		{"keep_firing_for holds a cleared alert", 0, 5 * time.Minute, []step{
			{0, true, model.AlertFiring}, {time.Minute, false, model.AlertFiring}, {5 * time.Minute, false, model.AlertFiring},
			{6 * time.Minute, false, model.AlertResolved}}},
		{"keep_firing_for restarts when the condition returns", 0, 5 * time.Minute, []step{
			{0, true, model.AlertFiring}, {time.Minute, false, model.AlertFiring}, {2 * time.Minute, true, model.AlertFiring},
			{3 * time.Minute, false, model.AlertFiring}, {7 * time.Minute, false, model.AlertFiring}, {8 * time.Minute, false, model.AlertResolved}}},
		{"resolved fires again as new", 0, 0, []step{
			{0, true, model.AlertFiring}, {time.Minute, false, model.AlertResolved}, {2 * time.Minute, true, model.AlertFiring}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a model.Alert
			var keep time.Time
			for i, s := range tt.steps {
				Advance(&a, &keep, s.active, t0.Add(s.at), tt.forD, tt.keep)
				if a.State != s.want {
					t.Fatalf("step %d (t+%s, active=%v): state %s, want %s", i, s.at, s.active, a.State, s.want)
				}
			}
		})
	}
}

func TestProbeRuleForAndGrouping(t *testing.T) {
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{probeRule("CheckoutProbeFailing", 2*time.Minute, 0)}})
	f.probe(true)
	if got := f.stateOf(t, "CheckoutProbeFailing"); got != model.AlertPending {
		t.Fatalf("state %s, want pending", got)
	}
	f.clock.Advance(time.Minute)
	f.eval(t)
	if n := len(f.sink.Groups()); n != 0 {
		t.Fatalf("a pending alert was handed over (%d groups)", n)
	}
	f.clock.Advance(time.Minute)
	f.eval(t)
	gs := f.sink.Groups()
	if len(gs) != 1 || !gs[0].Firing || gs[0].Key != "service=checkout" || gs[0].Source != "sentinel" {
		t.Fatalf("groups %+v, want one firing service=checkout", gs)
	}
	a := gs[0].Alerts[0]
	if a.Labels["alertname"] != "CheckoutProbeFailing" || a.Labels["probe"] != "checkout" || a.Severity != model.SeverityCritical ||
		a.Annotations["summary"] != "checkout failing in local" || !a.FiredAt.Equal(t0.Add(2*time.Minute)) || !a.StartsAt.Equal(t0) {
		t.Fatalf("alert %+v", a)
	}
	// Nothing changes: nothing handed over again.
	f.clock.Advance(time.Minute)
	f.eval(t)
	if n := len(f.sink.Groups()); n != 1 {
		t.Fatalf("%d hand-overs, want 1", n)
	}
	f.probe(false)
	gs = f.sink.Groups()
	if len(gs) != 2 || gs[1].Firing || gs[1].Alerts[0].State != model.AlertResolved {
		t.Fatalf("resolution not handed over: %+v", gs)
	}
	if n := len(f.alerts(t)); n != 0 {
		t.Fatalf("%d active alerts after resolve", n)
	}
}

func TestFlappingProbeDoesNotToggle(t *testing.T) {
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{probeRule("CheckoutProbeFailing", 2*time.Minute, 0)}})
	// Runs alternate pass/fail: probes' flap suppression keeps Failing false.
	for i := 0; i < 20; i++ {
		f.svc.RecordProbeState(context.Background(), model.ProbeState{Probe: "checkout", Location: "local",
			Labels: model.Labels{"service": "checkout"}, Failing: false, Failures: i % 2, Successes: (i + 1) % 2})
		f.clock.Advance(30 * time.Second)
		f.eval(t)
	}
	// A failing spell shorter than for: pending, then back to inactive.
	f.probe(true)
	f.clock.Advance(time.Minute)
	f.eval(t)
	f.probe(false)
	f.clock.Advance(5 * time.Minute)
	f.eval(t)
	if n := len(f.sink.Groups()); n != 0 {
		t.Fatalf("flapping handed over %d groups", n)
	}
	if n := len(f.alerts(t)); n != 0 {
		t.Fatalf("%d alerts remain", n)
	}
}

func TestKeepFiringForBridgesGaps(t *testing.T) {
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{probeRule("CheckoutProbeFailing", 0, 10*time.Minute)}})
	f.probe(true)
	f.clock.Advance(time.Minute)
	f.probe(false)
	f.clock.Advance(5 * time.Minute)
	f.eval(t)
	f.probe(true)
	f.clock.Advance(time.Minute)
	f.probe(false)
	f.clock.Advance(9 * time.Minute)
	f.eval(t)
	if got := f.stateOf(t, "CheckoutProbeFailing"); got != model.AlertFiring {
		t.Fatalf("state %s, want still firing", got)
	}
	f.clock.Advance(2 * time.Minute)
	f.eval(t)
	gs := f.sink.Groups()
	if len(gs) != 2 || !gs[0].Firing || gs[1].Firing {
		t.Fatalf("want one fire and one resolve, got %+v", gs)
	}
}

func TestProbeAndBurnAlertShareAGroupAndInhibition(t *testing.T) {
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{probeRule("CheckoutProbeFailing", 0, 0)}})
	f.probe(true)
	f.slos.set(burnState(false, true))
	f.eval(t)
	f.slos.set(burnState(true, true))
	f.eval(t)
	gs := f.sink.Groups()
	last := gs[len(gs)-1]
	if last.Key != "service=checkout" || len(last.Alerts) != 3 {
		t.Fatalf("last group %+v, want service=checkout with probe, page and ticket alerts", last)
	}
	for _, g := range gs {
		if g.Key != "service=checkout" {
			t.Fatalf("alert landed in another group: %s", g.Key)
		}
	}
	var page, ticket *model.Alert
	for i, a := range last.Alerts {
		switch a.Labels["tier"] {
		case "page":
			page = &last.Alerts[i]
		case "ticket":
			ticket = &last.Alerts[i]
		}
	}
	if page == nil || ticket == nil || page.Silenced || !ticket.Silenced || page.Severity != model.SeverityCritical || ticket.Severity != model.SeverityWarning {
		t.Fatalf("page %+v ticket %+v: want the ticket tier inhibited by the page tier", page, ticket)
	}
	// Burn rate 20 over the last hour of a fully covered 720 h window
	// spent 20/720 = 2.8% of the budget; half the budget left lasts
	// 0.5 x 720 h / 20 = 18 h.
	if got, want := page.Annotations["summary"], "checkout-availability: 2.8% of the 30-day error budget spent in the last hour; at this rate the rest lasts 18 h"; got != want {
		t.Errorf("summary\n%q, want\n%q", got, want)
	}
	if got, want := page.Annotations["detail"], "page tier, 1h/5m: burn rate 20x and 20x (threshold 14.4x, firing); 6h/30m: burn rate 7x and 7x (threshold 6x, firing)"; got != want {
		t.Errorf("detail\n%q, want\n%q", got, want)
	}
	// Page tier stops: the ticket tier is no longer inhibited.
	f.slos.set(burnState(false, true))
	f.eval(t)
	for _, a := range f.alerts(t) {
		if a.Labels["tier"] == "ticket" && a.Silenced {
			t.Fatal("ticket still inhibited after the page tier resolved")
		}
	}
}

func TestSLOBurnOff(t *testing.T) {
	f := newFixture(t, config.Alerting{SLOBurn: config.SLOBurnOff})
	f.slos.set(burnState(true, true))
	f.eval(t)
	if n := len(f.alerts(t)); n != 0 {
		t.Fatalf("%d alerts with slo_burn off", n)
	}
}

func TestBudgetRule(t *testing.T) {
	below := 0.25
	f := newFixture(t, config.Alerting{SLOBurn: config.SLOBurnOff, Rules: []config.AlertRule{{Name: "BudgetLow",
		When: config.AlertCondition{SLO: "checkout-availability", BudgetRemainingBelow: &below}}}})
	st := burnState(false, false)
	st.BudgetRemaining = 0.2
	f.slos.set(st)
	f.eval(t)
	as := f.alerts(t)
	if len(as) != 1 || as[0].Labels["slo"] != "checkout-availability" || as[0].Labels["service"] != "checkout" || as[0].State != model.AlertFiring {
		t.Fatalf("alerts %+v", as)
	}
}

func TestSilenceMutesAndExpiryIsAnnounced(t *testing.T) {
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{probeRule("CheckoutProbeFailing", 0, 0)}})
	ctx := context.Background()
	sl, err := f.svc.CreateSilence(ctx, NewSilence{Matchers: TextInputs("service=checkout", `alertname=~"Checkout.*"`),
		Duration: time.Hour, Author: "alice", Comment: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	f.probe(true)
	f.eval(t)
	if n := len(f.sink.Groups()); n != 0 {
		t.Fatalf("a silenced alert opened a group (%d)", n)
	}
	as := f.alerts(t)
	if len(as) != 1 || !as[0].Silenced || as[0].SilencedBy[0] != sl.ID {
		t.Fatalf("alerts %+v, want one silenced", as)
	}
	// 15 minutes before the end: announced once.
	f.clock.Advance(44 * time.Minute)
	f.eval(t)
	if n := len(f.sink.Announcements()); n != 0 {
		t.Fatalf("announced too early: %+v", f.sink.Announcements())
	}
	f.clock.Advance(time.Minute)
	f.eval(t)
	f.clock.Advance(time.Minute)
	f.eval(t)
	anns := f.sink.Announcements()
	if len(anns) != 1 || anns[0].Kind != "silence_expiring" || anns[0].Severity != model.SeverityCritical ||
		anns[0].Labels["service"] != "checkout" || !strings.Contains(anns[0].Text, "alice") {
		t.Fatalf("announcements %+v", anns)
	}
	// The end: announced as expired, and the alert now pages.
	f.clock.Advance(15 * time.Minute)
	f.eval(t)
	anns = f.sink.Announcements()
	if len(anns) != 2 || anns[1].Kind != "silence_expired" || !strings.Contains(anns[1].Text, "CheckoutProbeFailing") {
		t.Fatalf("announcements %+v", anns)
	}
	gs := f.sink.Groups()
	if len(gs) != 1 || !gs[0].Firing || gs[0].Alerts[0].Silenced {
		t.Fatalf("groups %+v, want the unmuted alert handed over", gs)
	}
	f.clock.Advance(time.Hour)
	f.eval(t)
	if n := len(f.sink.Announcements()); n != 2 {
		t.Fatalf("announced again: %d", n)
	}
}

func TestSilenceOnOpenGroupAndManualExpiry(t *testing.T) {
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{probeRule("CheckoutProbeFailing", 0, 0)}})
	ctx := context.Background()
	f.probe(true)
	sl, err := f.svc.CreateSilence(ctx, NewSilence{Matchers: TextInputs("probe=checkout"), Duration: time.Hour, Author: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	gs := f.sink.Groups()
	if len(gs) != 2 || !gs[1].Firing || !gs[1].Alerts[0].Silenced {
		t.Fatalf("groups %+v: want the open group updated with the alert silenced (still firing)", gs)
	}
	if _, err := f.svc.ExpireSilence(ctx, sl.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	f.eval(t)
	if n := len(f.sink.Announcements()); n != 0 {
		t.Fatalf("a silence a person ended was announced: %+v", f.sink.Announcements())
	}
	if _, err := f.svc.ExpireSilence(ctx, "nope", "bob"); !isNotFound(err) {
		t.Fatalf("err %v, want not found", err)
	}
}

func isNotFound(err error) bool {
	nf, ok := err.(interface{ Unwrap() error })
	return ok && nf.Unwrap() == ErrNotFound
}

func TestHeartbeatMissedFires(t *testing.T) {
	f := newFixture(t, config.Alerting{Heartbeats: []config.Heartbeat{{Name: "backup", Timeout: model.Duration(10 * time.Minute), Labels: model.Labels{"service": "backup"}}}})
	ctx := context.Background()
	if _, err := f.svc.Heartbeat(ctx, "backup"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Minute)
	f.eval(t)
	if n := len(f.alerts(t)); n != 0 {
		t.Fatalf("fired at the timeout itself")
	}
	f.clock.Advance(time.Second)
	f.eval(t)
	gs := f.sink.Groups()
	if len(gs) != 1 || gs[0].Key != "service=backup" || gs[0].Alerts[0].Name != HeartbeatAlert || gs[0].Alerts[0].Severity != model.SeverityCritical {
		t.Fatalf("groups %+v", gs)
	}
	if _, err := f.svc.Heartbeat(ctx, "backup"); err != nil {
		t.Fatal(err)
	}
	gs = f.sink.Groups()
	if len(gs) != 2 || gs[1].Firing {
		t.Fatalf("a beat did not resolve: %+v", gs)
	}
	if _, err := f.svc.Heartbeat(ctx, "unknown"); !isNotFound(err) {
		t.Fatalf("err %v", err)
	}
}

func TestHeartbeatCountsFromStartWhenNeverSeen(t *testing.T) {
	f := newFixture(t, config.Alerting{Heartbeats: []config.Heartbeat{{Name: "nightly", Timeout: model.Duration(time.Hour)}}})
	f.clock.Advance(61 * time.Minute)
	f.eval(t)
	if got := f.stateOf(t, HeartbeatAlert); got != model.AlertFiring {
		t.Fatalf("state %s", got)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	cfg := config.Alerting{Rules: []config.AlertRule{probeRule("CheckoutProbeFailing", 2*time.Minute, 0)}}
	f := newFixture(t, cfg)
	f.probe(true)
	f.clock.Advance(2 * time.Minute)
	f.eval(t)
	sl, err := f.svc.CreateSilence(context.Background(), NewSilence{Matchers: TextInputs("service=search"), Duration: time.Hour, Author: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.sink.Groups()); n != 1 {
		t.Fatalf("%d groups", n)
	}
	// Restart: a new service over the same store.
	f.svc = f.build(t)
	f.clock.Advance(time.Minute)
	f.eval(t)
	as := f.alerts(t)
	if len(as) != 1 || as[0].State != model.AlertFiring || !as[0].StartsAt.Equal(t0) {
		t.Fatalf("after restart: %+v", as)
	}
	if n := len(f.sink.Groups()); n != 1 {
		t.Fatalf("the restart handed the group over again (%d)", n)
	}
	sils, _ := f.svc.Silences(context.Background())
	if len(sils) != 1 || sils[0].ID != sl.ID {
		t.Fatalf("silences %+v", sils)
	}
	f.probe(false)
	if gs := f.sink.Groups(); len(gs) != 2 || gs[1].Firing {
		t.Fatalf("resolve after restart: %+v", gs)
	}
}

func TestSinkFailureIsRetried(t *testing.T) {
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{probeRule("CheckoutProbeFailing", 0, 0)}})
	f.sink.mu.Lock()
	f.sink.fail = true
	f.sink.mu.Unlock()
	f.probe(true)
	f.sink.mu.Lock()
	f.sink.fail = false
	f.sink.mu.Unlock()
	f.eval(t)
	if gs := f.sink.Groups(); len(gs) != 1 || !gs[0].Firing {
		t.Fatalf("groups %+v", gs)
	}
}

func TestRUMJSErrorRule(t *testing.T) {
	above := config.Threshold(50)
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{{Name: "JSErrorSpike", For: model.Duration(5 * time.Minute),
		When: config.AlertCondition{RUM: "js_errors_per_minute", Above: &above}, Labels: map[string]string{"service": "storefront"}}}})
	ctx := context.Background()
	send := func(n int64) {
		f.svc.RecordOutcome(ctx, model.Outcome{Source: model.SourceRUM, Name: "js_error", Time: f.clock.Now(), Total: n, Labels: model.Labels{"route": "/cart"}})
	}
	for i := 0; i < 5; i++ {
		send(100)
		f.clock.Advance(time.Minute)
	}
	f.eval(t) // 500 errors over 5m = 100/min
	if got := f.stateOf(t, "JSErrorSpike"); got != model.AlertPending {
		t.Fatalf("state %s, want pending", got)
	}
	for i := 0; i < 5; i++ {
		send(100)
		f.clock.Advance(time.Minute)
		f.eval(t)
	}
	gs := f.sink.Groups()
	if len(gs) != 1 || gs[0].Key != "service=storefront" || gs[0].Alerts[0].Labels["rum"] != "js_errors_per_minute" {
		t.Fatalf("groups %+v", gs)
	}
	f.clock.Advance(10 * time.Minute)
	f.eval(t)
	if gs := f.sink.Groups(); len(gs) != 2 || gs[1].Firing {
		t.Fatalf("not resolved: %+v", gs)
	}
}

func TestRUMVitalP75Rule(t *testing.T) {
	var above config.Threshold = 2.5
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{{Name: "SlowLCP",
		When: config.AlertCondition{RUM: "lcp", Route: "/cart", Above: &above}}}})
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		v := 1.0
		if i%4 != 0 {
			v = 3.0 // 75% of views at 3s: p75 is 3s
		}
		f.svc.RecordOutcome(ctx, model.Outcome{Source: model.SourceRUM, Name: "lcp", Time: f.clock.Now(), Value: v, HasValue: true, Labels: model.Labels{"route": "/cart"}})
		f.svc.RecordOutcome(ctx, model.Outcome{Source: model.SourceRUM, Name: "lcp", Time: f.clock.Now(), Value: 9, HasValue: true, Labels: model.Labels{"route": "/other"}})
	}
	f.eval(t)
	as := f.alerts(t)
	if len(as) != 1 || as[0].State != model.AlertFiring || as[0].Labels["route"] != "/cart" {
		t.Fatalf("alerts %+v", as)
	}
}

// A burn alert of an SLO that counts a probe's runs says how the probe is
// failing, and links the failed run, as soon as the budget burns: the
// probe's own alert waits for its failure_threshold and "for".
func TestBurnAlertSaysHowItsProbeFails(t *testing.T) {
	f := newFixture(t, config.Alerting{})
	f.svc.externalURL = "https://sentinel.example.com"
	failed := model.ProbeState{Probe: "checkout", Location: "local", Labels: model.Labels{"service": "checkout"}, LastRun: f.clock.Now(),
		RunID: "run-7", Step: "pay", Status: 503, Error: "expected status 200, got 503", ErrorExcerpt: "payment provider unavailable", Failures: 1}
	f.svc.RecordProbeState(context.Background(), failed)
	st := burnState(true, false)
	st.Probe = "checkout"
	f.slos.set(st)
	f.eval(t)
	page := f.alertByTier(t, "page")
	if got, want := page.Annotations["summary"], `checkout fails at step pay: HTTP 503, "payment provider unavailable" (from local); checkout-availability: 2.8% of the 30-day error budget spent in the last hour; at this rate the rest lasts 18 h`; got != want {
		t.Errorf("summary\n%q, want\n%q", got, want)
	}
	if got, want := page.Annotations["title"], `checkout fails at step pay: HTTP 503, "payment provider unavailable" (from local); checkout-availability is burning its 30-day error budget fast`; got != want {
		t.Errorf("title\n%q, want\n%q", got, want)
	}
	if got := page.Annotations["description"]; !strings.HasSuffix(got, ` The last checkout run failed at step pay: HTTP 503, "payment provider unavailable" (from local).`) {
		t.Errorf("description %q", got)
	}
	if got, want := page.Annotations[AnnotationRunURL], RunURL("https://sentinel.example.com", "checkout", "run-7"); got != want {
		t.Errorf("run_url %q, want %q", got, want)
	}
	// The last run passed: nothing failing to tell, even if the budget
	// still burns.
	passed := failed
	passed.Failures, passed.Successes, passed.Step, passed.Error, passed.Status, passed.ErrorExcerpt = 0, 1, "", "", 0, ""
	f.svc.RecordProbeState(context.Background(), passed)
	f.eval(t)
	page = f.alertByTier(t, "page")
	if got := page.Annotations["title"]; got != "checkout-availability is burning its 30-day error budget fast" {
		t.Errorf("after a passing run: title %q", got)
	}
	if got := page.Annotations["summary"]; strings.Contains(got, "fails") || page.Annotations[AnnotationRunURL] != "" {
		t.Errorf("after a passing run: summary %q, run_url %q", got, page.Annotations[AnnotationRunURL])
	}
}

// alertByTier is the active SLO burn alert of a tier.
func (f *fixture) alertByTier(t *testing.T, tier string) ActiveAlert {
	t.Helper()
	for _, a := range f.alerts(t) {
		if a.Labels["tier"] == tier {
			return a
		}
	}
	t.Fatalf("no %s burn alert", tier)
	return ActiveAlert{}
}
