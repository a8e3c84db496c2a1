package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/config"
)

// BenchmarkMiddlewareChain measures one authenticated GET through every
// middleware (request ID, client IP, access log at info, metrics, auth).
func BenchmarkMiddlewareChain(b *testing.B) {
	s, err := New(Options{
		Server:     config.Server{Listen: "127.0.0.1:0", TrustedProxies: []string{"10.0.0.0/8"}},
		Auth:       testAuth(),
		Logger:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		b.Fatal(err)
	}
	s.Routes().Viewer().GET("/api/v1/probes/:name", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	req := httptest.NewRequest(http.MethodGet, "/api/v1/probes/checkout", nil)
	req.RemoteAddr = "10.0.0.1:5555"
	req.Header.Set("X-Forwarded-For", "198.51.100.7, 10.0.0.2")
	req.Header.Set("Authorization", "Bearer "+tokResponder)
	h := s.Handler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

func BenchmarkClientIP(b *testing.B) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	xff := []string{"6.6.6.6, 198.51.100.7, 10.0.0.2"}
	b.ReportAllocs()
	for b.Loop() {
		clientIP("10.0.0.1:5555", xff, "", trusted)
	}
}
