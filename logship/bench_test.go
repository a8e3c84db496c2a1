package logship

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/config"
)

// BenchmarkLog measures one Info call with shipping off, shipping to a
// healthy loopback Loki, and with Loki hung (every line dropped at the
// buffer). stderr is io.Discard, so the figures are the logger's own cost.
func BenchmarkLog(b *testing.B) {
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer healthy.Close()
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hung.Close()
	defer close(release)

	cases := []struct {
		name string
		url  string
	}{
		{"loki=off", ""},
		{"loki=healthy", healthy.URL + "/loki/api/v1/push"},
		{"loki=hung", hung.URL + "/loki/api/v1/push"},
	}
	for _, format := range []string{"text", "json"} {
		for _, bc := range cases {
			b.Run(format+"/"+bc.name, func(b *testing.B) {
				c := config.Default().Logging
				c.Format = format
				if bc.url != "" {
					c = lokiConfig(bc.url, format)
					c.Loki.BatchWait = config.Default().Logging.Loki.BatchWait
				}
				reg := prometheus.NewRegistry()
				l, err := New(c, io.Discard, reg, WithFlushTimeout(100*time.Millisecond))
				if err != nil {
					b.Fatal(err)
				}
				cancel, done := startBench(l)
				log := l.Logger().With("component", "web")
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						log.Info("request served", "route", "/checkout", "status", 200, "duration", 12*time.Millisecond)
					}
				})
				b.StopTimer()
				if bc.url != "" {
					b.ReportMetric(float64(l.pipe.Load().ship.m.bufferDrops.Load())/float64(b.N), "dropped/op")
				}
				cancel()
				<-done
			})
		}
	}
}

func startBench(l *Logging) (context.CancelFunc, <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = l.Run(ctx)
	}()
	return cancel, done
}
