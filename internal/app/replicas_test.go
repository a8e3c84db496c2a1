package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
	"github.com/sentinel-oss/sentinel/store/pgtest"
)

// failingShop is a loopback storefront whose checkout fails.
func failingShop(t testing.TB) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "Add to cart") })
	mux.HandleFunc("POST /api/checkout", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"payment backend down"}`, http.StatusInternalServerError)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// replicaConfig is one replica's config: the shared database, a probe of
// the shop every second, a rule paging on it, and the fake Slack.
func replicaConfig(t testing.TB, dsn, shop, slackURL string) *config.Config {
	t.Helper()
	src := `server: {listen: 127.0.0.1:0}
storage: {driver: postgres, dsn: "` + dsn + `"}
auth:
  tokens:
    - {name: admin, token: ` + adminToken + `, role: admin}
people: [{name: carol, email: carol@shop.example.com, slack_id: U024BE7LH}]
probes:
  - name: checkout
    interval: 1s
    timeout: 900ms
    failure_threshold: 2
    labels: {service: checkout}
    steps:
      - {name: home, request: {method: GET, url: ` + shop + `/}, expect: {status: 200}}
      - {name: pay, request: {method: POST, url: ` + shop + `/api/checkout, json: {card: "4242"}}, expect: {status: 200}}
slos:
  - {name: checkout-availability, service: checkout, objective: 99.9, window: 30d, sli: {probe: checkout}}
alerting:
  evaluation_interval: 1s
  rules:
    - {name: CheckoutProbeFailing, when: {probe: checkout}, for: 0s, severity: critical}
incidents: {group_by: [service]}
slack:
  token: xoxb-test
  signing_secret: 0123456789abcdef0123456789abcdef
  api_url: ` + slackURL + `
  channel: "#incidents"
  pace: 10ms
`
	cfg, err := config.Parse("replica.yaml", []byte(src), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// replica is one running Sentinel of a test.
type replica struct {
	app  *App
	stop func() error
}

func startReplicas(t testing.TB, n int, cfg func() *config.Config) []*replica {
	t.Helper()
	out := make([]*replica, n)
	for i := range out {
		a, err := New(context.Background(), Options{Config: cfg(), Stderr: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = &replica{app: a, stop: runApp(t, a)}
	}
	return out
}

// runApp is started for tests and benchmarks.
func runApp(t testing.TB, a *App) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(15 * time.Second):
				err = fmt.Errorf("Run did not return within 15s of cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	testutil.Eventually(t, 10*time.Second, "ready", func() bool { return a.Ready(context.Background()) == nil })
	return stop
}

// evaluations is how many alert evaluation cycles r ran (cycles skipped
// because another replica held the lock are not counted).
func evaluations(r *replica) uint64 {
	return histogramCount(r.app.Registry(), "sentinel_alert_evaluation_duration_seconds")
}

func histogramCount(g prometheus.Gatherer, name string) uint64 {
	mfs, err := g.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var n uint64
			for _, m := range mf.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
			return n
		}
	}
	return 0
}

// pages are the messages posted to Slack as pages.
func pages(fake *slacktest.Server) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range fake.Posted("C0INCIDENTS") {
		if m.Metadata != nil && m.Metadata.EventPayload["role"] == "page" {
			out = append(out, m)
		}
	}
	return out
}

// TestThreeReplicas runs three Sentinels on one PostgreSQL database against
// a shop whose checkout fails: exactly one incident and one page; a
// replica stopped mid-run leaves the others evaluating.
func TestThreeReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	shop := failingShop(t)
	rs := startReplicas(t, 3, func() *config.Config { return replicaConfig(t, dsn, shop.URL, fake.APIURL()) })
	ctx := context.Background()

	testutil.Eventually(t, 30*time.Second, "an incident", func() bool {
		list, err := rs[1].app.comps.incidents.List(ctx, incidents.ListQuery{Status: "open"})
		return err == nil && len(list) > 0
	})
	testutil.Eventually(t, 15*time.Second, "a page", func() bool { return len(pages(fake)) > 0 })
	// Let every replica run a few more cycles and probe runs.
	before := make([]uint64, len(rs))
	for i, r := range rs {
		before[i] = evaluations(r)
	}
	testutil.Eventually(t, 15*time.Second, "more cycles", func() bool {
		n := uint64(0)
		for i, r := range rs {
			n += evaluations(r) - before[i]
		}
		return n >= 6
	})

	// Stop replica 0 mid-run; the others go on evaluating.
	died := time.Now()
	if err := rs[0].stop(); err != nil {
		t.Fatal(err)
	}
	base := []uint64{evaluations(rs[1]), evaluations(rs[2])}
	testutil.Eventually(t, 10*time.Second, "a cycle on a surviving replica", func() bool {
		return evaluations(rs[1]) > base[0] || evaluations(rs[2]) > base[1]
	})
	t.Logf("next engine cycle elsewhere %v after a replica stopped", time.Since(died).Round(time.Millisecond))
	testutil.Eventually(t, 10*time.Second, "more probe runs", func() bool {
		runs, err := rs[2].app.comps.probes.Results(ctx, "checkout", 5, "")
		return err == nil && len(runs) == 5 && time.Since(runs[0].At) < 3*time.Second
	})

	// The probes API of every replica shows the same state and latest run,
	// whichever replica ran it.
	testutil.Eventually(t, 10*time.Second, "one probe state on every replica", func() bool {
		var ids []string
		for _, r := range rs[1:] {
			list, err := r.app.comps.probes.List(ctx)
			if err != nil || len(list) != 1 || list[0].LastRun == nil || !list[0].Failing || list[0].Failures < 2 {
				return false
			}
			ids = append(ids, fmt.Sprintf("%s/%d", list[0].LastRun.ID, list[0].Failures))
		}
		return ids[0] == ids[1]
	})
	for i, r := range rs[1:] {
		list, err := r.app.comps.incidents.List(ctx, incidents.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Errorf("replica %d sees %d incidents, want 1", i+1, len(list))
		}
	}
	if p := pages(fake); len(p) != 1 {
		t.Errorf("%d pages, want exactly 1", len(p))
	}
	// Each scheduled run ran once: no two runs share a slot.
	runs, err := rs[1].app.comps.probes.Results(ctx, "checkout", 50, "")
	if err != nil {
		t.Fatal(err)
	}
	slots := map[int64]int{}
	for _, r := range runs {
		slots[r.At.Round(500*time.Millisecond).UnixMilli()]++
	}
	for s, n := range slots {
		if n > 1 {
			t.Errorf("%d runs at %v", n, time.UnixMilli(s))
		}
	}
}
