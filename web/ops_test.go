package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

func TestHealthz(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.do(t, http.MethodGet, "/healthz", "", nil)
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
		t.Fatalf("healthz: %d %s", rec.Code, rec.Body.String())
	}
	if rec := f.do(t, http.MethodHead, "/healthz", "", nil); rec.Code != 200 {
		t.Fatalf("HEAD healthz: %d", rec.Code)
	}
}

// flipReady is a Readiness whose answer the test sets.
type flipReady struct {
	mu  sync.Mutex
	err error
}

func (r *flipReady) Ready(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *flipReady) set(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

func TestReadyzFlips(t *testing.T) {
	ready := &flipReady{err: errors.New("store not open")}
	f := newFixture(t, func(o *Options) { o.Readiness = ready })
	check := func(wantCode int, wantBody string) {
		t.Helper()
		rec := f.do(t, http.MethodGet, "/readyz", "", nil)
		if rec.Code != wantCode || strings.TrimSpace(rec.Body.String()) != wantBody {
			t.Fatalf("readyz: %d %s; want %d %s", rec.Code, rec.Body.String(), wantCode, wantBody)
		}
	}
	check(503, `{"ready":false,"reason":"store not open"}`)
	ready.set(nil)
	check(200, `{"ready":true}`)
	ready.set(errors.New("store cannot write: disk full"))
	check(503, `{"ready":false,"reason":"store cannot write: disk full"}`)

	noReadiness := newFixture(t, nil)
	if rec := noReadiness.do(t, http.MethodGet, "/readyz", "", nil); rec.Code != 200 {
		t.Fatalf("readyz without a Readiness: %d", rec.Code)
	}
}

// fakeReloader counts calls and returns a set error.
type fakeReloader struct {
	calls atomic.Int32
	err   error
}

func (r *fakeReloader) Reload(context.Context) error {
	r.calls.Add(1)
	return r.err
}

func TestReload(t *testing.T) {
	problems := config.Problems{
		{File: "sentinel.yaml", Line: 3, Column: 5, Path: "server.listen", Message: "must be host:port"},
		{Path: "auth.tokens[0].role", Message: `unknown role "root"`},
	}
	cases := []struct {
		name      string
		err       error
		want      int
		wantText  string
		wantProbs int
	}{
		{"ok", nil, 200, "", 0},
		{"invalid config", fmt.Errorf("reload: %w", problems), 400, "server.listen: must be host:port", 2},
		{"unreadable file", fmt.Errorf("%w: read sentinel.yaml: permission denied", ErrInvalid), 400, "permission denied", 0},
		{"unexpected", errors.New("probes: scheduler stuck"), 500, "reload failed: probes: scheduler stuck", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rl := &fakeReloader{err: tc.err}
			f := newFixture(t, func(o *Options) { o.Reloader = rl })
			if rec := f.do(t, http.MethodPost, "/-/reload", tokResponder, nil); rec.Code != 403 || rl.calls.Load() != 0 {
				t.Fatalf("responder reload: %d, calls %d", rec.Code, rl.calls.Load())
			}
			rec := f.do(t, http.MethodPost, "/-/reload", tokAdmin, nil)
			if rec.Code != tc.want || rl.calls.Load() != 1 {
				t.Fatalf("status %d (want %d), calls %d: %s", rec.Code, tc.want, rl.calls.Load(), rec.Body.String())
			}
			if tc.want == 200 {
				if !strings.Contains(rec.Body.String(), `"reloaded"`) {
					t.Fatalf("body %s", rec.Body.String())
				}
				return
			}
			b := errorOf(t, rec)
			if !strings.Contains(b.Error, tc.wantText) || len(b.Problems) != tc.wantProbs {
				t.Fatalf("error %+v, want text %q and %d problems", b, tc.wantText, tc.wantProbs)
			}
		})
	}
}

// fakeBackup writes data, failing after failAfter bytes when set.
type fakeBackup struct {
	data      []byte
	failAfter int
}

func (b fakeBackup) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if b.failAfter == 0 && b.data == nil {
		return 0, errors.New("store closed")
	}
	if b.failAfter > 0 {
		n, err := w.Write(b.data[:b.failAfter])
		if err != nil {
			return int64(n), err
		}
		if f, ok := w.(interface{ Flush() }); ok {
			f.Flush()
		}
		return int64(n), errors.New("disk read error")
	}
	// Write in pieces, as a store does.
	var total int64
	for off := 0; off < len(b.data); off += 4096 {
		n, err := w.Write(b.data[off:min(off+4096, len(b.data))])
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func TestBackupStreams(t *testing.T) {
	data := make([]byte, 300_000)
	_, _ = rand.Read(data)
	f := newFixture(t, func(o *Options) { o.Backup = fakeBackup{data: data} })
	ts := startServer(t, f.srv)

	req, _ := http.NewRequest(http.MethodGet, ts+"/api/v1/backup", nil)
	req.Header.Set("Authorization", "Bearer "+tokAdmin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("backup: %d %v", resp.StatusCode, err)
	}
	if string(got) != string(data) {
		t.Fatalf("backup bytes differ: got %d bytes, want %d", len(got), len(data))
	}
	sum := sha256.Sum256(data)
	if tr := resp.Trailer.Get(BackupChecksumTrailer); tr != hex.EncodeToString(sum[:]) {
		t.Fatalf("checksum trailer %q", tr)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="sentinel-20260301T120000Z.db"` {
		t.Fatalf("Content-Disposition %q", cd)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
}

func TestBackupFailures(t *testing.T) {
	t.Run("before the first byte: JSON error", func(t *testing.T) {
		f := newFixture(t, func(o *Options) { o.Backup = fakeBackup{} })
		rec := f.do(t, http.MethodGet, "/api/v1/backup", tokAdmin, nil)
		if rec.Code != 500 || rec.Header().Get("Content-Disposition") != "" {
			t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
		}
		errorOf(t, rec)
	})
	t.Run("mid-stream: the transfer breaks", func(t *testing.T) {
		data := make([]byte, 100_000)
		f := newFixture(t, func(o *Options) { o.Backup = fakeBackup{data: data, failAfter: 50_000} })
		ts := startServer(t, f.srv)
		req, _ := http.NewRequest(http.MethodGet, ts+"/api/v1/backup", nil)
		req.Header.Set("Authorization", "Bearer "+tokAdmin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Fatal("a backup that failed half-way read as complete")
		}
		if !strings.Contains(f.logs.String(), "backup failed mid-stream") {
			t.Errorf("mid-stream failure not logged")
		}
	})
}

// startServer runs s on its listener until the test ends and returns its
// base URL.
func startServer(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	scheme := "http"
	if s.TLS() {
		scheme = "https"
	}
	return scheme + "://" + ln.Addr().String()
}

func TestListenAddrRun(t *testing.T) {
	f := newFixture(t, nil)
	if f.srv.Addr() != nil {
		t.Fatal("Addr before Listen should be nil")
	}
	ln, err := f.srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ln2, _ := f.srv.Listen()
	if ln != ln2 || f.srv.Addr().String() != ln.Addr().String() {
		t.Fatal("Listen is not idempotent")
	}
	if !strings.HasPrefix(ln.Addr().String(), "127.0.0.1:") || strings.HasSuffix(ln.Addr().String(), ":0") {
		t.Fatalf("bound address %s", ln.Addr())
	}
	base := startServer(t, f.srv)
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := f.srv.Run(context.Background()); err == nil {
		t.Fatal("second Run should fail")
	}
}

func TestGracefulShutdownDrains(t *testing.T) {
	f := newFixture(t, nil)
	started := make(chan struct{})
	release := make(chan struct{})
	f.srv.Routes().Public().GET("/t/slow", func(c *gin.Context) {
		close(started)
		<-release
		c.JSON(200, gin.H{"done": true})
	})
	ln, err := f.srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- f.srv.Run(ctx) }()

	type result struct {
		code int
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/t/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- result{resp.StatusCode, string(b), err}
	}()
	<-started
	cancel()
	// New connections are refused once shutdown has begun.
	waitFor(t, "listener to close", func() bool {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	select {
	case err := <-runErr:
		t.Fatalf("Run returned %v with a request in flight", err)
	default:
	}
	close(release)
	r := <-slow
	if r.err != nil || r.code != 200 || !strings.Contains(r.body, `"done":true`) {
		t.Fatalf("in-flight request not drained: %+v", r)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestShutdownTimeoutBounds(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Server.ShutdownTimeout = model.Duration(50 * time.Millisecond) })
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	f.srv.Routes().Public().GET("/t/stuck", func(c *gin.Context) {
		close(started)
		select {
		case <-release:
		case <-c.Request.Context().Done():
		}
	})
	ln, _ := f.srv.Listen()
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- f.srv.Run(ctx) }()
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/t/stuck")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	if err := <-runErr; err != nil {
		t.Fatalf("Run after timed-out shutdown: %v", err)
	}
	if !strings.Contains(f.logs.String(), "http shutdown timed out") {
		t.Fatal("timed-out shutdown not logged")
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths and a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sentinel test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	f := newFixture(t, func(o *Options) { o.Server.TLS = config.TLS{CertFile: certFile, KeyFile: keyFile} })
	base := startServer(t, f.srv)
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("base %s", base)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, base+"/t/viewer/1", nil)
	req.Header.Set("Authorization", "Bearer "+tokViewer)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 200 || body["actor"] != "v" || resp.TLS == nil {
		t.Fatalf("over TLS: %d %v", resp.StatusCode, body)
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("HTTP/2 not negotiated: %s", resp.Proto)
	}
	// Plain HTTP to the TLS port gets nothing useful.
	if resp, err := http.Get(strings.Replace(base, "https://", "http://", 1) + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP served on the TLS port")
		}
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"bad proxy", func(o *Options) { o.Server.TrustedProxies = []string{"10.0.0.0/8", "nonsense"} }, "server.trusted_proxies[1]"},
		{"missing key", func(o *Options) { o.Server.TLS.CertFile = "cert.pem" }, "server.tls"},
		{"unreadable cert", func(o *Options) {
			o.Server.TLS = config.TLS{CertFile: filepath.Join(t.TempDir(), "none.pem"), KeyFile: filepath.Join(t.TempDir(), "none.key")}
		}, "server.tls: load certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{}
			tc.edit(&opts)
			_, err := New(opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New error %v, want %q", err, tc.want)
			}
		})
	}
	// Two servers on one registry: the second cannot register its metrics.
	f := newFixture(t, nil)
	if _, err := New(Options{Registerer: f.reg}); err == nil {
		t.Fatal("duplicate metric registration not reported")
	}
}
