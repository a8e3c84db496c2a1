package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRequestID(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name     string
		incoming string
		keep     bool
	}{
		{"sane", "abc-123_x.y:z", true},
		{"64 chars", strings.Repeat("a", 64), true},
		{"65 chars", strings.Repeat("a", 65), false},
		{"space", "abc def", false},
		{"newline", "abc\ndef", false},
		{"quote", `abc"def`, false},
		{"absent", "", false},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(t, http.MethodGet, "/healthz", "", nil, "X-Request-ID", tc.incoming)
			got := rec.Header().Get("X-Request-ID")
			if tc.keep && got != tc.incoming {
				t.Fatalf("echoed %q, want %q", got, tc.incoming)
			}
			if !tc.keep {
				if got == tc.incoming || !validRequestID(got) {
					t.Fatalf("generated %q for incoming %q", got, tc.incoming)
				}
				if seen[got] {
					t.Fatalf("generated ID %q twice", got)
				}
				seen[got] = true
			}
		})
	}
	// Error bodies carry the same ID as the header.
	rec := f.do(t, http.MethodGet, "/nope", "", nil, "X-Request-ID", "trace-42")
	if b := errorOf(t, rec); b.RequestID != "trace-42" {
		t.Fatalf("error body request_id = %q", b.RequestID)
	}
	if !strings.Contains(f.logs.String(), `"request_id":"trace-42"`) {
		t.Fatalf("access log lacks the request ID")
	}
}

func TestClientIPFunction(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("2001:db8::/32")}
	cases := []struct {
		name   string
		remote string
		xff    []string
		real   string
		want   string
	}{
		{"untrusted peer, no headers", "203.0.113.9:5000", nil, "", "203.0.113.9"},
		{"untrusted peer spoofs XFF", "203.0.113.9:5000", []string{"1.1.1.1"}, "", "203.0.113.9"},
		{"untrusted peer spoofs X-Real-IP", "203.0.113.9:5000", nil, "1.1.1.1", "203.0.113.9"},
		{"trusted peer, one hop", "10.1.2.3:5000", []string{"198.51.100.7"}, "", "198.51.100.7"},
		{"trusted peer, client-forged left part", "10.1.2.3:5000", []string{"1.1.1.1, 198.51.100.7"}, "", "198.51.100.7"},
		{"two trusted proxies", "10.1.2.3:5000", []string{"6.6.6.6, 198.51.100.7, 10.9.9.9"}, "", "198.51.100.7"},
		{"split header lines", "10.1.2.3:5000", []string{"6.6.6.6, 198.51.100.7", "10.9.9.9"}, "", "198.51.100.7"},
		{"all trusted", "10.1.2.3:5000", []string{"10.0.0.5, 10.0.0.6"}, "", "10.0.0.5"},
		{"garbage stops the walk", "10.1.2.3:5000", []string{"1.1.1.1, nonsense, 10.0.0.6"}, "", "10.0.0.6"},
		{"garbage right away", "10.1.2.3:5000", []string{"nonsense"}, "", "10.1.2.3"},
		{"empty entries skipped", "10.1.2.3:5000", []string{" , 198.51.100.7 ,, "}, "", "198.51.100.7"},
		{"entry with port", "10.1.2.3:5000", []string{"198.51.100.7:4444"}, "", "198.51.100.7"},
		{"ipv6 entry bracketed", "10.1.2.3:5000", []string{"[2001:db9::1]:80"}, "", "2001:db9::1"},
		{"ipv6 bare", "10.1.2.3:5000", []string{"2001:db9::1"}, "", "2001:db9::1"},
		{"ipv6 trusted peer", "[2001:db8::5]:443", []string{"198.51.100.7"}, "", "198.51.100.7"},
		{"mapped v4 peer", "[::ffff:10.1.2.3]:80", []string{"198.51.100.7"}, "", "198.51.100.7"},
		{"X-Real-IP from trusted", "192.0.2.1:80", nil, "198.51.100.8", "198.51.100.8"},
		{"XFF wins over X-Real-IP", "192.0.2.1:80", []string{"198.51.100.7"}, "198.51.100.8", "198.51.100.7"},
		{"bad X-Real-IP from trusted", "192.0.2.1:80", nil, "junk", "192.0.2.1"},
		{"bad remote", "junk", []string{"1.1.1.1"}, "", "invalid IP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := clientIP(tc.remote, tc.xff, tc.real, trusted)
			if got.String() != tc.want {
				t.Fatalf("clientIP = %s, want %s", got, tc.want)
			}
		})
	}
}

func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:80", "1.2.3.4, 10.0.0.2", "5.6.7.8")
	f.Add("203.0.113.1:80", "1.2.3.4", "")
	f.Add("[::1]:80", "[::1]:9, ::ffff:1.2.3.4,,x", "::1")
	f.Add("10.0.0.1:80", "", "1.1.1.1")
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, remote, xff, real string) {
		got := clientIP(remote, []string{xff}, real, trusted)
		peer, ok := parseHostAddr(remote)
		if !ok {
			if got.IsValid() {
				t.Fatalf("bad remote %q gave %s", remote, got)
			}
			return
		}
		if !isTrusted(peer, trusted) && got != peer {
			t.Fatalf("untrusted peer %s: headers believed, got %s", peer, got)
		}
		if !got.IsValid() {
			t.Fatalf("valid peer %s gave no address", peer)
		}
		if got.Zone() != "" || got.Is4In6() {
			t.Fatalf("result %s not normalised", got)
		}
		if got != peer {
			// Anything but the peer must be an address the input spelled.
			found := false
			for _, e := range append(strings.Split(xff, ","), real) {
				if a, ok := parseHostAddr(strings.Trim(e, " \t")); ok && a == got {
					found = true
				}
			}
			if !found {
				t.Fatalf("result %s appears nowhere in the input", got)
			}
		}
	})
}

func TestClientIPThroughServer(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Server.TrustedProxies = []string{"10.0.0.0/8"} })
	cases := []struct {
		name   string
		remote string
		hdr    []string
		want   string
	}{
		{"untrusted peer spoofing", "203.0.113.9:1", []string{"X-Forwarded-For", "1.1.1.1", "X-Real-IP", "2.2.2.2"}, "203.0.113.9"},
		{"untrusted peer forging our header", "203.0.113.9:1", []string{"X-Sentinel-Client-Ip", "1.1.1.1"}, "203.0.113.9"},
		{"trusted peer forwarding", "10.0.0.1:1", []string{"X-Forwarded-For", "1.1.1.1, 198.51.100.7"}, "198.51.100.7"},
		{"trusted peer, forged our header", "10.0.0.1:1", []string{"X-Sentinel-Client-Ip", "1.1.1.1"}, "10.0.0.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/t/public", nil)
			req.RemoteAddr = tc.remote
			for i := 0; i < len(tc.hdr); i += 2 {
				req.Header.Set(tc.hdr[i], tc.hdr[i+1])
			}
			rec := httptest.NewRecorder()
			f.srv.Handler().ServeHTTP(rec, req)
			var got map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got["client_ip"] != tc.want || got["web_client_ip"] != tc.want {
				t.Fatalf("client IP = %q / %q, want %q", got["client_ip"], got["web_client_ip"], tc.want)
			}
		})
	}
}

func TestBodyLimitContentLength(t *testing.T) {
	f := newFixture(t, nil) // limit 1024
	var reached atomic.Bool
	f.srv.Routes().Public().POST("/t/read", func(c *gin.Context) {
		reached.Store(true)
		if _, err := io.ReadAll(c.Request.Body); err != nil {
			Error(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	rec := f.do(t, http.MethodPost, "/t/read", "", bytes.NewReader(make([]byte, 1025)))
	if rec.Code != http.StatusRequestEntityTooLarge || reached.Load() {
		t.Fatalf("oversize Content-Length: status %d, handler reached %v", rec.Code, reached.Load())
	}
	if b := errorOf(t, rec); !strings.Contains(b.Error, "1024") {
		t.Errorf("413 message %q should state the limit", b.Error)
	}
	rec = f.do(t, http.MethodPost, "/t/read", "", bytes.NewReader(make([]byte, 1024)))
	if rec.Code != http.StatusNoContent {
		t.Fatalf("body at the limit: status %d", rec.Code)
	}
	// Unauthenticated bodies are refused too, before auth is even asked.
	rec = f.do(t, http.MethodPost, "/t/ingest", "", bytes.NewReader(make([]byte, 5000)))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize body on an auth route: status %d", rec.Code)
	}
}

// chunkedReader hides its length so the client sends chunked encoding.
type chunkedReader struct{ r io.Reader }

func (c chunkedReader) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestBodyLimitChunkedAndOverrides(t *testing.T) {
	f := newFixture(t, nil) // limit 1024
	read := func(c *gin.Context) {
		n, err := io.Copy(io.Discard, c.Request.Body)
		if err != nil {
			Error(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"n": n})
	}
	r := f.srv.Routes().Public()
	r.POST("/t/read", read)
	r.POST("/t/small", BodyLimit(10), read)
	r.POST("/t/big", BodyLimit(4096), read)
	var bound struct {
		Name string `json:"name"`
	}
	r.POST("/t/bind", func(c *gin.Context) {
		if BindJSON(c, &bound, 0) != nil {
			return
		}
		c.Status(http.StatusNoContent)
	})
	ts := httptest.NewServer(f.srv.Handler())
	defer ts.Close()

	cases := []struct {
		path string
		size int
		want int
	}{
		{"/t/read", 1024, 200},
		{"/t/read", 1025, 413},
		{"/t/read", 100000, 413},
		{"/t/small", 10, 200},
		{"/t/small", 11, 413},
		{"/t/big", 1024, 200}, // max_body_bytes stays the ceiling
		{"/t/big", 1025, 413},
	}
	for _, tc := range cases {
		for _, chunked := range []bool{false, true} {
			var body io.Reader = bytes.NewReader(bytes.Repeat([]byte("x"), tc.size))
			if chunked {
				body = chunkedReader{body}
			}
			req, _ := http.NewRequest(http.MethodPost, ts.URL+tc.path, body)
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatalf("%s %d chunked=%v: %v", tc.path, tc.size, chunked, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s size %d chunked=%v: status %d, want %d (%s)", tc.path, tc.size, chunked, resp.StatusCode, tc.want, b)
			}
		}
	}
	// A chunked JSON body over the limit is 413 from BindJSON.
	big := `{"name":"` + strings.Repeat("x", 2000) + `"}`
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/t/bind", chunkedReader{strings.NewReader(big)})
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked oversize JSON: status %d", resp.StatusCode)
	}
}

func TestPanicRecovery(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.Routes().Public().GET("/t/panic", func(c *gin.Context) { panic("boom") })
	ts := httptest.NewServer(f.srv.Handler())
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/t/panic")
	if err != nil {
		t.Fatal(err)
	}
	var b ErrorBody
	_ = json.NewDecoder(resp.Body).Decode(&b)
	resp.Body.Close()
	if resp.StatusCode != 500 || b.Error != "internal error" || b.RequestID == "" {
		t.Fatalf("panic answer: %d %+v", resp.StatusCode, b)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("panic answer lacks security headers")
	}
	resp, err = http.Get(ts.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("server stopped serving after a panic: %v", err)
	}
	resp.Body.Close()
	logs := f.logs.String()
	if !strings.Contains(logs, "panic serving request") || !strings.Contains(logs, "middleware_test.go") {
		t.Errorf("panic not logged with its stack:\n%s", logs)
	}
	if !strings.Contains(logs, `"status":500`) {
		t.Errorf("access log lacks the 500")
	}
	if got := testutil.ToFloat64(f.srv.panics); got != 1 {
		t.Errorf("sentinel_http_panics_total = %v, want 1", got)
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.do(t, http.MethodGet, "/no/such/thing", "", nil)
	if rec.Code != 404 {
		t.Fatalf("status %d", rec.Code)
	}
	if b := errorOf(t, rec); !strings.Contains(b.Error, "/no/such/thing") {
		t.Errorf("404 message %q", b.Error)
	}
	rec = f.do(t, http.MethodDelete, "/healthz", "", nil)
	if rec.Code != 405 {
		t.Fatalf("status %d", rec.Code)
	}
	errorOf(t, rec)
	if allow := rec.Header().Get("Allow"); !strings.Contains(allow, "GET") {
		t.Errorf("405 Allow header = %q", allow)
	}
	// Trailing slashes are not redirected (no X-Forwarded-Prefix games).
	rec = f.do(t, http.MethodGet, "/healthz/", "", nil, "X-Forwarded-Prefix", "//evil.example")
	if rec.Code != 404 || rec.Header().Get("Location") != "" {
		t.Fatalf("trailing slash: status %d, Location %q", rec.Code, rec.Header().Get("Location"))
	}
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if rec.Header().Get(h) == "" {
			t.Errorf("404 lacks %s", h)
		}
	}
}

func TestHTTPMetrics(t *testing.T) {
	f := newFixture(t, nil)
	f.do(t, http.MethodGet, "/t/viewer/1", tokViewer, nil)
	f.do(t, http.MethodGet, "/t/viewer/2", tokViewer, nil)
	f.do(t, http.MethodGet, "/t/viewer/3", "", nil)
	f.do(t, http.MethodGet, "/random/path/1", "", nil)
	f.do(t, "BREW", "/random/path/2", "", nil)
	if got := testutil.ToFloat64(f.srv.requests.WithLabelValues("/t/viewer/:id", "GET", "200")); got != 2 {
		t.Errorf("route template 200 count = %v, want 2", got)
	}
	if got := testutil.ToFloat64(f.srv.requests.WithLabelValues("/t/viewer/:id", "GET", "401")); got != 1 {
		t.Errorf("route template 401 count = %v, want 1", got)
	}
	if got := testutil.ToFloat64(f.srv.requests.WithLabelValues("unmatched", "GET", "404")); got != 1 {
		t.Errorf("unmatched count = %v, want 1", got)
	}
	if got := testutil.ToFloat64(f.srv.requests.WithLabelValues("unmatched", "other", "404")); got != 1 {
		t.Errorf("unknown method not folded into other: %v", got)
	}
	rec := f.do(t, http.MethodGet, "/metrics", "", nil)
	body := rec.Body.String()
	for _, want := range []string{`sentinel_http_requests_total{code="200",method="GET",route="/t/viewer/:id"} 2`, "sentinel_http_request_duration_seconds_bucket"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	rec = f.do(t, http.MethodGet, "/metrics", "", nil, "Accept", "application/openmetrics-text; version=1.0.0")
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Errorf("OpenMetrics not negotiated: %q", ct)
	}
}

func TestGeneratedRequestIDs(t *testing.T) {
	a, b := newRequestIDs(), newRequestIDs()
	seen := map[string]bool{}
	for range 1000 {
		for _, ids := range []*requestIDs{a, b} {
			id := ids.next()
			if len(id) != 26 || !validRequestID(id) || seen[id] {
				t.Fatalf("request ID %q: 26 valid characters, never repeated", id)
			}
			seen[id] = true
		}
	}
}
