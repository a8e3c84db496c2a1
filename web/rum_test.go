package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/rum"
)

const (
	rumOrigin = "https://shop.example.com"
	rumUA     = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0 Safari/537.36"
)

var rumNow = time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)

// rumFixture is a server with a real collector mounted, the way the app
// mounts it.
func rumFixture(t *testing.T, edit func(*Options)) (*fixture, *rum.Collector) {
	t.Helper()
	f := newFixture(t, func(o *Options) {
		o.Server.MaxBodyBytes = 1 << 20
		o.Server.TrustedProxies = []string{"10.0.0.0/8"}
		if edit != nil {
			edit(o)
		}
	})
	cfg := config.DefaultRUM()
	cfg.AllowedOrigins = []string{rumOrigin}
	cfg.Site = "shop"
	cfg.Routes = []string{"/product/:id", "/cart"}
	cfg.RateLimit.PerIP, cfg.RateLimit.PerIPBurst = 1, 2
	ipOf, err := ClientIPFunc([]string{"10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	col, err := rum.New(cfg, "https://sentinel.example.com", rum.Options{
		Registerer: f.reg,
		ClientIP:   ipOf,
		Now:        func() time.Time { return rumNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	MountRUM(f.srv.Routes(), RUMHandlers{Script: col.ScriptHandler(), Beacons: col.BeaconHandler()}, col.Service())
	return f, col
}

const rumBeacon = `{"v":1,"site":"shop","session":"3f9a1c0b7d2e4a6b8c0d1e2f","events":[
 {"type":"vital","url":"https://shop.example.com/product/42","name":"lcp","value":1.9},
 {"type":"error","url":"https://shop.example.com/product/42","message":"TypeError: x is undefined","stack":"at buy (https://shop.example.com/app.js:10:5)"},
 {"type":"page_view","url":"https://shop.example.com/product/42","errors":1}]}`

func TestRUMScriptThroughServer(t *testing.T) {
	f, _ := rumFixture(t, nil)
	rec := f.do(t, http.MethodGet, "/rum.js", "", nil, "Accept-Encoding", "gzip, br")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /rum.js = %d %s", rec.Code, rec.Body)
	}
	h := rec.Header()
	for k, want := range map[string]string{
		"Content-Encoding":             "gzip",
		"Content-Type":                 "text/javascript; charset=utf-8",
		"Vary":                         "Accept-Encoding",
		"Cache-Control":                "public, max-age=300",
		"X-Content-Type-Options":       "nosniff",
		"Cross-Origin-Resource-Policy": "cross-origin",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if h.Get("X-Request-ID") == "" {
		t.Error("the server's middleware did not run (no X-Request-ID)")
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte("https://sentinel.example.com/rum/v1/beacons")) {
		t.Errorf("the snippet does not name the beacon endpoint: %.200s", js)
	}
	tag := h.Get("ETag")
	if tag == "" {
		t.Fatal("no ETag")
	}
	if rec := f.do(t, http.MethodGet, "/rum.js", "", nil, "Accept-Encoding", "gzip", "If-None-Match", tag); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("conditional GET = %d with %d bytes, want 304 and none", rec.Code, rec.Body.Len())
	}
	plain := f.do(t, http.MethodGet, "/rum.js", "", nil)
	if plain.Header().Get("Content-Encoding") != "" || plain.Header().Get("ETag") == tag {
		t.Errorf("plain answer: encoding %q, same ETag as gzip: %v", plain.Header().Get("Content-Encoding"), plain.Header().Get("ETag") == tag)
	}
	head := f.do(t, http.MethodHead, "/rum.js", "", nil)
	if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("Content-Length") != plain.Header().Get("Content-Length") {
		t.Errorf("HEAD = %d, %d body bytes, Content-Length %q (GET had %q)", head.Code, head.Body.Len(), head.Header().Get("Content-Length"), plain.Header().Get("Content-Length"))
	}
}

func TestRUMBeaconsThroughServer(t *testing.T) {
	f, col := rumFixture(t, nil)
	pre := f.do(t, http.MethodOptions, "/rum/v1/beacons", "", nil, "Origin", rumOrigin, "Access-Control-Request-Method", "POST")
	if pre.Code != http.StatusNoContent || pre.Header().Get("Access-Control-Allow-Origin") != rumOrigin {
		t.Errorf("preflight = %d, ACAO %q", pre.Code, pre.Header().Get("Access-Control-Allow-Origin"))
	}
	if rec := f.do(t, http.MethodOptions, "/rum/v1/beacons", "", nil, "Origin", "https://evil.example"); rec.Code != http.StatusForbidden {
		t.Errorf("preflight from another origin = %d, want 403", rec.Code)
	}

	post := func(body string, hdr ...string) *httptest.ResponseRecorder {
		return f.do(t, http.MethodPost, "/rum/v1/beacons", "", strings.NewReader(body),
			append([]string{"Origin", rumOrigin, "Content-Type", "text/plain;charset=UTF-8", "User-Agent", rumUA}, hdr...)...)
	}
	rec := post(rumBeacon)
	if rec.Code != http.StatusAccepted || rec.Header().Get("Access-Control-Allow-Origin") != rumOrigin {
		t.Fatalf("beacon = %d %s, ACAO %q", rec.Code, rec.Body, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	// The 202 and the preflight's 204 have no body: the request ID and the
	// CORS headers, none of the headers that protect a body. An error
	// answer, which has one, gets them.
	for name, h := range map[string]http.Header{"202": rec.Header(), "preflight": pre.Header()} {
		if h.Get("X-Request-Id") == "" || h.Get("Vary") != "Origin" {
			t.Errorf("%s lacks X-Request-Id or Vary: %v", name, h)
		}
		for _, k := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Type"} {
			if v := h.Get(k); v != "" {
				t.Errorf("bodiless %s answer has %s: %s", name, k, v)
			}
		}
	}
	if rec := post(`{"v":1`); rec.Code != http.StatusBadRequest || rec.Header().Get("X-Content-Type-Options") != "nosniff" ||
		rec.Header().Get("X-Frame-Options") != "DENY" || rec.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("malformed beacon = %d with headers %v, want 400 with the security headers", rec.Code, rec.Header())
	}
	// The collector's own cap (64 KiB) answers before the server's (1 MiB).
	if rec := post(strings.Repeat(" ", 70<<10) + rumBeacon); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized beacon = %d, want 413", rec.Code)
	}

	// Rate limits use the server's client IP logic: a trusted proxy's
	// X-Forwarded-For names the client, so clients behind it are apart.
	via := func(xff string) int {
		req := httptest.NewRequest(http.MethodPost, "/rum/v1/beacons", strings.NewReader(rumBeacon))
		req.RemoteAddr = "10.1.2.3:4444"
		req.Header.Set("X-Forwarded-For", xff)
		// A client naming itself in the header the server's middleware
		// fills is not believed: the middleware overwrites it.
		req.Header.Set(clientIPHeader, "198.51.100.99")
		req.Header.Set("Origin", rumOrigin)
		req.Header.Set("User-Agent", rumUA)
		w := httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(w, req)
		return w.Code
	}
	codes := []int{via("203.0.113.7"), via("203.0.113.7"), via("203.0.113.7")}
	if codes[2] != http.StatusTooManyRequests {
		t.Errorf("third beacon from one client = %v, want 429 last (burst 2)", codes)
	}
	if c := via("203.0.113.8"); c != http.StatusAccepted {
		t.Errorf("beacon from another client behind the same proxy = %d, want 202", c)
	}

	if err := col.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec = f.do(t, http.MethodGet, "/api/v1/rum/vitals?from=2026-03-01T11:00:00Z&to=2026-03-01T13:00:00Z", tokViewer, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("vitals = %d %s", rec.Code, rec.Body)
	}
	var rep rum.VitalsReport
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Routes) != 1 || rep.Routes[0].Route != "/product/:id" || rep.Routes[0].PageViews < 1 ||
		rep.Routes[0].JSErrors < 1 || rep.Routes[0].Vitals["lcp"].Samples < 1 || rep.Routes[0].Vitals["lcp"].P75 == nil {
		t.Errorf("vitals report: %s", rec.Body)
	}
	rec = f.do(t, http.MethodGet, "/api/v1/rum/errors?limit=5", tokViewer, nil)
	var errs rum.ErrorsReport
	if err := json.Unmarshal(rec.Body.Bytes(), &errs); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("errors = %d %s (%v)", rec.Code, rec.Body, err)
	}
	if len(errs.Groups) != 1 || !strings.Contains(errs.Groups[0].Message, "x is undefined") {
		t.Errorf("errors report: %s", rec.Body)
	}
}

func TestRUMQueryErrors(t *testing.T) {
	f, _ := rumFixture(t, nil)
	for _, tc := range []struct {
		target, token string
		status        int
		mentions      string
	}{
		{"/api/v1/rum/vitals", "", http.StatusUnauthorized, ""},
		{"/api/v1/rum/vitals", tokIngest, http.StatusForbidden, ""},
		{"/api/v1/rum/vitals", tokViewer, http.StatusOK, ""},
		{"/api/v1/rum/vitals?from=yesterday", tokViewer, http.StatusBadRequest, "from"},
		{"/api/v1/rum/vitals?to=2026-03-01", tokViewer, http.StatusBadRequest, "to"},
		{"/api/v1/rum/vitals?from=2026-03-01T12:00:00Z&to=2026-03-01T11:00:00Z", tokViewer, http.StatusBadRequest, "not before"},
		{"/api/v1/rum/vitals?from=2025-01-01T00:00:00Z&to=2026-03-01T11:00:00Z", tokViewer, http.StatusBadRequest, "longer than"},
		{"/api/v1/rum/errors", tokViewer, http.StatusOK, ""},
		{"/api/v1/rum/errors?since=2026-03-01T12:00:00%2B01:00", tokViewer, http.StatusOK, ""},
		{"/api/v1/rum/errors?since=now", tokViewer, http.StatusBadRequest, "since"},
		{"/api/v1/rum/errors?limit=0", tokViewer, http.StatusBadRequest, "limit"},
		{"/api/v1/rum/errors?limit=x", tokViewer, http.StatusBadRequest, "limit"},
		{"/api/v1/rum/errors?limit=1001", tokViewer, http.StatusBadRequest, "limit"},
	} {
		rec := f.do(t, http.MethodGet, tc.target, tc.token, nil)
		if rec.Code != tc.status {
			t.Errorf("%s = %d %s, want %d", tc.target, rec.Code, rec.Body, tc.status)
			continue
		}
		if tc.mentions != "" {
			if e := errorOf(t, rec); !strings.Contains(e.Error, tc.mentions) {
				t.Errorf("%s: error %q does not mention %q", tc.target, e.Error, tc.mentions)
			}
		}
	}
}

func TestClientIPFuncMatchesServer(t *testing.T) {
	trusted := []string{"10.0.0.0/8", "::1"}
	ipOf, err := ClientIPFunc(trusted)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(o *Options) { o.Server.TrustedProxies = trusted })
	for _, tc := range []struct{ remote, xff, realIP, want string }{
		{"198.51.100.1:1234", "203.0.113.9", "", "198.51.100.1"},
		{"10.0.0.1:1234", "203.0.113.9", "", "203.0.113.9"},
		{"10.0.0.1:1234", "192.0.2.1, 203.0.113.9, 10.0.0.2", "", "203.0.113.9"},
		{"[::1]:1234", "", "203.0.113.5", "203.0.113.5"},
		{"10.0.0.1:1234", "junk, 10.0.0.3", "", "10.0.0.3"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/t/public", nil)
		req.RemoteAddr = tc.remote
		if tc.xff != "" {
			req.Header.Set("X-Forwarded-For", tc.xff)
		}
		if tc.realIP != "" {
			req.Header.Set("X-Real-IP", tc.realIP)
		}
		if got := ipOf(req); got != tc.want {
			t.Errorf("ClientIPFunc(%s, %q) = %q, want %q", tc.remote, tc.xff, got, tc.want)
		}
		w := httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(w, req)
		var body struct {
			ClientIP string `json:"client_ip"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if body.ClientIP != tc.want {
			t.Errorf("server client IP for (%s, %q) = %q, want %q", tc.remote, tc.xff, body.ClientIP, tc.want)
		}
	}
	if _, err := ClientIPFunc([]string{"not-an-ip"}); err == nil || !strings.Contains(err.Error(), "trusted_proxies[0]") {
		t.Errorf("bad proxy: err = %v", err)
	}
}
