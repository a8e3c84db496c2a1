package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
)

// BenchmarkBeaconPath is one beacon through everything the real server
// does with it after net/http has read the request (gin's routing, the
// server's middleware, origin and rate checks, decoding, aggregation,
// metrics), in process and without sockets; scripts/bench-rum.sh measures
// the binary over HTTP. The bare case reads and discards the body; the
// collector case is the collector's own handler without the server around
// it.
//
//	go test ./internal/app/ -run '^$' -bench BeaconPath -benchmem
func BenchmarkBeaconPath(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("..", "..", "scripts", "bench-rum-beacon.json"))
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Parse("bench.yaml", []byte(`server: {listen: 127.0.0.1:0}
storage: {path: `+filepath.Join(b.TempDir(), "s.db")+`}
rum:
  allowed_origins: [https://shop.example.com]
  site: shop
  routes: [/product/:id, /cart, /checkout]
  rate_limit: {per_ip: 1000000000, per_ip_burst: 1000000000, per_site: 1000000000, per_site_burst: 1000000000}
`), config.Options{})
	if err != nil {
		b.Fatal(err)
	}
	a, err := New(context.Background(), Options{Config: cfg, Stderr: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.closeResources)
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"collector", a.comps.rum.BeaconHandler()}, {"sentinel", a.web.Handler()}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest(http.MethodPost, "/rum/v1/beacons", bytes.NewReader(body))
					r.RemoteAddr = "127.0.0.1:40000"
					r.Header.Set("Content-Type", "text/plain;charset=UTF-8")
					r.Header.Set("Origin", "https://shop.example.com")
					r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36")
					w := httptest.NewRecorder()
					c.h.ServeHTTP(w, r)
					if w.Code != http.StatusAccepted {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}
