package rum

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sentinel-oss/sentinel/config"
	sentineltest "github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
)

func TestIngestMetricsAndOutcomes(t *testing.T) {
	f := newFixture(t, nil)
	if w := f.post([]byte(validBeacon), "10.0.0.1", nil); w.Code != 202 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	lv := []string{"shop", "/product/:id", "desktop"}
	if got := f.counter("page_views", lv...); got != 1 {
		t.Errorf("page views %v", got)
	}
	if got := f.counter("js_errors", lv...); got != 2 {
		t.Errorf("js errors %v", got)
	}
	if n := testutil.CollectAndCount(f.c.m.vitals[0], "sentinel_rum_lcp_seconds"); n != 1 {
		t.Errorf("lcp series %d", n)
	}
	wantLabels := model.Labels{"route": "/product/:id", "site": "shop", "device": "desktop"}
	for name, want := range map[string]float64{"lcp": 1.9, "fcp": 0.8, "ttfb": 0.12, "cls": 0.02, "inp": 0.064} {
		outs := f.sink.named(name)
		if len(outs) != 1 {
			t.Fatalf("%s outcomes: %v", name, outs)
		}
		o := outs[0]
		if o.Source != model.SourceRUM || o.Value != want || !o.HasValue || o.Total != 1 || o.Labels.String() != wantLabels.String() || !o.Time.Equal(f.now) {
			t.Errorf("%s outcome %+v", name, o)
		}
	}
	pv := f.sink.named("page_view")
	if len(pv) != 1 || pv[0].Good != 0 || pv[0].Total != 1 {
		t.Errorf("page_view outcome (view had errors): %+v", pv)
	}
	je := f.sink.named("js_error")
	if len(je) != 1 || je[0].Total != 2 {
		t.Errorf("js_error outcome %+v", je)
	}
	// A clean view on a phone.
	f.post(beaconWith(`{"type":"page_view","url":"https://shop.example.com/cart"}`), "10.0.0.2", map[string]string{"User-Agent": mobileUA})
	pv = f.sink.named("page_view")
	if len(pv) != 2 || pv[1].Good != 1 || pv[1].Labels["device"] != "mobile" || pv[1].Labels["route"] != "/cart" {
		t.Errorf("clean page_view outcome %+v", pv)
	}
	// A route with no measurement of a vital exports no empty histogram.
	if n := testutil.CollectAndCount(f.c.m.vitals[0], "sentinel_rum_lcp_seconds"); n != 1 {
		t.Errorf("lcp series after a view without vitals: %d", n)
	}
}

func TestSamplingWeights(t *testing.T) {
	cases := []struct {
		name         string
		server       float64
		client       string
		wantViews    float64
		wantTotal    int64
		wantSampled  float64
		sessions     int
		approxViews  bool
		wantDropFrac float64
	}{
		{name: "client 0.1 counts 10", server: 1, client: "0.1", wantViews: 10, wantTotal: 10, sessions: 1},
		{name: "client 0.25 under server 0.5", server: 0.5, client: "0.25", wantViews: 4, wantTotal: 4, sessions: 1},
		{name: "client 1 server 0.2 subsampled", server: 0.2, client: "1", wantViews: 2000, sessions: 2000, approxViews: true, wantDropFrac: 0.8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *config.RUM) {
				c.SampleRate = tc.server
				c.RateLimit.PerIP, c.RateLimit.PerIPBurst, c.RateLimit.PerSite, c.RateLimit.PerSiteBurst = 1e9, 1<<30, 1e9, 1<<30
			})
			for i := range tc.sessions {
				body := fmt.Sprintf(`{"v":1,"site":"shop","session":"session%06d","sample_rate":%s,"events":[{"type":"page_view","url":"/"},{"type":"error","message":"x","count":3}]}`, i, tc.client)
				if w := f.post([]byte(body), "10.0.0.1", nil); w.Code != 202 {
					t.Fatalf("status %d %s", w.Code, w.Body)
				}
			}
			views := f.counter("page_views", "shop", "/", "desktop")
			if tc.approxViews {
				if math.Abs(views-tc.wantViews)/tc.wantViews > 0.15 {
					t.Errorf("estimated views %v, want about %v", views, tc.wantViews)
				}
				dropped := f.counter("dropped", "sampled_out") / float64(tc.sessions)
				if math.Abs(dropped-tc.wantDropFrac) > 0.05 {
					t.Errorf("dropped fraction %v, want about %v", dropped, tc.wantDropFrac)
				}
				return
			}
			if views != tc.wantViews {
				t.Errorf("views %v, want %v", views, tc.wantViews)
			}
			if got := f.counter("js_errors", "shop", "/", "desktop"); got != 3*tc.wantViews {
				t.Errorf("errors %v", got)
			}
			if pv := f.sink.named("page_view"); pv[0].Total != tc.wantTotal {
				t.Errorf("outcome total %d", pv[0].Total)
			}
			if je := f.sink.named("js_error"); je[0].Total != 3*tc.wantTotal {
				t.Errorf("js_error outcome total %d", je[0].Total)
			}
		})
	}
}

func TestServerSampleRateZeroDropsAll(t *testing.T) {
	f := newFixture(t, func(c *config.RUM) { c.SampleRate = 0 })
	if w := f.post([]byte(validBeacon), "10.0.0.1", nil); w.Code != 202 {
		t.Fatal(w.Code)
	}
	if f.counter("dropped", "sampled_out") != 1 || len(f.sink.named("page_view")) != 0 {
		t.Error("beacon counted at sample_rate 0")
	}
}

func TestServiceVitalsAndErrors(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	for i := range 4 {
		lcp := []float64{1, 2, 3, 4}[i]
		body := beaconWith(
			fmt.Sprintf(`{"type":"vital","url":"/product/%d","name":"lcp","value":%v}`, i, lcp),
			fmt.Sprintf(`{"type":"page_view","url":"/product/%d"}`, i),
			`{"type":"page_view","url":"/cart"}`,
		)
		if w := f.post(body, "10.0.0.1", nil); w.Code != 202 {
			t.Fatal(w.Body)
		}
	}
	f.post([]byte(validBeacon), "10.0.0.1", nil)
	if err := f.c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Later data, outside the first window.
	f.advance(10 * time.Minute)
	f.post(beaconWith(`{"type":"vital","url":"/product/9","name":"lcp","value":30}`), "10.0.0.1", nil)
	f.c.Flush(ctx)

	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	rep, err := f.c.Service().Vitals(ctx, start, start.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Overall.PageViews != 9 || rep.Overall.JSErrors != 2 {
		t.Errorf("overall %+v", rep.Overall)
	}
	if len(rep.Routes) != 2 || rep.Routes[0].Route != "/product/:id" || rep.Routes[0].PageViews != 5 || rep.Routes[1].Route != "/cart" {
		t.Fatalf("routes %+v", rep.Routes)
	}
	lcp := rep.Routes[0].Vitals["lcp"]
	if lcp.Samples != 5 || lcp.P75 == nil || math.Abs(*lcp.P75-3.0) > 0.15 {
		t.Errorf("lcp of 1,2,3,4,1.9: %+v p75=%v", lcp, *lcp.P75)
	}
	if cart := rep.Routes[1].Vitals["lcp"]; cart.P75 != nil || cart.Samples != 0 {
		t.Errorf("cart has no lcp: %+v", cart)
	}
	// The whole window, as JSON.
	rep, _ = f.c.Service().Vitals(ctx, start, start.Add(time.Hour))
	if p := *rep.Routes[0].Vitals["lcp"].P75; p < 3.5 {
		t.Errorf("p75 with the 30 s outlier %v", p)
	}
	if _, err := f.c.Service().Vitals(ctx, start, start); !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("empty window: %v", err)
	}

	errs, err := f.c.Service().Errors(ctx, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs.Groups) != 1 {
		t.Fatalf("groups %+v", errs.Groups)
	}
	g := errs.Groups[0]
	if g.Count != 2 || g.Kind != "error" || g.Message != "TypeError: x is undefined" ||
		!strings.Contains(g.SampleStack, "https://shop.example.com/app.js:10:5") ||
		g.SampleURL != "https://shop.example.com/product/42" || !slices.Equal(g.Routes, []string{"/product/:id"}) || len(g.Fingerprint) != 16 {
		t.Errorf("group %+v", g)
	}

	// The last hour, asked in the middle of a minute: the window starts
	// at a whole minute and ends now, not at the minute still to come.
	f.advance(25 * time.Second)
	now := f.clock()
	rep, _ = f.c.Service().Vitals(ctx, now.Add(-time.Hour), now)
	if !rep.To.Equal(now) || !rep.From.Equal(now.Add(-time.Hour).Truncate(time.Minute)) || rep.Overall.PageViews != 9 {
		t.Errorf("last hour at %s: from %s to %s, %v page views", now, rep.From, rep.To, rep.Overall.PageViews)
	}
}

func TestErrorGroupingAndScrubbing(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	send := func(msg, stack, url string) {
		b := fmt.Sprintf(`{"type":"error","url":%q,"message":%q,"stack":%q}`, url, msg, stack)
		if w := f.post(beaconWith(b), "10.0.0.1", nil); w.Code != 202 {
			t.Fatal(w.Body)
		}
	}
	// Same error, different ids and line numbers after a deploy: one group.
	send("Order 1234 failed for bob@example.com", "Error: x\n at pay (https://shop.example.com/app.js?v=1:10:5)", "https://shop.example.com/checkout?card=4242424242424242")
	f.advance(time.Minute)
	send("Order 98 failed for eve@example.com", "Error: x\n at pay (https://shop.example.com/app.js?v=2:12:7)", "https://shop.example.com/cart")
	send("Something else", "", "/")
	f.c.Flush(ctx)
	rep, _ := f.c.Service().Errors(ctx, time.Time{}, 10)
	if len(rep.Groups) != 2 {
		t.Fatalf("groups %+v", rep.Groups)
	}
	g := rep.Groups[0]
	if g.Count != 2 || !g.FirstSeen.Before(g.LastSeen) || !slices.Equal(g.Routes, []string{"/checkout", "/cart"}) {
		t.Errorf("group %+v", g)
	}
	all := fmt.Sprintf("%+v", rep)
	for _, leak := range []string{"bob@example.com", "eve@example.com", "4242424242424242", "card="} {
		if strings.Contains(all, leak) {
			t.Errorf("%q leaked into error groups: %s", leak, all)
		}
	}
}

func TestErrorLogHook(t *testing.T) {
	var buf bytes.Buffer
	cfg := testConfig()
	c, err := New(cfg, "http://localhost:8080", Options{ErrorLog: newTextLogger(&buf)})
	if err != nil {
		t.Fatal(err)
	}
	r := postRequest([]byte(validBeacon))
	w := newRecorder()
	c.BeaconHandler().ServeHTTP(w, r)
	if w.Code != 202 {
		t.Fatal(w.Code)
	}
	out := buf.String()
	for _, want := range []string{"msg=\"js error\"", "site=shop", "route=/product/:id", "fingerprint=", "count=2"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}

// While Run runs, error log lines are written by its goroutine, off the
// beacon's path; they still come out, and still at most 20 a second.
func TestErrorLogWrittenByRun(t *testing.T) {
	var buf sentineltest.LockedBuffer
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := testConfig()
	cfg.RateLimit.PerIP, cfg.RateLimit.PerIPBurst = 1e9, 1<<30
	c, err := New(cfg, "http://localhost:8080", Options{ErrorLog: newTextLogger(&buf), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	sentineltest.Eventually(t, 5*time.Second, "Run to start", c.running.Load)
	for range 30 {
		w := newRecorder()
		c.BeaconHandler().ServeHTTP(w, postRequest([]byte(validBeacon)))
		if w.Code != 202 {
			t.Fatal(w.Code)
		}
	}
	sentineltest.Eventually(t, 5*time.Second, "20 js error lines", func() bool { return strings.Count(buf.String(), `msg="js error"`) == 20 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), `msg="js error"`); n != 20 {
		t.Errorf("%d js error lines for 30 reports at one instant, want the limit of 20", n)
	}
}

// failingStore fails every write until ok is set.
type failingStore struct {
	*MemoryStore
	fail bool
}

func (s *failingStore) SaveMinutes(ctx context.Context, writer string, rows []MinuteRow) error {
	if s.fail {
		return errors.New("disk full")
	}
	return s.MemoryStore.SaveMinutes(ctx, writer, rows)
}

func TestFlushRetriesAfterStoreFailure(t *testing.T) {
	store := &failingStore{MemoryStore: NewMemoryStore(time.Hour, 10), fail: true}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := New(testConfig(), "http://localhost:8080", Options{Counts: store, Errors: store, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	w := newRecorder()
	c.BeaconHandler().ServeHTTP(w, postRequest([]byte(validBeacon)))
	if err := c.Flush(context.Background()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("flush error %v", err)
	}
	store.fail = false
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep, _ := c.Service().Vitals(context.Background(), now.Add(-time.Minute), now.Add(time.Minute))
	if rep.Overall.PageViews != 1 {
		t.Errorf("page view lost across a failed flush: %+v", rep.Overall)
	}
}

func TestRunFlushesEverySecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := NewMemoryStore(time.Hour, 10)
		c, err := New(testConfig(), "http://localhost:8080", Options{Counts: store, Errors: store})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- c.Run(ctx) }()
		w := newRecorder()
		c.BeaconHandler().ServeHTTP(w, postRequest([]byte(validBeacon)))
		rows, _ := store.Minutes(ctx, time.Time{}, time.Now().Add(time.Hour))
		if len(rows) != 0 {
			t.Fatal("written before the first tick")
		}
		time.Sleep(FlushInterval)
		synctest.Wait()
		rows, _ = store.Minutes(ctx, time.Time{}, time.Now().Add(time.Hour))
		if len(rows) != 1 || rows[0].Views != 1 {
			t.Fatalf("rows after a tick: %+v", rows)
		}
		// Data arriving just before shutdown is flushed on the way out.
		c.BeaconHandler().ServeHTTP(newRecorder(), postRequest([]byte(validBeacon)))
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		rows, _ = store.Minutes(context.Background(), time.Time{}, time.Now().Add(time.Hour))
		if len(rows) != 1 || rows[0].Views != 2 {
			t.Fatalf("rows after shutdown: %+v", rows)
		}
	})
}

// snippetBudget is the most GET /rum.js may weigh as served: gzip at level
// 9 of the snippet with the server's settings prepended. vitalsBudget is
// the probes' vitals-only bundle's, gzipped the same way.
const (
	snippetBudget = 5000
	vitalsBudget  = 4000
)

func TestSnippetBudget(t *testing.T) {
	gz := func(b []byte) int {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		return buf.Len()
	}
	if n := gz([]byte(vitalsJS)); n > vitalsBudget {
		t.Errorf("vitals.min.js is %d bytes gzipped, over its budget of %d", n, vitalsBudget)
	}
	// Settings longer than most: a long endpoint, a site name, a sample
	// rate and three query parameters.
	cfg := testConfig()
	cfg.Site = "shop-eu"
	cfg.SampleRate = 0.25
	cfg.AllowedQueryParams = []string{"utm_source", "utm_medium", "utm_campaign"}
	c, err := New(cfg, "https://rum-collector.monitoring.shop-company.example.com", Options{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(acceptGzip bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, ScriptPath, nil)
		if acceptGzip {
			r.Header.Set("Accept-Encoding", "gzip, deflate, br")
		}
		w := httptest.NewRecorder()
		c.ScriptHandler().ServeHTTP(w, r)
		return w
	}
	served, plain := get(true), get(false)
	if served.Header().Get("Content-Encoding") != "gzip" {
		t.Fatal("rum.js not served gzipped")
	}
	t.Logf("rum.js: %d bytes, %d gzipped as served (budget %d)", plain.Body.Len(), served.Body.Len(), snippetBudget)
	if n := served.Body.Len(); n > snippetBudget {
		t.Errorf("rum.js is %d bytes gzipped as served, over its budget of %d", n, snippetBudget)
	}
	if n := gz(plain.Body.Bytes()); n > snippetBudget {
		t.Errorf("rum.js is %d bytes at gzip level 9, over its budget of %d", n, snippetBudget)
	}
	if !strings.HasPrefix(plain.Body.String(), `window.__sentinelRUMConfig={"endpoint":"https://rum-collector.monitoring.shop-company.example.com/rum/v1/beacons"`) {
		t.Errorf("settings not prepended: %.120s", plain.Body.String())
	}
	for _, want := range []string{"__sentinelRUMConfig", "sendBeacon", "keepalive", "sessionStorage", "pushState", "unhandledrejection", "visibilitychange", "pagehide", "data-"} {
		if !strings.Contains(snippetJS, want) {
			t.Errorf("snippet lacks %q", want)
		}
	}
	if !strings.Contains(string(VitalsScript()), "__sentinelVitals") || strings.Contains(vitalsJS, "sendBeacon") {
		t.Error("vitals bundle should set __sentinelVitals and send nothing")
	}
}

func TestConfigValidation(t *testing.T) {
	cfg := config.DefaultRUM()
	cfg.AllowedOrigins = []string{"https://ok.example", "https://bad.example/", "shop.example.com", "HTTPS://UP.example"}
	cfg.SampleRate = 1.5
	cfg.Routes = []string{"/a/:id", "nope", "/a/:id", "/x/*/y", "/b/:"}
	cfg.Sites = []string{"ok", "bad site"}
	cfg.RateLimit.PerIP = 0
	_, err := New(cfg, "http://localhost:8080", Options{})
	var ps config.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v", err)
	}
	got := ps.Error()
	for _, want := range []string{
		"rum.allowed_origins[1]: origin \"https://bad.example/\" must not end with '/'",
		"rum.allowed_origins[2]",
		"rum.allowed_origins[3]: origin \"HTTPS://UP.example\" must be lower case",
		"rum.sample_rate: must be between 0 and 1",
		"rum.routes[1]: route \"nope\" must start with '/'",
		"rum.routes[2]: duplicate route \"/a/:id\" (also routes[0])",
		"rum.routes[3]: route \"/x/*/y\": '*' may only be the last segment",
		"rum.routes[4]",
		"rum.sites[1]",
		"rum.rate_limit.per_ip: must be greater than 0",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

// TestFlushWritesAbsoluteRowsPerWriter: two collectors (replicas) sharing
// one store each store their own rows, reads sum them, flushing again
// (a retry) changes nothing, and a restarted writer continues its minute.
func TestFlushWritesAbsoluteRowsPerWriter(t *testing.T) {
	ctx := context.Background()
	shared := NewMemoryStore(time.Hour, 10)
	now := time.Date(2025, 3, 1, 12, 0, 30, 0, time.UTC)
	clock := func() time.Time { return now }
	newCollector := func(writer string) *Collector {
		c, err := New(testConfig(), "http://localhost:8080", Options{Counts: shared, Errors: shared, Writer: writer, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Load(ctx); err != nil {
			t.Fatal(err)
		}
		return c
	}
	beacon := func(c *Collector) {
		w := newRecorder()
		c.BeaconHandler().ServeHTTP(w, postRequest([]byte(validBeacon)))
		if w.Code != 202 {
			t.Fatalf("beacon: %d", w.Code)
		}
	}
	views := func() float64 {
		rep, err := NewService(shared, shared, clock).Vitals(ctx, now.Add(-time.Hour), now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return rep.Overall.PageViews
	}
	a, b := newCollector("a"), newCollector("b")
	beacon(a)
	beacon(b)
	beacon(b)
	for range 3 { // the retries of a flush whose answer was lost
		for _, c := range []*Collector{a, b} {
			if err := c.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			c.mu.Lock()
			for k := range c.own {
				c.dirty[k] = true
			}
			c.mu.Unlock()
		}
	}
	one := views() / 3
	if one <= 0 || views() != 3*one {
		t.Fatalf("page views %v after 3 beacons", views())
	}
	// b restarts within the minute and takes one more beacon.
	b = newCollector("b")
	beacon(b)
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := views(); got != 4*one {
		t.Errorf("page views after a restart: %v, want %v", got, 4*one)
	}
}

// batchSink takes outcomes a beacon at a time.
type batchSink struct {
	recordingSink
	batches int
}

func (s *batchSink) RecordOutcomes(ctx context.Context, os []model.Outcome) {
	s.batches++
	for _, o := range os {
		s.RecordOutcome(ctx, o)
	}
}

func TestBatchSinkGetsEachBeaconOnce(t *testing.T) {
	sink := &batchSink{}
	c, err := New(testConfig(), "http://localhost:8080", Options{Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		w := newRecorder()
		c.BeaconHandler().ServeHTTP(w, postRequest([]byte(validBeacon)))
		if w.Code != 202 {
			t.Fatal(w.Code, w.Body)
		}
	}
	if sink.batches != 2 || len(sink.outs) != 14 || len(sink.named("lcp")) != 2 || sink.named("js_error")[1].Total != 2 {
		t.Errorf("%d batches, %d outcomes: %+v", sink.batches, len(sink.outs), sink.outs)
	}
}
