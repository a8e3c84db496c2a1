package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sharedConfig is one replica of TestReplicaSharedState, or with dsn empty
// the single process of TestSessionsSurviveRestart (bbolt at db): RUM, a
// JS error rule above 10 a minute, incidents without pagers.
func sharedConfig(addr, dsn, db string) string {
	storage := fmt.Sprintf("{path: %q}", db)
	if dsn != "" {
		storage = fmt.Sprintf("{driver: postgres, dsn: %q, open_timeout: 30s}", dsn)
	}
	return fmt.Sprintf(`server: {listen: %q, external_url: %q}
storage: %s
%srum:
  allowed_origins: ["https://shop.example.com"]
  routes: [/product/:id]
alerting:
  evaluation_interval: 1s
  rules:
    - {name: JSErrorsAcrossReplicas, when: {rum: js_errors_per_minute, above: 10, window: 1m}, for: 0s, severity: warning}
incidents: {ack_timeout: 0s}
`, addr, "http://"+addr, storage, tokensYAML)
}

// browser is a cookie jar with a client that does not follow redirects,
// as a person's browser session against one or several replicas.
type browser struct {
	cookie string
}

func (b *browser) do(t *testing.T, method, target string, form url.Values) (int, string, http.Header) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "sentinel_session", Value: b.cookie})
	}
	client := &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.Name == "sentinel_session" {
			b.cookie = c.Value
		}
	}
	return resp.StatusCode, string(raw), resp.Header
}

// signIn posts the sign-in form with token.
func (b *browser) signIn(t *testing.T, base, token string) {
	t.Helper()
	code, body, hdr := b.do(t, http.MethodPost, base+"/login", url.Values{"token": {token}, "next": {"/incidents"}})
	if code != http.StatusSeeOther || b.cookie == "" {
		t.Fatalf("sign in: %d %s (Location %q)", code, body, hdr.Get("Location"))
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// jsErrors posts a beacon reporting n JS errors to base.
func jsErrors(t *testing.T, base string, n int) {
	t.Helper()
	body := fmt.Sprintf(`{"v": 1, "session": "sharedstate01", "events": [
  {"type": "error", "url": "https://shop.example.com/product/7", "message": "TypeError: cart is undefined", "count": %d}]}`, n)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/rum/v1/beacons", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Origin", "https://shop.example.com")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/130 Safari/537.36")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("beacon to %s: %d", base, resp.StatusCode)
	}
}

// alertState is the state of the named alert on base ("" when absent).
func alertState(t *testing.T, base, name string) string {
	t.Helper()
	code, body := mustAPI(t, http.MethodGet, base+"/api/v1/alerts", viewerToken, nil)
	if code != http.StatusOK {
		t.Fatalf("alerts: %d %s", code, body)
	}
	var list struct {
		Alerts []struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	for _, a := range list.Alerts {
		if a.Name == name {
			return a.State
		}
	}
	return ""
}

// TestReplicaSharedState runs three `sentinel serve` processes on one
// PostgreSQL database, as behind a load balancer without sticky sessions:
// a person signs in on one replica, reads a page on the next and
// acknowledges an incident with the form of that page on the third, and a
// sign-out on one ends the session everywhere; JS errors reported to the
// three replicas, each below a rule's threshold, add up and fire it; a
// replica killed with SIGKILL and restarted still knows the session.
func TestReplicaSharedState(t *testing.T) {
	cluster, _ := postgresCluster(t)
	if err := cluster.CreateDatabase(t.Context(), "sentinel"); err != nil {
		t.Fatal(err)
	}
	dsn := cluster.DSNFor("sentinel")
	var ps []*process
	var cfgs []string
	for i := range 3 {
		addr := freeAddr(t)
		cfg := write(t, fmt.Sprintf("replica-%d.yaml", i), sharedConfig(addr, dsn, ""))
		cfgs = append(cfgs, cfg)
		ps = append(ps, startBinary(t, cfg, addr, 30*time.Second))
	}

	// JS errors: 6 to each replica, 18 a minute in all.
	for _, p := range ps {
		jsErrors(t, p.base(), 6)
	}
	deadline := time.Now().Add(20 * time.Second)
	for alertState(t, ps[1].base(), "JSErrorsAcrossReplicas") != "firing" {
		if time.Now().After(deadline) {
			t.Fatalf("the JS error rule did not fire on 18 errors a minute reported to three replicas (6 each, rule above 10)")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i, p := range ps {
		if st := alertState(t, p.base(), "JSErrorsAcrossReplicas"); st != "firing" {
			t.Errorf("replica %d shows the JS error rule as %q, want firing", i, st)
		}
	}

	// Sessions: sign in on replica 0; the page on replica 1; its form on
	// replica 2.
	code, body := mustAPI(t, http.MethodPost, ps[0].base()+"/api/v1/incidents", responderToken, map[string]any{
		"title": "checkout slow", "severity": "critical", "summary": "shared state test"})
	if code != http.StatusCreated {
		t.Fatalf("declare: %d %s", code, body)
	}
	var inc incidentJSON
	if err := json.Unmarshal(body, &inc); err != nil {
		t.Fatal(err)
	}
	var b browser
	b.signIn(t, ps[0].base(), responderToken)
	code, page, _ := b.do(t, http.MethodGet, fmt.Sprintf("%s/incidents/%d", ps[1].base(), inc.ID), nil)
	if code != http.StatusOK || !strings.Contains(page, "checkout slow") {
		t.Fatalf("the incident page on another replica: %d\n%.400s", code, page)
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field on the incident page:\n%.2000s", page)
	}
	code, _, hdr := b.do(t, http.MethodPost, fmt.Sprintf("%s/incidents/%d/acknowledge", ps[2].base(), inc.ID), url.Values{"csrf": {m[1]}})
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), fmt.Sprintf("/incidents/%d", inc.ID)) {
		t.Fatalf("acknowledge with the form on a third replica: %d (Location %q)", code, hdr.Get("Location"))
	}
	if got := getIncident(t, ps[0].base(), inc.ID); got.Status != "acknowledged" {
		t.Errorf("incident #%d is %s after the form's acknowledgement", inc.ID, got.Status)
	} else if last := got.Timeline[len(got.Timeline)-1]; last.Actor != "ops" {
		t.Errorf("acknowledged by %q, want the session's owner ops", last.Actor)
	}
	// A wrong CSRF token is refused on every replica.
	if code, _, _ := b.do(t, http.MethodPost, fmt.Sprintf("%s/incidents/%d/resolve", ps[1].base(), inc.ID), url.Values{"csrf": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("a forged CSRF token: %d, want 403", code)
	}

	// Replica 0 dies and comes back: the session is still good there.
	ps[0].kill()
	ps[0] = startBinary(t, cfgs[0], ps[0].addr, 30*time.Second)
	if code, page, _ := b.do(t, http.MethodGet, ps[0].base()+"/incidents", nil); code != http.StatusOK {
		t.Fatalf("the session on the restarted replica: %d\n%.300s", code, page)
	}

	// Signing out on one replica ends the session on all of them.
	code, _, _ = b.do(t, http.MethodPost, ps[1].base()+"/logout", url.Values{"csrf": {m[1]}})
	if code != http.StatusSeeOther {
		t.Fatalf("sign out: %d", code)
	}
	old := b.cookie
	for i, p := range ps {
		b.cookie = old
		if code, _, hdr := b.do(t, http.MethodGet, p.base()+"/incidents", nil); code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/login") {
			t.Errorf("replica %d after signing out elsewhere: %d (Location %q), want 303 to /login", i, code, hdr.Get("Location"))
		}
	}
}

// TestSessionsSurviveRestart: on the embedded store, a dashboard session
// and its CSRF token outlive kill -9 of the process.
func TestSessionsSurviveRestart(t *testing.T) {
	addr := freeAddr(t)
	cfg := write(t, "sentinel.yaml", sharedConfig(addr, "", filepath.Join(t.TempDir(), "sentinel.db")))
	p := startBinary(t, cfg, addr, 30*time.Second)
	var b browser
	b.signIn(t, p.base(), responderToken)
	code, body := mustAPI(t, http.MethodPost, p.base()+"/api/v1/incidents", responderToken, map[string]any{"title": "restart", "severity": "warning"})
	if code != http.StatusCreated {
		t.Fatalf("declare: %d %s", code, body)
	}
	var inc incidentJSON
	if err := json.Unmarshal(body, &inc); err != nil {
		t.Fatal(err)
	}
	_, page, _ := b.do(t, http.MethodGet, fmt.Sprintf("%s/incidents/%d", p.base(), inc.ID), nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field:\n%.1000s", page)
	}
	p.kill()
	p = startBinary(t, cfg, addr, 30*time.Second)
	code, _, hdr := b.do(t, http.MethodPost, fmt.Sprintf("%s/incidents/%d/acknowledge", p.base(), inc.ID), url.Values{"csrf": {m[1]}})
	if code != http.StatusSeeOther || strings.HasPrefix(hdr.Get("Location"), "/login") {
		t.Fatalf("the form of a page loaded before the restart: %d (Location %q)", code, hdr.Get("Location"))
	}
	if got := getIncident(t, p.base(), inc.ID); got.Status != "acknowledged" {
		t.Errorf("incident is %s, want acknowledged", got.Status)
	}
}
