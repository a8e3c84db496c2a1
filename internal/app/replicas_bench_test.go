package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
	"github.com/sentinel-oss/sentinel/store/pgtest"
)

// BenchmarkReplicaFailover: time from a replica's death (its Run cancelled
// mid-run) to the next alert evaluation cycle on another replica, with
// three replicas on one database and a 1 s evaluation interval. Each
// iteration stops one replica and starts a replacement.
func BenchmarkReplicaFailover(b *testing.B) {
	dsn := pgtest.DSN(b)
	fake := slacktest.New()
	b.Cleanup(fake.Close)
	shop := failingShop(b)
	cfg := func() *config.Config { return replicaConfig(b, dsn, shop.URL, fake.APIURL()) }
	rs := startReplicas(b, 3, cfg)
	var total time.Duration
	n := 0
	for b.Loop() {
		dead := rs[0]
		rs = rs[1:]
		base := make([]uint64, len(rs))
		for i, r := range rs {
			base[i] = evaluations(r)
		}
		died := time.Now()
		if err := dead.stop(); err != nil {
			b.Fatal(err)
		}
		testutil.Eventually(b, 10*time.Second, "a cycle elsewhere", func() bool {
			for i, r := range rs {
				if evaluations(r) > base[i] {
					return true
				}
			}
			return false
		})
		total += time.Since(died)
		n++
		b.StopTimer()
		rs = append(rs, startReplicas(b, 1, cfg)...)
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(n), "ms/failover")
}

// benchBeacon is a page view with two vitals, as the snippet sends it.
const benchBeacon = `{"v": 1, "session": "abcdefgh1234", "events": [
  {"type": "page_view", "url": "https://shop.example.com/product/42"},
  {"type": "vital", "url": "https://shop.example.com/product/42", "name": "lcp", "value": 1.9},
  {"type": "vital", "url": "https://shop.example.com/product/42", "name": "cls", "value": 0.02}]}`

// BenchmarkBeaconsReplicas: beacons per second accepted by one replica and
// by three (requests spread round-robin), all on one database, in the same
// run, so the ratio compares like with like on this machine.
func BenchmarkBeaconsReplicas(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			dsn := pgtest.DSN(b)
			cfg := func() *config.Config {
				c, err := config.Parse("beacons.yaml", []byte(`server: {listen: 127.0.0.1:0}
storage: {driver: postgres, dsn: "`+dsn+`"}
rum:
  allowed_origins: ["https://shop.example.com"]
  routes: [/product/:id]
  rate_limit: {per_ip: 1000000, per_ip_burst: 1000000, per_site: 1000000, per_site_burst: 1000000}
slos:
  - {name: storefront-lcp, service: storefront, objective: 95, window: 30d, sli: {rum: {metric: lcp, threshold: 2500ms}}}
`), config.Options{})
				if err != nil {
					b.Fatal(err)
				}
				return c
			}
			rs := startReplicas(b, n, cfg)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			var next atomic.Uint64
			b.SetParallelism(8)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := rs[next.Add(1)%uint64(len(rs))]
					req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, r.app.URL()+"/rum/v1/beacons", strings.NewReader(benchBeacon))
					req.Header.Set("Origin", "https://shop.example.com")
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						b.Errorf("beacon: %s", resp.Status)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "beacons/s")
		})
	}
}
