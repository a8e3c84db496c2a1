package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/dashboards"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/postmortem"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/runbooks"
)

// uiPostmortems keeps one postmortem and applies edits with the real
// rules (postmortem.Apply).
type uiPostmortems struct {
	mu sync.Mutex
	pm *postmortem.Postmortem
}

func (f *uiPostmortems) Get(_ context.Context, id int64) (*postmortem.Postmortem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id != f.pm.IncidentID {
		return nil, postmortem.ErrNotFound
	}
	return f.pm.Clone(), nil
}

func (f *uiPostmortems) Put(_ context.Context, id int64, e postmortem.Edit, actor string) (*postmortem.Postmortem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id != f.pm.IncidentID {
		return nil, postmortem.ErrNotFound
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	next, err := postmortem.Apply(f.pm, e, actor, f.pm.UpdatedAt.Add(time.Minute))
	if err != nil {
		return nil, err
	}
	f.pm = next
	return next.Clone(), nil
}

// invalidErr reads like alerting's invalid-input errors.
type invalidErr string

func (e invalidErr) Error() string { return string(e) }
func (e invalidErr) Invalid() bool { return true }

// uiSilencesFake keeps silences in memory.
type uiSilencesFake struct {
	mu       sync.Mutex
	silences []alerting.Silence
	now      time.Time
}

func (f *uiSilencesFake) Alerts(context.Context) ([]alerting.ActiveAlert, error) { return nil, nil }

func (f *uiSilencesFake) Silences(context.Context) ([]alerting.Silence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]alerting.Silence(nil), f.silences...), nil
}

func (f *uiSilencesFake) CreateSilence(_ context.Context, n alerting.NewSilence) (alerting.Silence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(n.Matchers) == 0 {
		return alerting.Silence{}, invalidErr(`matchers: at least one matcher is required, such as "service=checkout"`)
	}
	s := alerting.Silence{ID: "s1", StartsAt: f.now, EndsAt: f.now.Add(n.Duration), CreatedBy: n.Author, Comment: n.Comment, CreatedAt: f.now}
	ms, err := alerting.NewMatcherParser("", nil).Build(n.Matchers)
	if err != nil {
		return alerting.Silence{}, err
	}
	s.Matchers = ms
	f.silences = append(f.silences, s)
	return s, nil
}

func (f *uiSilencesFake) ExpireSilence(_ context.Context, id, actor string) (alerting.Silence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.silences {
		if f.silences[i].ID == id {
			f.silences[i].EndsAt, f.silences[i].ExpiredBy = f.now, actor
			return f.silences[i], nil
		}
	}
	return alerting.Silence{}, alerting.ErrNotFound
}

type uiPagesFixture struct {
	*uiFixture
	pms  *uiPostmortems
	sils *uiSilencesFake
}

// newUIPagesFixture mounts the UI over a resolved incident #7 with a draft
// postmortem, a runbook, and silences.
func newUIPagesFixture(t *testing.T) *uiPagesFixture {
	t.Helper()
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	f := newFixture(t, func(o *Options) { o.Now = now; o.Server.MaxBodyBytes = 2 << 20 })
	resolved := clock.Add(-10 * time.Minute)
	fi := &fakeIncidents{inc: incidents.Incident{ID: 7, Title: "Checkout down", Severity: model.SeverityCritical, Status: incidents.StatusResolved,
		CreatedAt: clock.Add(-time.Hour), ResolvedAt: &resolved, Runbook: "checkout-down"}}
	pms := &uiPostmortems{pm: &postmortem.Postmortem{IncidentID: 7, Title: "Checkout down", Status: postmortem.StatusDraft, Summary: "It broke.",
		UpdatedAt: clock, UpdatedBy: "sentinel", ActionItems: []postmortem.ActionItem{}}}
	sils := &uiSilencesFake{now: clock}
	d, err := dashboards.New(dashboards.Options{Incidents: fi, Postmortems: pms, Alerts: sils, Now: now,
		Runbooks: runbooks.New(runbooks.Runbook{Name: "checkout-down", Title: "Checkout is down", Body: "## Steps\n\n1. Look at **payments**.\n"})})
	if err != nil {
		t.Fatal(err)
	}
	ses := MountUI(f.srv.Routes(), d, UIOptions{Sessions: SessionOptions{TTL: time.Hour}, Actions: fi, Postmortems: pms, Silences: sils})
	return &uiPagesFixture{uiFixture: &uiFixture{fixture: f, inc: fi, ses: ses}, pms: pms, sils: sils}
}

func TestUIPostmortemEditor(t *testing.T) {
	u := newUIPagesFixture(t)
	viewerCookie := u.signIn(t, tokViewer)
	page := u.get(t, "/incidents/7/postmortem", viewerCookie)
	if page.Code != http.StatusOK || strings.Contains(page.Body.String(), "<textarea") || !strings.Contains(page.Body.String(), "It broke.") {
		t.Fatalf("viewer's postmortem page = %d:\n%s", page.Code, page.Body)
	}
	vcsrf := csrfOf(t, page.Body.String())
	if rec := u.form(t, "/incidents/7/postmortem", viewerCookie, url.Values{"csrf": {vcsrf}, "version": {"0"}, "root_cause": {"x"}}); rec.Code != http.StatusForbidden {
		t.Errorf("viewer saving = %d, want 403", rec.Code)
	}
	if md := u.get(t, "/incidents/7/postmortem.md", viewerCookie); md.Code != http.StatusOK || !strings.Contains(md.Body.String(), "# Postmortem: #7 Checkout down") ||
		!strings.Contains(md.Header().Get("Content-Disposition"), "postmortem-7.md") {
		t.Errorf("markdown download = %d %q: %s", md.Code, md.Header().Get("Content-Disposition"), md.Body)
	}

	cookie := u.signIn(t, tokResponder)
	page = u.get(t, "/incidents/7", cookie)
	if !strings.Contains(page.Body.String(), `href="/incidents/7/postmortem"`) || !strings.Contains(page.Body.String(), `href="/runbooks/checkout-down"`) {
		t.Error("the incident page links neither its postmortem nor its runbook")
	}
	csrf := csrfOf(t, page.Body.String())
	base := url.Values{"csrf": {csrf}, "version": {"0"}, "summary": {"It broke."}, "root_cause": {""}, "contributing_factors": {""}, "what_went_well": {""}, "lessons": {""},
		"ai_id": {""}, "ai_title": {""}, "ai_owner": {""}, "ai_due": {""}, "ai_status": {"open"}, "ai_link": {""}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range base {
			v[k] = append([]string(nil), vs...)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	if rec := u.form(t, "/incidents/7/postmortem", cookie, with("csrf", "nope")); rec.Code != http.StatusForbidden {
		t.Errorf("wrong CSRF = %d, want 403", rec.Code)
	}
	// No root cause: 400 with the field named, nothing saved.
	rec := u.form(t, "/incidents/7/postmortem", cookie, with("status", "in_review"))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Root cause must be written") || !strings.Contains(rec.Body.String(), `href="#root_cause"`) {
		t.Fatalf("submit without root cause = %d:\n%s", rec.Code, rec.Body)
	}
	// A bad link on the new item: 400 naming it.
	rec = u.form(t, "/incidents/7/postmortem", cookie, with("ai_title", "Fix it", "ai_link", "javascript:alert(1)"))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Action item 1, link") || !strings.Contains(rec.Body.String(), `href="#ai-0-link"`) {
		t.Fatalf("bad link = %d:\n%s", rec.Code, rec.Body)
	}
	rec = u.form(t, "/incidents/7/postmortem", cookie, with("root_cause", "A bad deploy.", "status", "in_review", "ai_title", "Add a canary", "ai_owner", "alice"))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/incidents/7/postmortem?done=in_review" {
		t.Fatalf("submit = %d to %q:\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if pm, _ := u.pms.Get(t.Context(), 7); pm.Status != postmortem.StatusInReview || pm.UpdatedBy != "r" || len(pm.ActionItems) != 1 {
		t.Errorf("stored = %+v", pm)
	}
	page = u.get(t, "/incidents/7/postmortem?done=in_review", cookie)
	if !strings.Contains(page.Body.String(), "submitted for review") || !strings.Contains(page.Body.String(), "Save and publish") {
		t.Error("no flash or no publish button after submitting")
	}
	// A second save from the old version: 409 and the person's text kept.
	rec = u.form(t, "/incidents/7/postmortem", cookie, with("root_cause", "My other idea."))
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "Your unsaved text") || !strings.Contains(rec.Body.String(), "My other idea.") {
		t.Fatalf("stale save = %d:\n%s", rec.Code, rec.Body)
	}
	if rec := u.form(t, "/incidents/7/postmortem", cookie, with("version", "x")); rec.Code != http.StatusBadRequest {
		t.Errorf("form without a version = %d, want 400", rec.Code)
	}
	big := with("root_cause", strings.Repeat("x", maxPostmortemForm))
	if rec := u.form(t, "/incidents/7/postmortem", cookie, big); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized form = %d, want 413", rec.Code)
	}
	if rec := u.get(t, "/incidents/8/postmortem", cookie); rec.Code != http.StatusNotFound {
		t.Errorf("unknown incident's postmortem = %d", rec.Code)
	}
	// The incident actions still route beside the postmortem paths.
	if rec := u.form(t, "/incidents/7/escalate", cookie, url.Values{"csrf": {csrf}}); rec.Code != http.StatusSeeOther {
		t.Errorf("escalate = %d", rec.Code)
	}
}

func TestUIRunbookAndSilences(t *testing.T) {
	u := newUIPagesFixture(t)
	viewerCookie := u.signIn(t, tokViewer)
	if rec := u.get(t, "/runbooks/checkout-down", viewerCookie); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<strong>payments</strong>") {
		t.Errorf("runbook page = %d:\n%s", rec.Code, rec.Body)
	}
	if rec := u.get(t, "/runbooks/nope", viewerCookie); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "nope") {
		t.Errorf("unknown runbook = %d", rec.Code)
	}
	page := u.get(t, "/alerts", viewerCookie)
	if page.Code != http.StatusOK || strings.Contains(page.Body.String(), "Create silence") {
		t.Fatalf("viewer's alerts page = %d, with the form: %v", page.Code, strings.Contains(page.Body.String(), "Create silence"))
	}
	vcsrf := csrfOf(t, page.Body.String())
	if rec := u.form(t, "/alerts/silences", viewerCookie, url.Values{"csrf": {vcsrf}, "matchers": {"a=b"}, "duration": {"1h"}}); rec.Code != http.StatusForbidden {
		t.Errorf("viewer creating a silence = %d", rec.Code)
	}

	cookie := u.signIn(t, tokResponder)
	csrf := csrfOf(t, u.get(t, "/alerts", cookie).Body.String())
	for name, tc := range map[string]struct {
		vals url.Values
		want string
	}{
		"no matchers":  {url.Values{"csrf": {csrf}, "matchers": {"\r\n"}, "duration": {"1h"}}, "at least one matcher"},
		"bad duration": {url.Values{"csrf": {csrf}, "matchers": {"a=b"}, "duration": {"a while"}, "comment": {"keep me"}}, "Duration &#34;a while&#34;"},
		"bad matcher":  {url.Values{"csrf": {csrf}, "matchers": {"a~b"}, "duration": {"1h"}}, "expected an operator such as"},
	} {
		rec := u.form(t, "/alerts/silences", cookie, tc.vals)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tc.want) || !strings.Contains(rec.Body.String(), "Not created.") {
			t.Errorf("%s: = %d, want 400 with %q:\n%s", name, rec.Code, tc.want, rec.Body)
		}
	}
	rec := u.form(t, "/alerts/silences", cookie, url.Values{"csrf": {csrf}, "matchers": {"service=\"checkout\"\r\nenv!=dev"}, "duration": {"2h"}, "comment": {"deploy"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/alerts?done=silenced" {
		t.Fatalf("create = %d to %q:\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if s := u.sils.silences; len(s) != 1 || len(s[0].Matchers) != 2 || s[0].CreatedBy != "r" || s[0].EndsAt.Sub(s[0].StartsAt) != 2*time.Hour {
		t.Fatalf("silences = %+v", s)
	}
	page = u.get(t, "/alerts?done=silenced", cookie)
	if !strings.Contains(page.Body.String(), "Silence created") || !strings.Contains(page.Body.String(), `action="/alerts/silences/s1/expire"`) {
		t.Fatal("no flash or no expire button")
	}
	if rec := u.form(t, "/alerts/silences/s1/expire", cookie, url.Values{}); rec.Code != http.StatusForbidden {
		t.Errorf("expire without CSRF = %d", rec.Code)
	}
	if rec := u.form(t, "/alerts/silences/nope/expire", cookie, url.Values{"csrf": {csrf}}); rec.Code != http.StatusNotFound {
		t.Errorf("expire unknown = %d", rec.Code)
	}
	rec = u.form(t, "/alerts/silences/s1/expire", cookie, url.Values{"csrf": {csrf}})
	if rec.Code != http.StatusSeeOther || u.sils.silences[0].ExpiredBy != "r" {
		t.Fatalf("expire = %d %+v", rec.Code, u.sils.silences)
	}
}
