package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestThrottleDelays(t *testing.T) {
	want := map[int]time.Duration{0: 0, 9: 0, 10: time.Second, 11: 2 * time.Second, 13: 8 * time.Second, 18: 256 * time.Second, 19: 5 * time.Minute, 1000: 5 * time.Minute}
	for n, d := range want {
		if got := delay(n); got != d {
			t.Errorf("delay(%d) = %s, want %s", n, got, d)
		}
	}
}

// Wrong bearer tokens from one address: ten are answered 401, then every
// attempt, even with a good token, waits a growing time (429 with
// Retry-After); another address is not slowed; the wait ends, a good token
// clears the count; nothing logged holds a token.
func TestBearerThrottle(t *testing.T) {
	u := newUIFixture(t)
	from := func(ip, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/t/viewer/1", nil)
		req.RemoteAddr = ip + ":40000"
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		u.srv.Handler().ServeHTTP(rec, req)
		return rec
	}
	const bad = "wrong-token-0123456789"
	for i := range throttleFree {
		if rec := from("203.0.113.7", bad); rec.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, rec.Code)
		}
	}
	rec := from("203.0.113.7", tokViewer)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("11th attempt: %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	errorOf(t, rec)
	if rec := from("198.51.100.9", tokViewer); rec.Code != http.StatusOK {
		t.Fatalf("another address: %d", rec.Code)
	}
	u.advance(time.Second)
	if rec := from("203.0.113.7", bad); rec.Code != http.StatusUnauthorized {
		t.Fatalf("after the wait: %d", rec.Code)
	}
	if rec := from("203.0.113.7", bad); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("12th failure waits 2s: %d %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	u.advance(2 * time.Second)
	if rec := from("203.0.113.7", tokViewer); rec.Code != http.StatusOK {
		t.Fatalf("good token after the wait: %d", rec.Code)
	}
	if rec := from("203.0.113.7", bad); rec.Code != http.StatusUnauthorized {
		t.Fatalf("a success cleared the count, yet: %d", rec.Code)
	}
	if got := testutil.ToFloat64(u.srv.throttle.failures.WithLabelValues(throttleBearer)); got != 12 {
		t.Fatalf("failures metric %v, want 12", got)
	}
	if got := testutil.ToFloat64(u.srv.throttle.throttled.WithLabelValues(throttleBearer)); got != 2 {
		t.Fatalf("throttled metric %v, want 2", got)
	}
	logs := u.logs.String()
	if strings.Contains(logs, bad) || strings.Contains(logs, tokViewer) {
		t.Fatal("a token reached the log")
	}
	if !strings.Contains(logs, `"level":"WARN","msg":"bearer token refused"`) || !strings.Contains(logs, `"client_ip":"203.0.113.7"`) {
		t.Fatalf("no WARN line naming the address:\n%s", logs)
	}
}

func TestLoginThrottle(t *testing.T) {
	u := newUIFixture(t)
	for i := range throttleFree {
		if rec := u.form(t, "/login", "", url.Values{"token": {"wrong-token-0123456789"}}); rec.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, rec.Code)
		}
	}
	rec := u.form(t, "/login", "", url.Values{"token": {tokViewer}})
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), "Too many failed sign-ins") {
		t.Fatalf("locked sign-in: %d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if len(rec.Result().Cookies()) != 0 {
		t.Fatal("a throttled sign-in set a cookie")
	}
	// Bearer tokens are counted apart from the form.
	if rec := u.do(t, http.MethodGet, "/t/viewer/1", tokViewer, nil); rec.Code != http.StatusOK {
		t.Fatalf("API while the form is locked: %d", rec.Code)
	}
	u.advance(time.Second)
	u.signIn(t, tokViewer)
	if !strings.Contains(u.logs.String(), `"msg":"sign-in to the dashboards refused"`) {
		t.Fatal("no log line for refused sign-ins")
	}
}

// advance moves the fixture's clock on.
func (u *uiFixture) advance(d time.Duration) {
	u.mu.Lock()
	*u.clock = u.clock.Add(d)
	u.mu.Unlock()
}
