package web

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
)

// Test tokens, one per role; all at least 16 characters like config wants.
const (
	tokViewer    = "viewer-token-0123456789"
	tokResponder = "responder-token-0123456789"
	tokAdmin     = "admin-token-0123456789"
	tokIngest    = "ingest-token-0123456789"
)

func testAuth() config.Auth {
	return config.Auth{Tokens: []config.Token{
		{Name: "v", Token: config.NewSecret(tokViewer), Role: config.RoleViewer},
		{Name: "r", Token: config.NewSecret(tokResponder), Role: config.RoleResponder},
		{Name: "a", Token: config.NewSecret(tokAdmin), Role: config.RoleAdmin},
		{Name: "i", Token: config.NewSecret(tokIngest), Role: config.RoleIngest},
	}}
}

// testutil.LockedBuffer is a log sink safe for the server's goroutines.
type fixture struct {
	srv  *Server
	reg  *prometheus.Registry
	logs *testutil.LockedBuffer
}

// newFixture builds a server on 127.0.0.1:0 with the four test tokens and
// one probe route per class; edit tweaks the options first.
func newFixture(t testing.TB, edit func(*Options)) *fixture {
	t.Helper()
	reg := prometheus.NewRegistry()
	logs := &testutil.LockedBuffer{}
	opts := Options{
		Server: config.Server{
			Listen:          "127.0.0.1:0",
			MaxBodyBytes:    1024,
			ShutdownTimeout: config.Default().Server.ShutdownTimeout,
		},
		Auth:       testAuth(),
		Logger:     slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Gatherer:   reg,
		Registerer: reg,
		Now:        func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
	}
	if edit != nil {
		edit(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	echo := func(c *gin.Context) {
		p, _ := PrincipalFrom(c) // the gin.Context falls back to the request context
		c.JSON(http.StatusOK, gin.H{"actor": Actor(c), "principal": p.Name + "/" + string(p.Role),
			"client_ip": c.ClientIP(), "web_client_ip": ClientIP(c), "request_id": RequestIDFrom(c.Request.Context())})
	}
	r := s.Routes()
	r.Public().GET("/t/public", echo)
	r.Viewer().GET("/t/viewer/:id", echo)
	r.Responder().POST("/t/responder", echo)
	r.Admin().POST("/t/admin", echo)
	r.Ingest().POST("/t/ingest", echo)
	return &fixture{srv: s, reg: reg, logs: logs}
}

// do runs one request through the handler.
func (f *fixture) do(t *testing.T, method, target, token string, body io.Reader, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, req)
	return rec
}

// errorOf decodes a JSON error answer, failing when it is not one.
func errorOf(t *testing.T, rec *httptest.ResponseRecorder) ErrorBody {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON; body %q", ct, rec.Body.String())
	}
	var b ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("body %q is not a JSON error: %v", rec.Body.String(), err)
	}
	if b.Error == "" {
		t.Fatalf("body %q has no error text", rec.Body.String())
	}
	return b
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
