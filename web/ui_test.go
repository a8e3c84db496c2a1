package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/audit"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/dashboards"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/statuspage"
	"github.com/sentinel-oss/sentinel/store"
)

// fakeIncidents serves one open incident and records the actions taken.
type fakeIncidents struct {
	mu      sync.Mutex
	inc     incidents.Incident
	actions []string
}

func (f *fakeIncidents) List(context.Context, incidents.ListQuery) ([]*incidents.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.inc
	return []*incidents.Incident{&c}, nil
}

func (f *fakeIncidents) Get(_ context.Context, id int64) (*incidents.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id != f.inc.ID {
		return nil, incidents.ErrNotFound
	}
	c := f.inc
	return &c, nil
}

func (f *fakeIncidents) SLOImpact(context.Context, *incidents.Incident) []incidents.SLOImpact {
	return nil
}

func (f *fakeIncidents) act(name string, st incidents.Status) func(context.Context, int64, string) (*incidents.Incident, error) {
	return func(_ context.Context, id int64, actor string) (*incidents.Incident, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if id != f.inc.ID {
			return nil, incidents.ErrNotFound
		}
		f.actions = append(f.actions, name+" by "+actor)
		f.inc.Status = st
		c := f.inc
		return &c, nil
	}
}

func (f *fakeIncidents) Acknowledge(ctx context.Context, id int64, actor string) (*incidents.Incident, error) {
	return f.act("acknowledge", incidents.StatusAcknowledged)(ctx, id, actor)
}

func (f *fakeIncidents) Resolve(ctx context.Context, id int64, actor string) (*incidents.Incident, error) {
	return f.act("resolve", incidents.StatusResolved)(ctx, id, actor)
}

func (f *fakeIncidents) AddPersonNote(ctx context.Context, id int64, text, actor string) (*incidents.Incident, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("%w: text is required", incidents.ErrInvalid)
	}
	return f.act("note "+text, f.inc.Status)(ctx, id, actor)
}

func (f *fakeIncidents) AddUpdate(ctx context.Context, id int64, u incidents.NewUpdate, actor string) (*incidents.Incident, incidents.Update, error) {
	inc, err := f.act(fmt.Sprintf("update public=%v %s", u.Public, u.Text), f.inc.Status)(ctx, id, actor)
	return inc, incidents.Update{Text: u.Text, Public: u.Public, Author: actor}, err
}

func (f *fakeIncidents) AddOverride(_ context.Context, o oncall.Override, actor string) (oncall.Override, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o.Schedule != "primary" {
		return o, fmt.Errorf("%w: no schedule named %q", incidents.ErrInvalid, o.Schedule)
	}
	f.actions = append(f.actions, fmt.Sprintf("override %s %s %s-%s by %s", o.Schedule, o.User, o.Start.UTC().Format(time.RFC3339), o.End.UTC().Format(time.RFC3339), actor))
	return o, nil
}

func (f *fakeIncidents) RemoveOverride(_ context.Context, id, actor string) (oncall.Override, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id != "3f9a1c0b7d2e4a6b" {
		return oncall.Override{}, fmt.Errorf("%w: no override %q", incidents.ErrNotFound, id)
	}
	f.actions = append(f.actions, fmt.Sprintf("remove override %s by %s", id, actor))
	return oncall.Override{ID: id, Schedule: "primary", User: "carol",
		Start: time.Date(2026, 3, 25, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 25, 17, 30, 0, 0, time.UTC)}, nil
}

func (f *fakeIncidents) Escalate(ctx context.Context, id int64, actor string) (*incidents.Incident, error) {
	return f.act("escalate", incidents.StatusTriggered)(ctx, id, actor)
}

type uiFixture struct {
	*fixture
	inc   *fakeIncidents
	ses   *Sessions
	clock *time.Time
	mu    *sync.Mutex
}

func newUIFixture(t *testing.T) *uiFixture {
	t.Helper()
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	f := newFixture(t, func(o *Options) { o.Now = now; o.Server.MaxBodyBytes = 64 << 10 })
	fi := &fakeIncidents{inc: incidents.Incident{ID: 7, Title: "Checkout down", Severity: model.SeverityCritical, Status: incidents.StatusTriggered, CreatedAt: clock.Add(-time.Hour)}}
	d, err := dashboards.New(dashboards.Options{Incidents: fi, Reports: fakeReports{}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ses := MountUI(f.srv.Routes(), d, UIOptions{Sessions: SessionOptions{TTL: time.Hour}, Actions: fi})
	return &uiFixture{fixture: f, inc: fi, ses: ses, clock: &clock, mu: &mu}
}

// form posts a form with an optional session cookie.
func (u *uiFixture) form(t *testing.T, target, cookie string, vals url.Values, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	h := append([]string{"Content-Type", "application/x-www-form-urlencoded"}, hdr...)
	if cookie != "" {
		h = append(h, "Cookie", SessionCookie+"="+cookie)
	}
	return u.do(t, http.MethodPost, target, "", strings.NewReader(vals.Encode()), h...)
}

func (u *uiFixture) get(t *testing.T, target, cookie string) *httptest.ResponseRecorder {
	t.Helper()
	if cookie == "" {
		return u.do(t, http.MethodGet, target, "", nil)
	}
	return u.do(t, http.MethodGet, target, "", nil, "Cookie", SessionCookie+"="+cookie)
}

// signIn exchanges token for a session and returns the cookie value.
func (u *uiFixture) signIn(t *testing.T, token string) string {
	t.Helper()
	rec := u.form(t, "/login", "", url.Values{"token": {token}, "next": {"/incidents/7"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/incidents/7" {
		t.Fatalf("sign in = %d to %q: %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie {
			return c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", body)
	}
	return m[1]
}

func TestUISignInCookie(t *testing.T) {
	u := newUIFixture(t)
	rec := u.form(t, "/login", "", url.Values{"token": {tokResponder}, "next": {"/incidents"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign in = %d", rec.Code)
	}
	set := rec.Header().Get("Set-Cookie")
	for _, want := range []string{SessionCookie + "=", "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=3600"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("cookie is Secure on plain HTTP: %q", set)
	}
	if strings.Contains(set, tokResponder) {
		t.Error("the cookie carries the token")
	}
}

func TestUIRedirectsToLoginAndBack(t *testing.T) {
	u := newUIFixture(t)
	for _, p := range []string{"/", "/slos", "/incidents?status=open", "/incidents/7", "/probes", "/rum", "/oncall", "/runbooks"} {
		rec := u.get(t, p, "")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login?next="+url.QueryEscape(p) {
			t.Errorf("GET %s without a session = %d to %q", p, rec.Code, rec.Header().Get("Location"))
		}
	}
	if rec := u.get(t, "/incidents/7", "forged-cookie"); rec.Code != http.StatusSeeOther {
		t.Errorf("forged cookie = %d", rec.Code)
	}
	rec := u.get(t, "/login?next=/incidents/7", "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `value="/incidents/7"`) {
		t.Fatalf("login page = %d", rec.Code)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
}

func TestUIBadSignIns(t *testing.T) {
	u := newUIFixture(t)
	for name, tc := range map[string]struct {
		token string
		hdr   []string
		code  int
		want  string
	}{
		"unknown":     {"not-a-token-at-all-000", nil, http.StatusUnauthorized, "not valid"},
		"empty":       {"", nil, http.StatusUnauthorized, "not valid"},
		"ingest":      {tokIngest, nil, http.StatusUnauthorized, "cannot sign in"},
		"cross-site":  {tokViewer, []string{"Origin", "https://evil.example"}, http.StatusForbidden, "Sentinel&#39;s own page"},
		"null origin": {tokViewer, []string{"Origin", "null"}, http.StatusForbidden, ""},
	} {
		t.Run(name, func(t *testing.T) {
			rec := u.form(t, "/login", "", url.Values{"token": {tc.token}}, tc.hdr...)
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("= %d, body lacks %q:\n%s", rec.Code, tc.want, rec.Body)
			}
			if rec.Header().Get("Set-Cookie") != "" {
				t.Error("a failed sign-in set a cookie")
			}
		})
	}
	if n := u.ses.Store().(*MemorySessions).Len(); n != 0 {
		t.Errorf("%d sessions after failed sign-ins", n)
	}
}

func TestUISafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/incidents/7?x=1": "/incidents/7?x=1", "": "/", "https://evil.example/": "/", "//evil.example": "/",
		"/\\evil.example": "/", "/login": "/", "javascript:alert(1)": "/", "/a\r\nSet-Cookie: x": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUIActionsNeedResponderAndCSRF(t *testing.T) {
	u := newUIFixture(t)
	viewerCookie := u.signIn(t, tokViewer)
	page := u.get(t, "/incidents/7", viewerCookie)
	if page.Code != http.StatusOK || strings.Contains(page.Body.String(), "Acknowledge</button>") {
		t.Fatalf("viewer's incident page = %d, with buttons: %v", page.Code, strings.Contains(page.Body.String(), "Acknowledge</button>"))
	}
	vcsrf := csrfOf(t, page.Body.String())
	if rec := u.form(t, "/incidents/7/acknowledge", viewerCookie, url.Values{"csrf": {vcsrf}}); rec.Code != http.StatusForbidden {
		t.Errorf("viewer acknowledging = %d, want 403", rec.Code)
	}

	cookie := u.signIn(t, tokResponder)
	page = u.get(t, "/incidents/7", cookie)
	if !strings.Contains(page.Body.String(), "Acknowledge</button>") {
		t.Fatal("responder sees no Acknowledge button")
	}
	csrf := csrfOf(t, page.Body.String())
	if csrf == vcsrf {
		t.Error("two sessions share a CSRF token")
	}
	for name, vals := range map[string]url.Values{"no token": {}, "wrong token": {"csrf": {"x" + csrf}}, "other session's": {"csrf": {vcsrf}}} {
		if rec := u.form(t, "/incidents/7/acknowledge", cookie, vals); rec.Code != http.StatusForbidden {
			t.Errorf("%s: = %d, want 403", name, rec.Code)
		}
	}
	if rec := u.form(t, "/incidents/7/acknowledge", cookie, url.Values{"csrf": {csrf}}, "Origin", "https://evil.example"); rec.Code != http.StatusForbidden {
		t.Errorf("cross-origin post = %d, want 403", rec.Code)
	}
	if rec := u.form(t, "/incidents/7/acknowledge", "", url.Values{"csrf": {csrf}}); rec.Code != http.StatusForbidden {
		t.Errorf("post without a session = %d, want 403", rec.Code)
	}
	if len(u.inc.actions) != 0 {
		t.Fatalf("actions taken by refused requests: %v", u.inc.actions)
	}
	rec := u.form(t, "/incidents/7/acknowledge", cookie, url.Values{"csrf": {csrf}}, "Origin", "http://example.com")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/incidents/7?done=acknowledge" {
		t.Fatalf("acknowledge = %d to %q: %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if got := u.inc.actions; len(got) != 1 || got[0] != "acknowledge by r" {
		t.Errorf("actions = %v, want acknowledge by r", got)
	}
	page = u.get(t, "/incidents/7?done=acknowledge", cookie)
	if !strings.Contains(page.Body.String(), "Acknowledged: escalation has stopped.") {
		t.Error("no flash after acknowledging")
	}
	// Notes and updates: the forms are on the responder's page and carry the token.
	for _, id := range []string{`id="note-form"`, `id="update-form"`} {
		if !strings.Contains(page.Body.String(), id) {
			t.Errorf("responder's page lacks %s", id)
		}
	}
	if rec := u.form(t, "/incidents/7/note", cookie, url.Values{"text": {"rolled back v42"}}); rec.Code != http.StatusForbidden {
		t.Errorf("note without CSRF token = %d", rec.Code)
	}
	if rec := u.form(t, "/incidents/7/note", cookie, url.Values{"csrf": {csrf}, "text": {"rolled back v42"}}); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/incidents/7?done=note" {
		t.Errorf("note = %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := u.form(t, "/incidents/7/note", cookie, url.Values{"csrf": {csrf}, "text": {" "}}); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "text is required") {
		t.Errorf("empty note = %d %s", rec.Code, rec.Body)
	}
	if rec := u.form(t, "/incidents/7/update", cookie, url.Values{"csrf": {csrf}, "text": {"fix rolling out"}, "public": {"on"}}); rec.Code != http.StatusSeeOther {
		t.Errorf("update = %d", rec.Code)
	}
	if got := u.inc.actions; len(got) != 3 || got[1] != "note rolled back v42 by r" || got[2] != "update public=true fix rolling out by r" {
		t.Errorf("actions = %q", got)
	}
	if rec := u.form(t, "/incidents/7/delete", cookie, url.Values{"csrf": {csrf}}); rec.Code != http.StatusNotFound {
		t.Errorf("unknown action = %d", rec.Code)
	}
	if rec := u.get(t, "/incidents/99", cookie); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "#99") {
		t.Errorf("unknown incident = %d %s", rec.Code, rec.Body)
	}
	if rec := u.get(t, "/incidents/abc", cookie); rec.Code != http.StatusNotFound {
		t.Errorf("bad incident id = %d", rec.Code)
	}
	if rec := u.get(t, "/incidents?status=bogus", cookie); rec.Code != http.StatusBadRequest {
		t.Errorf("bad status filter = %d", rec.Code)
	}
}

func TestUISessionDoesNotOpenTheAPI(t *testing.T) {
	u := newUIFixture(t)
	cookie := u.signIn(t, tokAdmin)
	rec := u.do(t, http.MethodGet, "/t/viewer/1", "", nil, "Cookie", SessionCookie+"="+cookie)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("API with a session cookie and no bearer = %d, want 401", rec.Code)
	}
}

func TestUISignOutAndExpiry(t *testing.T) {
	u := newUIFixture(t)
	cookie := u.signIn(t, tokViewer)
	page := u.get(t, "/incidents", cookie)
	if page.Code != http.StatusOK {
		t.Fatalf("page = %d", page.Code)
	}
	csrf := csrfOf(t, page.Body.String())
	if rec := u.form(t, "/logout", cookie, url.Values{}); rec.Code != http.StatusForbidden {
		t.Errorf("sign out without CSRF = %d, want 403", rec.Code)
	}
	rec := u.form(t, "/logout", cookie, url.Values{"csrf": {csrf}})
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("sign out = %d, Set-Cookie %q", rec.Code, rec.Header().Get("Set-Cookie"))
	}
	if rec := u.get(t, "/incidents", cookie); rec.Code != http.StatusSeeOther {
		t.Errorf("page after sign out = %d, want a redirect", rec.Code)
	}

	cookie = u.signIn(t, tokViewer)
	u.mu.Lock()
	*u.clock = u.clock.Add(59 * time.Minute)
	u.mu.Unlock()
	if rec := u.get(t, "/incidents", cookie); rec.Code != http.StatusOK {
		t.Errorf("page within the TTL = %d", rec.Code)
	}
	u.mu.Lock()
	*u.clock = u.clock.Add(2 * time.Minute)
	u.mu.Unlock()
	if rec := u.get(t, "/incidents", cookie); rec.Code != http.StatusSeeOther {
		t.Errorf("page after the TTL = %d, want a redirect", rec.Code)
	}
}

func TestUIRevokedTokenEndsSession(t *testing.T) {
	u := newUIFixture(t)
	cookie := u.signIn(t, tokResponder)
	a := testAuth()
	a.Tokens = a.Tokens[:1] // only the viewer token is left
	u.srv.SetAuth(a)
	if rec := u.get(t, "/incidents", cookie); rec.Code != http.StatusSeeOther {
		t.Errorf("page after the token was removed = %d, want a redirect", rec.Code)
	}
}

func TestUIStylesheet(t *testing.T) {
	u := newUIFixture(t)
	cookie := u.signIn(t, tokViewer)
	page := u.get(t, "/incidents", cookie).Body.String()
	m := regexp.MustCompile(`href="(/ui/style\.[0-9a-f]+\.css)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no stylesheet link")
	}
	rec := u.get(t, m[1], "")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("stylesheet = %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"))
	}
	if rec := u.get(t, "/ui/style.0000.css", ""); rec.Code != http.StatusNotFound {
		t.Errorf("stale stylesheet = %d", rec.Code)
	}
}

func TestUISecureCookieOverTLSProxy(t *testing.T) {
	f := newFixture(t, nil)
	d, err := dashboards.New(dashboards.Options{})
	if err != nil {
		t.Fatal(err)
	}
	MountUI(f.srv.Routes(), d, UIOptions{Sessions: SessionOptions{Secure: true}})
	rec := f.do(t, http.MethodPost, "/login", "", strings.NewReader(url.Values{"token": {tokViewer}}.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	if set := rec.Header().Get("Set-Cookie"); !strings.Contains(set, "Secure") {
		t.Errorf("Set-Cookie %q is not Secure", set)
	}
}

// TestUIOverrideForm: the on-call page's override form needs a responder
// and the session's CSRF token; its times are read in the viewer's zone
// (UTC here) and bad ones are named.
func TestUIOverrideForm(t *testing.T) {
	u := newUIFixture(t)
	st := &memAuditStore{}
	u.srv.SetAudit(audit.New(st, nil, nil))
	vcookie := u.signIn(t, tokViewer)
	vcsrf := csrfOf(t, u.get(t, "/oncall", vcookie).Body.String())
	form := url.Values{"schedule": {"primary"}, "user": {"carol"}, "start": {"2026-03-25T09:00"}, "end": {"2026-03-25T17:30"}}
	with := func(csrf string) url.Values {
		v := url.Values{"csrf": {csrf}}
		for k, x := range form {
			v[k] = x
		}
		return v
	}
	if rec := u.form(t, "/oncall/overrides", vcookie, with(vcsrf)); rec.Code != http.StatusForbidden {
		t.Errorf("viewer's override = %d", rec.Code)
	}
	cookie := u.signIn(t, tokResponder)
	csrf := csrfOf(t, u.get(t, "/oncall", cookie).Body.String())
	if rec := u.form(t, "/oncall/overrides", cookie, form); rec.Code != http.StatusForbidden {
		t.Errorf("override without the CSRF token = %d", rec.Code)
	}
	bad := with(csrf)
	bad.Set("end", "tomorrow")
	if rec := u.form(t, "/oncall/overrides", cookie, bad); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "end must be a date and time") {
		t.Errorf("bad end = %d %s", rec.Code, rec.Body)
	}
	if rec := u.form(t, "/oncall/overrides", cookie, with(csrf)); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/oncall?done=override" {
		t.Fatalf("override = %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if got := u.inc.actions; len(got) != 1 || got[0] != "override primary carol 2026-03-25T09:00:00Z-2026-03-25T17:30:00Z by r" {
		t.Errorf("actions = %q", got)
	}
	if body := u.get(t, "/oncall?done=override", cookie).Body.String(); !strings.Contains(body, "Override added.") {
		t.Error("no flash after the override")
	}
	if last, _ := st.List(t.Context(), 0, 1, func(audit.Entry) bool { return true }); len(last) != 1 ||
		last[0].After != `schedule="primary" user="carol" start="2026-03-25T09:00:00Z" end="2026-03-25T17:30:00Z"` {
		t.Errorf("audit entry = %+v", last)
	}
}

// TestUIRemoveOverride: the Remove button needs a responder and the
// session's CSRF token, names an unknown override, and is audited with
// the override's fields as they were.
func TestUIRemoveOverride(t *testing.T) {
	u := newUIFixture(t)
	st := &memAuditStore{}
	u.srv.SetAudit(audit.New(st, nil, nil))
	const path = "/oncall/overrides/3f9a1c0b7d2e4a6b/remove"
	vcookie := u.signIn(t, tokViewer)
	vcsrf := csrfOf(t, u.get(t, "/oncall", vcookie).Body.String())
	if rec := u.form(t, path, vcookie, url.Values{"csrf": {vcsrf}}); rec.Code != http.StatusForbidden {
		t.Errorf("viewer's removal = %d", rec.Code)
	}
	cookie := u.signIn(t, tokResponder)
	csrf := csrfOf(t, u.get(t, "/oncall", cookie).Body.String())
	if rec := u.form(t, path, cookie, url.Values{}); rec.Code != http.StatusForbidden {
		t.Errorf("removal without the CSRF token = %d", rec.Code)
	}
	if rec := u.form(t, "/oncall/overrides/nope/remove", cookie, url.Values{"csrf": {csrf}}); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "no override") {
		t.Errorf("unknown override = %d %s", rec.Code, rec.Body)
	}
	if rec := u.form(t, path, cookie, url.Values{"csrf": {csrf}}); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/oncall?done=override-removed" {
		t.Fatalf("removal = %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if got := u.inc.actions; len(got) != 1 || got[0] != "remove override 3f9a1c0b7d2e4a6b by r" {
		t.Errorf("actions = %q", got)
	}
	last, _ := st.List(t.Context(), 0, 1, func(audit.Entry) bool { return true })
	if len(last) != 1 || last[0].Action != "POST /oncall/overrides/:override/remove" || last[0].Channel != "ui" ||
		last[0].Before != `schedule="primary" user="carol" start="2026-03-25T09:00:00Z" end="2026-03-25T17:30:00Z"` {
		t.Errorf("audit entry = %+v", last)
	}
	if body := u.get(t, "/oncall?done=override-removed", cookie).Body.String(); !strings.Contains(body, "Override removed.") {
		t.Error("no flash after the removal")
	}
}

// A browser loading a page that does not exist gets the dashboards' HTML
// error page; API clients, other methods and /api/ paths keep JSON.
func TestUnknownPageAnswersBrowsersInHTML(t *testing.T) {
	u := newUIFixture(t)
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	r := u.do(t, http.MethodGet, "/incident/7", "", nil, "Accept", browser)
	if r.Code != http.StatusNotFound || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("browser GET /incident/7 = %d %s", r.Code, r.Header().Get("Content-Type"))
	}
	if body := r.Body.String(); !strings.Contains(body, "There is no page at /incident/7.") || !strings.Contains(body, `href="/"`) {
		t.Errorf("page does not say what is missing or link home:\n%s", body)
	}
	if csp := r.Header().Get("Content-Security-Policy"); csp != uiCSP {
		t.Errorf("CSP %q, want the dashboards' own", csp)
	}
	for _, c := range []struct{ method, path, accept string }{
		{http.MethodGet, "/incident/7", "application/json"},
		{http.MethodGet, "/incident/7", ""},
		{http.MethodGet, "/api/v1/nope", browser},
		{http.MethodPost, "/incident/7", browser},
	} {
		r := u.do(t, c.method, c.path, "", nil, "Accept", c.accept)
		if r.Code != http.StatusNotFound || errorOf(t, r).Error != "no such endpoint: "+c.method+" "+c.path {
			t.Errorf("%s %s (Accept %q) = %d %s, want the JSON 404", c.method, c.path, c.accept, r.Code, r.Body)
		}
	}
}

// With the status page off, a visitor's browser is told so on a page; a
// widget reading its JSON still gets JSON.
func TestDisabledStatusPageAnswersBrowsersInHTML(t *testing.T) {
	u := newUIFixture(t)
	off, _ := statuspage.Compile(config.DefaultStatusPage(), nil, nil)
	now := func() time.Time { return *u.clock }
	svc, err := statuspage.New(statuspage.Options{Page: off, Store: store.NewStatusPage(store.NewMemory()), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	view, err := dashboards.NewStatusPage(dashboards.StatusPageOptions{Status: svc, ExternalURL: "https://shop.example.com", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	MountStatusPage(u.srv.Routes(), view, svc, off.RateLimit)
	r := u.do(t, http.MethodGet, "/status", "", nil, "Accept", "text/html")
	if r.Code != http.StatusNotFound || !strings.Contains(r.Body.String(), "This Sentinel has no public status page: it is not enabled (status_page.enabled).") {
		t.Errorf("browser GET /status = %d\n%s", r.Code, r.Body)
	}
	r = u.do(t, http.MethodGet, "/status/api/v2/status.json", "", nil, "Accept", "application/json")
	if r.Code != http.StatusNotFound || errorOf(t, r).Error != "the status page is not enabled (status_page.enabled)" {
		t.Errorf("GET status.json = %d %s", r.Code, r.Body)
	}
}
