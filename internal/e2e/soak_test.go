package e2e

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// soakSample is one reading of the binary's own metrics.
type soakSample struct {
	at         time.Duration
	goroutines float64
	heap       float64 // go_memstats_heap_inuse_bytes
	rss        float64 // process_resident_memory_bytes
}

// TestSoak runs the real binary for SENTINEL_SOAK (a Go duration, e.g.
// 1h) under bounded mixed load on loopback: the demo shop probed every
// second, 50 beacons/s, 20 API reads/s, 5 SLO event posts/s, an
// Alertmanager delivery every second (groups firing and resolving), an
// incident declared, acknowledged by signed Slack click and resolved
// every 10 s. It samples goroutines, heap and RSS from /metrics every
// SENTINEL_SOAK_SAMPLE (default 30s) and fails when the last quarter's
// figures rise above the second quarter's (after warm-up) by more than a
// small allowance. Not run without SENTINEL_SOAK.
func TestSoak(t *testing.T) {
	total, err := time.ParseDuration(os.Getenv("SENTINEL_SOAK"))
	if err != nil || total <= 0 {
		t.Skip("set SENTINEL_SOAK=1h (or 10m) to run the soak test")
	}
	every := 30 * time.Second
	if d, err := time.ParseDuration(os.Getenv("SENTINEL_SOAK_SAMPLE")); err == nil && d > 0 {
		every = d
	}
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	addr := freeAddr(t)
	shop := startShop(t, "http://"+addr)
	cfgPath := write(t, "sentinel.yaml", scenarioConfig(scenarioOpts{listen: addr, db: filepath.Join(t.TempDir(), "data", "sentinel.db"), shop: shop.URL(), slackAPI: fake.APIURL()}))
	p := startBinary(t, cfgPath, addr, 30*time.Second)
	base := p.base()

	ctx, cancel := context.WithTimeout(t.Context(), total)
	defer cancel()
	var mu sync.Mutex
	latencies := map[string][]time.Duration{}
	failures := map[string]int{}
	requests := map[string]int{}
	record := func(kind string, start time.Time, code int, err error, want ...int) {
		mu.Lock()
		defer mu.Unlock()
		requests[kind]++
		latencies[kind] = append(latencies[kind], time.Since(start))
		if err != nil || !slices.Contains(want, code) {
			if ctx.Err() == nil {
				failures[kind]++
			}
		}
	}
	paced := func(rate float64, fn func(n int)) func() {
		return func() {
			tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					fn(n)
				}
			}
		}
	}
	var wg sync.WaitGroup
	wg.Go(paced(50, func(int) {
		s := time.Now()
		code, err := beacon(ctx, base, shop.URL(), "")
		// One client address above rum.rate_limit.per_ip (10/s): the
		// excess is answered 429, which is the limit holding.
		kind := "beacon"
		if code == http.StatusTooManyRequests {
			kind = "beacon_429"
		}
		record(kind, s, code, err, http.StatusAccepted, http.StatusTooManyRequests)
	}))
	reads := []string{"/api/v1/incidents?limit=20", "/api/v1/slos", "/api/v1/probes", "/api/v1/probes/checkout/results", "/api/v1/rum/vitals", "/api/v1/alerts", "/metrics"}
	wg.Go(paced(20, func(n int) {
		s := time.Now()
		code, _, err := api(ctx, http.MethodGet, base+reads[n%len(reads)], viewerToken, nil)
		record("read", s, code, err, http.StatusOK)
	}))
	wg.Go(paced(5, func(int) {
		s := time.Now()
		code, _, err := api(ctx, http.MethodPost, base+"/api/v1/slos/checkout-availability/events", ingestToken, map[string]any{"good": 1, "total": 1})
		// A probe SLO refuses pushed events: the answer is a clear 4xx.
		record("event", s, code, err, http.StatusBadRequest, http.StatusConflict, http.StatusNotFound, http.StatusAccepted)
	}))
	wg.Go(paced(1, func(n int) {
		group := n / 10 % 20 // 20 groups, each firing for 5 deliveries then resolved for 5
		status := "firing"
		if n%10 >= 5 {
			status = "resolved"
		}
		s := time.Now()
		code, _, err := api(ctx, http.MethodPost, base+"/api/v1/alertmanager", ingestToken, amPayload(fmt.Sprintf(`{}:{alertname="Soak%d"}`, group), fmt.Sprintf("Soak%d", group), status))
		record("webhook", s, code, err, http.StatusOK)
	}))
	wg.Go(paced(0.1, func(n int) {
		s := time.Now()
		code, body, err := api(ctx, http.MethodPost, base+"/api/v1/incidents", responderToken, map[string]any{"title": fmt.Sprintf("soak %d", n), "severity": "warning", "labels": map[string]string{"service": fmt.Sprintf("soak-%d", n)}})
		record("declare", s, code, err, http.StatusCreated)
		var inc incidentJSON
		if err != nil || code != http.StatusCreated || jsonUnmarshal(body, &inc) != nil {
			return
		}
		// Acknowledge by signed click once the page is in Slack, then resolve.
		deadline := time.Now().Add(5 * time.Second)
		for len(pages(fake)[fmt.Sprint(inc.ID)]) == 0 && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
		if ps := pages(fake)[fmt.Sprint(inc.ID)]; len(ps) > 0 {
			client := slacktest.Client{Secret: slackSecret}
			payload := slacktest.BlockActions(slacktest.Click{ActionID: slack.ActionAcknowledge, Value: fmt.Sprint(inc.ID), UserID: slackUser, UserName: "carol", ChannelID: ps[0].Channel, MessageTS: ps[0].TS})
			s := time.Now()
			r, err := client.Interaction(ctx, base+"/slack/interactions", payload)
			record("click", s, r.Status, err, http.StatusOK)
		}
		s = time.Now()
		code, _, err = api(ctx, http.MethodPost, fmt.Sprintf("%s/api/v1/incidents/%d/resolve", base, inc.ID), responderToken, nil)
		record("resolve", s, code, err, http.StatusOK)
	}))

	var samples []soakSample
	start := time.Now()
	sample := func() {
		s := soakSample{at: time.Since(start).Round(time.Second)}
		s.goroutines = metricSum(t, base, "go_goroutines")
		s.heap = metricSum(t, base, "go_memstats_heap_inuse_bytes")
		s.rss = metricSum(t, base, "process_resident_memory_bytes")
		samples = append(samples, s)
		t.Logf("soak t=%s goroutines=%.0f heap_inuse=%.1fMiB rss=%.1fMiB", s.at, s.goroutines, s.heap/(1<<20), s.rss/(1<<20))
	}
	sample()
	tick := time.NewTicker(every)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			sample()
		}
	}
	tick.Stop()
	wg.Wait()
	cancel()
	sample()

	mu.Lock()
	var summary []string
	for _, kind := range []string{"beacon", "beacon_429", "read", "event", "webhook", "declare", "click", "resolve"} {
		ls := latencies[kind]
		slices.Sort(ls)
		if len(ls) == 0 {
			continue
		}
		q := func(f float64) time.Duration { return ls[int(math.Min(float64(len(ls)-1), f*float64(len(ls))))] }
		summary = append(summary, fmt.Sprintf("%s: %d requests, %d failed, p50 %s, p99 %s, max %s", kind, requests[kind], failures[kind], q(0.5).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), ls[len(ls)-1].Round(time.Millisecond)))
		if failures[kind] > 0 {
			t.Errorf("%s: %d of %d requests failed", kind, failures[kind], requests[kind])
		}
	}
	mu.Unlock()
	t.Logf("soak of %s:\n  %s", total, strings.Join(summary, "\n  "))
	if n := len(listIncidents(t, base, "")); n == 0 {
		t.Error("no incidents were made")
	}
	for id, ps := range pages(fake) {
		if len(ps) > 1 {
			t.Errorf("incident #%s paged %d times", id, len(ps))
		}
	}

	// Flat: the last quarter against the second (the first is warm-up).
	if len(samples) < 8 {
		t.Logf("only %d samples: too few to judge flatness", len(samples))
		return
	}
	q := len(samples) / 4
	mean := func(ss []soakSample, f func(soakSample) float64) float64 {
		sum := 0.0
		for _, s := range ss {
			sum += f(s)
		}
		return sum / float64(len(ss))
	}
	second, last := samples[q:2*q], samples[len(samples)-q:]
	for _, m := range []struct {
		name  string
		f     func(soakSample) float64
		slack float64
	}{
		{"goroutines", func(s soakSample) float64 { return s.goroutines }, 20},
		{"heap_inuse", func(s soakSample) float64 { return s.heap }, 16 << 20},
		{"rss", func(s soakSample) float64 { return s.rss }, 32 << 20},
	} {
		a, b := mean(second, m.f), mean(last, m.f)
		t.Logf("flatness %s: second quarter mean %.1f, last quarter mean %.1f (allowance +%.0f)", m.name, a, b, m.slack)
		if b > a*1.25+m.slack {
			t.Errorf("%s grew from %.0f to %.0f over the soak", m.name, a, b)
		}
	}
}
