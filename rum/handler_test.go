package rum

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/sentinel-oss/sentinel/config"
)

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func errorOf(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct{ Error string }
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
		t.Fatalf("status %d body %q is not a JSON error", w.Code, w.Body)
	}
	return e.Error
}

func TestBeaconStatusCodes(t *testing.T) {
	bomb := gz(t, bytes.Repeat([]byte(" "), 10<<20)) // 10 MiB of spaces, ~10 KiB compressed
	cases := []struct {
		name   string
		body   []byte
		hdr    map[string]string
		status int
		want   string
	}{
		{"accepted", []byte(validBeacon), nil, 202, ""},
		{"accepted json type", []byte(validBeacon), map[string]string{"Content-Type": "application/json"}, 202, ""},
		{"accepted gzip", gz(t, []byte(validBeacon)), map[string]string{"Content-Encoding": "gzip"}, 202, ""},
		{"malformed", []byte(`{"v":1,`), nil, 400, "truncated JSON"},
		{"unknown field", []byte(`{"v":1,"session":"abcdefgh","who":1,"events":[]}`), nil, 400, `unknown field "who"`},
		{"unknown site", bytes.Replace([]byte(validBeacon), []byte(`"site":"shop"`), []byte(`"site":"evil"`), 1), nil, 400, `unknown site "evil"`},
		{"bad content type", []byte(validBeacon), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400, "Content-Type"},
		{"bad encoding", []byte(validBeacon), map[string]string{"Content-Encoding": "br"}, 400, `unsupported Content-Encoding "br"`},
		{"not gzip", []byte(validBeacon), map[string]string{"Content-Encoding": "gzip"}, 400, "invalid gzip body"},
		{"truncated gzip", gz(t, []byte(validBeacon))[:40], map[string]string{"Content-Encoding": "gzip"}, 400, "invalid gzip body"},
		{"wrong origin", []byte(validBeacon), map[string]string{"Origin": "https://evil.example.com"}, 403, `origin "https://evil.example.com" is not in rum.allowed_origins`},
		{"missing origin", []byte(validBeacon), map[string]string{"Origin": ""}, 403, "missing Origin"},
		{"null origin", []byte(validBeacon), map[string]string{"Origin": "null"}, 403, "not in rum.allowed_origins"},
		{"oversized", bytes.Repeat([]byte("x"), 64<<10+1), nil, 413, "larger than 65536 bytes"},
		{"gzip bomb", bomb, map[string]string{"Content-Encoding": "gzip"}, 413, "decompressed body larger than 65536"},
		{"bot", []byte(`garbage is not even read`), map[string]string{"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}, 202, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			w := f.post(tc.body, "10.0.0.1", tc.hdr)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.want != "" {
				if msg := errorOf(t, w); !strings.Contains(msg, tc.want) {
					t.Errorf("error %q does not contain %q", msg, tc.want)
				}
			}
			if tc.status == 202 || tc.status == 400 || tc.status == 413 {
				if got := w.Header().Get("Access-Control-Allow-Origin"); got != testOrigin {
					t.Errorf("Access-Control-Allow-Origin = %q", got)
				}
			}
		})
	}
}

// A body without Content-Length (chunked) is cut off at the limit.
func TestBeaconOversizedChunked(t *testing.T) {
	f := newFixture(t, nil)
	r := httptest.NewRequest(http.MethodPost, BeaconPath, io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("x"), 100<<10))))
	r.ContentLength = -1
	r.Header.Set("Origin", testOrigin)
	r.Header.Set("User-Agent", testUA)
	w := httptest.NewRecorder()
	f.c.BeaconHandler().ServeHTTP(w, r)
	if w.Code != 413 {
		t.Fatalf("status %d, want 413", w.Code)
	}
}

func TestBeaconBotNotCounted(t *testing.T) {
	f := newFixture(t, nil)
	w := f.post([]byte(validBeacon), "10.0.0.1", map[string]string{"User-Agent": "curl/8.5.0"})
	if w.Code != 202 {
		t.Fatalf("status %d", w.Code)
	}
	if got := f.counter("dropped", "bot"); got != 1 {
		t.Errorf("dropped{bot} = %v", got)
	}
	if got := f.counter("page_views", "shop", "/product/:id", "desktop"); got != 0 {
		t.Errorf("bot page view counted: %v", got)
	}
	if n := len(f.sink.named("page_view")); n != 0 {
		t.Errorf("bot outcomes: %d", n)
	}
}

func TestPreflight(t *testing.T) {
	f := newFixture(t, nil)
	req := func(origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodOptions, BeaconPath, nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "content-type")
		w := httptest.NewRecorder()
		f.c.BeaconHandler().ServeHTTP(w, r)
		return w
	}
	w := req(testOrigin)
	if w.Code != 204 {
		t.Fatalf("preflight status %d", w.Code)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":  testOrigin,
		"Access-Control-Allow-Methods": "POST",
		"Access-Control-Allow-Headers": "Content-Type, Content-Encoding",
		"Access-Control-Max-Age":       "7200",
		"Vary":                         "Origin",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if w := req("https://evil.example.com"); w.Code != 403 || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("disallowed preflight: %d %v", w.Code, w.Header())
	}
	r := httptest.NewRequest(http.MethodGet, BeaconPath, nil)
	w = httptest.NewRecorder()
	f.c.BeaconHandler().ServeHTTP(w, r)
	if w.Code != 405 || w.Header().Get("Allow") != "POST, OPTIONS" {
		t.Errorf("GET: %d %v", w.Code, w.Header())
	}
	// The handler caps bodies itself (the server mounts it without its
	// body cap), whatever the method.
	for _, method := range []string{http.MethodOptions, http.MethodGet, http.MethodPost} {
		r := httptest.NewRequest(method, BeaconPath, strings.NewReader(strings.Repeat("x", 2<<20)))
		r.Header.Set("Origin", testOrigin)
		w := httptest.NewRecorder()
		f.c.BeaconHandler().ServeHTTP(w, r)
		if w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s with a 2 MiB body: %d, want 413", method, w.Code)
		}
	}
}

func TestAnyOriginOnlyWhenConfigured(t *testing.T) {
	f := newFixture(t, func(c *config.RUM) { c.AllowedOrigins = []string{"*"} })
	w := f.post([]byte(validBeacon), "10.0.0.1", map[string]string{"Origin": "https://anything.example"})
	if w.Code != 202 || w.Header().Get("Access-Control-Allow-Origin") != "https://anything.example" {
		t.Errorf("with *: %d %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
	f = newFixture(t, func(c *config.RUM) { c.AllowedOrigins = nil })
	if w := f.post([]byte(validBeacon), "10.0.0.1", nil); w.Code != 403 {
		t.Errorf("no origins configured: %d", w.Code)
	}
}

func TestFloodFromOneIPLeavesOthersAlone(t *testing.T) {
	f := newFixture(t, func(c *config.RUM) { c.RateLimit.PerIP = 5; c.RateLimit.PerIPBurst = 10 })
	limited := 0
	for range 100 {
		switch w := f.post([]byte(validBeacon), "198.51.100.7", nil); w.Code {
		case 429:
			limited++
			if w.Header().Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		case 202:
		default:
			t.Fatalf("flood got %d", w.Code)
		}
	}
	if limited != 90 {
		t.Errorf("%d of 100 limited, want 90 (burst 10, clock stopped)", limited)
	}
	if w := f.post([]byte(validBeacon), "203.0.113.9", nil); w.Code != 202 {
		t.Errorf("another IP got %d during the flood", w.Code)
	}
	f.advance(time.Second) // 5 tokens come back
	if w := f.post([]byte(validBeacon), "198.51.100.7", nil); w.Code != 202 {
		t.Errorf("after a second: %d", w.Code)
	}
	if got := f.counter("beacons", "rate_limited"); got != 90 {
		t.Errorf("beacons{rate_limited} = %v", got)
	}
}

func TestSiteRateLimit(t *testing.T) {
	f := newFixture(t, func(c *config.RUM) { c.RateLimit.PerSite = 1; c.RateLimit.PerSiteBurst = 3 })
	codes := ""
	for i := range 5 {
		codes += fmt.Sprint(f.post([]byte(validBeacon), fmt.Sprintf("10.0.0.%d", i), nil).Code, " ")
	}
	if codes != "202 202 202 429 429 " {
		t.Errorf("codes %s", codes)
	}
}

func TestIPLimiterBounded(t *testing.T) {
	f := newFixture(t, func(c *config.RUM) {
		c.RateLimit.TrackedIPs = 100
		c.RateLimit.PerSite = 1e9
		c.RateLimit.PerSiteBurst = 1 << 30
	})
	for i := range 5000 {
		f.post([]byte(`{}`), fmt.Sprintf("10.%d.%d.1", i/256, i%256), nil)
	}
	if n := f.c.set.Load().ipLimits.len(); n != 100 {
		t.Errorf("%d limiters held, want 100", n)
	}
}

func TestScriptHandler(t *testing.T) {
	f := newFixture(t, func(c *config.RUM) { c.SampleRate = 0.5 })
	get := func(hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, ScriptPath, nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		f.c.ScriptHandler().ServeHTTP(w, r)
		return w
	}
	w := get(nil)
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	body := w.Body.String()
	wantPrefix := `window.__sentinelRUMConfig={"endpoint":"https://sentinel.example.com/rum/v1/beacons","site":"shop","sampleRate":0.5,"queryParams":["utm_source"]};` + "\n"
	if !strings.HasPrefix(body, wantPrefix) || !strings.HasSuffix(body, snippetJS) {
		t.Errorf("body starts %q", body[:min(len(body), 200)])
	}
	h := w.Header()
	if h.Get("Content-Type") != "text/javascript; charset=utf-8" || h.Get("Cache-Control") != "public, max-age=300" || h.Get("Content-Encoding") != "" {
		t.Errorf("headers %v", h)
	}
	tag := h.Get("ETag")
	if tag != etag(w.Body.Bytes()) {
		t.Errorf("ETag %s is not the hash of the body", tag)
	}
	if w := get(map[string]string{"If-None-Match": tag}); w.Code != 304 || w.Body.Len() != 0 {
		t.Errorf("If-None-Match: %d", w.Code)
	}
	if w := get(map[string]string{"If-None-Match": `"other", W/` + tag}); w.Code != 304 {
		t.Errorf("If-None-Match list: %d", w.Code)
	}
	zw := get(map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if zw.Header().Get("Content-Encoding") != "gzip" || zw.Header().Get("ETag") == tag || zw.Header().Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip headers %v", zw.Header())
	}
	zr, err := gzip.NewReader(zw.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if string(plain) != body {
		t.Error("gzip body differs from the plain one")
	}
	if zw.Header().Get("ETag") != etag(zw.Body.Bytes()) {
		// zw.Body was consumed by the reader; recompute from the script.
		if zw.Header().Get("ETag") != etag(f.c.set.Load().script.gz) {
			t.Error("gzip ETag is not the hash of the gzip bytes")
		}
	}
	if w := get(map[string]string{"Accept-Encoding": "gzip;q=0"}); w.Header().Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 got gzip")
	}
	r := httptest.NewRequest(http.MethodPost, ScriptPath, nil)
	pw := httptest.NewRecorder()
	f.c.ScriptHandler().ServeHTTP(pw, r)
	if pw.Code != 405 {
		t.Errorf("POST: %d", pw.Code)
	}
}

// A value in milliseconds is refused with 400 naming the event, and the
// beacon is refused as a whole (as every invalid beacon is): its good
// events are not counted either, so nothing is counted twice when the
// client corrects and resends it.
func TestBeaconInMillisecondsRefusedWhole(t *testing.T) {
	f := newFixture(t, nil)
	body := beaconWith(
		`{"type":"page_view","url":"/cart"}`,
		`{"type":"vital","url":"/cart","name":"fcp","value":1.2}`,
		`{"type":"vital","url":"/cart","name":"lcp","value":2500}`)
	w := f.post(body, "10.0.0.1", nil)
	if w.Code != 400 || !strings.Contains(w.Body.String(), `events[2].value: lcp of 2500 looks like milliseconds; beacons carry seconds`) {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if n := f.counter("page_views", "shop", "/cart", "desktop"); n != 0 {
		t.Errorf("page views of a refused beacon counted: %v", n)
	}
	if n := len(f.sink.outs); n != 0 {
		t.Errorf("%d outcomes from a refused beacon", n)
	}
	if n := f.counter("beacons", "invalid"); n != 1 {
		t.Errorf("invalid beacons %v", n)
	}
	// A minute is still seconds.
	if w := f.post(beaconWith(`{"type":"vital","url":"/cart","name":"lcp","value":60}`), "10.0.0.1", nil); w.Code != 202 {
		t.Errorf("60 s refused: %d %s", w.Code, w.Body)
	}
}

// readAtMost reads a body of exactly the limit whole, refuses one byte
// more with *http.MaxBytesError, however the reader splits its reads
// (data with EOF in the same call, one byte at a time), and passes a
// reader's error on.
func TestReadAtMost(t *testing.T) {
	body := bytes.Repeat([]byte("b"), 1500)
	for _, tc := range []struct {
		name  string
		r     io.Reader
		limit int64
		err   string
	}{
		{"exactly the limit", bytes.NewReader(body), 1500, ""},
		{"exactly the limit, data with EOF", iotest.DataErrReader(bytes.NewReader(body)), 1500, ""},
		{"one byte at a time", iotest.OneByteReader(bytes.NewReader(body)), 1500, ""},
		{"one byte over", bytes.NewReader(body), 1499, "request body too large"},
		{"one byte over, data with EOF", iotest.DataErrReader(bytes.NewReader(body)), 1499, "request body too large"},
		{"reader fails", io.MultiReader(bytes.NewReader(body[:10]), iotest.ErrReader(errors.New("connection reset"))), 1500, "connection reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := readAtMost(&buf, tc.r, tc.limit)
			if tc.err == "" {
				if err != nil || !bytes.Equal(buf.Bytes(), body) {
					t.Fatalf("err %v, read %d bytes, want all %d", err, buf.Len(), len(body))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want %q", err, tc.err)
			}
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) != (tc.err == "request body too large") {
				t.Fatalf("err %T %v: MaxBytesError only for an oversize body", err, err)
			}
		})
	}
}
