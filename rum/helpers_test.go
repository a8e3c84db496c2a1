package rum

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

const (
	testOrigin = "https://shop.example.com"
	testUA     = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
	mobileUA   = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)

// recordingSink keeps every outcome.
type recordingSink struct {
	mu   sync.Mutex
	outs []model.Outcome
}

func (s *recordingSink) RecordOutcome(_ context.Context, o model.Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outs = append(s.outs, o)
}

func (s *recordingSink) named(name string) []model.Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []model.Outcome
	for _, o := range s.outs {
		if o.Name == name {
			out = append(out, o)
		}
	}
	return out
}

type fixture struct {
	c    *Collector
	reg  *prometheus.Registry
	sink *recordingSink
	now  time.Time
	mu   sync.Mutex
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func testConfig() config.RUM {
	cfg := config.DefaultRUM()
	cfg.AllowedOrigins = []string{testOrigin}
	cfg.Site = "shop"
	cfg.Routes = []string{"/product/:id", "/cart", "/checkout", "/docs/*"}
	cfg.AllowedQueryParams = []string{"utm_source"}
	return cfg
}

func newFixture(t testing.TB, mutate func(*config.RUM)) *fixture {
	t.Helper()
	cfg := testConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	f := &fixture{reg: prometheus.NewRegistry(), sink: &recordingSink{}, now: time.Date(2025, 3, 1, 12, 0, 30, 0, time.UTC)}
	c, err := New(cfg, "https://sentinel.example.com/", Options{
		Registerer: f.reg,
		Sink:       f.sink,
		Now:        f.clock,
		ClientIP:   func(r *http.Request) string { return r.Header.Get("X-Test-IP") },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.c = c
	return f
}

// post sends a beacon body from ip with the usual browser headers; hdr
// overrides them ("" deletes).
func (f *fixture) post(body []byte, ip string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, BeaconPath, bytes.NewReader(body))
	r.Header.Set("Origin", testOrigin)
	r.Header.Set("User-Agent", testUA)
	r.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	r.Header.Set("X-Test-IP", ip)
	for k, v := range hdr {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	f.c.BeaconHandler().ServeHTTP(w, r)
	return w
}

func (f *fixture) counter(name string, labels ...string) float64 {
	switch name {
	case "page_views":
		return testutil.ToFloat64(f.c.m.pageViews.WithLabelValues(labels...))
	case "js_errors":
		return testutil.ToFloat64(f.c.m.jsErrors.WithLabelValues(labels...))
	case "dropped":
		return testutil.ToFloat64(f.c.m.dropped.WithLabelValues(labels...))
	case "beacons":
		return testutil.ToFloat64(f.c.m.beacons.WithLabelValues(labels...))
	}
	panic(name)
}

// validBeacon is what the snippet sends for one page load.
const validBeacon = `{"v":1,"site":"shop","session":"0123456789abcdef01234567","sample_rate":1,"events":[
{"type":"vital","url":"https://shop.example.com/product/42?utm_source=x&email=a@b.co","name":"ttfb","value":0.12},
{"type":"vital","url":"https://shop.example.com/product/42","name":"fcp","value":0.8},
{"type":"vital","url":"https://shop.example.com/product/42","name":"lcp","value":1.9,"target":"img#hero"},
{"type":"vital","url":"https://shop.example.com/product/42","name":"cls","value":0.02},
{"type":"vital","url":"https://shop.example.com/product/42","name":"inp","value":0.064},
{"type":"error","url":"https://shop.example.com/product/42","kind":"error","message":"TypeError: x is undefined","stack":"TypeError: x is undefined\n    at buy (https://shop.example.com/app.js?v=3:10:5)","count":2},
{"type":"page_view","url":"https://shop.example.com/product/42","nav":"load","errors":2}]}`

func beaconWith(events ...string) []byte {
	return []byte(`{"v":1,"site":"shop","session":"0123456789abcdef01234567","events":[` + strings.Join(events, ",") + `]}`)
}

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, nil))
}

func postRequest(body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, BeaconPath, bytes.NewReader(body))
	r.Header.Set("Origin", testOrigin)
	r.Header.Set("User-Agent", testUA)
	return r
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
