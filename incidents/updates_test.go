package incidents_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
)

func TestAddUpdate(t *testing.T) {
	f := newFixture(t, nil, nil)
	ctx := t.Context()
	inc, err := f.svc.Declare(ctx, incidents.DeclareRequest{Title: "Checkout failing", Severity: model.SeverityCritical}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if inc.HasPublicUpdate() {
		t.Fatal("a new incident has a public update")
	}
	f.step(t, 0)
	pagesBefore := len(f.pager.Got())
	f.clock.Advance(3 * time.Minute)
	if _, _, err := f.svc.AddUpdate(ctx, inc.ID, incidents.NewUpdate{Text: "  internal: rolling back v42  "}, "alice"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	got, u, err := f.svc.AddUpdate(ctx, inc.ID, incidents.NewUpdate{Text: "Some payments fail; a fix is rolling out.", Public: true}, "bob")
	if err != nil {
		t.Fatal(err)
	}
	want := incidents.Update{At: t0.Add(4 * time.Minute), Text: "Some payments fail; a fix is rolling out.", Public: true, Author: "bob"}
	if u != want {
		t.Fatalf("update = %+v, want %+v", u, want)
	}
	stored, err := f.svc.Get(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Updates) != 2 || stored.Updates[0].Text != "internal: rolling back v42" || stored.Updates[0].Public || stored.Updates[1] != want {
		t.Fatalf("stored updates = %+v", stored.Updates)
	}
	if !stored.HasPublicUpdate() || got.Revision != stored.Revision {
		t.Fatalf("public = %v, revision %d vs %d", stored.HasPublicUpdate(), got.Revision, stored.Revision)
	}
	f.step(t, 0)
	// Each update is news in the timeline and for the pagers; nobody is paged.
	sent := f.pager.Got()[pagesBefore:]
	if len(sent) != 2 {
		t.Fatalf("two updates sent %d notifications", len(sent))
	}
	for i, n := range sent {
		if n.Kind != incidents.KindUpdate || n.Event == nil || n.Event.Kind != incidents.KindStakeholderUpdate {
			t.Fatalf("notification %d = %s %+v, want an update announcing a stakeholder update", i, n.Kind, n.Event)
		}
	}
	if got := sent[1].Event.Text; got != "public update by bob: Some payments fail; a fix is rolling out." {
		t.Fatalf("timeline text = %q", got)
	}

	// Resolved incidents take updates; bad text and unknown incidents do not.
	if _, err := f.svc.Resolve(ctx, inc.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.AddUpdate(ctx, inc.ID, incidents.NewUpdate{Text: "All clear.", Public: true}, "alice"); err != nil {
		t.Fatalf("update on a resolved incident: %v", err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", incidents.MaxUpdateText+1), "bell\a", "bad \xff utf8"} {
		if _, _, err := f.svc.AddUpdate(ctx, inc.ID, incidents.NewUpdate{Text: bad}, "alice"); !errors.Is(err, incidents.ErrInvalid) {
			t.Errorf("AddUpdate(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if _, _, err := f.svc.AddUpdate(ctx, 999, incidents.NewUpdate{Text: "hello"}, "alice"); !incidents.IsNotFound(err) {
		t.Errorf("unknown incident = %v, want not found", err)
	}
}
