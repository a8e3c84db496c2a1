package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/store"
)

const adminToken = "test-admin-token-0123456789"

func testConfig(t *testing.T, extra string) *config.Config {
	t.Helper()
	return testConfigAt(t, filepath.Join(t.TempDir(), "s.db"), extra)
}

// nextConfig is a config for reloading the app running cur: the same
// store (a changed storage section is refused) with extra.
func nextConfig(t *testing.T, cur *config.Config, extra string) *config.Config {
	t.Helper()
	return testConfigAt(t, cur.Storage.Path, extra)
}

func testConfigAt(t *testing.T, dbPath, extra string) *config.Config {
	t.Helper()
	src := `server: {listen: 127.0.0.1:0}
storage: {path: ` + dbPath + `}
auth:
  tokens:
    - {name: admin, token: ` + adminToken + `, role: admin}
` + extra
	cfg, err := config.Parse("test.yaml", []byte(src), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// started runs a in the background and returns a stop function that waits
// for Run to return and hands back its error.
func started(t *testing.T, a *App) func() error {
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
			case <-time.After(10 * time.Second):
				err = errors.New("Run did not return within 10s of cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	testutil.Eventually(t, 5*time.Second, "ready", func() bool { return a.Ready(context.Background()) == nil })
	return stop
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeAndShutDown(t *testing.T) {
	cfg := testConfig(t, "")
	a, err := New(context.Background(), Options{Config: cfg, Stderr: io.Discard, Build: BuildInfo{Version: "1.2.3", Commit: "abc", GoVersion: "go"}})
	if err != nil {
		t.Fatal(err)
	}
	stop := started(t, a)
	if code, body := get(t, a.URL()+"/healthz", ""); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz = %d %s", code, body)
	}
	if code, body := get(t, a.URL()+"/readyz", ""); code != 200 {
		t.Fatalf("readyz = %d %s", code, body)
	}
	_, metrics := get(t, a.URL()+"/metrics", "")
	for _, want := range []string{
		`sentinel_build_info{commit="abc",goversion="go",version="1.2.3"} 1`,
		"sentinel_config_last_reload_successful 1",
		"go_goroutines",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The store was closed: it opens again at once.
	b, err := store.OpenBolt(context.Background(), cfg.Storage, nil)
	if err != nil {
		t.Fatalf("reopen store: %v", err)
	}
	_ = b.Close()
}

func TestSecondInstanceGetsStoreInUse(t *testing.T) {
	cfg := testConfig(t, "")
	a, err := New(context.Background(), Options{Config: cfg, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer started(t, a)()
	_, err = New(context.Background(), Options{Config: cfg, Stderr: io.Discard})
	if !errors.Is(err, ErrStoreInUse) || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("second New: %v", err)
	}
}

func TestReloadKeepsRunningConfigOnError(t *testing.T) {
	cfg := testConfig(t, "")
	next := cfg
	var loadErr error
	a, err := New(context.Background(), Options{
		Config:     cfg,
		Stderr:     io.Discard,
		LoadConfig: func() (*config.Config, error) { return next, loadErr },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer started(t, a)()

	// A broken file: refused, the old token still works, the metric drops.
	_, loadErr = config.Parse("bad.yaml", []byte("server: {listn: x}\n"), config.Options{})
	loadErr = errors.Join(loadErr)
	if err := a.Reload(context.Background()); err == nil {
		t.Fatal("reload of a broken config succeeded")
	}
	if code, _ := get(t, a.URL()+"/api/v1/probes", adminToken); code != 200 {
		t.Fatalf("old token after failed reload: %d", code)
	}
	if _, m := get(t, a.URL()+"/metrics", ""); !strings.Contains(m, "sentinel_config_last_reload_successful 0") {
		t.Fatal("reload metric not 0 after a failed reload")
	}

	// A good file with a new token: applied at once.
	loadErr = nil
	next = nextConfig(t, cfg, "")
	next.Auth.Tokens[0].Token = config.NewSecret("rotated-admin-token-0123456789")
	req, _ := http.NewRequest(http.MethodPost, a.URL()+"/-/reload", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /-/reload = %d", resp.StatusCode)
	}
	if code, _ := get(t, a.URL()+"/api/v1/probes", adminToken); code != 401 {
		t.Fatalf("old token after rotation: %d", code)
	}
	if code, _ := get(t, a.URL()+"/api/v1/probes", "rotated-admin-token-0123456789"); code != 200 {
		t.Fatalf("new token: %d", code)
	}
	if _, m := get(t, a.URL()+"/metrics", ""); !strings.Contains(m, "sentinel_config_last_reload_successful 1") {
		t.Fatal("reload metric not 1 after a good reload")
	}
}

func TestReadinessFollowsStoreWrites(t *testing.T) {
	faulty := store.NewFaulty(store.NewMemory())
	a, err := New(context.Background(), Options{Config: testConfig(t, ""), Stderr: io.Discard, Engine: faulty})
	if err != nil {
		t.Fatal(err)
	}
	defer started(t, a)()
	faulty.FailWrites(store.ErrInjectedDiskFull)
	a.checkStore(context.Background())
	code, body := get(t, a.URL()+"/readyz", "")
	if code != 503 || !strings.Contains(body, "store cannot write") {
		t.Fatalf("readyz with a full disk = %d %s", code, body)
	}
	if code, _ := get(t, a.URL()+"/healthz", ""); code != 200 {
		t.Fatalf("healthz must stay 200 while not ready, got %d", code)
	}
	faulty.FailWrites(nil)
	a.checkStore(context.Background())
	if code, _ := get(t, a.URL()+"/readyz", ""); code != 200 {
		t.Fatalf("readyz after recovery = %d", code)
	}
}

func TestCheckFindsComponentProblemsWithPositions(t *testing.T) {
	src := `probes:
  - name: checkout
    steps:
      - name: pay
        request: {method: POST, url: "http://shop/pay", json: {cart: "{{ .cart_id }}"}}
`
	cfg, err := config.Parse("c.yaml", []byte(src), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = Check(context.Background(), cfg)
	if err == nil || !regexp.MustCompile(`^c\.yaml:\d+:\d+: probes\[0\]\.steps\[0\]`).MatchString(err.Error()) {
		t.Fatalf("Check = %v", err)
	}
}

// The README's example config is complete and valid.
func TestReadmeExampleConfig(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "## Configuration")
	if !ok {
		t.Fatal("README has no Configuration section")
	}
	_, block, ok := strings.Cut(after, "```yaml\n")
	if !ok {
		t.Fatal("README's Configuration section has no yaml block")
	}
	block, _, _ = strings.Cut(block, "```")
	cfg, err := config.Parse("README.md", []byte(block), config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("README example: %v", err)
	}
	if err := Check(context.Background(), cfg); err != nil {
		t.Fatalf("README example: %v", err)
	}
}

func TestDemoConfigIsValid(t *testing.T) {
	dir := t.TempDir()
	if err := writeDemoRunbooks(dir); err != nil {
		t.Fatal(err)
	}
	cfg, err := DemoConfig("127.0.0.1:8080", "http://127.0.0.1:8081", dir, "demo-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Probes) == 0 {
		t.Fatal("the demo config probes nothing")
	}
}
