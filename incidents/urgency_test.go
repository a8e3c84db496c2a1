package incidents_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/incidentstest"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

// newUrgencyFixture is newFixture with the test policy's urgency key set
// to rule (alice on call, carol 15 minutes later, repeated twice 10
// minutes apart).
func newUrgencyFixture(t *testing.T, rule string, edit func(*config.Incidents)) *fixture {
	t.Helper()
	f := newFixture(t, nil, edit)
	oc := incidentstest.Oncall()
	oc.EscalationPolicies[0].Urgency = rule
	compiled, ps := oncall.Compile(incidentstest.People, oc)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	cfg := config.DefaultIncidents()
	if edit != nil {
		edit(&cfg)
	}
	svc, err := incidents.New(incidents.Options{
		Config: cfg, OnCall: compiled, Store: f.store, Pagers: []incidents.Pager{f.pager},
		Fallback: f.fb, Now: f.clock.Now, ExternalURL: "http://sentinel.test",
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

func getIncident(t *testing.T, f *fixture, id int64) *incidents.Incident {
	t.Helper()
	inc, err := f.svc.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// timelineOf lists the incident's entries as "kind: text".
func timelineOf(inc *incidents.Incident) []string {
	var out []string
	for _, e := range inc.Timeline {
		out = append(out, e.Kind+": "+e.Text)
	}
	return out
}

// A warning incident under by_severity notifies the first step once and
// never escalates or repeats, however long it stays open; its page and
// its console text say it is not urgent.
func TestLowUrgencyNotifiesOnceWithoutEscalating(t *testing.T) {
	f := newUrgencyFixture(t, "by_severity", nil)
	f.fire(t, incidentstest.Group("checkout", model.SeverityWarning, true))
	wantPages(t, f.pager, "alice")
	for range 12 { // 12 hours of a night, an hour at a time
		f.step(t, time.Hour)
	}
	wantPages(t, f.pager, "alice")

	inc := getIncident(t, f, 1)
	if inc.Urgency != oncall.UrgencyLow || inc.Status != incidents.StatusTriggered {
		t.Fatalf("urgency %q status %s", inc.Urgency, inc.Status)
	}
	if inc.Escalation.NextAt != nil {
		t.Errorf("a low-urgency incident keeps a timer: %v", inc.Escalation.NextAt)
	}
	want := "paged: paged alice (schedule:primary) (step 1 of policy default; low urgency: notified once, no escalation or repeats)"
	if tl := timelineOf(inc); len(tl) != 2 || tl[1] != want {
		t.Errorf("timeline %q, want its second entry %q", tl, want)
	}
	var page incidents.Notification
	for _, n := range f.pager.Got() {
		if n.Kind == incidents.KindPage {
			page = n
		}
	}
	if !page.LowUrgency() {
		t.Fatalf("the page's incident is not low urgency: %+v", page.Incident)
	}
	if got, want := incidents.Subject(page), "[WARNING] #1 checkout is down (low urgency)"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	body := incidents.Body(page)
	for _, want := range []string{"severity: warning  urgency: low", "low urgency: you are notified once; it does not escalate or repeat by itself",
		"notifying: schedule:primary -> alice (step 1)"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

// A critical incident under by_severity runs the policy as before.
func TestBySeverityCriticalEscalates(t *testing.T) {
	f := newUrgencyFixture(t, "by_severity", nil)
	f.fire(t, incidentstest.Group("checkout", model.SeverityCritical, true))
	f.step(t, 15*time.Minute)
	f.step(t, 10*time.Minute)
	wantPages(t, f.pager, "alice", "carol", "alice")
	if inc := getIncident(t, f, 1); inc.Urgency != oncall.UrgencyHigh {
		t.Errorf("urgency %q", inc.Urgency)
	}
}

// urgency: low holds even for a critical incident; a person may still
// escalate it by hand, which notifies the next step once.
func TestLowPolicyAndManualEscalate(t *testing.T) {
	f := newUrgencyFixture(t, "low", nil)
	f.fire(t, incidentstest.Group("checkout", model.SeverityCritical, true))
	f.step(t, time.Hour)
	wantPages(t, f.pager, "alice")
	if _, err := f.svc.Escalate(t.Context(), 1, "alice"); err != nil {
		t.Fatal(err)
	}
	f.step(t, 0)
	f.step(t, 2*time.Hour)
	wantPages(t, f.pager, "alice", "carol")
	if inc := getIncident(t, f, 1); inc.Escalation.NextAt != nil || inc.Urgency != oncall.UrgencyLow {
		t.Errorf("after a manual escalation: urgency %q next %v", inc.Urgency, inc.Escalation.NextAt)
	}
}

// A more severe alert joining an open low-urgency incident makes it high
// urgency at once: the timeline says so, an update announcing it goes out
// before the page, and the escalation starts from its first step.
func TestRiseToCriticalStartsEscalation(t *testing.T) {
	f := newUrgencyFixture(t, "by_severity", nil)
	g := incidentstest.Group("checkout", model.SeverityWarning, true)
	f.fire(t, g)
	f.step(t, 40*time.Minute)
	wantPages(t, f.pager, "alice")

	g.Alerts = append(g.Alerts, model.Alert{Name: "SLOErrorBudgetBurn", Fingerprint: "fp-burn", State: model.AlertFiring,
		Severity: model.SeverityCritical, Labels: model.Labels{"slo": "checkout-availability", "tier": "page"}})
	before := len(f.pager.Got())
	f.fire(t, g)
	wantPages(t, f.pager, "alice", "alice")
	got := f.pager.Got()[before:]
	if len(got) != 2 || got[0].Kind != incidents.KindUpdate || got[1].Kind != incidents.KindPage {
		t.Fatalf("after the rise: %d notifications, want an update then a page: %+v", len(got), got)
	}
	var events []string
	for _, e := range got[0].Events {
		events = append(events, e.Text)
	}
	wantEvents := []string{
		"alert SLOErrorBudgetBurn (slo=checkout-availability, tier=page) fired",
		"severity raised from warning to critical by alert SLOErrorBudgetBurn (slo=checkout-availability, tier=page)",
		"urgency raised to high: the incident is critical now; escalation starts from step 1 of policy default",
	}
	if strings.Join(events, "\n") != strings.Join(wantEvents, "\n") {
		t.Errorf("update events:\n%s\nwant:\n%s", strings.Join(events, "\n"), strings.Join(wantEvents, "\n"))
	}
	if got[1].LowUrgency() || got[1].Pass != 0 || got[1].Step != 0 {
		t.Errorf("the page after the rise: low %v pass %d step %d", got[1].LowUrgency(), got[1].Pass, got[1].Step)
	}
	inc := getIncident(t, f, 1)
	if inc.Urgency != oncall.UrgencyHigh || inc.Escalation.Epoch != 2 {
		t.Errorf("urgency %q epoch %d", inc.Urgency, inc.Escalation.Epoch)
	}
	if last := inc.Timeline[len(inc.Timeline)-1].Text; last != "paged alice (schedule:primary) (step 1 of policy default)" {
		t.Errorf("last entry %q", last)
	}
	f.step(t, 14*time.Minute)
	wantPages(t, f.pager, "alice", "alice")
	f.step(t, time.Minute) // 15 minutes after the rise: step 2
	wantPages(t, f.pager, "alice", "alice", "carol")
	f.step(t, 10*time.Minute) // repeat 1
	wantPages(t, f.pager, "alice", "alice", "carol", "alice")
}

// A person setting the severity moves the urgency both ways: critical
// starts the escalation, warning again stops further steps.
func TestPersonSetsSeverityChangesUrgency(t *testing.T) {
	f := newUrgencyFixture(t, "by_severity", nil)
	f.fire(t, incidentstest.Group("checkout", model.SeverityWarning, true))
	crit, warn := model.SeverityCritical, model.SeverityWarning
	f.clock.Advance(5 * time.Minute)
	if _, err := f.svc.EditIncident(t.Context(), 1, incidents.Edit{Severity: &crit}, "bob"); err != nil {
		t.Fatal(err)
	}
	f.step(t, 0)
	wantPages(t, f.pager, "alice", "alice")
	inc := getIncident(t, f, 1)
	tl := timelineOf(inc)
	wantTail := []string{
		"severity_changed: severity changed from warning to critical by bob",
		"urgency_changed: urgency raised to high: the incident is critical now; escalation starts from step 1 of policy default",
		"paged: paged alice (schedule:primary) (step 1 of policy default)",
	}
	if len(tl) < 3 || strings.Join(tl[len(tl)-3:], "\n") != strings.Join(wantTail, "\n") {
		t.Errorf("timeline:\n%s\nwant it to end with:\n%s", strings.Join(tl, "\n"), strings.Join(wantTail, "\n"))
	}

	f.clock.Advance(5 * time.Minute)
	if _, err := f.svc.EditIncident(t.Context(), 1, incidents.Edit{Severity: &warn}, "bob"); err != nil {
		t.Fatal(err)
	}
	f.step(t, 0)
	inc = getIncident(t, f, 1)
	if last := inc.Timeline[len(inc.Timeline)-1].Text; last != "urgency lowered to low: the incident is warning now; no further escalation steps or repeats" {
		t.Errorf("last entry %q", last)
	}
	f.step(t, 3*time.Hour)
	wantPages(t, f.pager, "alice", "alice")
	if inc.Urgency != oncall.UrgencyLow || inc.Escalation.NextAt != nil {
		t.Errorf("urgency %q next %v", inc.Urgency, inc.Escalation.NextAt)
	}
}

// An acknowledged low-urgency incident that becomes critical is high
// urgency without a page: someone has it. Its acknowledgement timeout
// then pages as high urgency.
func TestRiseWhileAcknowledgedPagesNobody(t *testing.T) {
	f := newUrgencyFixture(t, "by_severity", func(c *config.Incidents) { c.AckTimeout = model.Duration(30 * time.Minute) })
	f.fire(t, incidentstest.Group("checkout", model.SeverityWarning, true))
	if _, err := f.svc.Acknowledge(t.Context(), 1, "alice"); err != nil {
		t.Fatal(err)
	}
	crit := model.SeverityCritical
	if _, err := f.svc.EditIncident(t.Context(), 1, incidents.Edit{Severity: &crit}, "bob"); err != nil {
		t.Fatal(err)
	}
	f.step(t, 0)
	wantPages(t, f.pager, "alice")
	inc := getIncident(t, f, 1)
	if last := inc.Timeline[len(inc.Timeline)-1].Text; last != "urgency raised to high: the incident is critical now; it stays acknowledged by alice, so nobody is paged" {
		t.Errorf("last entry %q", last)
	}
	f.step(t, 30*time.Minute) // the acknowledgement lapses: high urgency now
	f.step(t, 15*time.Minute)
	wantPages(t, f.pager, "alice", "alice", "carol")
}

// Incidents stored before urgencies existed read as high urgency, and a
// resolved incident's urgency stays as it was.
func TestUrgencyOfOlderAndResolvedIncidents(t *testing.T) {
	var old incidents.Incident
	if old.UrgencyNow() != oncall.UrgencyHigh {
		t.Errorf("empty urgency reads %q", old.UrgencyNow())
	}
	f := newUrgencyFixture(t, "by_severity", nil)
	f.fire(t, incidentstest.Group("checkout", model.SeverityWarning, true))
	if _, err := f.svc.Resolve(t.Context(), 1, "alice"); err != nil {
		t.Fatal(err)
	}
	crit := model.SeverityCritical
	if _, err := f.svc.EditIncident(t.Context(), 1, incidents.Edit{Severity: &crit}, "bob"); err != nil {
		t.Fatal(err)
	}
	f.step(t, time.Hour)
	wantPages(t, f.pager, "alice")
	if inc := getIncident(t, f, 1); inc.Urgency != oncall.UrgencyLow {
		t.Errorf("resolved incident's urgency %q", inc.Urgency)
	}
}
