package slack_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
	"github.com/sentinel-oss/sentinel/store"
)

// openShared opens the bbolt store two replicas share in these tests.
func openShared(t *testing.T) *store.Bolt {
	t.Helper()
	db, err := store.OpenBolt(context.Background(), config.Storage{Path: filepath.Join(t.TempDir(), "sentinel.db"), OpenTimeout: model.Duration(time.Second)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// openDeclareForm runs /sentinel declare on e and returns the form Slack opened.
func openDeclareForm(t *testing.T, e *env) slacktest.View {
	t.Helper()
	n := len(e.fake.Views())
	resp, err := e.client.SlashCommand(context.Background(), e.srv.URL+"/slack/commands", slacktest.Command{
		Text: "declare", UserID: "U024BE7LH", UserName: "carol", ChannelID: "C0INCIDENTS", ChannelName: "incidents",
		ResponseURL: e.fake.ResponseURL("cmd"), TriggerID: e.fake.NewTrigger(),
	})
	if err != nil || resp.Status != 200 {
		t.Fatalf("declare = %v %v", resp, err)
	}
	views := e.fake.Views()
	if len(views) != n+1 || views[n].JSON["callback_id"] != slack.DeclareCallback {
		t.Fatalf("views opened: %+v", views[n:])
	}
	return views[n]
}

// openNoteForm clicks Add note on incident 1's page through e.
func openNoteForm(t *testing.T, e *env, pageTS string) slacktest.View {
	t.Helper()
	n := len(e.fake.Views())
	resp, err := e.client.Interaction(context.Background(), e.srv.URL+"/slack/interactions", slacktest.BlockActions(slacktest.Click{
		ActionID: slack.ActionNote, Value: "1", UserID: "U024BE7LH", UserName: "carol", ChannelID: "C0INCIDENTS",
		MessageTS: pageTS, ResponseURL: e.fake.ResponseURL("r"), TriggerID: e.fake.NewTrigger(), ActionTS: pageTS + "1"}))
	if err != nil || resp.Status != 200 {
		t.Fatalf("Add note click = %v %v", resp, err)
	}
	views := e.fake.Views()
	if len(views) != n+1 || views[n].JSON["callback_id"] != slack.NoteCallback {
		t.Fatalf("views opened: %+v", views[n:])
	}
	return views[n]
}

// submitAt sends carol's submission of v to e, signed as Slack signs a
// copy it sends at sent (the zero time: now).
func submitAt(t *testing.T, e *env, v slacktest.View, values, selects map[string]string, sent time.Time) slacktest.Response {
	t.Helper()
	payload := slacktest.ViewSubmission(slacktest.Submission{View: v, UserID: "U024BE7LH", UserName: "carol", Values: values, Selects: selects})
	resp, err := e.client.Post(context.Background(), e.srv.URL+"/slack/interactions", url.Values{"payload": {string(payload)}}, sent, "")
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// countNotes counts the timeline notes of incident id with text.
func countNotes(t *testing.T, e *env, id int64, text string) int {
	t.Helper()
	n := 0
	for _, te := range e.incident(t, id).Timeline {
		if te.Kind == incidents.KindNote && te.Text == text {
			n++
		}
	}
	return n
}

// formEntries are e's audit entries of submitted forms.
func formEntries(e *env) []string {
	var out []string
	for _, s := range e.audit.entries() {
		if strings.Contains(s, "|slack form ") {
			out = append(out, s)
		}
	}
	return out
}

var (
	declareValues  = map[string]string{"title": "Card payments fail", "service": "checkout", "summary": "EU cards declined since 10:40"}
	declareSelects = map[string]string{"severity": "critical"}
)

// A form submission Slack sends again (its answer was late) and that
// reaches the other replica acts once: one incident declared, one note
// added. The second replica answers 200 with an empty body, which closes
// the form as done, and records nothing. Copies sent on both sides of a
// claim window's boundary are one submission too.
func TestSubmissionToAnotherReplicaActsOnce(t *testing.T) {
	db := openShared(t)
	shared := store.NewIncidents(db)
	a := newEnv(t, envOptions{store: shared, deliveries: store.NewDeliveryClaims(db)})
	b := newEnv(t, envOptions{store: shared, fake: a.fake, noRun: true, deliveries: store.NewDeliveryClaims(db)})
	ctx := context.Background()

	declare := openDeclareForm(t, a)
	for _, e := range []*env{a, b} {
		if r := submitAt(t, e, declare, declareValues, declareSelects, time.Time{}); r.Status != 200 || r.Body != "" {
			t.Fatalf("declare submission = %d %q, want 200 and no body", r.Status, r.Body)
		}
	}
	if inc := a.incident(t, 1); inc.Title != "Card payments fail" || inc.Timeline[0].Actor != "carol" {
		t.Fatalf("declared %+v", inc)
	}
	if _, err := a.svc.Get(ctx, 2); !incidents.IsNotFound(err) {
		t.Fatalf("the copy on the other replica declared a second incident (err %v)", err)
	}
	page := a.waitPages(t, 1)[0]

	// The note's copies: one second before a 10-minute boundary on one
	// replica, one second after it on the other (both within Slack's 5
	// minutes of the clock).
	boundary := time.Now().Round(10 * time.Minute)
	for d := time.Until(boundary); d > 4*time.Minute+50*time.Second || d < -4*time.Minute-50*time.Second; d = time.Until(boundary) {
		time.Sleep(time.Second)
	}
	note := openNoteForm(t, a, page.TS)
	text := "rolled back v42 at 10:42"
	for i, e := range []*env{a, b} {
		sent := boundary.Add(time.Duration(2*i-1) * time.Second)
		if r := submitAt(t, e, note, map[string]string{"text": text}, nil, sent); r.Status != 200 || r.Body != "" {
			t.Fatalf("note submission = %d %q", r.Status, r.Body)
		}
	}
	if n := countNotes(t, a, 1, text); n != 1 {
		t.Errorf("notes after one submission sent to both replicas = %d, want 1", n)
	}
	if got := formEntries(a); len(got) != 1 || !strings.HasSuffix(got[0], "|slack form sentinel_note_form|#1|note") {
		t.Errorf("the first replica's audit: %q", got)
	}
	if got := formEntries(b); len(got) != 0 {
		t.Errorf("the replica that got the copy recorded %q", got)
	}
}

// Acting on a submission failed on one replica (its store could not
// write): the form shows why, the claim is given back in the shared store,
// and the person's next submission, reaching the other replica, acts.
func TestFailedSubmissionRetryActsOnAnotherReplica(t *testing.T) {
	db := openShared(t)
	full := store.NewFaulty(db) // replica a's view of the store; b's is healthy
	a := newEnv(t, envOptions{store: store.NewIncidents(full), deliveries: store.NewDeliveryClaims(db)})
	b := newEnv(t, envOptions{store: store.NewIncidents(db), fake: a.fake, noRun: true, deliveries: store.NewDeliveryClaims(db)})
	ctx := context.Background()
	if err := a.svc.HandleAlertGroup(ctx, firing("service=checkout")); err != nil {
		t.Fatal(err)
	}
	page := a.waitPages(t, 1)[0]
	note := openNoteForm(t, a, page.TS)
	declare := openDeclareForm(t, a)

	full.FailWrites(store.ErrInjectedDiskFull)
	text := "failed over to the standby"
	if r := submitAt(t, a, note, map[string]string{"text": text}, nil, time.Time{}); r.Status != 200 ||
		!strings.Contains(r.Body, `"response_action":"errors"`) || !strings.Contains(r.Body, "could not save this; try again") {
		t.Fatalf("note on a replica that cannot write = %d %s", r.Status, r.Body)
	}
	if r := submitAt(t, a, declare, declareValues, declareSelects, time.Time{}); r.Status != 200 ||
		!strings.Contains(r.Body, `"response_action":"errors"`) || !strings.Contains(r.Body, "could not declare the incident") {
		t.Fatalf("declare on a replica that cannot write = %d %s", r.Status, r.Body)
	}
	if n := countNotes(t, b, 1, text); n != 0 {
		t.Fatalf("the failed note was kept (%d)", n)
	}
	if _, err := b.svc.Get(ctx, 2); !incidents.IsNotFound(err) {
		t.Fatalf("the failed declare was kept (err %v)", err)
	}

	// The person submits again; this copy reaches the healthy replica.
	if r := submitAt(t, b, note, map[string]string{"text": text}, nil, time.Time{}); r.Status != 200 || r.Body != "" {
		t.Fatalf("the retried note = %d %q", r.Status, r.Body)
	}
	if r := submitAt(t, b, declare, declareValues, declareSelects, time.Time{}); r.Status != 200 || r.Body != "" {
		t.Fatalf("the retried declare = %d %q", r.Status, r.Body)
	}
	if n := countNotes(t, b, 1, text); n != 1 {
		t.Errorf("notes after the retry on the other replica = %d, want 1", n)
	}
	if inc, err := b.svc.Get(ctx, 2); err != nil || inc.Title != "Card payments fail" {
		t.Errorf("the retried declare: %+v %v", inc, err)
	}
	// A copy of the retry, back on the healed first replica, adds nothing.
	full.FailWrites(nil)
	for _, sub := range []struct {
		v       slacktest.View
		values  map[string]string
		selects map[string]string
	}{{note, map[string]string{"text": text}, nil}, {declare, declareValues, declareSelects}} {
		if r := submitAt(t, a, sub.v, sub.values, sub.selects, time.Time{}); r.Status != 200 || r.Body != "" {
			t.Fatalf("a copy of the retry = %d %q", r.Status, r.Body)
		}
	}
	if n := countNotes(t, b, 1, text); n != 1 {
		t.Errorf("notes after a copy of the retry = %d, want 1", n)
	}
	if _, err := b.svc.Get(ctx, 3); !incidents.IsNotFound(err) {
		t.Errorf("a copy of the retried declare declared again (err %v)", err)
	}
}

// When the shared store cannot answer, a submission is acted on, as
// clicks and events are (a note twice is better than one lost); this
// process still takes a copy once, and a corrected submission after bad
// input acts although the claim could not be given back. Both failures
// are logged.
func TestSubmissionClaimFailureStillActs(t *testing.T) {
	var logs bytes.Buffer
	e := newEnv(t, envOptions{deliveries: failingClaims{}, logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()
	declare := openDeclareForm(t, e)
	for range 2 { // the second is Slack's copy: this process still knows it
		if r := submitAt(t, e, declare, declareValues, declareSelects, time.Time{}); r.Status != 200 || r.Body != "" {
			t.Fatalf("declare submission = %d %q", r.Status, r.Body)
		}
	}
	if _, err := e.svc.Get(ctx, 1); err != nil {
		t.Fatalf("nothing declared while the claims' store was down: %v", err)
	}
	if _, err := e.svc.Get(ctx, 2); !incidents.IsNotFound(err) {
		t.Fatalf("a copy declared twice in one process (err %v)", err)
	}
	page := e.waitPages(t, 1)[0]
	note := openNoteForm(t, e, page.TS)
	if r := submitAt(t, e, note, map[string]string{"text": " "}, nil, time.Time{}); !strings.Contains(r.Body, `"response_action":"errors"`) {
		t.Fatalf("an empty note = %d %s", r.Status, r.Body)
	}
	if r := submitAt(t, e, note, map[string]string{"text": "checked the CDN"}, nil, time.Time{}); r.Status != 200 || r.Body != "" {
		t.Fatalf("the corrected note = %d %q", r.Status, r.Body)
	}
	if n := countNotes(t, e, 1, "checked the CDN"); n != 1 {
		t.Errorf("notes after the corrected submission = %d, want 1", n)
	}
	for _, want := range []string{"claiming a Slack delivery failed; acting on it anyway", "giving back a Slack submission's claim failed", "store unavailable"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs.String())
		}
	}
}

// releaseFails claims in the shared store but cannot give a claim back,
// as when the store fails between the claim and the failed action.
type releaseFails struct{ *store.DeliveryClaims }

func (releaseFails) ReleaseDeliveryWithin(context.Context, string, time.Time, time.Duration) error {
	return errors.New("store unavailable")
}

// A claim that could not be given back holds: the next submission of the
// form is taken as done on every replica (the limit docs/slack.md names),
// and the failure is logged with the view.
func TestSubmissionReleaseFailureHoldsClaim(t *testing.T) {
	db := openShared(t)
	full := store.NewFaulty(db)
	var logs bytes.Buffer
	a := newEnv(t, envOptions{store: store.NewIncidents(full), deliveries: releaseFails{store.NewDeliveryClaims(db)}, logger: slog.New(slog.NewTextHandler(&logs, nil))})
	b := newEnv(t, envOptions{store: store.NewIncidents(db), fake: a.fake, noRun: true, deliveries: store.NewDeliveryClaims(db)})
	declare := openDeclareForm(t, a)
	full.FailWrites(store.ErrInjectedDiskFull)
	if r := submitAt(t, a, declare, declareValues, declareSelects, time.Time{}); !strings.Contains(r.Body, "could not declare the incident") {
		t.Fatalf("declare on a replica that cannot write = %d %s", r.Status, r.Body)
	}
	if r := submitAt(t, b, declare, declareValues, declareSelects, time.Time{}); r.Status != 200 || r.Body != "" {
		t.Fatalf("the retry on the other replica = %d %q", r.Status, r.Body)
	}
	if _, err := b.svc.Get(context.Background(), 1); !incidents.IsNotFound(err) {
		t.Fatalf("the retry acted although the claim was not given back (err %v)", err)
	}
	// The first replica forgot the submission, but the store's claim holds
	// there too.
	full.FailWrites(nil)
	if r := submitAt(t, a, declare, declareValues, declareSelects, time.Time{}); r.Status != 200 || r.Body != "" {
		t.Fatalf("the retry on the first replica = %d %q", r.Status, r.Body)
	}
	if _, err := a.svc.Get(context.Background(), 1); !incidents.IsNotFound(err) {
		t.Fatalf("the retry on the first replica acted although the claim was not given back (err %v)", err)
	}
	if !strings.Contains(logs.String(), "giving back a Slack submission's claim failed") || !strings.Contains(logs.String(), "view="+declare.ID) {
		t.Errorf("the failed release was not logged with its view:\n%s", logs.String())
	}
}
