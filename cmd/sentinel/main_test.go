package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/store"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sentinel-cmd-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "sentinel")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build sentinel:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func sentinel(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVersionAndUsage(t *testing.T) {
	r := sentinel(t, nil, "version")
	if r.code != 0 || !strings.Contains(r.stdout, "sentinel ") || !strings.Contains(r.stdout, "go1.") {
		t.Fatalf("version: %+v", r)
	}
	for _, args := range [][]string{{}, {"frobnicate"}, {"check"}, {"check", "config"}, {"serve", "--nope"}, {"backup"}} {
		r := sentinel(t, nil, args...)
		if r.code != 2 || r.stderr == "" || strings.Contains(r.stderr, "goroutine") {
			t.Errorf("%v: want exit 2 with a message, got %+v", args, r)
		}
	}
	if r := sentinel(t, nil, "serv"); r.code != 2 || !strings.Contains(r.stderr, `unknown command "serv" (did you mean "serve"?)`) {
		t.Errorf("mistyped command: %+v", r)
	}
	if r := sentinel(t, nil, "frobnicate"); strings.Contains(r.stderr, "did you mean") {
		t.Errorf("a word far from every command got a guess: %+v", r)
	}
}

func TestCheckConfig(t *testing.T) {
	bad := write(t, "bad.yaml", `server:
  listen: 127.0.0.1:8080
  tls:
    cert_fil: /etc/x.pem
storage:
  open_timeout: 5 parsecs
probes:
  - name: checkout
    steps:
      - name: home
        request: {method: GET}
`)
	// Flags may follow arguments: "check config FILE" works in any order.
	r := sentinel(t, nil, "check", "config", bad)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
	}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(bad) + `:\d+:\d+: `)
	if n := len(re.FindAllString(r.stderr, -1)); n != 3 {
		t.Fatalf("want 3 FILE:LINE:COL lines, got %d:\n%s", n, r.stderr)
	}
	for _, want := range []string{"server.tls.cert_fil: unknown key", "storage.open_timeout: invalid duration", "probes[0].steps[0].request.url: missing URL"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("missing %q in:\n%s", want, r.stderr)
		}
	}

	good := write(t, "good.yaml", readmeExample(t))
	if r := sentinel(t, nil, "check", "config", good); r.code != 0 {
		t.Fatalf("README example: exit %d: %s", r.code, r.stderr)
	}
	if r := sentinel(t, nil, "check", "config", filepath.Join(t.TempDir(), "missing.yaml")); r.code != 2 {
		t.Fatalf("missing file: exit %d, want 2", r.code)
	}
	if r := sentinel(t, nil, "serve", "-c", bad); r.code != 2 || !strings.Contains(r.stderr, "unknown key") {
		t.Fatalf("serve with a bad config: %+v", r)
	}
}

func readmeExample(t *testing.T) string {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(string(b), "## Configuration")
	_, block, _ := strings.Cut(after, "```yaml\n")
	block, _, _ = strings.Cut(block, "```")
	return block
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

const token = "cmd-test-admin-token-0123456789"

// serving starts `sentinel serve` and waits until it is ready.
func serving(t *testing.T, cfgPath, addr string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binary, "serve", "-c", cfgPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	testutil.Eventually(t, 10*time.Second, "sentinel ready", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return cmd, &stderr
}

func serveConfig(t *testing.T, addr, dbPath, shopURL string) string {
	return write(t, "sentinel.yaml", fmt.Sprintf(`server: {listen: %s}
storage: {path: %s}
auth:
  tokens:
    - {name: admin, token: %s, role: admin}
probes:
  - name: home
    interval: 1s
    timeout: 800ms
    steps:
      - {name: home, request: {method: GET, url: "%s/"}, expect: {status: 200}}
`, addr, dbPath, token, shopURL))
}

// SIGTERM under load exits 0 promptly, a backup taken under load opens, and
// the store opens cleanly afterwards.
func TestSIGTERMUnderLoadAndBackup(t *testing.T) {
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer shop.Close()
	addr := freeAddr(t)
	db := filepath.Join(t.TempDir(), "data", "sentinel.db")
	cfgPath := serveConfig(t, addr, db, shop.URL)
	cmd, stderr := serving(t, cfgPath, addr)

	// Load: readers on several endpoints while the probe writes runs.
	ctx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var requests, failures atomic.Int64
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			paths := []string{"/metrics", "/api/v1/probes", "/api/v1/probes/home/results", "/healthz"}
			for n := 0; n < 5000 && ctx.Err() == nil; n++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+paths[(i+n)%len(paths)], nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				requests.Add(1)
				if err != nil {
					if ctx.Err() == nil {
						failures.Add(1)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}(i)
	}
	testutil.Eventually(t, 10*time.Second, "load running", func() bool { return requests.Load() > 200 })

	// A backup while serving goes through the API.
	backup := filepath.Join(t.TempDir(), "backup.db")
	r := sentinel(t, []string{"SENTINEL_TOKEN=" + token}, "backup", "--out", backup, "-c", cfgPath)
	if r.code != 0 {
		t.Fatalf("backup under load: %+v", r)
	}
	b, err := store.OpenBolt(context.Background(), config.Storage{Path: backup}, nil, store.ReadOnly())
	if err != nil {
		t.Fatalf("backup does not open: %v", err)
	}
	_ = b.Close()

	// A second Sentinel on the same store is told it is in use, not hung.
	second := serveConfig(t, freeAddr(t), db, shop.URL)
	if r := sentinel(t, nil, "serve", "-c", second); r.code != 2 || !strings.Contains(r.stderr, "already in use") {
		t.Fatalf("second serve on the same store: %+v", r)
	}

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("still running 5s after SIGTERM\n%s", stderr)
	}
	t.Logf("exited %v after SIGTERM, %d requests served", time.Since(start), requests.Load())
	stopLoad()
	wg.Wait()

	// Stopped: the backup command opens the store file directly.
	r = sentinel(t, nil, "backup", "--out", filepath.Join(t.TempDir(), "after.db"), "-c", cfgPath)
	if r.code != 0 {
		t.Fatalf("store does not reopen cleanly: %+v", r)
	}
}

func TestProbeRun(t *testing.T) {
	var fail atomic.Bool
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.WriteHeader(503)
		}
		_, _ = io.WriteString(w, "Add to cart")
	}))
	defer shop.Close()
	cfgPath := serveConfig(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "s.db"), shop.URL)
	r := sentinel(t, nil, "probe", "run", "home", "-c", cfgPath)
	if r.code != 0 || !strings.Contains(r.stdout, "home") {
		t.Fatalf("passing probe: %+v", r)
	}
	fail.Store(true)
	r = sentinel(t, nil, "probe", "-c", cfgPath, "run", "home")
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "503") {
		t.Fatalf("failing probe: %+v", r)
	}
	if r := sentinel(t, nil, "probe", "run", "nope", "-c", cfgPath); r.code != 2 || strings.Contains(r.stderr, "did you mean") {
		t.Fatalf("unknown probe far from any name: %+v", r)
	}
	if r := sentinel(t, nil, "probe", "run", "hone", "-c", cfgPath); r.code != 2 || !strings.Contains(r.stderr, `no probe named "hone" in the config (did you mean "home"?)`) {
		t.Fatalf("mistyped probe: %+v", r)
	}
}
