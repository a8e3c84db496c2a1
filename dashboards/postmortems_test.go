package dashboards

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/postmortem"
)

// editorForm is what a browser sends from the editor of a postmortem at
// version, with one existing row (A1) and the blank row.
func editorForm(version, rootCause, status string, rows ...[6]string) url.Values {
	v := url.Values{"csrf": {"x"}, "version": {version}, "summary": {"Checkout failed.\r\nPayments timed out."}, "root_cause": {rootCause},
		"contributing_factors": {""}, "what_went_well": {""}, "lessons": {""}}
	if status != "" {
		v.Set("status", status)
	}
	for _, r := range rows {
		for i, k := range itemFields {
			v.Add(k, r[i])
		}
	}
	return v
}

var blankRow = [6]string{"", "", "", "", "open", ""}

func renderPM(t *testing.T, f *fixture, v Viewer, id int64, st PostmortemState) string {
	t.Helper()
	var buf bytes.Buffer
	if err := f.d.Postmortem(context.Background(), &buf, v, id, st); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// save runs what web does with a submitted editor: parse, Put, and on a
// refusal render the page again with the form and the error.
func save(t *testing.T, f *fixture, id int64, form url.Values) (string, error) {
	t.Helper()
	pf, err := ParsePostmortemForm(form)
	if err != nil {
		t.Fatalf("parse form: %v", err)
	}
	e, _ := pf.Edit()
	if _, err := f.pm.Put(context.Background(), id, e, "ops"); err != nil {
		return renderPM(t, f, responderV, id, PostmortemState{Form: &pf, Err: err}), err
	}
	return renderPM(t, f, responderV, id, PostmortemState{Flash: "Saved."}), nil
}

func TestPostmortemEditorFlow(t *testing.T) {
	f := newFixture(t, 2, 10, 1)
	const id = 3
	_ = renderPM(t, f, viewerV, id, PostmortemState{}) // drafts it

	// Submitting for review without a root cause: 400, the field named and
	// marked, the person's text kept.
	page, err := save(t, f, id, editorForm("0", "  ", "in_review", blankRow))
	if !errors.Is(err, postmortem.ErrInvalid) {
		t.Fatalf("err = %v, want invalid", err)
	}
	for _, want := range []string{"Not saved.", "Root cause must be written before the postmortem goes to review", `href="#root_cause"`,
		`aria-invalid="true"`, "Payments timed out.", `name="version" value="0"`} {
		if !strings.Contains(page, want) {
			t.Errorf("refused page lacks %q", want)
		}
	}

	// Writing it and adding an item moves it to review.
	page, err = save(t, f, id, editorForm("0", "A config push\r\ndisabled the payments pool.", "in_review",
		[6]string{"", "Alert on pool size", "alice", "2026-03-20", "open", "https://tracker.example.com/OPS-1"}))
	if err != nil {
		t.Fatal(err)
	}
	pm, _ := f.pm.Get(context.Background(), id)
	if pm.Status != postmortem.StatusInReview || pm.RootCause != "A config push\ndisabled the payments pool." || len(pm.ActionItems) != 1 || pm.ActionItems[0].ID != "A1" {
		t.Fatalf("stored = %s %q %+v", pm.Status, pm.RootCause, pm.ActionItems)
	}
	for _, want := range []string{"In review", "Save and publish", "Back to draft", `value="A1"`, "Alert on pool size", `name="version" value="1"`, "New action item"} {
		if !strings.Contains(page, want) {
			t.Errorf("page after review lacks %q", want)
		}
	}

	// A bad due date on the second row (the first row removed) names that row.
	_, rows := func() (postmortem.Edit, []int) {
		pf, _ := ParsePostmortemForm(editorForm("1", "x", "", [6]string{"A1", "t", "", "", "open", ""}, [6]string{"", "Second", "", "soon", "open", ""}))
		return pf.Edit()
	}()
	if len(rows) != 2 || rows[1] != 1 {
		t.Fatalf("rows = %v", rows)
	}
	form := editorForm("1", "A config push.", "", [6]string{"A1", "Alert on pool size", "alice", "2026-03-20", "open", ""}, [6]string{"", "Second", "", "soon", "open", ""})
	form.Add("ai_remove", "0")
	page, err = save(t, f, id, form)
	if !errors.Is(err, postmortem.ErrInvalid) {
		t.Fatalf("bad due: err = %v", err)
	}
	for _, want := range []string{"Action item 2, due date", `href="#ai-1-due"`, `id="ai-1-due" name="ai_due" value="soon" aria-invalid="true"`, `name="ai_remove" value="0" checked`} {
		if !strings.Contains(page, want) {
			t.Errorf("bad-due page lacks %q", want)
		}
	}

	// Someone else saves; a save from the old version is refused and the
	// person's text is offered back.
	if _, err := save(t, f, id, editorForm("1", "Bob's cause.", "", blankRow)); err != nil {
		t.Fatal(err)
	}
	page, err = save(t, f, id, editorForm("1", "My cause.", "", blankRow))
	if !errors.Is(err, postmortem.ErrConflict) {
		t.Fatalf("stale save: err = %v, want conflict", err)
	}
	for _, want := range []string{"Not saved.", "since version 1 (now version 2)", "Your unsaved text", "My cause.", "Bob&#39;s cause.", `name="version" value="2"`} {
		if !strings.Contains(page, want) {
			t.Errorf("conflict page lacks %q", want)
		}
	}

	// Publishing freezes the text; items stay editable.
	if _, err := save(t, f, id, editorForm("2", "Bob's cause.", "published", blankRow)); err != nil {
		t.Fatal(err)
	}
	page = renderPM(t, f, responderV, id, PostmortemState{})
	if strings.Contains(page, `<textarea id="root_cause"`) || !strings.Contains(page, "Save action items") || !strings.Contains(page, `name="ai_title"`) {
		t.Error("a published postmortem should show its text read-only and its items editable")
	}
	md, err := f.d.PostmortemMarkdown(context.Background(), id)
	if err != nil || !bytes.Contains(md, []byte("| Status | published |")) {
		t.Errorf("markdown = %v\n%s", err, md)
	}
}

func TestPostmortemWithoutOne(t *testing.T) {
	f := newFixture(t, 1, 10, 1)
	// #10 is open; #1 is a resolved warning (no draft required).
	if page := renderPM(t, f, responderV, 10, PostmortemState{}); !strings.Contains(page, "drafted when it resolves") || strings.Contains(page, "Start the postmortem") {
		t.Error("open incident: wrong page")
	}
	page := renderPM(t, f, responderV, 1, PostmortemState{})
	if !strings.Contains(page, "Start the postmortem") || !strings.Contains(page, `name="version" value="0"`) {
		t.Error("resolved warning: no start button for a responder")
	}
	if page := renderPM(t, f, viewerV, 1, PostmortemState{}); strings.Contains(page, "Start the postmortem") {
		t.Error("a viewer may not start one")
	}
	if _, err := save(t, f, 1, url.Values{"version": {"0"}}); err != nil {
		t.Fatalf("start: %v", err)
	}
	if page := renderPM(t, f, responderV, 1, PostmortemState{}); !strings.Contains(page, "Save and submit for review") {
		t.Error("started postmortem has no editor")
	}
	if _, err := f.d.PostmortemMarkdown(context.Background(), 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("markdown of an open incident: %v", err)
	}
	var buf bytes.Buffer
	if err := f.d.Incident(context.Background(), &buf, viewerV, 1, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `href="/incidents/1/postmortem"`) || !strings.Contains(buf.String(), "Draft") {
		t.Error("the incident page does not link its postmortem with its status")
	}
}

func TestParsePostmortemForm(t *testing.T) {
	for name, form := range map[string]url.Values{
		"no version":     {"root_cause": {"x"}},
		"bad version":    {"version": {"-1"}},
		"bad status":     {"version": {"1"}, "status": {"done"}},
		"ragged items":   {"version": {"1"}, "ai_title": {"a", "b"}, "ai_id": {""}, "ai_owner": {"", ""}, "ai_due": {"", ""}, "ai_status": {"", ""}, "ai_link": {"", ""}},
		"too many items": {"version": {"1"}, "ai_title": make([]string, maxFormItems+1)},
	} {
		if _, err := ParsePostmortemForm(form); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	f, err := ParsePostmortemForm(url.Values{"version": {"4"}, "status": {"published"}, "ai_title": {"x", ""}, "ai_id": {"A1", ""}, "ai_owner": {"", ""},
		"ai_due": {"", ""}, "ai_status": {"done", "open"}, "ai_link": {"", ""}})
	if err != nil {
		t.Fatal(err)
	}
	e, rows := f.Edit()
	if *e.Version != 4 || *e.Status != postmortem.StatusPublished || e.RootCause != nil || len(*e.ActionItems) != 1 || len(rows) != 1 {
		t.Errorf("edit = %+v rows %v", e, rows)
	}
}

func TestSilenceForm(t *testing.T) {
	for _, tc := range []struct {
		form    SilenceForm
		matches int
		err     string
	}{
		{SilenceForm{Matchers: "service=\"checkout\"\r\n\r\n  env!=dev \n", Duration: "2h"}, 2, ""},
		{SilenceForm{Matchers: "a=b", Duration: ""}, 0, "duration: say how long"},
		{SilenceForm{Matchers: "a=b", Duration: "soon"}, 0, `duration "soon"`},
		{SilenceForm{Matchers: "a=b", Duration: "-5m"}, 0, "duration"},
	} {
		n, err := tc.form.NewSilence("ops")
		if tc.err != "" {
			if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("%+v: err = %v, want %q", tc.form, err, tc.err)
			}
			continue
		}
		if err != nil || len(n.Matchers) != tc.matches || n.Author != "ops" || n.Duration.Hours() != 2 {
			t.Errorf("%+v: %+v %v", tc.form, n, err)
		}
	}
	page := func(st AlertsState) string {
		f := newFixture(t, 1, 1, 1)
		var buf bytes.Buffer
		if err := f.d.Alerts(context.Background(), &buf, responderV, st); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	got := page(AlertsState{Form: &SilenceForm{Matchers: "x=", Duration: "1y"}, Problem: "duration \"1y\": want a positive duration"})
	for _, want := range []string{"Not created.", "Duration &#34;1y&#34;", `href="#duration"`, `id="duration" name="duration" value="1y"`, `aria-invalid="true"`} {
		if !strings.Contains(got, want) {
			t.Errorf("refused silence page lacks %q", want)
		}
	}
}

// FuzzEditorForms feeds arbitrary form bodies to the postmortem and
// silence form parsers and renders what they accept: nothing may panic,
// and a refusal must be ErrInvalid.
func FuzzEditorForms(f *testing.F) {
	f.Add("version=0&root_cause=x&summary=&contributing_factors=&what_went_well=&lessons=&ai_id=&ai_title=t&ai_owner=&ai_due=2026-01-02&ai_status=open&ai_link=&status=in_review")
	f.Add("version=3&ai_id=A1&ai_title=&ai_owner=&ai_due=x&ai_status=bogus&ai_link=javascript:1&ai_remove=0&ai_remove=-1")
	f.Add("matchers=a%3Db%0Ac%3D~%22x.*%22&duration=2h&comment=c")
	f.Add("version=%FF&status=%00")
	fx := newFixture(f, 1, 4, 1)
	f.Fuzz(func(t *testing.T, body string) {
		vals, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		ctx := context.Background()
		if _, err := ParseSilenceForm(vals).NewSilence("fuzz"); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("silence form: %v is not ErrInvalid", err)
		}
		pf, err := ParsePostmortemForm(vals)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("postmortem form: %v is not ErrInvalid", err)
			}
			return
		}
		e, _ := pf.Edit()
		verr := e.Validate()
		if verr == nil {
			verr = postmortem.ErrConflict
		}
		var buf bytes.Buffer
		if err := fx.d.Postmortem(ctx, &buf, responderV, 2, PostmortemState{Form: &pf, Err: verr}); err != nil {
			t.Fatalf("render: %v", err)
		}
	})
}

// TestPostmortemOfAReopenedIncident checks what the page says while the
// incident is open again, and once it resolves again.
func TestPostmortemOfAReopenedIncident(t *testing.T) {
	f := newFixture(t, 1, 5, 0) // #2: critical, opened 08:02, resolved 08:27
	ctx := t.Context()
	if page := renderPM(t, f, responderV, 2, PostmortemState{}); strings.Contains(page, "pm-reopened") || !strings.Contains(page, "Save and submit for review") {
		t.Fatalf("a postmortem never reopened:\n%s", page)
	}
	setIncident := func(fn func(inc *incidents.Incident)) {
		t.Helper()
		err := f.store.Update(ctx, func(tx incidents.Tx) error {
			inc, err := tx.Get(2)
			if err != nil {
				return err
			}
			fn(inc)
			return tx.Put(inc)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	reopened := fixtureNow.Add(-time.Hour)
	setIncident(func(inc *incidents.Incident) {
		inc.Status, inc.ResolvedAt = incidents.StatusTriggered, nil
		inc.Timeline = append(inc.Timeline, incidents.TimelineEntry{At: reopened, Kind: incidents.KindReopened, Actor: "sentinel", Text: "reopened"})
	})
	page := renderPM(t, f, responderV, 2, PostmortemState{})
	for _, want := range []string{
		`<p class="note" id="pm-reopened"><strong>Open again.</strong> The incident was reopened <time datetime="2026-03-02T09:30:00Z"`,
		"and is triggered again. The impact window is still running, the time to resolve waits for the new resolution, and the postmortem can go to review once the incident resolves; meanwhile no reminder calls the draft late.</p>",
		"<dd>2h28m so far</dd>", "to now (still running)</dd>", "<dd>not yet: the incident is open</dd>",
		`<button type="submit" class="primary">Save</button>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("open again: the page lacks %q", want)
		}
	}
	if strings.Contains(page, "Save and submit for review") {
		t.Error("open again: the page offers review")
	}

	resolved := fixtureNow.Add(-10 * time.Minute)
	setIncident(func(inc *incidents.Incident) { inc.Status, inc.ResolvedAt = incidents.StatusResolved, &resolved })
	page = renderPM(t, f, responderV, 2, PostmortemState{})
	for _, want := range []string{"</time> and has resolved again. The impact window ends at the new resolution.</p>", "Save and submit for review", "<dd>2h18m</dd>"} {
		if !strings.Contains(page, want) {
			t.Errorf("resolved again: the page lacks %q", want)
		}
	}
}

// TestPublishedPostmortemOfAReopenedIncident: a postmortem published before
// its incident reopened keeps its figures and says why they stop early.
func TestPublishedPostmortemOfAReopenedIncident(t *testing.T) {
	f := newFixture(t, 1, 5, 0)
	ctx := t.Context()
	_ = renderPM(t, f, responderV, 2, PostmortemState{}) // drafts it
	root := "The pool was too small."
	for _, st := range []postmortem.Status{postmortem.StatusInReview, postmortem.StatusPublished} {
		if _, err := f.pm.Put(ctx, 2, postmortem.Edit{RootCause: &root, Status: &st}, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	err := f.store.Update(ctx, func(tx incidents.Tx) error {
		inc, err := tx.Get(2)
		if err != nil {
			return err
		}
		inc.Status, inc.ResolvedAt = incidents.StatusTriggered, nil
		inc.Timeline = append(inc.Timeline, incidents.TimelineEntry{At: fixtureNow.Add(time.Minute), Kind: incidents.KindReopened, Actor: "sentinel", Text: "reopened"})
		return tx.Put(inc)
	})
	if err != nil {
		t.Fatal(err)
	}
	page := renderPM(t, f, responderV, 2, PostmortemState{})
	for _, want := range []string{
		"</time> after this postmortem was published and is triggered again. The figures below are as published: they end at the resolution before it.</p>",
		"<dd>25m</dd>", "Save action items",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("published, then reopened: the page lacks %q", want)
		}
	}
	if strings.Contains(page, "still running") {
		t.Error("published figures read as running")
	}
}
