package slack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
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

// TestDeclareModalAndIncidentCommands: /sentinel declare alone opens the
// declare modal through views.open; the signed view_submission declares
// the incident once (a redelivery declares nothing more) and bad input is
// shown in the modal; note, update, severity and lead run the incident,
// and only a person of people: may lead.
func TestDeclareModalAndIncidentCommands(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	send := func(text, user string) map[string]string {
		t.Helper()
		resp, err := e.client.SlashCommand(ctx, e.srv.URL+"/slack/commands", slacktest.Command{
			Text: text, UserID: user, UserName: "carol", ChannelID: "C0INCIDENTS", ChannelName: "incidents",
			ResponseURL: e.fake.ResponseURL("cmd"), TriggerID: e.fake.NewTrigger(),
		})
		if err != nil || resp.Status != http.StatusOK {
			t.Fatalf("%q: %d %v", text, resp.Status, err)
		}
		var body map[string]string
		_ = json.Unmarshal([]byte(resp.Body), &body)
		return body
	}
	if body := send("declare", "U024BE7LH"); len(body) != 0 {
		t.Fatalf("declare without text answered %v, want an empty body (a modal opens)", body)
	}
	views := e.fake.Views()
	if len(views) != 1 || views[0].JSON["callback_id"] != slack.DeclareCallback {
		t.Fatalf("views opened: %+v", views)
	}
	opened, _ := json.Marshal(views[0].JSON)
	t.Logf("views.open: %s", opened)
	submit := func(values, selects map[string]string) slacktest.Response {
		t.Helper()
		resp, err := e.client.Interaction(ctx, e.srv.URL+"/slack/interactions", slacktest.ViewSubmission(slacktest.Submission{
			View: views[0], UserID: "U024BE7LH", UserName: "carol", Values: values, Selects: selects}))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	bad := submit(map[string]string{"title": "Checkout fails", "service": "checkout"}, map[string]string{"severity": "urgent"})
	if bad.Status != 200 || !strings.Contains(bad.Body, `"response_action":"errors"`) || !strings.Contains(bad.Body, `"severity":`) {
		t.Fatalf("an unknown severity = %d %s, want errors on severity", bad.Status, bad.Body)
	}
	good := map[string]string{"title": "Card payments fail", "service": "checkout", "summary": "EU cards declined since 10:40"}
	for range 2 { // the second is a redelivery
		if resp := submit(good, map[string]string{"severity": "critical"}); resp.Status != 200 || resp.Body != "" {
			t.Fatalf("submission = %d %q", resp.Status, resp.Body)
		}
	}
	page := e.waitPages(t, 1)[0]
	inc := e.incident(t, 1)
	if inc.Title != "Card payments fail" || inc.Severity != model.SeverityCritical || inc.Labels["service"] != "checkout" ||
		inc.Summary != "EU cards declined since 10:40" || inc.Timeline[0].Actor != "carol" {
		t.Fatalf("declared %+v", inc)
	}
	if _, err := e.svc.Get(ctx, 2); !incidents.IsNotFound(err) {
		t.Fatalf("a redelivered submission declared a second incident")
	}

	if body := send("note #1 rolled back v42", "U024BE7LH"); !strings.Contains(body["text"], "Noted on #1") || body["response_type"] != "ephemeral" {
		t.Errorf("note: %v", body)
	}
	if body := send("update public A fix is rolling out.", "U024BE7LH"); !strings.Contains(body["text"], "public update on #1") {
		t.Errorf("update: %v", body)
	}
	if body := send("severity warning", "U024BE7LH"); body["response_type"] != "in_channel" || !strings.Contains(body["text"], "to :large_orange_circle: warning.") {
		t.Errorf("severity: %v", body)
	}
	if body := send("lead", "U0DAVE"); !strings.Contains(body["text"], "not linked to a person") {
		t.Errorf("lead by a stranger: %v", body)
	}
	if body := send("lead", "U024BE7LH"); body["response_type"] != "in_channel" || !strings.Contains(body["text"], "leads #1") {
		t.Errorf("lead: %v", body)
	}
	if body := send("severity #9 info", "U024BE7LH"); !strings.Contains(body["text"], "Cannot change the severity of #9") {
		t.Errorf("severity of a missing incident: %v", body)
	}
	inc = e.incident(t, 1)
	if inc.Commander != "carol" || inc.Severity != model.SeverityWarning || len(inc.Updates) != 1 || !inc.Updates[0].Public {
		t.Fatalf("after the commands: commander %q, severity %s, updates %+v", inc.Commander, inc.Severity, inc.Updates)
	}
	testutil.Eventually(t, 5*time.Second, "the thread told of note, update, severity and lead", func() bool {
		var thread strings.Builder
		for _, m := range e.fake.Posted("C0INCIDENTS") {
			if m.ThreadTS == page.TS {
				thread.WriteString(m.Text + "\n")
			}
		}
		s := thread.String()
		return strings.Contains(s, "*carol*: rolled back v42") && strings.Contains(s, "public update by carol: A fix is rolling out.") &&
			strings.Contains(s, "severity changed from critical to warning by carol") && strings.Contains(s, "carol leads the incident")
	})
	// A trigger is good once.
	if _, err := e.client.SlashCommand(ctx, e.srv.URL+"/slack/commands", slacktest.Command{Text: "declare", UserID: "U024BE7LH", ChannelID: "C0INCIDENTS", TriggerID: views[0].TriggerID}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Views()); n != 1 {
		t.Errorf("a used trigger opened a modal (%d views)", n)
	}
}

// handlerTransport answers requests with h in-process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// FuzzViewSubmission: whatever a signed view_submission holds, the
// handler answers without a server error.
func FuzzViewSubmission(f *testing.F) {
	e := newEnv(f, envOptions{})
	view := slacktest.View{ID: "V1", JSON: map[string]any{"type": "modal", "callback_id": slack.DeclareCallback}}
	f.Add(slacktest.ViewSubmission(slacktest.Submission{View: view, UserID: "U024BE7LH", Values: map[string]string{"title": "x"}, Selects: map[string]string{"severity": "info"}}))
	f.Add([]byte(`{"type":"view_submission","user":{"id":"U1"},"view":{"id":"V2","callback_id":"sentinel_declare","state":{"values":{"title":{"title":{"value":""}}}}}}`))
	f.Add([]byte(`{"type":"view_submission","view":null}`))
	fuzzSigned(f, e, e.bot.Interactions(), func(c slacktest.Client, payload []byte) (slacktest.Response, error) {
		return c.Interaction(context.Background(), "http://sentinel.test/slack/interactions", payload)
	})
}

// fuzzSigned sends each input to h through send, signed as Slack signs,
// and fails on a server error. The requests go to h in-process: a
// loopback round trip per input would be most of the fuzzer's time.
func fuzzSigned(f *testing.F, e *env, h http.Handler, send func(slacktest.Client, []byte) (slacktest.Response, error)) {
	client := e.client
	client.HTTP = &http.Client{Transport: handlerTransport{h}}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := send(client, body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status >= 500 {
			t.Fatalf("%q = %d %s", body, resp.Status, resp.Body)
		}
	})
}

// TestPageButtonsRunTheIncident: "I'll lead" names the clicker commander;
// Severity, Add note and Post update open their forms through views.open,
// and the signed view_submissions change the incident once (a redelivery
// changes nothing more), tell the thread and redraw the page. A user
// linked to nobody is refused in the form.
func TestPageButtonsRunTheIncident(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	if err := e.svc.HandleAlertGroup(ctx, firing("service=checkout")); err != nil {
		t.Fatal(err)
	}
	page := e.waitPages(t, 1)[0]
	for _, want := range []string{"I'll lead", "Severity", "Add note", "Post update"} {
		if !strings.Contains(string(page.Blocks), `"text":"`+want+`"`) {
			t.Fatalf("page lacks the %q button: %s", want, page.Blocks)
		}
	}
	if resp := e.click(t, slack.ActionLead, 1, "U024BE7LH", "carol", page.TS, "1.1"); resp.Status != 200 {
		t.Fatalf("lead click = %d", resp.Status)
	}
	open := func(action string) slacktest.View {
		t.Helper()
		n := len(e.fake.Views())
		resp, err := e.client.Interaction(ctx, e.srv.URL+"/slack/interactions", slacktest.BlockActions(slacktest.Click{
			ActionID: action, Value: "1", UserID: "U024BE7LH", UserName: "carol", ChannelID: "C0INCIDENTS",
			MessageTS: page.TS, ResponseURL: e.fake.ResponseURL("r"), TriggerID: e.fake.NewTrigger()}))
		if err != nil || resp.Status != 200 {
			t.Fatalf("%s click: %v %v", action, resp, err)
		}
		views := e.fake.Views()
		if len(views) != n+1 {
			t.Fatalf("%s opened %d views", action, len(views)-n)
		}
		js, _ := json.Marshal(views[n].JSON)
		t.Logf("views.open: %s", js)
		return views[n]
	}
	submit := func(v slacktest.View, user string, values, selects map[string]string) slacktest.Response {
		t.Helper()
		resp, err := e.client.Interaction(ctx, e.srv.URL+"/slack/interactions", slacktest.ViewSubmission(slacktest.Submission{
			View: v, UserID: user, UserName: "carol", Values: values, Selects: selects}))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	note := open(slack.ActionNote)
	if note.JSON["callback_id"] != slack.NoteCallback || note.JSON["private_metadata"] != "1" {
		t.Fatalf("note form: %v", note.JSON)
	}
	if r := submit(note, "U0DAVE", map[string]string{"text": "x"}, nil); !strings.Contains(r.Body, "not linked to a person") {
		t.Fatalf("a stranger's note = %d %s", r.Status, r.Body)
	}
	if r := submit(note, "U024BE7LH", map[string]string{"text": " "}, nil); !strings.Contains(r.Body, `"response_action":"errors"`) {
		t.Fatalf("an empty note = %d %s", r.Status, r.Body)
	}
	for range 2 { // the second is a redelivery
		if r := submit(note, "U024BE7LH", map[string]string{"text": "rolled back v42 at 10:42"}, nil); r.Status != 200 || r.Body != "" {
			t.Fatalf("note = %d %q", r.Status, r.Body)
		}
	}
	// initialSeverity is the option the Severity form starts at.
	initialSeverity := func(v slacktest.View) string {
		t.Helper()
		var form struct {
			Blocks []struct {
				BlockID string `json:"block_id"`
				Element struct {
					InitialOption *struct {
						Value string `json:"value"`
					} `json:"initial_option"`
				} `json:"element"`
			} `json:"blocks"`
		}
		js, _ := json.Marshal(v.JSON)
		if err := json.Unmarshal(js, &form); err != nil || len(form.Blocks) != 1 || form.Blocks[0].BlockID != "severity" {
			t.Fatalf("severity form: %v %s", err, js)
		}
		if o := form.Blocks[0].Element.InitialOption; o != nil {
			return o.Value
		}
		return ""
	}
	sevForm := open(slack.ActionSeverity)
	if got := initialSeverity(sevForm); got != "critical" {
		t.Fatalf("the severity form of a critical incident starts at %q", got)
	}
	if r := submit(sevForm, "U024BE7LH", nil, map[string]string{"severity": "warning"}); r.Status != 200 || r.Body != "" {
		t.Fatalf("severity = %d %q", r.Status, r.Body)
	}
	if got := initialSeverity(open(slack.ActionSeverity)); got != "warning" {
		t.Fatalf("the severity form after setting warning starts at %q", got)
	}
	if r := submit(open(slack.ActionUpdate), "U024BE7LH", map[string]string{"text": "A fix is rolling out."}, map[string]string{"audience": "public"}); r.Status != 200 || r.Body != "" {
		t.Fatalf("update = %d %q", r.Status, r.Body)
	}
	inc := e.incident(t, 1)
	notes := 0
	for _, en := range inc.Timeline {
		if strings.Contains(en.Text, "rolled back v42") {
			notes++
		}
	}
	if inc.Commander != "carol" || inc.Severity != model.SeverityWarning || notes != 1 || len(inc.Updates) != 1 || !inc.Updates[0].Public {
		t.Fatalf("commander %q, severity %s, %d notes, updates %+v", inc.Commander, inc.Severity, notes, inc.Updates)
	}
	testutil.Eventually(t, 5*time.Second, "thread replies and the page redrawn", func() bool {
		var thread strings.Builder
		for _, m := range e.fake.Posted("C0INCIDENTS") {
			if m.ThreadTS == page.TS {
				thread.WriteString(m.Text + "\n")
			}
		}
		s, b := thread.String(), e.pages()[0].BlockText()
		return strings.Contains(s, "carol leads the incident") && strings.Contains(s, ":memo: *carol*: rolled back v42 at 10:42") &&
			strings.Contains(s, "severity changed from critical to warning by carol") && strings.Contains(s, "public update by carol: A fix is rolling out.") &&
			strings.Contains(b, "*Commander*\n<@U024BE7LH>") && strings.Contains(b, "*Severity*\n:large_orange_circle: warning") && strings.Contains(b, "A fix is rolling out.")
	})
	for _, m := range e.fake.Posted("C0INCIDENTS") {
		if m.ThreadTS == page.TS {
			t.Logf("thread: %s", m.Text)
		}
	}
	t.Logf("message: %s", e.pages()[0].BlockText())
}
