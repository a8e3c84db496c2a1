package incidents_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/incidentstest"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

// t0 is Wednesday 2026-03-25 10:00 UTC: alice's week on primary.
var t0 = time.Date(2026, 3, 25, 10, 0, 0, 0, time.UTC)

type fixture struct {
	svc   *incidents.Service
	store incidents.Store
	clock *incidentstest.Clock
	pager *incidentstest.Pager
	fb    *incidentstest.Pager
}

func newFixture(t *testing.T, st incidents.Store, edit func(*config.Incidents)) *fixture {
	t.Helper()
	cfg := config.DefaultIncidents()
	if edit != nil {
		edit(&cfg)
	}
	if st == nil {
		st = incidents.NewMemoryStore()
	}
	f := &fixture{store: st, clock: incidentstest.NewClock(t0), pager: incidentstest.NewPager("test"), fb: incidentstest.NewPager("fallback")}
	svc, err := incidents.New(incidents.Options{
		Config: cfg, OnCall: incidentstest.MustOncall(), Store: st, Pagers: []incidents.Pager{f.pager},
		Fallback: f.fb, Now: f.clock.Now, ExternalURL: "http://sentinel.test",
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

// step advances the clock, fires due timers and delivers the outbox.
func (f *fixture) step(t *testing.T, d time.Duration) {
	t.Helper()
	f.clock.Advance(d)
	ctx := t.Context()
	if _, err := f.svc.RunTimers(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := f.svc.DeliverDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (f *fixture) fire(t *testing.T, g model.AlertGroup) {
	t.Helper()
	if err := f.svc.HandleAlertGroup(t.Context(), g); err != nil {
		t.Fatal(err)
	}
	f.step(t, 0)
}

func wantPages(t *testing.T, p *incidentstest.Pager, want ...string) {
	t.Helper()
	if got := p.Pages(); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("pages = %v, want %v", got, want)
	}
}

func TestEscalationStepsAndRepeat(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.fire(t, incidentstest.Group("checkout", model.SeverityCritical, true))
	wantPages(t, f.pager, "alice")
	f.step(t, 14*time.Minute)
	wantPages(t, f.pager, "alice")
	f.step(t, time.Minute) // 15 minutes: step 2
	wantPages(t, f.pager, "alice", "carol")
	f.step(t, 10*time.Minute) // repeat 1
	f.step(t, 15*time.Minute)
	f.step(t, 10*time.Minute) // repeat 2
	f.step(t, 15*time.Minute)
	wantPages(t, f.pager, "alice", "carol", "alice", "carol", "alice", "carol")
	f.step(t, 24*time.Hour) // exhausted: nothing more
	wantPages(t, f.pager, "alice", "carol", "alice", "carol", "alice", "carol")

	inc, err := f.svc.Get(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != incidents.StatusTriggered || inc.Severity != model.SeverityCritical || inc.DedupKey != "service=checkout" || inc.Runbook != "checkout-down" {
		t.Fatalf("incident %+v", inc)
	}
	if inc.Escalation.NextAt != nil {
		t.Errorf("timer still set after the last repeat: %v", inc.Escalation.NextAt)
	}
	var kinds []string
	for _, e := range inc.Timeline {
		kinds = append(kinds, e.Kind)
	}
	if got := strings.Join(kinds, ","); got != "triggered,paged,escalated,escalated,escalated,escalated,escalated" {
		t.Errorf("timeline kinds %s", got)
	}
}

func TestAcknowledgeStopsEscalationAndAckTimeoutRetriggers(t *testing.T) {
	f := newFixture(t, nil, func(c *config.Incidents) { c.AckTimeout = model.Duration(30 * time.Minute) })
	f.fire(t, incidentstest.Group("checkout", model.SeverityCritical, true))
	f.clock.Advance(5 * time.Minute)
	inc, err := f.svc.Acknowledge(t.Context(), 1, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != incidents.StatusAcknowledged || inc.AcknowledgedAt == nil {
		t.Fatalf("after ack: %+v", inc)
	}
	if mtta, ok := inc.MTTA(); !ok || mtta != 5*time.Minute {
		t.Errorf("MTTA = %v", mtta)
	}
	f.step(t, 0)
	f.step(t, 20*time.Minute) // past step 2's delay: no page to carol
	wantPages(t, f.pager, "alice")
	// An update went out for the acknowledgement.
	var updates []string
	for _, n := range f.pager.Got() {
		if n.Kind == incidents.KindUpdate {
			updates = append(updates, n.Event.Kind)
		}
	}
	if !reflect.DeepEqual(updates, []string{incidents.KindAcknowledged}) {
		t.Errorf("updates %v", updates)
	}
	// Still open 30 minutes after the ack: paged again from the top.
	f.step(t, 10*time.Minute)
	wantPages(t, f.pager, "alice", "alice")
	inc, _ = f.svc.Get(t.Context(), 1)
	if inc.Status != incidents.StatusTriggered || inc.Escalation.Epoch != 2 {
		t.Fatalf("after ack timeout: status %s epoch %d", inc.Status, inc.Escalation.Epoch)
	}
	if _, err := f.svc.Resolve(t.Context(), 1, "bob"); err != nil {
		t.Fatal(err)
	}
	f.step(t, time.Hour)
	wantPages(t, f.pager, "alice", "alice")
}

func TestReopenWindow(t *testing.T) {
	f := newFixture(t, nil, nil)
	g := incidentstest.Group("checkout", model.SeverityCritical, true)
	f.fire(t, g)
	// Same group again: no new incident, no new page.
	f.fire(t, g)
	f.step(t, 2*time.Minute)
	f.fire(t, incidentstest.Group("checkout", model.SeverityCritical, false))
	inc, _ := f.svc.Get(t.Context(), 1)
	if inc.Status != incidents.StatusResolved {
		t.Fatalf("auto-resolve: status %s", inc.Status)
	}
	if mttr, _ := inc.MTTR(); mttr != 2*time.Minute {
		t.Errorf("MTTR %v", mttr)
	}
	f.step(t, 10*time.Minute)
	f.fire(t, g) // the alert fires again within 15m: reopened
	inc, _ = f.svc.Get(t.Context(), 1)
	if inc.Status != incidents.StatusTriggered || inc.Timeline[len(inc.Timeline)-2].Kind != incidents.KindReopened {
		t.Fatalf("reopen: %s %+v", inc.Status, inc.Timeline)
	}
	if got, want := inc.Timeline[len(inc.Timeline)-2].Text, "reopened: CheckoutProbeFailing fired again 10m after the incident was resolved"; got != want {
		t.Errorf("reopened text %q, want %q", got, want)
	}
	wantPages(t, f.pager, "alice", "alice")
	if _, err := f.svc.Resolve(t.Context(), 1, "alice"); err != nil {
		t.Fatal(err)
	}
	inc, _ = f.svc.Get(t.Context(), 1)
	if got, want := inc.Timeline[len(inc.Timeline)-1].Text, "resolved by alice while 1 alert was still firing: CheckoutProbeFailing; if any still fires in 4h, a new incident opens"; got != want {
		t.Errorf("resolve text %q, want %q", got, want)
	}
	f.step(t, 16*time.Minute)
	f.fire(t, g) // still the same firing: nothing new fired, no incident
	if list, _ := f.svc.List(t.Context(), incidents.ListQuery{Status: "open"}); len(list) != 0 {
		t.Fatalf("an alert still firing since the resolve opened %v", list)
	}
	f.fire(t, incidentstest.Group("checkout", model.SeverityCritical, false))
	f.fire(t, g) // cleared, then fired again after the window: a new incident
	list, err := f.svc.List(t.Context(), incidents.ListQuery{Status: "open"})
	if err != nil || len(list) != 1 || list[0].ID != 2 {
		t.Fatalf("open incidents %v %v", list, err)
	}
	wantPages(t, f.pager, "alice", "alice", "alice")
}

// TestResolveWhileAlertsFireNeverRepages is the 3 a.m. story: a person
// resolves while the burn alerts still fire; the probe alert then clears,
// later the burn alerts too. Nothing reopens, nobody is paged, and the
// thread hears of each clearing.
func TestResolveWhileAlertsFireNeverRepages(t *testing.T) {
	f := newFixture(t, nil, nil)
	probe := incidentstest.Group("checkout", model.SeverityCritical, true)
	burn := func(tier string, state model.AlertState) model.Alert {
		return model.Alert{Name: "SLOErrorBudgetBurn", Fingerprint: "fp-burn-" + tier, State: state, Severity: model.SeverityCritical,
			Labels: model.Labels{"service": "checkout", "slo": "checkout-availability", "tier": tier}, FiredAt: t0.Add(time.Minute)}
	}
	g := probe
	g.Alerts = append(g.Alerts, burn("page", model.AlertFiring), burn("ticket", model.AlertFiring))
	f.fire(t, g)
	f.step(t, 10*time.Minute)
	if _, err := f.svc.Resolve(t.Context(), 1, "alice"); err != nil {
		t.Fatal(err)
	}
	f.step(t, 8*time.Second)
	g.Alerts[0].State = model.AlertResolved // the probe passes again
	f.fire(t, g)
	f.step(t, 20*time.Minute)
	f.fire(t, model.AlertGroup{Key: g.Key, Labels: g.Labels}) // the burn alerts clear
	inc, _ := f.svc.Get(t.Context(), 1)
	if inc.Status != incidents.StatusResolved {
		t.Fatalf("status %s, want resolved", inc.Status)
	}
	var texts []string
	for _, e := range inc.Timeline {
		if e.Kind == incidents.KindReopened {
			t.Errorf("reopened entry: %s", e.Text)
		}
		texts = append(texts, e.Kind+": "+e.Text)
	}
	want := []string{
		"resolved: resolved by alice while 3 alerts were still firing: CheckoutProbeFailing, SLOErrorBudgetBurn (slo=checkout-availability, tier=page), SLOErrorBudgetBurn (slo=checkout-availability, tier=ticket); if any still fires in 4h, a new incident opens",
		"alert_resolved: alert CheckoutProbeFailing cleared after the incident was resolved; 2 alerts still firing (no page: nothing new fired)",
		"alert_resolved: alerts SLOErrorBudgetBurn (slo=checkout-availability, tier=page), SLOErrorBudgetBurn (slo=checkout-availability, tier=ticket) cleared after the incident was resolved; no alert fires any more (no page: nothing new fired)",
	}
	if got := texts[len(texts)-3:]; !reflect.DeepEqual(got, want) {
		t.Errorf("timeline ends\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantPages(t, f.pager, "alice")
	// Each clearing reached the pagers as an update (Slack: a thread
	// reply and the message redrawn), none as a page.
	var updates []string
	for _, n := range f.pager.Got() {
		if n.Kind == incidents.KindUpdate && n.Event != nil {
			updates = append(updates, n.Event.Kind)
		}
	}
	if want := []string{"resolved", "alert_resolved", "alert_resolved"}; !reflect.DeepEqual(updates, want) {
		t.Errorf("updates %v, want %v", updates, want)
	}
	if list, _ := f.svc.List(t.Context(), incidents.ListQuery{Limit: 100}); len(list) != 1 {
		t.Errorf("%d incidents, want 1", len(list))
	}
	// The check at repeat_interval finds every alert cleared: nothing opens.
	f.step(t, 5*time.Hour)
	if list, _ := f.svc.List(t.Context(), incidents.ListQuery{Limit: 100}); len(list) != 1 {
		t.Errorf("%d incidents after the repeat interval, want 1", len(list))
	}
	wantPages(t, f.pager, "alice")
}

// burnGroup is checkout's page-tier burn alert, firing since t0+1m.
func burnGroup(silenced bool) model.AlertGroup {
	return model.AlertGroup{Key: "service=checkout", Labels: model.Labels{"service": "checkout"}, Source: "sentinel", Firing: true,
		Alerts: []model.Alert{{Name: "SLOErrorBudgetBurn", Fingerprint: "fp-burn-page", State: model.AlertFiring, Severity: model.SeverityCritical,
			Labels: model.Labels{"service": "checkout", "slo": "checkout-availability", "tier": "page"}, FiredAt: t0.Add(time.Minute), Silenced: silenced}}}
}

// A person resolves while the burn alert fires, and the fix did not work:
// the alert still fires at incidents.repeat_interval (4h), so a new
// incident opens and pages from the top, as Alertmanager's repeat_interval
// would re-notify; the resolved incident says where it went.
func TestStillFiringAfterResolveOpensNewIncident(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.fire(t, burnGroup(false))
	f.step(t, 10*time.Minute)
	if _, err := f.svc.Resolve(t.Context(), 1, "alice"); err != nil {
		t.Fatal(err)
	}
	f.fire(t, burnGroup(false)) // alerting hands the unchanged group over again: nothing new
	f.step(t, 4*time.Hour-time.Second)
	if list, _ := f.svc.List(t.Context(), incidents.ListQuery{Status: "open"}); len(list) != 0 {
		t.Fatalf("opened before the repeat interval: %v", list)
	}
	wantPages(t, f.pager, "alice")
	f.step(t, time.Second)
	list, err := f.svc.List(t.Context(), incidents.ListQuery{Status: "open"})
	if err != nil || len(list) != 1 || list[0].ID != 2 {
		t.Fatalf("open incidents %v %v, want #2", list, err)
	}
	inc2 := list[0]
	if got, want := inc2.Timeline[0].Text, "SLOErrorBudgetBurn (slo=checkout-availability, tier=page) still firing 4h after #1 was resolved (group service=checkout)"; got != want {
		t.Errorf("#2 starts with %q, want %q", got, want)
	}
	if inc2.Severity != model.SeverityCritical || inc2.DedupKey != "service=checkout" || inc2.Status != incidents.StatusTriggered {
		t.Errorf("#2 is %s %s %q", inc2.Severity, inc2.Status, inc2.DedupKey)
	}
	wantPages(t, f.pager, "alice", "alice")
	inc1, _ := f.svc.Get(t.Context(), 1)
	if inc1.Status != incidents.StatusResolved {
		t.Errorf("#1 is %s, want resolved", inc1.Status)
	}
	if got, want := inc1.Timeline[len(inc1.Timeline)-1].Text, "SLOErrorBudgetBurn (slo=checkout-availability, tier=page) still firing 4h after the incident was resolved: opened #2"; got != want {
		t.Errorf("#1 ends with %q, want %q", got, want)
	}
	// #1's pagers (its Slack thread) hear where the alert went.
	told := false
	for _, n := range f.pager.Got() {
		if n.Kind == incidents.KindUpdate && n.Incident.ID == 1 && n.Event != nil && strings.HasSuffix(n.Event.Text, "opened #2") {
			told = true
		}
	}
	if !told {
		t.Error("#1's pagers were not told of #2")
	}
	// The alert goes on firing: it belongs to #2 now, which stays the one.
	f.fire(t, burnGroup(false))
	f.step(t, 5*time.Hour)
	if all, _ := f.svc.List(t.Context(), incidents.ListQuery{Limit: 100}); len(all) != 2 {
		t.Errorf("%d incidents, want 2", len(all))
	}
}

// countIncidents is how many incidents f holds, open or not.
func countIncidents(t *testing.T, f *fixture) int {
	t.Helper()
	all, err := f.svc.List(t.Context(), incidents.ListQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}

// unmutedFiring lists inc's firing alerts that nothing mutes.
func unmutedFiring(inc *incidents.Incident) []string {
	var out []string
	for _, a := range inc.Alerts {
		if a.State == model.AlertFiring && !a.Silenced {
			out = append(out, a.Name)
		}
	}
	return out
}

// Nothing opens at the repeat interval when the alert was muted after the
// resolution, when a newer incident already has the group, or when the
// interval is 0.
func TestStillFiringOpensNothingWhenMutedSupersededOrOff(t *testing.T) {
	resolveWhileFiring := func(t *testing.T, f *fixture) {
		t.Helper()
		f.fire(t, burnGroup(false))
		f.step(t, 10*time.Minute)
		if _, err := f.svc.Resolve(t.Context(), 1, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("silenced", func(t *testing.T) {
		f := newFixture(t, nil, nil)
		resolveWhileFiring(t, f)
		f.fire(t, burnGroup(true)) // a person silences it: "we know, it lags"
		f.step(t, 5*time.Hour)
		if n := countIncidents(t, f); n != 1 {
			t.Errorf("%d incidents, want 1", n)
		}
	})
	t.Run("newer incident", func(t *testing.T) {
		f := newFixture(t, nil, nil)
		resolveWhileFiring(t, f)
		f.step(t, time.Hour)
		// Another alert of the group fires after the reopen window while
		// the burn alert goes on: #2 opens with both, and #1 still
		// lists the burn alert as firing.
		g := burnGroup(false)
		g.Alerts = append(g.Alerts, model.Alert{Name: "CheckoutProbeFailing", Fingerprint: "fp-probe", State: model.AlertFiring,
			Severity: model.SeverityCritical, Labels: model.Labels{"service": "checkout", "probe": "checkout"}, FiredAt: t0.Add(70 * time.Minute)})
		f.fire(t, g)
		if inc, _ := f.svc.Get(t.Context(), 1); len(unmutedFiring(inc)) == 0 {
			t.Fatal("#1 no longer lists the burn alert as firing; the case tests nothing")
		}
		f.step(t, 4*time.Hour)
		if n := countIncidents(t, f); n != 2 {
			t.Errorf("%d incidents, want 2", n)
		}
	})
	t.Run("off", func(t *testing.T) {
		f := newFixture(t, nil, func(c *config.Incidents) { c.RepeatInterval = 0 })
		resolveWhileFiring(t, f)
		inc, _ := f.svc.Get(t.Context(), 1)
		if got := inc.Timeline[len(inc.Timeline)-1].Text; strings.Contains(got, "new incident") {
			t.Errorf("resolve text %q promises a new incident", got)
		}
		f.step(t, 24*time.Hour)
		if n := countIncidents(t, f); n != 1 {
			t.Errorf("%d incidents, want 1", n)
		}
	})
}

// An alert muted when a person resolves (a silence quieting a fix in
// progress) is checked every repeat interval while it fires; once it fires
// unmuted at a check, a new incident opens. One that clears ends the checks.
func TestStillFiringMutedIsCheckedUntilUnmutedOrCleared(t *testing.T) {
	resolveMuted := func(t *testing.T) *fixture {
		t.Helper()
		f := newFixture(t, nil, nil)
		f.fire(t, burnGroup(false))
		f.step(t, 10*time.Minute)
		f.fire(t, burnGroup(true)) // silenced while the fix rolls out
		inc, err := f.svc.Resolve(t.Context(), 1, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := inc.Timeline[len(inc.Timeline)-1].Text, "resolved by alice while 1 alert was still firing: SLOErrorBudgetBurn (slo=checkout-availability, tier=page); they are muted: while they fire, a check every 4h opens a new incident for any no longer muted"; got != want {
			t.Errorf("resolve entry %q, want %q", got, want)
		}
		return f
	}
	t.Run("unmuted later", func(t *testing.T) {
		f := resolveMuted(t)
		f.step(t, 4*time.Hour)
		if n := countIncidents(t, f); n != 1 {
			t.Fatalf("%d incidents while muted, want 1", n)
		}
		if inc, _ := f.svc.Get(t.Context(), 1); inc.Escalation.StillFiringAt == nil {
			t.Fatal("no further check armed while the alert fires muted")
		}
		f.step(t, time.Hour)
		f.fire(t, burnGroup(false)) // the silence ended; the alert still fires
		if n := countIncidents(t, f); n != 1 {
			t.Fatalf("%d incidents at once on unmute, want 1 (the check opens it)", n)
		}
		f.step(t, 3*time.Hour)
		list, err := f.svc.List(t.Context(), incidents.ListQuery{Status: "open"})
		if err != nil || len(list) != 1 || list[0].ID != 2 {
			t.Fatalf("open incidents %v %v, want #2", list, err)
		}
		if got, want := list[0].Timeline[0].Text, "SLOErrorBudgetBurn (slo=checkout-availability, tier=page) still firing 8h after #1 was resolved (group service=checkout)"; got != want {
			t.Errorf("#2 starts with %q, want %q", got, want)
		}
		wantPages(t, f.pager, "alice", "alice")
	})
	t.Run("cleared", func(t *testing.T) {
		f := resolveMuted(t)
		f.step(t, 4*time.Hour)
		g := burnGroup(true)
		g.Alerts[0].State, g.Firing = model.AlertResolved, false
		f.fire(t, g)
		f.step(t, 4*time.Hour)
		if n := countIncidents(t, f); n != 1 {
			t.Errorf("%d incidents, want 1", n)
		}
		if inc, _ := f.svc.Get(t.Context(), 1); inc.Escalation.StillFiringAt != nil {
			t.Errorf("still checking at %v after the alert cleared", inc.Escalation.StillFiringAt)
		}
	})
}

// A burn alert's summary carries live figures. Once a person resolved the
// incident, the alert still firing must not rewrite its title or summary;
// when the alert fires anew and reopens it, the title follows again.
func TestResolvedIncidentKeepsItsTitle(t *testing.T) {
	f := newFixture(t, nil, nil)
	burn := func(spent string, state model.AlertState, firedAt time.Time) model.AlertGroup {
		return model.AlertGroup{Key: "service=checkout", Labels: model.Labels{"service": "checkout"}, Source: "sentinel", Firing: state == model.AlertFiring,
			Alerts: []model.Alert{{Name: "SLOErrorBudgetBurn", Fingerprint: "fp-burn", State: state, Severity: model.SeverityCritical,
				Labels: model.Labels{"service": "checkout", "slo": "checkout-availability"}, FiredAt: firedAt,
				Annotations: model.Labels{"summary": spent + " of the budget spent in the last hour", "description": spent + " spent"}}}}
	}
	fired := f.clock.Now()
	f.fire(t, burn("1%", model.AlertFiring, fired))
	f.step(t, 5*time.Minute)
	if _, err := f.svc.Resolve(t.Context(), 1, "alice"); err != nil {
		t.Fatal(err)
	}
	f.step(t, time.Minute)
	f.fire(t, burn("2%", model.AlertFiring, fired)) // still firing, figures moved on
	inc, _ := f.svc.Get(t.Context(), 1)
	if inc.Title != "1% of the budget spent in the last hour" || inc.Summary != "1% spent" {
		t.Errorf("resolved incident rewritten: title %q, summary %q", inc.Title, inc.Summary)
	}
	f.fire(t, burn("2%", model.AlertResolved, fired))
	f.step(t, time.Minute)
	f.fire(t, burn("5%", model.AlertFiring, f.clock.Now())) // fires anew within the reopen window
	inc, _ = f.svc.Get(t.Context(), 1)
	if inc.Status != incidents.StatusTriggered {
		t.Fatalf("status %s, want triggered (reopened)", inc.Status)
	}
	if inc.Title != "5% of the budget spent in the last hour" || inc.Summary != "5% spent" {
		t.Errorf("reopened incident: title %q, summary %q", inc.Title, inc.Summary)
	}
}

// TestAlertJoiningAnOpenIncidentIsAnnounced: a second alert joining, an
// acknowledgement and a summary that changes each reach the pagers.
func TestAlertJoiningAnOpenIncidentIsAnnounced(t *testing.T) {
	f := newFixture(t, nil, nil)
	g := incidentstest.Group("checkout", model.SeverityWarning, true)
	f.fire(t, g)
	g.Alerts = append(g.Alerts, model.Alert{Name: "SLOErrorBudgetBurn", Fingerprint: "fp-burn", State: model.AlertFiring, Severity: model.SeverityCritical,
		Labels: model.Labels{"slo": "checkout-availability", "tier": "page"}, Annotations: model.Labels{"summary": "budget burning"}})
	f.fire(t, g)
	if _, err := f.svc.Acknowledge(t.Context(), 1, "alice"); err != nil {
		t.Fatal(err)
	}
	f.step(t, 0)
	g.Alerts[1].Annotations = model.Labels{"summary": "budget still burning"} // the lead: the most severe
	f.fire(t, g)
	var got []string
	for _, n := range f.pager.Got() {
		if n.Kind != incidents.KindUpdate {
			continue
		}
		if n.IsRefresh() {
			got = append(got, "refresh: "+n.Incident.Title)
			continue
		}
		for _, e := range n.Events {
			got = append(got, e.Kind+": "+e.Text)
		}
	}
	want := []string{
		"alert_firing: alert SLOErrorBudgetBurn (slo=checkout-availability, tier=page) fired: budget burning",
		"severity_changed: severity raised from warning to critical by alert SLOErrorBudgetBurn (slo=checkout-availability, tier=page)",
		"acknowledged: acknowledged by alice",
		"refresh: budget still burning",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("updates\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestGroupWithSeveralAlertsAndNoAutoResolve(t *testing.T) {
	f := newFixture(t, nil, func(c *config.Incidents) { c.AutoResolve = false })
	g := incidentstest.Group("checkout", model.SeverityWarning, true)
	f.fire(t, g)
	g.Alerts = append(g.Alerts, model.Alert{Name: "SLOBurn", Fingerprint: "fp-slo", State: model.AlertFiring, Severity: model.SeverityCritical, Labels: model.Labels{"slo": "checkout-availability"}})
	f.fire(t, g)
	inc, _ := f.svc.Get(t.Context(), 1)
	if len(inc.Alerts) != 2 || inc.Severity != model.SeverityCritical {
		t.Fatalf("alerts %d severity %s", len(inc.Alerts), inc.Severity)
	}
	f.fire(t, model.AlertGroup{Key: g.Key, Labels: g.Labels})
	inc, _ = f.svc.Get(t.Context(), 1)
	if inc.Status != incidents.StatusTriggered {
		t.Fatalf("auto_resolve false, but status %s", inc.Status)
	}
	for _, a := range inc.Alerts {
		if a.State != model.AlertResolved || a.EndsAt == nil {
			t.Errorf("alert %s state %s", a.Name, a.State)
		}
	}
}

func TestTransitionsAndDeclare(t *testing.T) {
	f := newFixture(t, nil, nil)
	ctx := t.Context()
	_, err := f.svc.Declare(ctx, incidents.DeclareRequest{Title: " "}, "ops")
	if !errors.Is(err, incidents.ErrInvalid) {
		t.Fatalf("empty title: %v", err)
	}
	inc, err := f.svc.Declare(ctx, incidents.DeclareRequest{Title: "Payments slow", Severity: model.SeverityCritical, Labels: model.Labels{"service": "payments"}}, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if inc.ID != 1 || inc.DedupKey != "" || inc.Timeline[0].Kind != incidents.KindDeclared || inc.Timeline[0].Actor != "ops" {
		t.Fatalf("declared %+v", inc)
	}
	f.step(t, 0)
	wantPages(t, f.pager, "alice")
	if _, err := f.svc.Acknowledge(ctx, 1, "alice"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"ack twice", func() error { _, err := f.svc.Acknowledge(ctx, 1, "x"); return err }, incidents.ErrInvalidTransition},
		{"missing", func() error { _, err := f.svc.Resolve(ctx, 99, "x"); return err }, incidents.ErrNotFound},
		{"resolve", func() error { _, err := f.svc.Resolve(ctx, 1, "x"); return err }, nil},
		{"resolve twice", func() error { _, err := f.svc.Resolve(ctx, 1, "x"); return err }, incidents.ErrInvalidTransition},
		{"ack resolved", func() error { _, err := f.svc.Acknowledge(ctx, 1, "x"); return err }, incidents.ErrInvalidTransition},
		{"escalate resolved", func() error { _, err := f.svc.Escalate(ctx, 1, "x"); return err }, incidents.ErrInvalidTransition},
	}
	for _, tc := range tests {
		if err := tc.do(); !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestManualEscalate(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.fire(t, incidentstest.Group("checkout", model.SeverityCritical, true))
	if _, err := f.svc.Acknowledge(t.Context(), 1, "alice"); err != nil {
		t.Fatal(err)
	}
	inc, err := f.svc.Escalate(t.Context(), 1, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != incidents.StatusTriggered {
		t.Errorf("status %s", inc.Status)
	}
	f.step(t, 0)
	wantPages(t, f.pager, "alice", "carol")
}

func TestDeliveryRetriesThenFallback(t *testing.T) {
	f := newFixture(t, nil, func(c *config.Incidents) { c.Delivery.MaxAttempts = 3 })
	f.pager.FailNext(errors.New("boom"), incidents.RetryAfter(7*time.Second, errors.New("429")))
	f.fire(t, incidentstest.Group("checkout", model.SeverityCritical, true))
	wantPages(t, f.pager)
	f.step(t, 5*time.Second) // backoff after the first failure is 5s
	wantPages(t, f.pager)
	f.step(t, 6*time.Second) // the pager asked for 7s
	wantPages(t, f.pager)
	f.step(t, time.Second)
	wantPages(t, f.pager, "alice")
	wantPages(t, f.fb)

	// Three failures: the fallback pager gets it.
	f.pager.FailNext(errors.New("1"), errors.New("2"), errors.New("3"))
	f.fire(t, incidentstest.Group("search", model.SeverityWarning, true))
	f.step(t, 5*time.Second)
	f.step(t, 10*time.Second)
	wantPages(t, f.fb, "alice")
	if k := f.fb.Got()[0].Key; !strings.HasSuffix(k, "/fallback") {
		t.Errorf("fallback key %s", k)
	}
	// A permanent error goes to the fallback at once.
	f.pager.FailNext(fmt.Errorf("%w: 400", incidents.ErrPermanent))
	f.fire(t, incidentstest.Group("cart", model.SeverityWarning, true))
	wantPages(t, f.fb, "alice", "alice")
}

func TestInFlightEntryIsReconciledNotResent(t *testing.T) {
	f := newFixture(t, nil, nil)
	ctx := t.Context()
	if err := f.svc.HandleAlertGroup(ctx, incidentstest.Group("checkout", model.SeverityCritical, true)); err != nil {
		t.Fatal(err)
	}
	// Deliver, then "crash" before recording it: the entry stays in flight.
	claimed, err := f.store.Claim(ctx, f.clock.Now(), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if err := f.pager.Deliver(ctx, claimed[0].Notification); err != nil {
		t.Fatal(err)
	}
	f.step(t, 30*time.Second) // lease not over: nothing happens
	f.step(t, 31*time.Second)
	if f.pager.Reconciled != 1 {
		t.Errorf("reconciled %d times", f.pager.Reconciled)
	}
	wantPages(t, f.pager, "alice")
	entries, _ := f.store.Entries(ctx)
	if entries[0].State != incidents.EntryDone {
		t.Errorf("state %s", entries[0].State)
	}
}

func TestAnnounce(t *testing.T) {
	var out bytes.Buffer
	st := incidents.NewMemoryStore()
	svc, err := incidents.New(incidents.Options{Config: config.DefaultIncidents(), Store: st, Console: &out, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	a := model.Announcement{Kind: "silence_expiring", Text: "silence for service=checkout expires in 10m while CheckoutProbeFailing fires", Severity: model.SeverityWarning, At: t0}
	for range 2 { // the same announcement twice is sent once
		if err := svc.Announce(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.DeliverDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); strings.Count(got, "SENTINEL ANNOUNCEMENT") != 1 || !strings.Contains(got, "expires in 10m") {
		t.Errorf("console:\n%s", got)
	}
}

func TestConsolePagerIsTheDefault(t *testing.T) {
	var out bytes.Buffer
	svc, err := incidents.New(incidents.Options{Config: config.DefaultIncidents(), OnCall: incidentstest.MustOncall(), Store: incidents.NewMemoryStore(), Console: &out, Now: func() time.Time { return t0 }, ExternalURL: "http://localhost:8080"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.HandleAlertGroup(t.Context(), incidentstest.Group("checkout", model.SeverityCritical, true)); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DeliverDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"SENTINEL PAGE: [CRITICAL] #1 checkout is down", "paging: schedule:primary -> alice", "runbook: checkout-down", "link: http://localhost:8080/incidents/1"} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q:\n%s", want, got)
		}
	}
}

type budgets struct{}

func (budgets) SLOsForLabels(l model.Labels) []string {
	if l["service"] == "checkout" {
		return []string{"checkout-availability"}
	}
	return nil
}

func (budgets) Consumed(_ context.Context, slo string, from, to time.Time) (incidents.Consumption, error) {
	return incidents.Consumption{Share: to.Sub(from).Minutes() / 1000, CountedFrom: from.Truncate(time.Minute), CountedTo: to}, nil
}

func TestSLOImpactAndStats(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.svc.SetBudgetSource(budgets{})
	f.fire(t, incidentstest.Group("checkout", model.SeverityCritical, true))
	f.clock.Advance(10 * time.Minute)
	inc, _ := f.svc.Get(t.Context(), 1)
	imp := f.svc.SLOImpact(t.Context(), inc)
	if len(imp) != 1 || imp[0].Name != "checkout-availability" || imp[0].BudgetConsumed != 0.01 ||
		!imp[0].CountedFrom.Equal(inc.CreatedAt.Truncate(time.Minute)) || !imp[0].CountedTo.Equal(inc.CreatedAt.Add(10*time.Minute)) {
		t.Fatalf("impact %+v", imp)
	}
	if _, err := f.svc.Acknowledge(t.Context(), 1, "alice"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(20 * time.Minute)
	if _, err := f.svc.Resolve(t.Context(), 1, "alice"); err != nil {
		t.Fatal(err)
	}
	st, err := f.svc.Stats(t.Context(), t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st.Count != 1 || *st.MTTA != 600 || *st.MTTR != 1800 || st.BySeverity["critical"] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestPagerWordsNameTheMinutesCounted: what every pager says an incident
// spent names the whole minutes counted, as the incident page and the API
// do. Opened at 10:00:32 and read 12 minutes later, the counts cover
// 10:00 to 10:12:32 (the running minute up to the time of reading); the
// fake budget source spends 0.1% a minute: 1.2%.
func TestPagerWordsNameTheMinutesCounted(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.svc.SetBudgetSource(budgets{})
	f.clock.Advance(32 * time.Second)
	f.fire(t, incidentstest.Group("checkout", model.SeverityCritical, true))
	f.clock.Advance(12 * time.Minute)
	if _, err := f.svc.Acknowledge(t.Context(), 1, "alice"); err != nil {
		t.Fatal(err)
	}
	f.step(t, 0)
	got := f.pager.Got()
	last := got[len(got)-1]
	if last.Kind != incidents.KindUpdate || len(last.SLOs) != 1 {
		t.Fatalf("last notification %s with %d SLOs", last.Kind, len(last.SLOs))
	}
	want := "this incident spent 1.2% of the budget (counted over the whole minutes 2026-03-25 10:00 to 10:12:32 UTC)"
	if w := last.SLOs[0].Words(); w != want {
		t.Errorf("words\n got %q\nwant %q", w, want)
	}
	if body := incidents.Body(last); !strings.Contains(body, "error budget of checkout-availability: "+want+"\n") {
		t.Errorf("body lacks the minutes counted:\n%s", body)
	}
}

func TestOnCallAndOverrides(t *testing.T) {
	f := newFixture(t, nil, nil)
	ctx := t.Context()
	sc, err := f.svc.OnCall(ctx)
	if err != nil || len(sc) != 1 || sc[0].OnCall.User != "alice" || sc[0].Next.User != "bob" {
		t.Fatalf("oncall %+v %v", sc, err)
	}
	if !sc[0].OnCall.Until.Equal(time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("until %s", sc[0].OnCall.Until)
	}
	_, err = f.svc.AddOverride(ctx, incidentsOverride("primary", "nobody", t0, t0.Add(time.Hour)), "ops")
	if !errors.Is(err, incidents.ErrInvalid) {
		t.Fatalf("unknown person: %v", err)
	}
	if _, err := f.svc.AddOverride(ctx, incidentsOverride("primary", "carol", t0.Add(-time.Minute), t0.Add(time.Hour)), "ops"); err != nil {
		t.Fatal(err)
	}
	sc, _ = f.svc.OnCall(ctx)
	if sc[0].OnCall.User != "carol" || !sc[0].OnCall.Until.Equal(t0.Add(time.Hour)) || sc[0].Next.User != "alice" {
		t.Fatalf("with override %+v %+v", sc[0].OnCall, sc[0].Next)
	}
	// Pages during the override go to carol.
	f.fire(t, incidentstest.Group("checkout", model.SeverityCritical, true))
	wantPages(t, f.pager, "carol")
}

// TestRemoveOverride: removing a stored override gives the shift back to
// the rotation; removing it again is not found, and the file's own
// overrides are refused with where to change them.
func TestRemoveOverride(t *testing.T) {
	oc := incidentstest.Oncall()
	oc.Overrides = []config.Override{{Schedule: "primary", User: "bob",
		Start: t0.Add(48 * time.Hour).Format(time.RFC3339), End: t0.Add(50 * time.Hour).Format(time.RFC3339)}}
	compiled, ps := oncall.Compile(incidentstest.People, oc)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	clock := incidentstest.NewClock(t0)
	svc, err := incidents.New(incidents.Options{Config: config.DefaultIncidents(), OnCall: compiled,
		Store: incidents.NewMemoryStore(), Now: clock.Now, ExternalURL: "http://sentinel.test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	o, err := svc.AddOverride(ctx, incidentsOverride("primary", "carol", t0.Add(-time.Minute), t0.Add(time.Hour)), "ops")
	if err != nil {
		t.Fatal(err)
	}
	if sc, _ := svc.OnCall(ctx); sc[0].OnCall.User != "carol" {
		t.Fatalf("with the override: %+v", sc[0].OnCall)
	}
	got, err := svc.RemoveOverride(ctx, o.ID, "ops")
	if err != nil || got.User != "carol" || !got.End.Equal(t0.Add(time.Hour)) {
		t.Fatalf("remove: %+v %v", got, err)
	}
	if sc, _ := svc.OnCall(ctx); sc[0].OnCall.User != "alice" {
		t.Fatalf("after removing the override: %+v, want alice back", sc[0].OnCall)
	}
	ovs, err := svc.UpcomingOverrides(ctx)
	if err != nil || len(ovs) != 1 || ovs[0].ID != "config-0" {
		t.Fatalf("overrides left: %+v %v, want only the file's", ovs, err)
	}
	if _, err := svc.RemoveOverride(ctx, o.ID, "ops"); !errors.Is(err, incidents.ErrNotFound) {
		t.Fatalf("removing it twice: %v, want not found", err)
	}
	_, err = svc.RemoveOverride(ctx, "config-0", "ops")
	if !errors.Is(err, incidents.ErrInvalid) || !strings.Contains(err.Error(), "oncall.overrides") {
		t.Fatalf("removing the file's override: %v, want invalid naming oncall.overrides", err)
	}
	if ovs, _ := svc.UpcomingOverrides(ctx); len(ovs) != 1 {
		t.Fatalf("the file's override went away: %+v", ovs)
	}
}

// TestRunLoop drives the real loops in a synctest bubble: the page goes out
// at once, step 2 after 15 fake minutes, and an acknowledgement stops the
// repeat.
func TestRunLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pager := incidentstest.NewPager("test")
		svc, err := incidents.New(incidents.Options{Config: config.DefaultIncidents(), OnCall: incidentstest.MustOncall(), Store: incidents.NewMemoryStore(), Pagers: []incidents.Pager{pager}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- svc.Run(ctx) }()
		if err := svc.HandleAlertGroup(ctx, incidentstest.Group("checkout", model.SeverityCritical, true)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if n := len(pager.Pages()); n != 1 {
			t.Fatalf("pages after firing: %v", pager.Pages())
		}
		time.Sleep(15*time.Minute + time.Second)
		synctest.Wait()
		if n := len(pager.Pages()); n != 2 {
			t.Fatalf("pages after 15m: %v", pager.Pages())
		}
		if _, err := svc.Acknowledge(ctx, 1, "carol"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Minute)
		synctest.Wait()
		if n := len(pager.Pages()); n != 2 {
			t.Fatalf("pages after ack: %v", pager.Pages())
		}
		cancel()
		<-done
	})
}

func incidentsOverride(schedule, user string, start, end time.Time) oncall.Override {
	return oncall.Override{Schedule: schedule, User: user, Start: start, End: end}
}

// budgetsWithStatus also tells the budget now.
type budgetsWithStatus struct{ budgets }

func (budgetsWithStatus) BudgetStatus(context.Context, string) (incidents.BudgetStatus, error) {
	left := 7*time.Hour + 48*time.Minute
	return incidents.BudgetStatus{Objective: 99.5, Window: 30 * 24 * time.Hour, Remaining: 0.87, TimeToExhaustion: &left}, nil
}

// TestNotificationsCarryLinksAndTheBudget: every pager gets the same
// links (incident, failed run, SLO, runbook, Grafana) and the error budget
// as it is when the notification is delivered.
func TestNotificationsCarryLinksAndTheBudget(t *testing.T) {
	clock := incidentstest.NewClock(t0)
	pager := incidentstest.NewPager("test")
	var console bytes.Buffer
	svc, err := incidents.New(incidents.Options{Config: config.DefaultIncidents(), OnCall: incidentstest.MustOncall(),
		Store: incidents.NewMemoryStore(), Pagers: []incidents.Pager{pager, incidents.NewConsolePager("console", &console)},
		Now: clock.Now, ExternalURL: "https://sentinel.example.com/", GrafanaURL: "https://grafana.example.com/", Budgets: budgetsWithStatus{}})
	if err != nil {
		t.Fatal(err)
	}
	g := incidentstest.Group("checkout", model.SeverityCritical, true)
	g.Alerts[0].Annotations["run_url"] = "https://sentinel.example.com/probes/checkout?run=01R#run-01R"
	if err := svc.HandleAlertGroup(t.Context(), g); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Minute)
	if _, err := svc.DeliverDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := pager.Got()
	if len(got) != 1 {
		t.Fatalf("%d notifications", len(got))
	}
	n := got[0]
	want := []incidents.Link{
		{Title: "Incident #1", URL: "https://sentinel.example.com/incidents/1"},
		{Title: "Failed run", URL: "https://sentinel.example.com/probes/checkout?run=01R#run-01R"},
		{Title: "SLO checkout-availability", URL: "https://sentinel.example.com/slos/checkout-availability"},
		{Title: "Runbook checkout-down", URL: "https://sentinel.example.com/runbooks/checkout-down"},
		// From an hour before the start (10:00 UTC is 1774432800000 ms).
		{Title: "Grafana", URL: "https://grafana.example.com/d/sentinel-slos?from=1774429200000&to=now&var-slo=checkout-availability"},
	}
	if !reflect.DeepEqual(n.Links, want) {
		t.Errorf("links\n%v\nwant\n%v", n.Links, want)
	}
	// Consumed over the 10 minutes since the start: 10/1000 (the fake's rule).
	if len(n.SLOs) != 1 || n.SLOs[0].BudgetConsumed != 0.01 || *n.SLOs[0].BudgetRemaining != 0.87 || *n.SLOs[0].TimeToExhaustion != 28080 {
		t.Fatalf("slos %+v", n.SLOs)
	}
	for _, line := range []string{
		"  - CheckoutProbeFailing firing: checkout is down",
		"error budget of checkout-availability: this incident spent 1% of the budget (counted over the whole minutes 2026-03-25 10:00 to 10:10 UTC); 87% left, which lasts 7.8 h at the current rate",
		"Failed run: https://sentinel.example.com/probes/checkout?run=01R#run-01R",
		"SLO checkout-availability: https://sentinel.example.com/slos/checkout-availability",
		"Grafana: https://grafana.example.com/d/sentinel-slos?from=1774429200000&to=now&var-slo=checkout-availability",
		"runbook: checkout-down (https://sentinel.example.com/runbooks/checkout-down)",
	} {
		if !strings.Contains(console.String(), line) {
			t.Errorf("console lacks %q:\n%s", line, console.String())
		}
	}
}

// TestPersonsSeverityOutranksAlerts: once a person set the severity, an
// alert joining with a higher one leaves it alone and the timeline says
// why; without such a choice the alert raises it.
func TestPersonsSeverityOutranksAlerts(t *testing.T) {
	f := newFixture(t, nil, nil)
	g := incidentstest.Group("checkout", model.SeverityCritical, true)
	f.fire(t, g)
	sev := model.SeverityWarning
	if _, err := f.svc.EditIncident(t.Context(), 1, incidents.Edit{Severity: &sev}, "alice"); err != nil {
		t.Fatal(err)
	}
	g.Alerts = append(g.Alerts, model.Alert{Name: "SLOErrorBudgetBurn", Fingerprint: "fp-burn", State: model.AlertFiring, Severity: model.SeverityCritical,
		Labels: model.Labels{"slo": "checkout-availability", "tier": "page"}})
	f.fire(t, g)
	inc, err := f.svc.Get(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Severity != model.SeverityWarning {
		t.Errorf("severity = %s, want warning as alice set it", inc.Severity)
	}
	last := inc.Timeline[len(inc.Timeline)-1]
	if want := "alert SLOErrorBudgetBurn (slo=checkout-availability, tier=page) is critical; severity stays warning as set by alice"; last.Text != want {
		t.Errorf("last entry %q, want %q", last.Text, want)
	}
}

// An alert without annotations is titled by its name and the group's
// labels; one without a name either (Alertmanager's API takes it) by its
// own labels, never "[alertname=]".
func TestTitleOfAnAlertWithoutSummaryOrName(t *testing.T) {
	for _, c := range []struct {
		name          string
		group, labels model.Labels
		alert         string
		want          string
	}{
		{"named", model.Labels{"service": "checkout"}, model.Labels{"service": "checkout"}, "DiskFull", "DiskFull [service=checkout]"},
		{"no name", model.Labels{"alertname": ""}, model.Labels{"instance": "db1", "job": "node"}, "", "Alert [instance=db1,job=node]"},
		{"no name, no labels", model.Labels{"alertname": ""}, model.Labels{}, "", "Alert"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, nil, nil)
			f.fire(t, model.AlertGroup{Key: c.group.String(), Labels: c.group, Source: "alertmanager", Firing: true,
				Alerts: []model.Alert{{Name: c.alert, Fingerprint: "fp", State: model.AlertFiring, Severity: model.SeverityWarning, Labels: c.labels}}})
			inc, err := f.svc.Get(t.Context(), 1)
			if err != nil {
				t.Fatal(err)
			}
			if inc.Title != c.want {
				t.Errorf("title %q, want %q", inc.Title, c.want)
			}
		})
	}
}

// The title is the first of the most severe alerts': a page-tier alert
// joining a ticket-tier one says what the incident now is; a less severe
// one joining later does not take the title over.
func TestTitleFollowsTheMostSevereAlert(t *testing.T) {
	alert := func(name, fp string, sev model.Severity, summary string) model.Alert {
		return model.Alert{Name: name, Fingerprint: fp, State: model.AlertFiring, Severity: sev,
			Labels: model.Labels{"service": "storefront"}, Annotations: model.Labels{"summary": summary}}
	}
	lcp := alert("SLOErrorBudgetBurn", "fp-lcp", model.SeverityWarning, "storefront-lcp: 0.01% of the budget spent")
	js := alert("SLOErrorBudgetBurn", "fp-js", model.SeverityCritical, "storefront-js-errors: 2.3% of the budget spent")
	slow := alert("StorefrontSlow", "fp-slow", model.SeverityWarning, "storefront is slow")
	group := func(as ...model.Alert) model.AlertGroup {
		return model.AlertGroup{Key: "service=storefront", Labels: model.Labels{"service": "storefront"}, Source: "sentinel", Firing: true, Alerts: as}
	}
	f := newFixture(t, nil, nil)
	f.fire(t, group(lcp))
	title := func() string {
		inc, err := f.svc.Get(t.Context(), 1)
		if err != nil {
			t.Fatal(err)
		}
		return inc.Title
	}
	if got := title(); got != "storefront-lcp: 0.01% of the budget spent" {
		t.Fatalf("title %q", got)
	}
	f.fire(t, group(lcp, js))
	if got := title(); got != "storefront-js-errors: 2.3% of the budget spent" {
		t.Errorf("after the page-tier alert joined: title %q", got)
	}
	f.fire(t, group(lcp, js, slow))
	if got := title(); got != "storefront-js-errors: 2.3% of the budget spent" {
		t.Errorf("after a warning joined: title %q", got)
	}
}
