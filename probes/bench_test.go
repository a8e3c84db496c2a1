package probes

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
)

var benchBody = []byte(`{"status":"paid","cart":{"id":"c-123"},"items":[1,2,3]}`)

func benchServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(benchBody)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkStepOverhead compares one journey step with a bare net/http
// request to the same loopback server in the same run. "reuse" shares one
// keep-alive transport (our per-step work only); "fresh" opens a new
// connection per request on both sides, as each scheduled run does.
func BenchmarkStepOverhead(b *testing.B) {
	srv := benchServer(b)
	url := srv.URL + "/"
	bare := func(b *testing.B, c *http.Client) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) == 0 {
			b.Fatal("bad response")
		}
	}
	yaml := func(expect string) string {
		return "probes:\n  - {name: bench, steps: [{name: s, request: {url: \"${URL}\"}, expect: " + expect + "}]}\n"
	}
	journey := func(b *testing.B, expect string, shared http.RoundTripper) {
		js := compile(b, yaml(expect), map[string]string{"URL": url})
		svc, _ := New(Options{Probes: js, Transport: shared})
		ctx := context.Background()
		b.ResetTimer()
		for b.Loop() {
			res, _ := svc.RunOnce(ctx, "bench")
			if !res.Success {
				b.Fatal(res.Error)
			}
		}
	}
	b.Run("reuse/bare", func(b *testing.B) {
		c := &http.Client{Transport: &http.Transport{}}
		for b.Loop() {
			bare(b, c)
		}
	})
	b.Run("reuse/step-status", func(b *testing.B) { journey(b, "{status: 200}", &http.Transport{}) })
	b.Run("reuse/step-json", func(b *testing.B) {
		journey(b, `{status: 200, body_contains: paid, json: {$.status: paid}, json_exists: [$.cart.id]}`, &http.Transport{})
	})
	// paired alternates a bare request and a journey step in the same loop,
	// so machine noise hits both alike, and reports their ratio.
	paired := func(name, expect string, fresh bool) {
		b.Run("paired/"+name, func(b *testing.B) {
			var shared http.RoundTripper
			if !fresh {
				shared = &http.Transport{}
			}
			js := compile(b, yaml(expect), map[string]string{"URL": url})
			svc, _ := New(Options{Probes: js, Transport: shared})
			bareT := &http.Transport{}
			var tBare, tStep time.Duration
			ctx := context.Background()
			for b.Loop() {
				t0 := time.Now()
				if fresh {
					t := &http.Transport{}
					bare(b, &http.Client{Transport: t})
					t.CloseIdleConnections()
				} else {
					bare(b, &http.Client{Transport: bareT})
				}
				t1 := time.Now()
				res, _ := svc.RunOnce(ctx, "bench")
				tStep += time.Since(t1)
				tBare += t1.Sub(t0)
				if !res.Success {
					b.Fatal(res.Error)
				}
			}
			b.ReportMetric(float64(tBare.Nanoseconds())/float64(b.N), "bare-ns/op")
			b.ReportMetric(float64(tStep.Nanoseconds())/float64(b.N), "step-ns/op")
			b.ReportMetric(float64(tStep)/float64(tBare), "ratio")
		})
	}
	paired("reuse-status", "{status: 200}", false)
	paired("reuse-json", `{status: 200, body_contains: paid, json: {$.status: paid}, json_exists: [$.cart.id]}`, false)
	paired("fresh-status", "{status: 200}", true)
	b.Run("fresh/bare", func(b *testing.B) {
		for b.Loop() {
			t := &http.Transport{}
			bare(b, &http.Client{Transport: t})
			t.CloseIdleConnections()
		}
	})
	b.Run("fresh/step-status", func(b *testing.B) { journey(b, "{status: 200}", nil) })
}

// BenchmarkSchedulerLoad runs the real scheduler for a bounded time
// (SENTINEL_BENCH_SECONDS, default 20) at 10,000 steps per minute and
// reports start lateness (actual start minus scheduled start). Run it with
// -benchtime=1x.
func BenchmarkSchedulerLoad(b *testing.B) {
	secs := 20
	if s, err := strconv.Atoi(os.Getenv("SENTINEL_BENCH_SECONDS")); err == nil && s > 0 {
		secs = s
	}
	const probes, steps, interval = 500, 2, 6 * time.Second // 500*2*(60/6) = 10,000 steps/min
	for _, mode := range []string{"fake-transport", "loopback"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				var rt http.RoundTripper
				base := "http://shop.test"
				if mode == "loopback" {
					base = benchServer(b).URL
				} else {
					rt = &fakeTransport{delay: 5 * time.Millisecond}
				}
				var y strings.Builder
				y.WriteString("probes:\n")
				for i := 0; i < probes; i++ {
					fmt.Fprintf(&y, "  - {name: p%d, interval: %s, timeout: 5s, steps: [", i, interval)
					for s := 0; s < steps; s++ {
						fmt.Fprintf(&y, "{name: s%d, request: {url: \"%s/\"}, expect: {status: 200}},", s, base)
					}
					y.WriteString("]}\n")
				}
				js := compile(b, y.String(), nil)
				svc, err := New(Options{Probes: js, Transport: rt, Settings: config.ProbeSettings{MaxConcurrent: 16}})
				if err != nil {
					b.Fatal(err)
				}
				var mu sync.Mutex
				var late []time.Duration
				svc.onStart = func(_ string, scheduled, started time.Time) {
					mu.Lock()
					late = append(late, started.Sub(scheduled))
					mu.Unlock()
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs)*time.Second)
				_ = svc.Run(ctx)
				cancel()
				mu.Lock()
				slices.Sort(late)
				n := len(late)
				if n == 0 {
					b.Fatal("no runs")
				}
				pct := func(p float64) float64 { return float64(late[min(n-1, int(float64(n)*p))]) / float64(time.Millisecond) }
				b.ReportMetric(float64(n*steps)/float64(secs)*60, "steps/min")
				b.ReportMetric(pct(0.5), "p50-late-ms")
				b.ReportMetric(pct(0.99), "p99-late-ms")
				b.ReportMetric(float64(late[n-1])/float64(time.Millisecond), "max-late-ms")
				mu.Unlock()
			}
		})
	}
}
