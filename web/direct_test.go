package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sentinel-oss/sentinel/model"
)

// A direct route skips gin but not what every route gets: the request ID,
// security headers, the client IP, the access log and metrics, and the
// body read deadline.
func TestDirectRouteGetsTheMiddleware(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Server.TrustedProxies = []string{"10.0.0.0/8"} })
	type seen struct{ clientIP, requestID, body string }
	got := make(chan seen, 1)
	f.srv.Routes().Direct("/t/direct", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading the body: %v", err)
		}
		got <- seen{r.Header.Get(clientIPHeader), RequestIDFrom(r.Context()), string(body)}
		w.WriteHeader(http.StatusAccepted)
	}), http.MethodPost)
	if !slices.Contains(f.srv.RouteList(), Route{Method: http.MethodPost, Path: "/t/direct"}) {
		t.Errorf("RouteList lacks the direct route: %v", f.srv.RouteList())
	}
	ts := httptest.NewServer(f.srv.Handler())
	defer ts.Close()

	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/t/direct", strings.NewReader("hello"))
	req.Header.Set("X-Request-ID", "abc-123")
	req.Header.Set(clientIPHeader, "6.6.6.6") // a client cannot choose its address
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", resp.StatusCode)
	}
	s := <-got
	if s.clientIP != "127.0.0.1" || s.requestID != "abc-123" || s.body != "hello" {
		t.Errorf("the handler saw %+v, want client 127.0.0.1, request ID abc-123, body hello", s)
	}
	for name, want := range map[string]string{"X-Request-Id": "abc-123", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
		if v := resp.Header.Get(name); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	if n := testutil.ToFloat64(f.srv.requests.WithLabelValues("/t/direct", "POST", "202")); n != 1 {
		t.Errorf("sentinel_http_requests_total{route=/t/direct,code=202} = %v, want 1", n)
	}
	logs := f.logs.String()
	for _, want := range []string{`"route":"/t/direct"`, `"status":202`, `"request_id":"abc-123"`, `"client_ip":"127.0.0.1"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("access log lacks %s:\n%s", want, logs)
		}
	}

	// Other paths still go to gin; a trailing slash is another path.
	for path, want := range map[string]int{"/t/public": 200, "/t/direct/": 404} {
		if rec := f.do(t, http.MethodGet, path, "", nil); rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
}

// The security headers go on every direct answer that may have a body,
// whatever way the handler writes it, and on none that cannot.
func TestDirectRouteSecurityHeadersFollowTheBody(t *testing.T) {
	f := newFixture(t, nil)
	routes := map[string]struct {
		h    http.HandlerFunc
		want bool
	}{
		"/t/empty-202": {func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusAccepted)
		}, false},
		"/t/204":     {func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }, false},
		"/t/304":     {func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotModified) }, false},
		"/t/202":     {func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }, true},
		"/t/write":   {func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }, true},
		"/t/nothing": {func(http.ResponseWriter, *http.Request) {}, true},
		"/t/early-hints": {func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			_, _ = w.Write([]byte("x"))
		}, true},
	}
	for path, r := range routes {
		f.srv.Routes().Direct(path, r.h)
	}
	ts := httptest.NewServer(f.srv.Handler())
	defer ts.Close()
	for path, r := range routes {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", path)
		}
		for _, k := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
			if got := resp.Header.Get(k) != ""; got != r.want {
				t.Errorf("%s (%d): %s present = %v, want %v", path, resp.StatusCode, k, got, r.want)
			}
		}
	}
}

func TestDirectRoutePanics(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.Routes().Direct("/t/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	f.srv.Routes().Direct("/t/late-boom", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		panic("late boom")
	}))
	ts := httptest.NewServer(f.srv.Handler())
	defer ts.Close()

	resp, err := http.Post(ts.URL+"/t/boom", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	var b ErrorBody
	_ = json.NewDecoder(resp.Body).Decode(&b)
	resp.Body.Close()
	if resp.StatusCode != 500 || b.Error != "internal error" || b.RequestID == "" || b.RequestID != resp.Header.Get("X-Request-Id") {
		t.Fatalf("panic answer: %d %+v (X-Request-Id %q)", resp.StatusCode, b, resp.Header.Get("X-Request-Id"))
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("panic answer lacks security headers")
	}
	// Once the status is out, the answer is cut (net/http may already
	// have sent the 202), never followed by a 500.
	if resp, err := http.Post(ts.URL+"/t/late-boom", "text/plain", nil); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted || len(body) > 0 {
			t.Errorf("a panic after the status: %d %q, want the 202 cut short", resp.StatusCode, body)
		}
	}
	if resp, err := http.Get(ts.URL + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("server stopped serving after a panic: %v", err)
	} else {
		resp.Body.Close()
	}
	if n := testutil.ToFloat64(f.srv.panics); n != 2 {
		t.Errorf("sentinel_http_panics_total = %v, want 2", n)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "panic serving request") || !strings.Contains(logs, "direct_test.go") {
		t.Errorf("panic not logged with its stack:\n%s", logs)
	}
	if n := testutil.ToFloat64(f.srv.requests.WithLabelValues("/t/boom", "POST", "500")); n != 1 {
		t.Errorf("sentinel_http_requests_total{route=/t/boom,code=500} = %v, want 1", n)
	}
}

// A direct route's body must arrive within server.read_timeout, as on
// every other route.
func TestDirectRouteReadDeadline(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Server.ReadTimeout = model.Duration(200 * time.Millisecond) })
	errs := make(chan error, 1)
	f.srv.Routes().Direct("/t/slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		errs <- err
		w.WriteHeader(http.StatusBadRequest)
	}))
	ts := httptest.NewServer(f.srv.Handler())
	defer ts.Close()
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { _, _ = pw.Write([]byte("a")) }() // then nothing more
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/t/slow", pr)
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case err := <-errs:
		if err == nil || !strings.Contains(err.Error(), "timeout") {
			t.Fatalf("reading a stalled body: %v, want a timeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a stalled body was never cut")
	}
}
