package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/dashboards"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/statuspage"
	"github.com/sentinel-oss/sentinel/store"
)

type statusFixture struct {
	*fixture
	svc    *statuspage.Service
	view   *dashboards.StatusPage
	routes *StatusPageRoutes
}

func newStatusFixture(t *testing.T, edit func(*config.StatusPage)) *statusFixture {
	t.Helper()
	sp := config.DefaultStatusPage()
	sp.Enabled, sp.Title, sp.LogoURL = true, "Shop status", "https://cdn.shop.example.com/logo.png"
	sp.Components = []config.StatusComponent{{Name: "Checkout", Probe: "checkout"}}
	if edit != nil {
		edit(&sp)
	}
	page, ps := statuspage.Compile(sp, []config.Probe{{Name: "checkout", Location: "eu", Labels: model.Labels{"service": "checkout"}}}, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	f := &statusFixture{fixture: newFixture(t, nil)}
	now := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	svc, err := statuspage.New(statuspage.Options{Page: page, Store: store.NewStatusPage(store.NewMemory()), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	view, err := dashboards.NewStatusPage(dashboards.StatusPageOptions{Status: svc, ExternalURL: "https://shop.example.com", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	f.svc, f.view = svc, view
	f.routes = MountStatusPage(f.srv.Routes(), view, svc, page.RateLimit)
	return f
}

func TestStatusPageServing(t *testing.T) {
	f := newStatusFixture(t, nil)
	rec := f.do(t, http.MethodGet, "/status", "", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Shop status") {
		t.Fatalf("GET /status = %d %s", rec.Code, rec.Body)
	}
	h := rec.Header()
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") ||
		!strings.Contains(csp, "img-src 'self' https://cdn.shop.example.com;") {
		t.Errorf("CSP = %q", csp)
	}
	if h.Get("Cache-Control") != "public, max-age=5" || h.Get("ETag") == "" || h.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("headers = %v", h)
	}
	// The stylesheet the page links is served, immutable.
	i := strings.Index(rec.Body.String(), "/status/assets/style.")
	css := rec.Body.String()[i : i+strings.Index(rec.Body.String()[i:], `"`)]
	if r := f.do(t, http.MethodGet, css, "", nil); r.Code != http.StatusOK || !strings.Contains(r.Body.String(), ".overall") {
		t.Errorf("GET %s = %d", css, r.Code)
	}
	// HEAD: the same headers, no body; 304 for a matching ETag.
	head := f.do(t, http.MethodHead, "/status", "", nil)
	if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("ETag") != h.Get("ETag") {
		t.Errorf("HEAD = %d, %d bytes", head.Code, head.Body.Len())
	}
	if r := f.do(t, http.MethodGet, "/status", "", nil, "If-None-Match", h.Get("ETag")); r.Code != http.StatusNotModified || r.Body.Len() != 0 {
		t.Errorf("conditional GET = %d", r.Code)
	}
	// gzip for clients that take it.
	gz := f.do(t, http.MethodGet, "/status", "", nil, "Accept-Encoding", "br, gzip;q=0.8")
	if gz.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip: %v", gz.Header())
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Equal(plain, rec.Body.Bytes()) {
		t.Error("the gzip body differs from the plain one")
	}
	if r := f.do(t, http.MethodGet, "/status", "", nil, "Accept-Encoding", "gzip;q=0"); r.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent to a client that refused it")
	}
	// JSON for other sites' widgets; only GET and HEAD.
	js := f.do(t, http.MethodGet, "/status/api/v2/status.json", "", nil)
	if js.Code != http.StatusOK || js.Header().Get("Access-Control-Allow-Origin") != "*" || !json.Valid(js.Body.Bytes()) {
		t.Errorf("status.json = %d %v", js.Code, js.Header())
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		if r := f.do(t, m, "/status/api/v2/summary.json", "", strings.NewReader("{}"), "Content-Type", "application/json"); r.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s = %d, want 405", m, r.Code)
		}
	}
	for _, p := range []string{"/status/badge/nope.svg", "/status/badge/checkout", "/status/incidents/12", "/status/assets/style.0000.css"} {
		if r := f.do(t, http.MethodGet, p, "", nil); r.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, r.Code)
		}
	}
	if r := f.do(t, http.MethodGet, "/status/badge/checkout.svg", "", nil); r.Code != http.StatusOK || r.Header().Get("Content-Type") != "image/svg+xml" {
		t.Errorf("badge = %d %v", r.Code, r.Header())
	}
}

func TestStatusPageRateLimitAndDisabled(t *testing.T) {
	f := newStatusFixture(t, func(sp *config.StatusPage) {
		sp.RateLimit = config.StatusRateLimit{PerIP: 0.001, PerIPBurst: 3, TrackedIPs: 10}
	})
	for i := range 3 {
		if r := f.do(t, http.MethodGet, "/status/api/v2/status.json", "", nil); r.Code != http.StatusOK {
			t.Fatalf("request %d = %d", i+1, r.Code)
		}
	}
	r := f.do(t, http.MethodGet, "/status", "", nil)
	if r.Code != http.StatusTooManyRequests || r.Header().Get("Retry-After") != "1" {
		t.Fatalf("fourth request = %d %v", r.Code, r.Header())
	}
	errorOf(t, r)
	// A reload's new limit starts afresh.
	f.routes.SetRateLimit(config.StatusRateLimit{PerIP: 100, PerIPBurst: 100, TrackedIPs: 10})
	if r := f.do(t, http.MethodGet, "/status", "", nil); r.Code != http.StatusOK {
		t.Fatalf("after a new limit = %d", r.Code)
	}

	// Disabled by a reload: 404 everywhere, at once.
	sp := config.DefaultStatusPage()
	off, _ := statuspage.Compile(sp, nil, nil)
	f.svc.Apply(off)
	f.view.Invalidate()
	for _, p := range []string{"/status", "/status/api/v2/summary.json", "/status/feed.atom"} {
		if r := f.do(t, http.MethodGet, p, "", nil); r.Code != http.StatusNotFound {
			t.Errorf("disabled: GET %s = %d", p, r.Code)
		}
	}
}

func TestStatusOverrideAPI(t *testing.T) {
	f := newStatusFixture(t, nil)
	body := `{"status": "partial_outage", "reason": "Visa payments fail at the acquirer", "until": "2026-03-01T14:00:00Z"}`
	put := func(token, id, body string) int {
		return f.do(t, http.MethodPut, "/api/v1/status-page/components/"+id+"/override", token, strings.NewReader(body), "Content-Type", "application/json").Code
	}
	if c := put("", "checkout", body); c != http.StatusUnauthorized {
		t.Errorf("anonymous = %d", c)
	}
	if c := put(tokViewer, "checkout", body); c != http.StatusForbidden {
		t.Errorf("viewer = %d", c)
	}
	if c := put(tokResponder, "nope", body); c != http.StatusNotFound {
		t.Errorf("unknown component = %d", c)
	}
	for _, bad := range []string{`{"status": "down", "reason": "x"}`, `{"status": "major_outage"}`, `{"status": "major_outage", "reason": "x", "until": "2020-01-01T00:00:00Z"}`, `{"status": "major_outage", "reason": "x", "extra": 1}`} {
		if c := put(tokResponder, "checkout", bad); c != http.StatusBadRequest {
			t.Errorf("%s = %d, want 400", bad, c)
		}
	}
	if c := put(tokResponder, "checkout", body); c != http.StatusOK {
		t.Fatalf("responder = %d", c)
	}
	// The public page follows at once; the reason stays inside.
	pub := f.do(t, http.MethodGet, "/status/api/v2/components.json", "", nil).Body.String()
	if !strings.Contains(pub, `"status":"partial_outage"`) || strings.Contains(pub, "Visa") {
		t.Errorf("public components = %s", pub)
	}
	rec := f.do(t, http.MethodGet, "/api/v1/status-page/components", tokViewer, nil)
	var list struct {
		Components []StatusComponentDTO `json:"components"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list.Components) != 1 {
		t.Fatalf("components = %s", rec.Body)
	}
	c := list.Components[0]
	if c.Status != statuspage.PartialOutage || c.Automatic != statuspage.Operational || c.Override == nil || c.Override.Actor != "r" ||
		c.Override.Reason != "Visa payments fail at the acquirer" || c.Source != "probe:checkout" {
		t.Errorf("component = %+v", c)
	}
	// Clearing needs a reason too, in the body or the query.
	if r := f.do(t, http.MethodDelete, "/api/v1/status-page/components/checkout/override", tokResponder, nil); r.Code != http.StatusBadRequest ||
		!strings.Contains(r.Body.String(), "?reason=") || !strings.Contains(r.Body.String(), "reason is required") {
		t.Errorf("clear without reason = %d %s, want 400 saying where the reason goes", r.Code, r.Body)
	}
	if r := f.do(t, http.MethodDelete, "/api/v1/status-page/components/checkout/override?reason=+", tokResponder, nil); r.Code != http.StatusBadRequest {
		t.Errorf("clear with a blank reason = %d %s", r.Code, r.Body)
	}
	if r := f.do(t, http.MethodDelete, "/api/v1/status-page/components/checkout/override?reason=acquirer+fixed", tokResponder, nil); r.Code != http.StatusOK {
		t.Errorf("clear = %d %s", r.Code, r.Body)
	}
	log := f.do(t, http.MethodGet, "/api/v1/status-page/overrides", tokViewer, nil).Body.String()
	if !strings.Contains(log, `"action":"cleared"`) || !strings.Contains(log, `"reason":"acquirer fixed"`) || !strings.Contains(log, `"action":"set"`) {
		t.Errorf("log = %s", log)
	}
}

// FuzzStatusRequestHeaders feeds the headers the status page parses
// (If-None-Match, Accept-Encoding) with anything: no panic, and an ETag
// listed among others still matches.
func FuzzStatusRequestHeaders(f *testing.F) {
	for _, s := range []string{`"abc"`, `W/"abc", "def"`, "*", "gzip;q=0", "br, gzip;q=0.8", "GZIP", "gzip;q=abc", ";;,,", "gzip; q = 0.000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		acceptsGzip(h)
		etagMatch(h, `"x"`)
		if !etagMatch(h+`, "x"`, `"x"`) {
			t.Fatalf("%q followed by the ETag does not match it", h)
		}
	})
}
