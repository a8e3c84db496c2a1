package incidents_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
)

func ptr[T any](v T) *T { return &v }

func TestEditIncident(t *testing.T) {
	f := newFixture(t, nil, nil)
	ctx := t.Context()
	inc, err := f.svc.Declare(ctx, incidents.DeclareRequest{Title: "Checkout slow", Severity: model.SeverityWarning}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	f.step(t, 0)
	before := len(f.pager.Got())
	f.clock.Advance(2 * time.Minute)
	got, err := f.svc.EditIncident(ctx, inc.ID, incidents.Edit{
		Title: ptr("  Checkout fails for card payments "), Severity: ptr(model.SeverityCritical), Commander: ptr("carol@shop.example.com"),
	}, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Checkout fails for card payments" || got.Severity != model.SeverityCritical || got.Commander != "carol" || !got.TitleEdited {
		t.Fatalf("edited = %q %s %q edited=%v", got.Title, got.Severity, got.Commander, got.TitleEdited)
	}
	tail := got.Timeline[len(got.Timeline)-3:]
	want := []incidents.TimelineEntry{
		{At: t0.Add(2 * time.Minute), Kind: incidents.KindTitle, Actor: "bob", Text: `title changed from "Checkout slow" to "Checkout fails for card payments" by bob`},
		{At: t0.Add(2 * time.Minute), Kind: incidents.KindSeverity, Actor: "bob", Text: "severity changed from warning to critical by bob"},
		{At: t0.Add(2 * time.Minute), Kind: incidents.KindCommander, Actor: "bob", Text: "carol leads the incident (named by bob)"},
	}
	for i := range want {
		if tail[i] != want[i] {
			t.Errorf("timeline[%d] = %+v, want %+v", i, tail[i], want[i])
		}
	}
	f.step(t, 0)
	sent := f.pager.Got()[before:]
	if len(sent) != 1 || sent[0].Kind != incidents.KindUpdate || len(sent[0].Events) != 3 || sent[0].Incident.Commander != "carol" {
		t.Fatalf("pagers got %d notifications: %+v", len(sent), sent)
	}

	// The same values again change nothing and tell no one.
	rev := got.Revision
	again, err := f.svc.EditIncident(ctx, inc.ID, incidents.Edit{Severity: ptr(model.SeverityCritical), Commander: ptr("carol")}, "bob")
	if err != nil || again.Revision != rev {
		t.Fatalf("no-op edit = rev %d (was %d), %v", again.Revision, rev, err)
	}

	// A person leading by themselves, then stepping down.
	if got, err = f.svc.EditIncident(ctx, inc.ID, incidents.Edit{Commander: ptr("alice")}, "alice"); err != nil || got.Timeline[len(got.Timeline)-1].Text != "alice leads the incident" {
		t.Fatalf("self lead: %v %+v", err, got.Timeline[len(got.Timeline)-1])
	}
	if got, err = f.svc.EditIncident(ctx, inc.ID, incidents.Edit{Commander: ptr("")}, "alice"); err != nil || got.Commander != "" {
		t.Fatalf("step down: %v %q", err, got.Commander)
	}

	for _, tc := range []struct {
		e    incidents.Edit
		want string
	}{
		{incidents.Edit{}, "nothing to change"},
		{incidents.Edit{Title: ptr("  ")}, "title is required"},
		{incidents.Edit{Title: ptr(strings.Repeat("t", 201))}, "title is longer than 200"},
		{incidents.Edit{Title: ptr("two\nlines")}, "title holds the control character"},
		{incidents.Edit{Severity: ptr(model.Severity("urgent"))}, "severity:"},
		{incidents.Edit{Commander: ptr("mallory")}, `commander: "mallory" is not a person`},
		{incidents.Edit{Commander: ptr("stranger@example.com")}, "commander:"},
	} {
		_, err := f.svc.EditIncident(ctx, inc.ID, tc.e, "bob")
		if !errors.Is(err, incidents.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("EditIncident(%+v) = %v, want invalid with %q", tc.e, err, tc.want)
		}
	}
	if _, err := f.svc.EditIncident(ctx, 999, incidents.Edit{Title: ptr("x")}, "bob"); !incidents.IsNotFound(err) {
		t.Errorf("unknown incident = %v", err)
	}
}

func TestAddPersonNote(t *testing.T) {
	f := newFixture(t, nil, nil)
	ctx := t.Context()
	inc, err := f.svc.Declare(ctx, incidents.DeclareRequest{Title: "Checkout slow"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	f.step(t, 0)
	before := len(f.pager.Got())
	got, err := f.svc.AddPersonNote(ctx, inc.ID, " rolled back v42 at 10:42\nerrors dropping ", "bob")
	if err != nil {
		t.Fatal(err)
	}
	last := got.Timeline[len(got.Timeline)-1]
	if last.Kind != incidents.KindNote || last.Actor != "bob" || last.Text != "rolled back v42 at 10:42\nerrors dropping" {
		t.Fatalf("note = %+v", last)
	}
	f.step(t, 0)
	if sent := f.pager.Got()[before:]; len(sent) != 1 || sent[0].Event == nil || sent[0].Event.Kind != incidents.KindNote {
		t.Fatalf("pagers got %+v", sent)
	}
	for _, bad := range []string{"", " \n ", strings.Repeat("n", incidents.MaxNoteText+1), "esc \x1b[31m"} {
		if _, err := f.svc.AddPersonNote(ctx, inc.ID, bad, "bob"); !errors.Is(err, incidents.ErrInvalid) || !strings.Contains(err.Error(), "text") {
			t.Errorf("AddPersonNote(%.20q) = %v, want invalid naming text", bad, err)
		}
	}
}
