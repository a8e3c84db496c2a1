// Package e2e proves Sentinel as a whole: the scenario from a checkout
// fault to a postmortem (in process and as the real binary), crash safety
// under kill -9, outages of what Sentinel depends on, abuse of every
// route, and an on-demand soak. Everything lives in _test.go files, so the
// package adds nothing to the binary.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/demo"
	"github.com/sentinel-oss/sentinel/internal/app"
	"github.com/sentinel-oss/sentinel/internal/testutil"
)

// Tokens used by every config in this package.
const (
	adminToken     = "e2e-admin-token-0123456789abcdef"
	responderToken = "e2e-responder-token-0123456789ab"
	viewerToken    = "e2e-viewer-token-0123456789abcd"
	ingestToken    = "e2e-ingest-token-0123456789abcd"
	slackSecret    = "e2e0123456789abcdef0123456789abcd"
	slackUser      = "U024BE7LH"
)

// binary is the sentinel executable TestMain builds, or the one
// SENTINEL_E2E_BINARY names (to run the same tests against another build,
// such as an older release for a baseline).
var binary string

func TestMain(m *testing.M) {
	if b := os.Getenv("SENTINEL_E2E_BINARY"); b != "" {
		binary = b
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "sentinel-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sentinel")
	build := exec.Command("go", "build", "-o", binary, "github.com/sentinel-oss/sentinel/cmd/sentinel")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build sentinel:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// tokensYAML is the auth section every test config shares.
const tokensYAML = `auth:
  tokens:
    - {name: admin, token: ` + adminToken + `, role: admin}
    - {name: ops, token: ` + responderToken + `, role: responder}
    - {name: manager, token: ` + viewerToken + `, role: viewer}
    - {name: machines, token: ` + ingestToken + `, role: ingest}
`

// httpClient is the tests' own client (no global default), with a
// deadline on every call.
var httpClient = &http.Client{Timeout: 15 * time.Second}

// api calls Sentinel with a bearer token and a JSON body (a string is sent
// as is); it returns the status and body, or status 0 when the request
// did not get an answer.
func api(ctx context.Context, method, url, token string, body any) (int, []byte, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, out, err
}

// mustAPI is api that fails the test on a transport error.
func mustAPI(t testing.TB, method, url, token string, body any) (int, []byte) {
	t.Helper()
	code, out, err := api(t.Context(), method, url, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return code, out
}

// incidentJSON is the part of an incident the tests read.
type incidentJSON struct {
	ID             int64             `json:"id"`
	Title          string            `json:"title"`
	Status         string            `json:"status"`
	Severity       string            `json:"severity"`
	DedupKey       string            `json:"dedup_key"`
	Labels         map[string]string `json:"labels"`
	CreatedAt      time.Time         `json:"created_at"`
	AcknowledgedAt *time.Time        `json:"acknowledged_at"`
	ResolvedAt     *time.Time        `json:"resolved_at"`
	Alerts         []struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
		Source string            `json:"source"`
	} `json:"alerts"`
	Timeline []struct {
		Kind  string `json:"kind"`
		Actor string `json:"actor"`
		Text  string `json:"text"`
	} `json:"timeline"`
	SLOs []struct {
		Name           string  `json:"name"`
		BudgetConsumed float64 `json:"budget_consumed"`
	} `json:"slos"`
}

// listIncidents lists incidents (every page) with the given status filter.
func listIncidents(t testing.TB, base, status string) []incidentJSON {
	t.Helper()
	var all []incidentJSON
	before := ""
	for {
		u := base + "/api/v1/incidents?limit=100"
		if status != "" {
			u += "&status=" + status
		}
		if before != "" {
			u += "&before=" + before
		}
		code, body := mustAPI(t, http.MethodGet, u, viewerToken, nil)
		if code != http.StatusOK {
			t.Fatalf("list incidents: %d %s", code, body)
		}
		var page struct {
			Incidents  []incidentJSON `json:"incidents"`
			NextBefore *int64         `json:"next_before"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("list incidents: %v: %s", err, body)
		}
		all = append(all, page.Incidents...)
		if page.NextBefore == nil {
			return all
		}
		before = fmt.Sprint(*page.NextBefore)
	}
}

// startShop runs the demo storefront on 127.0.0.1 until the test ends.
func startShop(t testing.TB, sentinelURL string) *demo.Shop {
	t.Helper()
	shop := demo.New(demo.Options{Listen: "127.0.0.1:0", SentinelURL: sentinelURL, Site: "demo-shop"})
	if _, err := shop.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = shop.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return shop
}

// setFaults posts a fault patch to the demo shop's panel (nil clears).
func setFaults(t testing.TB, shop *demo.Shop, faults any) {
	t.Helper()
	method, body := http.MethodPost, faults
	if faults == nil {
		method = http.MethodDelete
	}
	code, out := mustAPI(t, method, shop.URL()+"/demo/faults", "", body)
	if code != http.StatusOK && code != http.StatusNoContent {
		t.Fatalf("faults: %d %s", code, out)
	}
}

// lockedBuffer collects a process log safely from several goroutines.
type lockedBuffer = testutil.LockedBuffer

// runApp runs a built App until the test ends and waits until it is ready.
func runApp(t testing.TB, a *app.App) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
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
	testutil.Eventually(t, 10*time.Second, "sentinel ready", func() bool { return a.Ready(context.Background()) == nil })
	return stop
}

// freeListener binds 127.0.0.1:0.
func freeListener(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// freeAddr returns a loopback address free a moment ago (for the binary,
// which binds its own listener).
func freeAddr(t testing.TB) string {
	ln := freeListener(t)
	defer ln.Close()
	return ln.Addr().String()
}

// write puts content in a file under a fresh temporary directory.
func write(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// process is a running sentinel binary.
type process struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	addr   string
	done   chan struct{}
}

// startBinary runs `sentinel serve -c cfgPath` and waits until /readyz
// answers 200 on addr.
func startBinary(t testing.TB, cfgPath, addr string, within time.Duration) *process {
	t.Helper()
	return startBinaryEnv(t, cfgPath, addr, within)
}

// startBinaryEnv is startBinary with env (NAME=value) added to the
// test's environment.
func startBinaryEnv(t testing.TB, cfgPath, addr string, within time.Duration, env ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(binary, "serve", "-c", cfgPath), stderr: &lockedBuffer{}, addr: addr, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(within)
	for {
		code, _, err := api(context.Background(), http.MethodGet, "http://"+addr+"/readyz", "", nil)
		if err == nil && code == http.StatusOK {
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("sentinel exited before it was ready:\n%s", p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sentinel not ready within %s:\n%s", within, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// base is the process's base URL.
func (p *process) base() string { return "http://" + p.addr }

// goroutinesSettle waits until the goroutine count falls to at most want
// (idle connections and finished timers take a moment to go) and returns
// the last count.
func goroutinesSettle(want int, within time.Duration) int {
	deadline := time.Now().Add(within)
	n := runtime.NumGoroutine()
	for n > want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// writeFile writes content to path.
func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

// jsonUnmarshal is json.Unmarshal, named for call sites that import no
// encoding/json.
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
