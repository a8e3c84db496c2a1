package app

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
)

// postReload calls POST /-/reload as admin and returns the status and body.
func postReload(t *testing.T, a *App, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.URL()+"/-/reload", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReloadAnswersOperatorMistakesWith4xx reloads from a real file that
// goes missing, grows past 4 MiB, changes keys that need a restart, and is
// invalid: each is a 4xx naming the reason, the metric drops to 0, and the
// running config (its token) stays.
func TestReloadAnswersOperatorMistakesWith4xx(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sentinel.yaml")
	cfg := testConfig(t, "")
	src := func(listen, extra string) string {
		return "server: {listen: " + listen + "}\nstorage: {path: " + cfg.Storage.Path + "}\n" +
			"auth: {tokens: [{name: admin, token: " + adminToken + ", role: admin}]}\n" + extra
	}
	logs := &lockedBuffer{}
	a, err := New(context.Background(), Options{
		Config: cfg, Stderr: logs,
		LoadConfig: func() (*config.Config, error) { return config.Load(path, config.Options{}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer started(t, a)()

	for _, tc := range []struct {
		name   string
		write  func()
		status int
		want   []string
	}{
		{"missing file", func() { _ = os.Remove(path) }, 400, []string{"read config", "no such file"}},
		{"over 4 MiB", func() {
			big := src("127.0.0.1:0", "# "+strings.Repeat("x", config.MaxFileBytes)+"\n")
			if err := os.WriteFile(path, []byte(big), 0o600); err != nil {
				t.Fatal(err)
			}
		}, 400, []string{"larger than 4 MiB"}},
		{"invalid", func() {
			if err := os.WriteFile(path, []byte(src("127.0.0.1:0", "slos: [{name: x, objective: 120, sli: {events: {}}}]\n")), 0o600); err != nil {
				t.Fatal(err)
			}
		}, 400, []string{"slos[0].objective"}},
		{"restart-only keys", func() {
			if err := os.WriteFile(path, []byte(src("127.0.0.1:1", "")), 0o600); err != nil {
				t.Fatal(err)
			}
		}, 409, []string{"server.listen", "restart"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.write()
			code, body := postReload(t, a, adminToken)
			if code != tc.status {
				t.Fatalf("POST /-/reload = %d %s, want %d", code, body, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("answer %s lacks %q", body, w)
				}
			}
			if _, m := get(t, a.URL()+"/metrics", ""); !strings.Contains(m, "sentinel_config_last_reload_successful 0") {
				t.Error("reload metric not 0")
			}
		})
	}
	_, m := get(t, a.URL()+"/metrics", "")
	if !strings.Contains(m, `sentinel_config_restart_required{key="server.listen"} 1`) {
		t.Error("no restart_required gauge for server.listen")
	}
	if !strings.Contains(logs.String(), "keys=server.listen") {
		t.Errorf("log does not name the restart key:\n%s", logs)
	}

	// Back to a good file: applied, and the gauges clear.
	if err := os.WriteFile(path, []byte(src("127.0.0.1:0", "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, body := postReload(t, a, adminToken); code != 200 {
		t.Fatalf("good reload = %d %s", code, body)
	}
	_, m = get(t, a.URL()+"/metrics", "")
	if !strings.Contains(m, "sentinel_config_last_reload_successful 1") || strings.Contains(m, "sentinel_config_restart_required{") {
		t.Errorf("metrics after a good reload:\n%s", grepLines(m, "sentinel_config"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
