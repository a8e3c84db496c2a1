package postmortem_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/postmortem"
)

// reopen brings inc back to triggered at t, as the incident service does
// when its dedup key fires again within the reopen window.
// resolvedService is a postmortem service on the clock *now that has
// drafted inc's postmortem, as at inc's resolution.
func resolvedService(t *testing.T, inc *incidents.Incident, now *time.Time) (*postmortem.Service, *fakeIncidents) {
	t.Helper()
	fi := &fakeIncidents{incs: map[int64]*incidents.Incident{42: inc}}
	svc, err := postmortem.NewService(postmortem.Options{Config: config.DefaultPostmortems(), Store: postmortem.NewMemoryStore(),
		Incidents: fi, Sources: sources, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	svc.IncidentResolved(t.Context(), inc)
	return svc, fi
}

func reopen(fi *fakeIncidents, inc *incidents.Incident, t time.Time) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	inc.Status, inc.ResolvedAt = incidents.StatusTriggered, nil
	inc.Timeline = append(inc.Timeline, incidents.TimelineEntry{At: t, Kind: incidents.KindReopened, Actor: "sentinel", Text: "reopened: CheckoutProbeFailing fired again"})
}

// resolve resolves inc at t.
func resolve(fi *fakeIncidents, inc *incidents.Incident, t time.Time) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	inc.Status, inc.ResolvedAt = incidents.StatusResolved, &t
	inc.Timeline = append(inc.Timeline, incidents.TimelineEntry{At: t, Kind: incidents.KindResolved, Actor: "bob", Text: "resolved by bob"})
}

// TestReopenedIncidentsDraft follows a draft through its incident
// reopening and resolving again: while open it says so, its window runs
// to the time of reading, it cannot go to review and no reminder calls it
// late; once resolved again its window and the draft reminder count from
// the new resolution.
func TestReopenedIncidentsDraft(t *testing.T) {
	inc := resolvedIncident() // opened at t0, resolved at t0+47m
	r1 := *inc.ResolvedAt
	now := r1
	svc, fi := resolvedService(t, inc, &now)
	ctx := t.Context()
	remind := func(want ...string) {
		t.Helper()
		fi.reminders = nil
		if _, err := svc.Remind(ctx); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(fi.reminders, "\n"); got != strings.Join(want, "\n") {
			t.Errorf("at %s reminders:\n%s\nwant:\n%s", now, got, strings.Join(want, "\n"))
		}
	}
	// Three days after the first resolution the draft is reminded once.
	now = r1.Add(72 * time.Hour)
	remind("postmortem/42/draft@2026-03-05T09:47:00Z The postmortem of incident #42 (Checkout | payments down) is still a draft 3 days after the incident resolved.")

	reopenedAt := r1.Add(73 * time.Hour)
	reopen(fi, inc, reopenedAt)
	now = r1.Add(100 * time.Hour)
	pm, err := svc.Get(ctx, 42)
	if err != nil {
		t.Fatal(err)
	}
	if pm.IncidentStatus != incidents.StatusTriggered || pm.ReopenedAt == nil || !pm.ReopenedAt.Equal(reopenedAt) || !pm.Reopened() {
		t.Errorf("open again: incident_status %q, reopened_at %v", pm.IncidentStatus, pm.ReopenedAt)
	}
	if !pm.Impact.Ongoing || !pm.Impact.To.Equal(now) || pm.Impact.Duration != now.Sub(t0).Seconds() || pm.ResolvedAt != nil || pm.Times.Resolve != nil {
		t.Errorf("open again: ongoing %v, window to %s (want %s), duration %v, resolved_at %v, time to resolve %v",
			pm.Impact.Ongoing, pm.Impact.To, now, pm.Impact.Duration, pm.ResolvedAt, pm.Times.Resolve)
	}
	md := string(postmortem.Markdown(pm))
	for _, want := range []string{"| Window | 2026-03-02 09:00:00 (UTC) to now, still running: the incident is open |",
		"| Reopened | 2026-03-05 10:47:00 (UTC), open again (triggered) |"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	// A day after the last reminder it would repeat; the incident is open.
	remind()

	root := "The pool was too small."
	if _, err := svc.Put(ctx, 42, postmortem.Edit{RootCause: &root}, "alice"); err != nil {
		t.Errorf("writing the draft of an incident open again: %v", err)
	}
	_, err = svc.Put(ctx, 42, postmortem.Edit{Status: ptrStatus(postmortem.StatusInReview)}, "alice")
	if !errors.Is(err, postmortem.ErrConflict) || !strings.HasSuffix(err.Error(), "incident #42 was reopened and is triggered again; its postmortem can go to in review once it resolves") {
		t.Errorf("review while open again: %v", err)
	}

	r2 := r1.Add(120 * time.Hour)
	resolve(fi, inc, r2)
	svc.IncidentResolved(ctx, inc)
	now = r2.Add(24 * time.Hour)
	remind() // the draft reminder counts from the new resolution
	now = r2.Add(72 * time.Hour)
	remind("postmortem/42/draft@2026-03-10T09:47:00Z The postmortem of incident #42 (Checkout | payments down) is still a draft 3 days after the incident resolved.")

	pm, err = svc.Get(ctx, 42)
	if err != nil {
		t.Fatal(err)
	}
	if pm.Impact.Ongoing || !pm.Impact.To.Equal(r2) || pm.Times.Resolve == nil || *pm.Times.Resolve != r2.Sub(t0).Seconds() ||
		pm.IncidentStatus != incidents.StatusResolved || pm.Reopened() || pm.RootCause != root {
		t.Errorf("resolved again: ongoing %v, window to %s (want %s), time to resolve %v, status %q, root cause %q",
			pm.Impact.Ongoing, pm.Impact.To, r2, pm.Times.Resolve, pm.IncidentStatus, pm.RootCause)
	}
	if md := string(postmortem.Markdown(pm)); !strings.Contains(md, "| Reopened | 2026-03-05 10:47:00 (UTC), resolved again |") {
		t.Errorf("Markdown after resolving again:\n%s", md)
	}
	if _, err := svc.Put(ctx, 42, postmortem.Edit{Status: ptrStatus(postmortem.StatusInReview)}, "alice"); err != nil {
		t.Errorf("review once resolved again: %v", err)
	}
}

// TestReopenedAfterReview covers postmortems further along: one in review
// can only go back to draft while its incident is open again; a published
// one keeps the figures it was published with and says the incident
// reopened after it.
func TestReopenedAfterReview(t *testing.T) {
	inc := resolvedIncident()
	r1 := *inc.ResolvedAt
	now := r1.Add(time.Hour)
	svc, fi := resolvedService(t, inc, &now)
	ctx := t.Context()
	root := "The pool was too small."
	if _, err := svc.Put(ctx, 42, postmortem.Edit{RootCause: &root, Status: ptrStatus(postmortem.StatusInReview)}, "alice"); err != nil {
		t.Fatal(err)
	}
	reopen(fi, inc, r1.Add(2*time.Hour))
	now = r1.Add(3 * time.Hour)
	if _, err := svc.Put(ctx, 42, postmortem.Edit{Status: ptrStatus(postmortem.StatusPublished)}, "bob"); !errors.Is(err, postmortem.ErrConflict) ||
		!strings.Contains(err.Error(), "can go to published once it resolves") {
		t.Errorf("publishing while open again: %v", err)
	}
	if pm, err := svc.Put(ctx, 42, postmortem.Edit{Status: ptrStatus(postmortem.StatusDraft)}, "bob"); err != nil || pm.Status != postmortem.StatusDraft {
		t.Errorf("back to draft while open again: %v", err)
	}

	// Resolve, publish, then reopen again.
	r2 := r1.Add(4 * time.Hour)
	resolve(fi, inc, r2)
	svc.IncidentResolved(ctx, inc)
	now = r2.Add(time.Hour)
	for _, st := range []postmortem.Status{postmortem.StatusInReview, postmortem.StatusPublished} {
		if _, err := svc.Put(ctx, 42, postmortem.Edit{Status: ptrStatus(st)}, "bob"); err != nil {
			t.Fatal(err)
		}
	}
	reopen(fi, inc, r2.Add(2*time.Hour))
	now = r2.Add(3 * time.Hour)
	pm, err := svc.Get(ctx, 42)
	if err != nil {
		t.Fatal(err)
	}
	if pm.Status != postmortem.StatusPublished || !pm.Reopened() || pm.Impact.Ongoing || !pm.Impact.To.Equal(r2) || pm.ResolvedAt == nil || !pm.ResolvedAt.Equal(r2) {
		t.Errorf("published, then reopened: status %s, reopened %v, ongoing %v, window to %s (want %s), resolved_at %v",
			pm.Status, pm.Reopened(), pm.Impact.Ongoing, pm.Impact.To, r2, pm.ResolvedAt)
	}
	if want := "| Reopened | 2026-03-02 15:47:00 (UTC), open again (triggered); after publication, so the figures here end at the resolution before it |"; !strings.Contains(string(postmortem.Markdown(pm)), want) {
		t.Errorf("Markdown lacks %q", want)
	}
	items := []postmortem.ActionItem{{Title: "Size the pool", Owner: "bob"}}
	if _, err := svc.Put(ctx, 42, postmortem.Edit{ActionItems: &items}, "bob"); err != nil {
		t.Errorf("action items of a published postmortem while open again: %v", err)
	}
	// Resolving once more leaves the published figures alone.
	resolve(fi, inc, r2.Add(5*time.Hour))
	svc.IncidentResolved(ctx, inc)
	if pm, err := svc.Get(ctx, 42); err != nil || !pm.Impact.To.Equal(r2) || !pm.ResolvedAt.Equal(r2) || pm.IncidentStatus != incidents.StatusResolved {
		t.Errorf("published figures after resolving again: %+v %v", pm, err)
	}
}
