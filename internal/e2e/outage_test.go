package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/internal/app"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/store"
)

// fakeSlackTransport answers Slack's Web API in memory (no sockets, so it
// works inside a synctest bubble). Until `until`, chat.postMessage fails
// with status (and Retry-After when 429); after it, posts succeed.
type fakeSlackTransport struct {
	until      time.Time
	status     int
	retryAfter string

	mu       sync.Mutex
	attempts int
	posted   []map[string]any
}

func (f *fakeSlackTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	_ = r.ParseForm()
	method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	f.mu.Lock()
	defer f.mu.Unlock()
	reply := func(code int, hdr http.Header, v any) (*http.Response, error) {
		b, _ := json.Marshal(v)
		if hdr == nil {
			hdr = http.Header{}
		}
		hdr.Set("Content-Type", "application/json")
		return &http.Response{StatusCode: code, Header: hdr, Body: io.NopCloser(bytes.NewReader(b)), Request: r}, nil
	}
	switch method {
	case "chat.postMessage":
		f.attempts++
		if time.Now().Before(f.until) {
			hdr := http.Header{}
			if f.retryAfter != "" {
				hdr.Set("Retry-After", f.retryAfter)
			}
			return reply(f.status, hdr, map[string]any{"ok": false, "error": "unavailable"})
		}
		var md map[string]any
		_ = json.Unmarshal([]byte(r.Form.Get("metadata")), &md)
		msg := map[string]any{"ts": fmt.Sprintf("1700000000.%06d", len(f.posted)+1), "text": r.Form.Get("text"), "metadata": md}
		f.posted = append(f.posted, msg)
		return reply(200, nil, map[string]any{"ok": true, "channel": "C0INCIDENTS", "ts": msg["ts"], "message": msg})
	case "conversations.history":
		return reply(200, nil, map[string]any{"ok": true, "messages": f.posted, "has_more": false})
	case "users.lookupByEmail", "users.info":
		return reply(200, nil, map[string]any{"ok": false, "error": "users_not_found"})
	default:
		return reply(200, nil, map[string]any{"ok": true})
	}
}

func (f *fakeSlackTransport) counts() (attempts, posted int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts, len(f.posted)
}

// recordingTransport is the fallback webhook pager's receiver, in memory.
type recordingTransport struct{ got atomic.Int32 }

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.got.Add(1)
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("ok")), Request: req}, nil
}

// TestSlackOutageTenMinutes runs the incident service and the Slack app on
// the store with fake transports in a synctest bubble, so ten minutes of
// Slack trouble take no real time. Throttled (429, Retry-After 30 s) for
// ten minutes, the page arrives once afterwards and the fallback is not
// used; down (503) for ten minutes with the default six attempts, the
// configured fallback pager (a webhook) gets the page once, and Slack
// gets no late duplicate.
func TestSlackOutageTenMinutes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		status      int
		retryAfter  string
		maxAttempts int
		wantSlack   int
		wantFB      int32
	}{
		{name: "throttled", status: http.StatusTooManyRequests, retryAfter: "30", maxAttempts: 40, wantSlack: 1, wantFB: 0},
		{name: "down", status: http.StatusServiceUnavailable, maxAttempts: 6, wantSlack: 0, wantFB: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				slackFake := &fakeSlackTransport{until: start.Add(10 * time.Minute), status: tc.status, retryAfter: tc.retryAfter}
				fbFake := &recordingTransport{}
				icfg := config.DefaultIncidents()
				icfg.Delivery.MaxAttempts = tc.maxAttempts
				icfg.FallbackPager = "oncall-webhook"
				people := []config.Person{{Name: "carol", Email: "carol@shop.example.com", SlackID: slackUser}}
				oc, ps := oncall.Compile(people, config.Oncall{})
				if len(ps) > 0 {
					t.Fatal(ps)
				}
				fallback := incidents.NewWebhookPager(config.PagerConfig{Name: "oncall-webhook", Type: "webhook", URL: "http://pager.test/hook"}, &http.Client{Transport: fbFake})
				svc, err := incidents.New(incidents.Options{Config: icfg, OnCall: oc, Store: store.NewIncidents(store.NewMemory()),
					Fallback: fallback, ExternalURL: "http://sentinel.test", Console: io.Discard})
				if err != nil {
					t.Fatal(err)
				}
				scfg := config.DefaultSlack()
				scfg.Token = config.NewSecret("xoxb-e2e")
				scfg.SigningSecret = config.NewSecret(slackSecret)
				scfg.APIURL = "http://slack.test/api/"
				scfg.Channel = "C0INCIDENTS"
				bot, err := slack.New(slack.Options{Config: scfg, People: svc.People(), Incidents: svc, ExternalURL: "http://sentinel.test",
					HTTPClient: &http.Client{Transport: slackFake}})
				if err != nil {
					t.Fatal(err)
				}
				if err := svc.AddPager(bot); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(t.Context())
				var wg sync.WaitGroup
				wg.Go(func() { _ = bot.Run(ctx) })
				wg.Go(func() { _ = svc.Run(ctx) })
				err = svc.HandleAlertGroup(ctx, model.AlertGroup{Key: "service=checkout", Labels: model.Labels{"service": "checkout"}, Firing: true,
					Alerts: []model.Alert{{Name: "CheckoutDown", Fingerprint: "f1", State: model.AlertFiring, Severity: model.SeverityCritical, Labels: model.Labels{"service": "checkout"}, StartsAt: start}}})
				if err != nil {
					t.Fatal(err)
				}
				// Ten minutes of trouble, then five of calm.
				time.Sleep(15 * time.Minute)
				synctest.Wait()
				attempts, posted := slackFake.counts()
				t.Logf("%s: %d chat.postMessage attempts in 15 min, %d pages in Slack, %d pages through the fallback", tc.name, attempts, posted, fbFake.got.Load())
				if posted != tc.wantSlack {
					t.Errorf("%d pages in Slack, want %d", posted, tc.wantSlack)
				}
				if got := fbFake.got.Load(); got != tc.wantFB {
					t.Errorf("%d pages through the fallback, want %d", got, tc.wantFB)
				}
				if tc.retryAfter != "" && attempts > 10*60/30+2 {
					t.Errorf("%d attempts: Retry-After 30s was not respected", attempts)
				}
				cancel()
				wg.Wait()
			})
		})
	}
}

// TestLokiDownNeverBlocks runs Sentinel with logs shipped to a Loki that
// never answers: requests keep being served, and the lines that cannot be
// shipped are dropped and counted.
func TestLokiDownNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	var pushes atomic.Int32
	loki := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pushes.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer loki.Close()
	defer close(release)
	cfg, err := config.Parse("loki.yaml", []byte(`server: {listen: 127.0.0.1:0}
storage: {path: `+t.TempDir()+`/s.db}
`+tokensYAML+`logging:
  level: debug
  loki: {url: "`+loki.URL+`/loki/api/v1/push", buffer_entries: 100, batch_wait: 100ms, batch_bytes: 1024, timeout: 30s}
`), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(t.Context(), app.Options{Config: cfg, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	stop := runApp(t, a)
	base := a.URL()
	testutil.Eventually(t, 10*time.Second, "a push to Loki that hangs", func() bool { return pushes.Load() > 0 })
	// Every request logs a line; 2000 of them overflow a buffer of 100.
	for i := range 2000 {
		code, _ := mustAPI(t, http.MethodGet, base+"/api/v1/incidents", viewerToken, nil)
		if code != http.StatusOK {
			t.Fatalf("request %d while Loki hangs: %d", i, code)
		}
	}
	dropped := metricSum(t, base, "sentinel_log_shipping_dropped_total")
	t.Logf("2000 requests served while Loki hung; %.0f log lines dropped and counted", dropped)
	if dropped < 1000 {
		t.Errorf("dropped lines counted: %.0f, want most of 2000", dropped)
	}
	if err := stop(); err != nil {
		t.Errorf("shutdown with Loki hanging: %v", err)
	}
}

// metricSum adds every sample of a metric family in /metrics.
func metricSum(t testing.TB, base, name string) float64 {
	t.Helper()
	_, body := mustAPI(t, http.MethodGet, base+"/metrics", "", nil)
	var sum float64
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			fields := strings.Fields(line)
			var v float64
			fmt.Sscan(fields[len(fields)-1], &v)
			sum += v
		}
	}
	return sum
}

// TestHangingProbeTargetLeaksNothing runs a journey every second against
// a target that never answers, and checks that goroutines and heap stay
// flat between the 5th and the 20th run.
func TestHangingProbeTargetLeaksNothing(t *testing.T) {
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-r.Context().Done()
	}))
	defer target.Close()
	cfg, err := config.Parse("hang.yaml", []byte(`server: {listen: 127.0.0.1:0}
storage: {path: `+t.TempDir()+`/s.db}
`+tokensYAML+`probes:
  - name: hangs
    interval: 1s
    timeout: 300ms
    steps: [{name: home, request: {method: GET, url: "`+target.URL+`/"}, expect: {status: 200}}]
`), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(t.Context(), app.Options{Config: cfg, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	runApp(t, a)
	measure := func(runs int64) (int, uint64) {
		testutil.Eventually(t, 2*time.Minute, fmt.Sprintf("%d runs against the hanging target", runs), func() bool { return hits.Load() >= runs })
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapAlloc
	}
	g1, h1 := measure(5)
	g2, h2 := measure(20)
	t.Logf("hanging target: after 5 runs %d goroutines, heap %.1f MiB; after 20 runs %d goroutines, heap %.1f MiB", g1, float64(h1)/(1<<20), g2, float64(h2)/(1<<20))
	if g2 > g1+10 {
		t.Errorf("goroutines grew from %d to %d over 15 hanging runs", g1, g2)
	}
	if h2 > h1+8<<20 {
		t.Errorf("heap grew from %d to %d bytes over 15 hanging runs", h1, h2)
	}
	_, body := mustAPI(t, http.MethodGet, a.URL()+"/api/v1/probes/hangs/results?limit=1", viewerToken, nil)
	if !strings.Contains(string(body), `"success":false`) {
		t.Errorf("last run of the hanging probe: %s", body)
	}
}

// TestStoreFullDisk runs Sentinel on a store that starts failing writes as
// a full disk does: writes are refused with 503 and a clear error (never
// 500), /readyz turns false, reads keep working; once the disk has room
// again, readiness returns and writes succeed.
func TestStoreFullDisk(t *testing.T) {
	faulty := store.NewFaulty(store.NewMemory())
	cfg, err := config.Parse("disk.yaml", []byte(`server: {listen: 127.0.0.1:0}
`+tokensYAML+`rum: {allowed_origins: ["https://shop.example.com"]}
slos: [{name: orders, service: checkout, objective: 99, window: 30d, sli: {events: {}}}]
`), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(t.Context(), app.Options{Config: cfg, Stderr: io.Discard, Engine: faulty})
	if err != nil {
		t.Fatal(err)
	}
	runApp(t, a)
	base := a.URL()
	declare := func() (int, []byte) {
		return mustAPI(t, http.MethodPost, base+"/api/v1/incidents", responderToken, map[string]any{"title": "disk", "severity": "warning"})
	}
	if code, body := declare(); code != http.StatusCreated {
		t.Fatalf("declare while healthy: %d %s", code, body)
	}

	faulty.FailWrites(store.ErrInjectedDiskFull)
	writes := []struct {
		name       string
		method, p  string
		tok        string
		body       any
		acceptable []int
	}{
		{"declare", http.MethodPost, "/api/v1/incidents", responderToken, map[string]any{"title": "disk", "severity": "warning"}, []int{503}},
		{"acknowledge", http.MethodPost, "/api/v1/incidents/1/acknowledge", responderToken, nil, []int{503}},
		{"silence", http.MethodPost, "/api/v1/silences", responderToken, map[string]any{"matchers": []string{"service=x"}, "duration": "1h"}, []int{503}},
		{"webhook", http.MethodPost, "/api/v1/alertmanager", ingestToken, amPayload("disk", "DiskTest", "firing"), []int{503}},
		// Counts are stored before the answer: refused like any write.
		{"events", http.MethodPost, "/api/v1/slos/orders/events", ingestToken, map[string]any{"good": 1, "total": 1}, []int{503}},
	}
	for _, w := range writes {
		code, body := mustAPI(t, w.method, base+w.p, w.tok, w.body)
		ok := false
		for _, c := range w.acceptable {
			ok = ok || c == code
		}
		if !ok || (code == 503 && !strings.Contains(string(body), `"error"`)) {
			t.Errorf("%s on a full disk: %d %s, want one of %v with an error", w.name, code, body, w.acceptable)
		} else {
			t.Logf("%s on a full disk: %d %s", w.name, code, strings.TrimSpace(string(body)))
		}
	}
	testutil.Eventually(t, 15*time.Second, "/readyz to turn 503", func() bool {
		code, _ := mustAPI(t, http.MethodGet, base+"/readyz", "", nil)
		return code == http.StatusServiceUnavailable
	})
	if code, body := mustAPI(t, http.MethodGet, base+"/api/v1/incidents/1", viewerToken, nil); code != http.StatusOK {
		t.Errorf("read on a full disk: %d %s", code, body)
	}

	faulty.FailWrites(nil)
	testutil.Eventually(t, 15*time.Second, "/readyz to recover", func() bool {
		code, _ := mustAPI(t, http.MethodGet, base+"/readyz", "", nil)
		return code == http.StatusOK
	})
	if code, body := declare(); code != http.StatusCreated {
		t.Fatalf("declare after recovery: %d %s", code, body)
	}
	if n := len(listIncidents(t, base, "")); n != 2 {
		t.Errorf("%d incidents after recovery, want 2 (the refused declare left nothing)", n)
	}
	if got := getIncident(t, base, 1); got.Status != "triggered" {
		t.Errorf("incident 1 is %s: the refused acknowledgement changed it", got.Status)
	}
}
