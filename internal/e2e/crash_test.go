package e2e

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// crashConfig is a Sentinel with every writer busy: a probe every second,
// RUM, an events SLO, incidents paging through Slack, and a short
// delivery lease (10 s) so a delivery left in flight by a kill is
// reconciled within seconds of the restart. Slack is not paced, so the
// bot reads up to 1,000 recent messages when it reconciles (with the
// default 200, a page posted more than 200 messages before the restart is
// not found and is sent again: docs/reliability.md).
func crashConfig(addr, db, shop, slackAPI string) string {
	return fmt.Sprintf(`server: {listen: %q, external_url: %q}
storage: {path: %q}
%speople: [{name: carol, email: carol@shop.example.com, slack_id: %s}]
probes:
  - name: home
    interval: 1s
    timeout: 800ms
    labels: {service: shop}
    steps: [{name: home, request: {method: GET, url: "%s/"}, expect: {status: 200}}]
rum:
  allowed_origins: ["https://shop.example.com"]
  routes: [/product/:id]
slos:
  - {name: orders, service: orders, objective: 99, window: 30d, sli: {events: {}}}
  - {name: home, service: shop, objective: 99, window: 30d, sli: {probe: home}}
alerting:
`+ledgerYAML+`incidents:
  ack_timeout: 0s
  delivery: {timeout: 2s, lease: 10s, backoff: 1s, max_backoff: 2s}
oncall:
  schedules:
    - {name: primary, timezone: UTC, rotation: {every: 1w, members: [carol]}}
  escalation_policies:
    - {name: default, steps: [{notify: "schedule:primary"}]}
slack:
  token: xoxb-e2e
  signing_secret: %s
  api_url: %s
  channel: "#incidents"
  pace: 0s
  timeout: 2s
  history_limit: 1000
`, addr, "http://"+addr, db, tokensYAML, slackUser, shop, slackSecret, slackAPI)
}

// envInt reads a positive integer from the environment, else def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestCrashSafety kills the real binary with SIGKILL at random moments
// (seeded; the seed is logged and SENTINEL_CRASH_SEED replays it) under
// mixed load: beacons, probe runs, SLO events, declared incidents,
// acknowledgements by API and by signed Slack click, and Alertmanager
// webhooks. SENTINEL_CRASH_ROUNDS sets how many kills (default 5). After
// every restart: the store opens and Sentinel is ready; every incident the
// API returned exists; every acknowledgement that was answered holds;
// every webhook that was answered 200 has its incident; and no incident
// has more than one page in Slack.
func TestCrashSafety(t *testing.T) {
	rounds := envInt("SENTINEL_CRASH_ROUNDS", 5)
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("SENTINEL_CRASH_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("crash test: %d rounds, seed %d (SENTINEL_CRASH_SEED=%d replays the kill times)", rounds, seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5e17))

	fake := slacktest.New()
	t.Cleanup(fake.Close)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	t.Cleanup(shop.Close)
	addr := freeAddr(t)
	db := filepath.Join(t.TempDir(), "data", "sentinel.db")
	cfgPath := write(t, "sentinel.yaml", crashConfig(addr, db, shop.URL, fake.APIURL()))
	base := "http://" + addr
	led := newLedger()
	var logs []string

	var starts []time.Duration
	for round := 1; round <= rounds; round++ {
		began := time.Now()
		p := startBinary(t, cfgPath, addr, 30*time.Second)
		starts = append(starts, time.Since(began).Round(time.Millisecond))
		// The state before this round's load must hold what earlier rounds
		// were told.
		verifyLedger(t, base, led, fake, round)

		ctx, stopLoad := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range ledgerWorkers {
			wr := rand.New(rand.NewPCG(seed+uint64(round*100+w), uint64(w)))
			wg.Go(func() { loadWorker(ctx, w, round, wr, func() string { return base }, led, fake) })
		}
		killAfter := time.Duration(300+rng.IntN(2200)) * time.Millisecond
		t.Logf("round %d: killing after %s of load", round, killAfter)
		time.Sleep(killAfter) // the kill time is the experiment, not a wait for a condition
		p.kill()
		stopLoad()
		wg.Wait()
		logs = append(logs, p.stderr.String())
		if dir := os.Getenv("SENTINEL_CRASH_LOGS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("round-%d.log", round)), []byte(p.stderr.String()), 0o600)
		}
	}
	began := time.Now()
	p := startBinary(t, cfgPath, addr, 30*time.Second)
	starts = append(starts, time.Since(began).Round(time.Millisecond))
	t.Logf("start to ready: first start (empty store) %s; after each kill -9 %v", starts[0], starts[1:])
	verifyLedger(t, base, led, fake, rounds+1)
	// Once the outbox settles (leases of 10 s), every incident that was not
	// acknowledged first is paged: nothing lost (and, checked above,
	// nothing twice). An acknowledgement may win the race with the page;
	// then no page is due.
	unpaged := func() []int64 {
		ps := pages(fake)
		led.mu.Lock()
		defer led.mu.Unlock()
		var out []int64
		for id := range led.declared {
			if len(ps[fmt.Sprint(id)]) == 0 && !led.acked[id] {
				out = append(out, id)
			}
		}
		return out
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(unpaged()) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if missing := unpaged(); len(missing) > 0 {
		for _, id := range missing {
			inc := getIncident(t, base, id)
			t.Errorf("incident #%d (%s) was never paged; timeline %+v", id, inc.Status, inc.Timeline)
		}
	}
	verifyLedger(t, base, led, fake, rounds+2)
	t.Logf("%s; pages %d; chat.postMessage calls %d", ledgerSummary(led), len(pages(fake)), len(fake.Calls("chat.postMessage")))
	if t.Failed() {
		t.Logf("last process log:\n%s", p.stderr.String())
	}
}

// amPayload is an Alertmanager webhook (version 4) with one alert.
func amPayload(groupKey, alertname, status string) map[string]any {
	labels := map[string]string{"alertname": alertname, "service": "am-" + alertname, "severity": "critical"}
	ends := "0001-01-01T00:00:00Z"
	if status == "resolved" {
		ends = time.Now().UTC().Format(time.RFC3339)
	}
	return map[string]any{
		"version": "4", "groupKey": groupKey, "truncatedAlerts": 0, "status": status, "receiver": "sentinel",
		"groupLabels": map[string]string{"alertname": alertname}, "commonLabels": labels, "commonAnnotations": map[string]string{},
		"externalURL": "http://alertmanager.test:9093",
		"alerts": []map[string]any{{"status": status, "labels": labels, "annotations": map[string]string{"summary": "crash test"},
			"startsAt": "2026-01-01T00:00:00Z", "endsAt": ends, "generatorURL": "http://prometheus.test/graph", "fingerprint": fmt.Sprintf("%016x", len(alertname)*7919)}},
	}
}

// beaconBody is a small valid RUM batch.
const beaconBody = `{"v": 1, "session": "abcdefgh1234", "events": [
  {"type": "page_view", "url": "https://shop.example.com/product/42"},
  {"type": "vital", "url": "https://shop.example.com/product/42", "name": "lcp", "value": 1.2}]}`

// beacon posts beaconBody with the given Origin, from the given client
// address when forwardedFor is set (only trusted proxies may set it).
func beacon(ctx context.Context, base, origin, forwardedFor string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/rum/v1/beacons", strings.NewReader(beaconBody))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Origin", origin)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/130 Safari/537.36")
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
