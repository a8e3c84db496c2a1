package slack_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
)

// TestPeoplesChangesShowInTheLiveMessage: a new title, severity and
// commander, a note and a stakeholder update redraw the incident's message
// and are told in its thread.
func TestPeoplesChangesShowInTheLiveMessage(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	if err := e.svc.HandleAlertGroup(ctx, firing("service=checkout")); err != nil {
		t.Fatal(err)
	}
	page := e.waitPages(t, 1)[0]
	title, sev, lead := "Card payments fail at checkout", model.SeverityInfo, "carol"
	if _, err := e.svc.EditIncident(ctx, 1, incidents.Edit{Title: &title, Severity: &sev, Commander: &lead}, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddPersonNote(ctx, 1, "rolled back v42 at 10:42", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.AddUpdate(ctx, 1, incidents.NewUpdate{Text: "Some card payments fail; a fix is rolling out.", Public: true}, "carol"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("message: %s", e.pages()[0].BlockText())
		}
	})
	testutil.Eventually(t, 5*time.Second, "the message redrawn with the new fields", func() bool {
		b := e.pages()[0].BlockText()
		return strings.Contains(b, "#1 Card payments fail at checkout") && strings.Contains(b, "*Commander*\n<@U024BE7LH>") &&
			strings.Contains(b, "*Severity*\n:large_blue_circle: info") &&
			strings.Contains(b, "*Latest update* (public,") && strings.Contains(b, "Some card payments fail; a fix is rolling out.")
	})
	want := []string{
		`:pencil2: title changed from "checkout failing in local: step pay answered 500" to "Card payments fail at checkout" by alice`,
		":arrow_up_down: severity changed from critical to info by alice",
		":bust_in_silhouette: carol leads the incident (named by alice)",
		":memo: *bob*: rolled back v42 at 10:42",
		":loudspeaker: public update by carol: Some card payments fail; a fix is rolling out.",
	}
	testutil.Eventually(t, 5*time.Second, "thread replies for every change", func() bool {
		var thread strings.Builder
		for _, m := range e.fake.Posted("C0INCIDENTS") {
			if m.ThreadTS == page.TS {
				thread.WriteString(m.Text + "\n")
			}
		}
		for _, w := range want {
			if !strings.Contains(thread.String(), w) {
				return false
			}
		}
		return true
	})
	for _, m := range e.fake.Posted("C0INCIDENTS") {
		if m.ThreadTS == page.TS {
			t.Logf("thread: %s", m.Text)
		}
	}
	t.Logf("message: %s", e.pages()[0].BlockText())
}

type fakeChanges struct{}

func (fakeChanges) ChangesBefore(_ context.Context, services []string, start time.Time) ([]incidents.RecentChange, error) {
	if len(services) != 1 || services[0] != "checkout" {
		return nil, nil
	}
	return []incidents.RecentChange{{ID: 1, Service: "checkout", Title: "v42", Kind: "deploy", URL: "https://ci.example.com/runs/42|x",
		At: start.Add(-12 * time.Minute), Words: "deploy checkout: v42, 12 min before"}}, nil
}

// TestPageListsChangesBeforeTheIncident: the page names the changes to
// the incident's services before it started, linked.
func TestPageListsChangesBeforeTheIncident(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.svc.SetChangeSource(fakeChanges{})
	if err := e.svc.HandleAlertGroup(context.Background(), firing("service=checkout")); err != nil {
		t.Fatal(err)
	}
	b := e.waitPages(t, 1)[0].BlockText()
	if !strings.Contains(b, "*Changes before it started*\n:arrows_counterclockwise: <https://ci.example.com/runs/42%7Cx|deploy checkout: v42, 12 min before>") {
		t.Fatalf("page lacks the change:\n%s", b)
	}
}
