package probes

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// runOne compiles a one-probe document and runs it once.
func runOne(t *testing.T, yaml string, env map[string]string) Result {
	t.Helper()
	js := compile(t, yaml, env)
	svc, err := New(Options{Probes: js})
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.RunOnce(context.Background(), js[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestFailuresAreClear(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/notjson", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>oops</html>")) })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for i := 0; i < 160; i++ { // 10 MiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/hugejson", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"a":"`))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for i := 0; i < 160; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`"}`))
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/target?token=tok-1")
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "cookie-1"})
		w.WriteHeader(http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tlsSrv := httptest.NewTLSServer(mux)
	t.Cleanup(tlsSrv.Close)

	// A port that refuses: listen, note the address, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	env := map[string]string{"BASE": srv.URL, "TLS": tlsSrv.URL, "CLOSED": "http://" + closed}
	tests := []struct {
		name, steps string
		want        []string
		truncated   bool
	}{
		{"unreachable", `[{name: s, request: {url: "${CLOSED}/"}}]`, []string{"cannot connect", "refused"}, false},
		{"unresolvable", `[{name: s, request: {url: "http://no-such-host.invalid/"}}]`, []string{"cannot resolve host"}, false},
		{"step timeout", `[{name: s, timeout: 200ms, request: {url: "${BASE}/slow"}}]`, []string{"timed out after 200ms (step timeout)"}, false},
		{"journey timeout", `[{name: s, request: {url: "${BASE}/slow"}}]`, []string{"timed out after", "journey timeout"}, false},
		{"tls error", `[{name: s, request: {url: "${TLS}/notjson"}}]`, []string{"TLS error", "certificate"}, false},
		{"invalid json", `[{name: s, request: {url: "${BASE}/notjson"}, expect: {json: {$.a: 1}}}]`, []string{"invalid JSON in the response body"}, false},
		{"huge body contains", `[{name: s, request: {url: "${BASE}/huge"}, expect: {body_contains: "never"}}]`, []string{"does not contain", "cut at 1 MiB"}, true},
		{"huge body json", `[{name: s, request: {url: "${BASE}/hugejson"}, expect: {json_exists: [$.a]}}]`, []string{"invalid JSON", "cut at 1 MiB"}, true},
		{"extract missing", `[{name: s, request: {url: "${BASE}/notjson"}, extract: {v: {regex: "id=(\\d+)"}}}]`, []string{"extract v: /id=(\\d+)/ matched nothing"}, false},
		{"no redirect", `[{name: s, request: {url: "${BASE}/redirect", follow_redirects: false}, expect: {status: 200}}]`, []string{"expected status 200, got 302"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "probes:\n  - name: p\n    timeout: 1s\n    steps: " + tc.steps + "\n"
			res := runOne(t, yaml, env)
			if res.Success {
				t.Fatalf("run succeeded: %+v", res)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Error, w) {
					t.Errorf("error %q lacks %q", res.Error, w)
				}
			}
			if res.FailedStep != "s" {
				t.Errorf("failed step = %q", res.FailedStep)
			}
			if got := res.Steps[0].Truncated; got != tc.truncated {
				t.Errorf("truncated = %v, want %v", got, tc.truncated)
			}
			if res.Duration.Std() > 3*time.Second {
				t.Errorf("took %s", res.Duration.Std())
			}
		})
	}
}

func TestExtractionForms(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "cookie-1", Path: "/"})
		w.Header().Set("X-Order", "order-9")
		_, _ = w.Write([]byte(`<input name="csrf" value="csrf-5">`))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		c, err := r.Cookie("sid")
		if err != nil {
			c = &http.Cookie{Value: "none"}
		}
		_, _ = w.Write([]byte(r.Form.Get("csrf") + "|" + r.Header.Get("X-Order") + "|" + r.Form.Get("sid") + "|" + c.Value + "|" + r.Host))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	yaml := `
probes:
  - name: forms
    steps:
      - name: start
        request: {url: "${BASE}/start"}
        extract:
          csrf: {regex: 'name="csrf" value="([^"]+)"'}
          order: {header: X-Order}
          sid: {cookie: sid}
      - name: echo
        request:
          method: POST
          url: "${BASE}/echo"
          headers: {X-Order: "{{ .order }}"}
          form: {csrf: "{{ .csrf }}", sid: "{{ .sid }}"}
        expect: {body_contains: "csrf-5|order-9|cookie-1|cookie-1|"}
`
	res := runOne(t, yaml, map[string]string{"BASE": srv.URL})
	if !res.Success {
		t.Fatalf("failed: %s (%s)", res.Error, res.Steps[len(res.Steps)-1].Excerpt)
	}
}

func TestRetriesInsideARun(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 {
			w.WriteHeader(500)
		}
	}))
	t.Cleanup(srv.Close)
	res := runOne(t, "probes:\n  - name: r\n    retries: 2\n    retry_delay: 10ms\n    timeout: 1s\n    steps: [{name: s, request: {url: \"${BASE}/\"}}]\n", map[string]string{"BASE": srv.URL})
	if !res.Success || res.Attempts != 3 {
		t.Fatalf("success %v attempts %d error %q", res.Success, res.Attempts, res.Error)
	}
}

func TestJourneyMaxDuration(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // the server under test is slow, on purpose
	}))
	t.Cleanup(srv.Close)
	res := runOne(t, "probes:\n  - name: r\n    max_duration: 5ms\n    steps: [{name: s, request: {url: \"${BASE}/\"}}]\n", map[string]string{"BASE": srv.URL})
	if res.Success || !strings.Contains(res.Error, "over max_duration 5ms") || res.FailedStep != "" {
		t.Fatalf("res = %+v", res)
	}
}

func TestErrorExcerpt(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"status":"failed","error":"payment provider unavailable"}`, "payment provider unavailable"},
		{`{"error":{"code":5,"message":"upstream timed out"}}`, "upstream timed out"},
		{`{"detail":"Not Found"}`, "Not Found"},
		{"\n<html><body>502 Bad Gateway</body></html>\nmore", "<html><body>502 Bad Gateway</body></html>"},
		{`{"status":"failed"}`, `{"status":"failed"}`},
		{`{"error": "x", "broken`, `{"error": "x", "broken`},
		{"", ""},
		{strings.Repeat("é", 300), strings.Repeat("é", 199) + "…"},
	} {
		if got := errorExcerpt(c.body); got != c.want {
			t.Errorf("errorExcerpt(%.40q) = %q, want %q", c.body, got, c.want)
		}
	}
}
