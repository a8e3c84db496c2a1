package incidents_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/incidentstest"
	"github.com/sentinel-oss/sentinel/model"
)

type recordingHook struct {
	mu     sync.Mutex
	events []string
}

func (h *recordingHook) IncidentOpened(_ context.Context, inc *incidents.Incident) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, "opened "+inc.Title)
}

func (h *recordingHook) IncidentResolved(_ context.Context, inc *incidents.Incident) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, "resolved "+string(inc.Status))
}

func TestHooksAndNotes(t *testing.T) {
	now := time.Date(2026, 3, 25, 10, 0, 0, 0, time.UTC)
	cfg := config.DefaultIncidents()
	cfg.AutoResolve = true
	st := incidents.NewMemoryStore()
	svc, err := incidents.New(incidents.Options{Config: cfg, OnCall: incidentstest.MustOncall(), Store: st,
		Pagers: []incidents.Pager{incidentstest.NewPager("test")}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	h := &recordingHook{}
	svc.AddOpenHook(h)
	svc.AddResolveHook(h)
	ctx := t.Context()
	inc, err := svc.Declare(ctx, incidents.DeclareRequest{Title: "declared"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Resolve(ctx, inc.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Resolve(ctx, inc.ID, "bob"); err == nil {
		t.Fatal("resolving twice")
	}
	alert := model.Alert{Name: "A", Labels: model.Labels{"service": "x"}, State: model.AlertFiring, Severity: model.SeverityCritical, StartsAt: now}
	if err := svc.HandleAlertGroup(ctx, model.AlertGroup{Key: "service=x", Labels: model.Labels{"service": "x"}, Alerts: []model.Alert{alert}, Firing: true}); err != nil {
		t.Fatal(err)
	}
	alert.State = model.AlertResolved
	if err := svc.HandleAlertGroup(ctx, model.AlertGroup{Key: "service=x", Labels: model.Labels{"service": "x"}, Alerts: []model.Alert{alert}}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(h.events, "; ")
	if got != "opened declared; resolved resolved; opened A [service=x]; resolved resolved" {
		t.Errorf("hook calls: %s", got)
	}
	out, err := svc.AddNote(ctx, inc.ID, incidents.KindDiagnostic, "", strings.Repeat("x", 5000))
	if err != nil {
		t.Fatal(err)
	}
	last := out.Timeline[len(out.Timeline)-1]
	if last.Kind != incidents.KindDiagnostic || last.Actor != "someone" || len([]rune(last.Text)) != 4000 {
		t.Errorf("note: %s %s %d", last.Kind, last.Actor, len(last.Text))
	}
	if _, err := svc.AddNote(ctx, 99, "x", "a", "t"); !incidents.IsNotFound(err) {
		t.Errorf("note on a missing incident: %v", err)
	}
	if err := svc.Remind(ctx, "postmortem/1/draft", model.Announcement{Kind: "postmortem_draft", Text: "still a draft", At: now}, []string{"alice", "nobody"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Remind(ctx, "postmortem/1/draft", model.Announcement{Kind: "postmortem_draft", Text: "still a draft", At: now}, nil); err != nil {
		t.Fatal(err)
	}
	entries, _ := st.Entries(ctx)
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Key, "reminder/") {
			n++
			if e.Notification.Kind != incidents.KindAnnouncement || e.Notification.Announcement.Text != "still a draft" {
				t.Errorf("reminder entry: %+v", e.Notification)
			}
		}
	}
	if n != 1 {
		t.Errorf("the same reminder twice made %d outbox entries, want 1", n)
	}
}
