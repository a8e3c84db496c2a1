package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/web"
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
		// Missing, unreadable or too large: a problems list as for an
		// invalid file, one entry naming the file and the OS error.
		{"missing file", func() { _ = os.Remove(path) }, 400, []string{`"problems":["` + path + `: cannot read the config file: no such file or directory"]`}},
		{"over 4 MiB", func() {
			big := src("127.0.0.1:0", "# "+strings.Repeat("x", config.MaxFileBytes)+"\n")
			if err := os.WriteFile(path, []byte(big), 0o600); err != nil {
				t.Fatal(err)
			}
		}, 400, []string{`"problems":["` + path + `: cannot read the config file: config file is larger than 4 MiB"]`}},
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

// TestSessionsSurviveReload signs two people in, reloads with a new
// session TTL and without one of their tokens: the kept token's session
// still reads pages and its form's CSRF token still acknowledges; the
// session of the removed token ends with the reload.
func TestSessionsSurviveReload(t *testing.T) {
	const keep, drop = "reload-keep-responder-0123456789", "reload-drop-responder-0123456789"
	cfg := testConfig(t, "")
	withTokens := func(c *config.Config, tokens ...string) *config.Config {
		for i, tok := range tokens {
			c.Auth.Tokens = append(c.Auth.Tokens, config.Token{Name: "person" + strconv.Itoa(i), Token: config.NewSecret(tok), Role: config.RoleResponder})
		}
		return c
	}
	withTokens(cfg, keep, drop)
	next := cfg
	a, err := New(context.Background(), Options{Config: cfg, Stderr: io.Discard,
		LoadConfig: func() (*config.Config, error) { return next, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer started(t, a)()

	code, body := do(t, http.MethodPost, a.URL()+"/api/v1/incidents", adminToken, map[string]any{"title": "reload", "severity": "warning"})
	if code != http.StatusCreated {
		t.Fatalf("declare: %d %s", code, body)
	}
	var inc struct{ ID int64 }
	if err := json.Unmarshal([]byte(body), &inc); err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("%s/incidents/%d", a.URL(), inc.ID)
	kept, dropped := signInCookie(t, a.URL(), keep), signInCookie(t, a.URL(), drop)
	code, html := cookieDo(t, http.MethodGet, page, kept, nil)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(html)
	if code != http.StatusOK || m == nil {
		t.Fatalf("the incident page before the reload: %d\n%.500s", code, html)
	}

	next = withTokens(nextConfig(t, cfg, "ui: {session_ttl: 2h}\n"), keep)
	if code, body := postReload(t, a, adminToken); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
	if code, _ := cookieDo(t, http.MethodGet, page, kept, nil); code != http.StatusOK {
		t.Errorf("the kept token's session after the reload: %d, want 200", code)
	}
	if code, _ := cookieDo(t, http.MethodPost, page+"/acknowledge", kept, url.Values{"csrf": {m[1]}}); code != http.StatusSeeOther {
		t.Errorf("the form loaded before the reload: %d, want 303", code)
	}
	if code, body := do(t, http.MethodGet, fmt.Sprintf("%s/api/v1/incidents/%d", a.URL(), inc.ID), adminToken, nil); code != 200 || !strings.Contains(body, `"status":"acknowledged"`) {
		t.Errorf("incident after the form: %d %.300s", code, body)
	}
	if code, _ := cookieDo(t, http.MethodGet, page, dropped, nil); code != http.StatusSeeOther {
		t.Errorf("the session of a token the reload removed: %d, want 303 to /login", code)
	}
}

// signInCookie signs in at base with token and returns the session cookie.
func signInCookie(t *testing.T, base, token string) *http.Cookie {
	t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(base+"/login", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == web.SessionCookie && c.Value != "" {
			return c
		}
	}
	t.Fatalf("sign-in: %d without a session cookie", resp.StatusCode)
	return nil
}

// cookieDo sends a request (a form when form is set) with the session
// cookie, without following redirects.
func cookieDo(t *testing.T, method, target string, ck *http.Cookie, form url.Values) (int, string) {
	t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(ck)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReloadAuditsChangedSections: a reload's audit entry names the
// top-level sections it changed (never their values), "none" when the
// file is the same.
func TestReloadAuditsChangedSections(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sentinel.yaml")
	cfg := testConfig(t, "")
	write := func(extra string) {
		src := "server: {listen: 127.0.0.1:0}\nstorage: {path: " + cfg.Storage.Path + "}\n" +
			"auth: {tokens: [{name: admin, token: " + adminToken + ", role: admin}]}\n" + extra
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	first, err := config.Load(path, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), Options{Config: first, Stderr: &lockedBuffer{},
		LoadConfig: func() (*config.Config, error) { return config.Load(path, config.Options{}) }})
	if err != nil {
		t.Fatal(err)
	}
	defer started(t, a)()
	for _, step := range []struct{ extra, want string }{
		{"", "changed sections: none"},
		{"audit: {retention: 30d}\nui: {session_ttl: 1h}\n", "changed sections: ui, audit"},
	} {
		write(step.extra)
		if code, body := postReload(t, a, adminToken); code != 200 {
			t.Fatalf("reload = %d %s", code, body)
		}
		req, _ := http.NewRequest(http.MethodGet, a.URL()+"/api/v1/audit?action=reload&limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `"after":"`+step.want+`"`) {
			t.Fatalf("%q: audit = %s, want after %q", step.extra, b, step.want)
		}
	}
	if got := a.comps.audit.Retention(); got != 30*24*time.Hour {
		t.Fatalf("retention after reload = %v, want 720h", got)
	}
}
