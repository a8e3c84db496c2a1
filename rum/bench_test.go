package rum

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
)

// Benchmarks behind docs/performance.md (RUM). Run:
//
//	go test ./rum -run '^$' -bench 'Beacon|MillionURLs' -benchtime=1x
//
// They start real servers on 127.0.0.1 and load them from the same process.

func benchCollector(b *testing.B) *Collector {
	cfg := testConfig()
	cfg.RateLimit = config.RUMRateLimit{PerIP: 1e9, PerIPBurst: 1 << 30, PerSite: 1e9, PerSiteBurst: 1 << 30, TrackedIPs: 65536}
	c, err := New(cfg, "http://127.0.0.1", Options{})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// bareHandler is the baseline: read and discard the body, answer 202.
func bareHandler(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.WriteHeader(http.StatusAccepted)
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}, Timeout: 10 * time.Second}
}

func postOnce(client *http.Client, url string, body []byte) (int, error) {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Origin", testOrigin)
	req.Header.Set("User-Agent", testUA)
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// closedLoop posts as fast as workers can for d and returns requests/second.
func closedLoop(b *testing.B, url string, body []byte, workers int, d time.Duration) float64 {
	client := benchClient()
	defer client.CloseIdleConnections()
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				code, err := postOnce(client, url, body)
				if err != nil || code != http.StatusAccepted {
					b.Errorf("post: %d %v", code, err)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}

// BenchmarkBeaconThroughput compares beacons accepted per second with a bare
// handler that reads and discards the same body, in the same run, and
// reports the ratio.
func BenchmarkBeaconThroughput(b *testing.B) {
	c := benchCollector(b)
	rumSrv := httptest.NewServer(c.BeaconHandler())
	defer rumSrv.Close()
	bareSrv := httptest.NewServer(http.HandlerFunc(bareHandler))
	defer bareSrv.Close()
	body := []byte(validBeacon)
	const workers = 16
	d := 3 * time.Second
	closedLoop(b, bareSrv.URL, body, workers, 500*time.Millisecond) // warm up
	closedLoop(b, rumSrv.URL, body, workers, 500*time.Millisecond)
	var bare, rum float64
	for range b.N {
		for range 2 { // alternate to even out noise from neighbours
			bare += closedLoop(b, bareSrv.URL, body, workers, d)
			rum += closedLoop(b, rumSrv.URL, body, workers, d)
		}
	}
	bare /= float64(2 * b.N)
	rum /= float64(2 * b.N)
	b.ReportMetric(bare, "bare_req/s")
	b.ReportMetric(rum, "rum_req/s")
	b.ReportMetric(rum/bare, "ratio")
	b.ReportMetric(float64(len(body)), "body_bytes")
}

// BenchmarkBeaconLatencyHalfRate measures the collector's capacity, then
// sends beacons at half that rate (open loop, a fixed schedule) and reports
// the latency percentiles.
func BenchmarkBeaconLatencyHalfRate(b *testing.B) {
	c := benchCollector(b)
	srv := httptest.NewServer(c.BeaconHandler())
	defer srv.Close()
	body := []byte(validBeacon)
	capacity := closedLoop(b, srv.URL, body, 16, 3*time.Second)
	rate := capacity / 2
	d := 5 * time.Second
	client := benchClient()
	defer client.CloseIdleConnections()
	for range b.N {
		total := int(rate * d.Seconds())
		interval := time.Duration(float64(time.Second) / rate)
		lat := make([]time.Duration, total)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 256) // bounded in-flight requests
		start := time.Now()
		// Launch whatever is due every millisecond (sleeping per request
		// would lag behind the schedule on a busy machine).
		for i := 0; i < total; {
			for ; i < total; i++ {
				due := start.Add(time.Duration(i) * interval)
				if due.After(time.Now()) {
					break
				}
				sem <- struct{}{}
				idx := i
				wg.Go(func() {
					defer func() { <-sem }()
					code, err := postOnce(client, srv.URL, body)
					// Latency counts from when the request was due, so
					// queueing in the sender is not hidden.
					lat[idx] = time.Since(due)
					if err != nil || code != http.StatusAccepted {
						b.Errorf("post: %d %v", code, err)
					}
				})
			}
			time.Sleep(time.Millisecond)
		}
		wg.Wait()
		slices.Sort(lat)
		q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
		b.ReportMetric(capacity, "capacity_req/s")
		b.ReportMetric(rate, "offered_req/s")
		b.ReportMetric(q(0.5), "p50_ms")
		b.ReportMetric(q(0.99), "p99_ms")
		b.ReportMetric(q(1), "max_ms")
	}
}

// BenchmarkMillionURLs feeds a million page views with distinct URLs (and
// distinct JS errors every 100th) through the collector and reports the heap
// in use afterwards: route folding and bounded groups keep it flat.
func BenchmarkMillionURLs(b *testing.B) {
	for range b.N {
		c := benchCollector(b)
		ctx := context.Background()
		heap := func() float64 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return float64(ms.HeapInuse) / (1 << 20)
		}
		before := heap()
		now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		const n = 1_000_000
		for i := range n {
			be := &Beacon{V: 1, Session: "bench0000", SampleRate: 1, Events: []Event{
				{Type: EventPageView, URL: fmt.Sprintf("https://shop.example.com/p%d/item/%d?q=%d", i%5000, i, i), Nav: "load"},
				{Type: EventVital, URL: fmt.Sprintf("https://shop.example.com/product/%d", i), Name: "lcp", Value: float64(i%4000) / 1000},
			}}
			if i%100 == 0 {
				be.Events = append(be.Events, Event{Type: EventError, URL: "/x", Kind: "error", Message: fmt.Sprintf("unique error %c%c", 'a'+i%26, 'a'+i/26%26), Count: 1})
			}
			c.ingest(ctx, be, "shop", DeviceDesktop, "Chrome 130", 1, now.Add(time.Duration(i)*time.Millisecond))
			if i%1000 == 0 {
				c.Flush(ctx)
			}
		}
		c.Flush(ctx)
		after := heap()
		b.ReportMetric(after, "heap_MiB")
		b.ReportMetric(after-before, "heap_growth_MiB")
		runtime.KeepAlive(c)
	}
}

// BenchmarkDecode compares the beacon parser with encoding/json's strict
// path (which names problems) on the snippet's usual beacon.
func BenchmarkDecode(b *testing.B) {
	body := []byte(validBeacon)
	b.Run("parser", func(b *testing.B) {
		b.ReportAllocs()
		var be Beacon
		for b.Loop() {
			if err := decodeBeaconInto(body, &be); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeSlow(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHandler is one beacon through the collector's own handler (no
// server middleware), with its allocations.
func BenchmarkHandler(b *testing.B) {
	c := benchCollector(b)
	h := c.BeaconHandler()
	body := []byte(validBeacon)
	b.ReportAllocs()
	for b.Loop() {
		if code := serveBeaconOnce(h, body); code != http.StatusAccepted {
			b.Fatal(code)
		}
	}
}

// serveBeaconOnce posts body to h as the snippet does and returns the status.
func serveBeaconOnce(h http.Handler, body []byte) int {
	r := httptest.NewRequest(http.MethodPost, BeaconPath, bytes.NewReader(body))
	r.Header.Set("Origin", testOrigin)
	r.Header.Set("User-Agent", testUA)
	r.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// BenchmarkHandlerParallel is BenchmarkHandler from every P at once: what
// beacons on several cores share (locks, counters) costs here and not in
// BenchmarkHandler.
func BenchmarkHandlerParallel(b *testing.B) {
	c := benchCollector(b)
	h := c.BeaconHandler()
	body := []byte(validBeacon)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if code := serveBeaconOnce(h, body); code != http.StatusAccepted {
				b.Errorf("status %d", code)
				return
			}
		}
	})
}
