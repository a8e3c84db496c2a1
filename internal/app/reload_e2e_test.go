package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// reloadFixture is a running Sentinel whose config file a test rewrites
// and reloads through POST /-/reload.
type reloadFixture struct {
	a    *App
	path string
	logs *lockedBuffer
}

func (f *reloadFixture) write(t *testing.T, src string) {
	t.Helper()
	if err := os.WriteFile(f.path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
}

// do sends a request with an optional bearer token and JSON body and
// returns the status and body.
func do(t *testing.T, method, url, token string, body any, header ...string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// hookSink is a webhook pager's receiving end.
type hookSink struct {
	mu     sync.Mutex
	bodies []string
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies = append(h.bodies, string(b))
	h.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (h *hookSink) has(sub string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, b := range h.bodies {
		if strings.Contains(b, sub) {
			return true
		}
	}
	return false
}

const (
	oldSigningSecret = "0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld00"
	newSigningSecret = "n3wn3wn3wn3wn3wn3wn3wn3wn3wn3wn3"
	rotatedAdmin     = "rotated-admin-token-0123456789"
)

// TestReloadAppliesEverySection runs Sentinel from a file, rewrites every
// section of it and reloads, then observes each change through what
// Sentinel does: the rotated Slack signing secret is accepted and the old
// one refused (and the new bot token is what Slack sees), a new RUM
// origin, site and route are accepted, a new alert rule fires on a new
// probe, a new schedule answers /api/v1/oncall, a changed escalation policy
// pages the new person through a new webhook pager, the SLO that only
// changed its objective keeps its counts, a new SLO counts, a new runbook
// directory is served, a new postmortem rule drafts, the new session TTL
// is in the cookie, the rotated API token is the only one accepted, the
// new log level logs, and a smaller body limit refuses what it accepted
// before.
func TestReloadAppliesEverySection(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	hooks := &hookSink{}
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)
	var target sync.Map // "fail" -> bool: the new probe's target answers 500
	probeTarget := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v, _ := target.Load("fail"); v == true {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(probeTarget.Close)
	for _, d := range []string{"runbooks-a", "runbooks-b"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "runbooks-a", "checkout-down.md"), "---\ntitle: Checkout down\n---\nRestart it.\n")
	writeFile(t, filepath.Join(dir, "runbooks-b", "payments-slow.md"), "---\ntitle: Payments slow\nalerts: [PaymentsProbeFailing]\n---\nCall the PSP.\n")

	before := `server: {listen: 127.0.0.1:0}
storage: {path: ` + filepath.Join(dir, "s.db") + `}
auth:
  tokens:
    - {name: admin, token: ` + adminToken + `, role: admin}
logging: {level: info}
people:
  - {name: alice, email: alice@shop.example.com}
  - {name: bob, email: bob@shop.example.com}
rum:
  allowed_origins: ["https://shop.example.com"]
  routes: [/cart]
slos:
  - {name: orders, service: checkout, objective: 99, window: 30d, sli: {events: {}}}
oncall:
  schedules:
    - {name: primary, timezone: UTC, rotation: {every: 1w, handoff: "Mon 09:00", members: [alice]}}
  escalation_policies:
    - {name: default, steps: [{notify: "schedule:primary"}]}
slack:
  token: xoxb-old-token
  signing_secret: ` + oldSigningSecret + `
  api_url: ` + fake.APIURL() + `
  channel: "#incidents"
  pace: 10ms
runbooks: {dir: ` + filepath.Join(dir, "runbooks-a") + `}
postmortems: {required_for: [critical]}
ui: {session_ttl: 12h}
`
	after := `server: {listen: 127.0.0.1:0, max_body_bytes: 2048, read_timeout: 20s, idle_timeout: 1m, max_header_bytes: 32768}
storage: {path: ` + filepath.Join(dir, "s.db") + `}
auth:
  tokens:
    - {name: admin, token: ` + rotatedAdmin + `, role: admin}
logging: {level: debug}
people:
  - {name: alice, email: alice@shop.example.com}
  - {name: bob, email: bob@shop.example.com}
  - {name: carol, email: carol@shop.example.com}
probes:
  - name: payments
    interval: 1s
    timeout: 1s
    failure_threshold: 1
    labels: {service: payments}
    steps:
      - {name: ping, request: {method: GET, url: "` + probeTarget.URL + `/"}, expect: {status: 200}}
probe_settings: {max_concurrent: 4}
rum:
  allowed_origins: ["https://shop.example.com", "https://new.example.com"]
  site: default
  sites: [outlet]
  routes: [/cart, /product/:id]
  max_body_bytes: 2048
slos:
  - {name: orders, service: checkout, objective: 99.5, window: 30d, sli: {events: {}}}
  - {name: signups, service: accounts, objective: 99, window: 30d, sli: {events: {}}}
incidents:
  pagers:
    - {name: ops-hook, type: webhook, url: "` + hookSrv.URL + `"}
oncall:
  schedules:
    - {name: primary, timezone: UTC, rotation: {every: 1w, handoff: "Mon 09:00", members: [alice]}}
    - {name: secondary, timezone: UTC, rotation: {every: 1w, handoff: "Mon 09:00", members: [carol]}}
  escalation_policies:
    - {name: default, steps: [{notify: "user:carol"}]}
alerting:
  evaluation_interval: 1s
  rules:
    - {name: PaymentsProbeFailing, when: {probe: payments}, severity: critical}
slack:
  token: xoxb-new-token
  signing_secret: ` + newSigningSecret + `
  api_url: ` + fake.APIURL() + `
  channel: "#incidents"
  pace: 10ms
runbooks: {dir: ` + filepath.Join(dir, "runbooks-b") + `}
postmortems: {required_for: [critical, warning]}
ui: {session_ttl: 2h}
dashboards: {grafana_url: "https://grafana.shop.example"}
status_page:
  enabled: true
  title: "Shop status after reload"
  components:
    - {name: Payments, probe: payments}
`
	f := &reloadFixture{path: filepath.Join(dir, "sentinel.yaml"), logs: &lockedBuffer{}}
	f.write(t, before)
	load := func() (*config.Config, error) { return config.Load(f.path, config.Options{}) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	f.a, err = New(ctx, Options{Config: cfg, LoadConfig: load, Stderr: f.logs})
	if err != nil {
		t.Fatal(err)
	}
	started(t, f.a)
	base := f.a.URL()

	// Before: what the old config does.
	for range 9 {
		if code, body := do(t, "POST", base+"/api/v1/slos/orders/events", adminToken, map[string]any{"good": 10, "total": 10}); code != 202 && code != 200 {
			t.Fatalf("events: %d %s", code, body)
		}
	}
	if code, body := do(t, "POST", base+"/api/v1/slos/orders/events", adminToken, map[string]any{"good": 0, "total": 10}); code != 202 && code != 200 {
		t.Fatalf("events: %d %s", code, body)
	}
	beacon := func(origin, site string) (int, string) {
		b := map[string]any{"v": 1, "session": "sess-0123456789", "site": site,
			"events": []any{map[string]any{"type": "page_view", "url": "https://x.example/product/42"}}}
		return do(t, "POST", base+"/rum/v1/beacons", "", b, "Origin", origin, "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0")
	}
	if code, _ := beacon("https://new.example.com", ""); code != 403 {
		t.Fatalf("beacon from the new origin before the reload: %d", code)
	}
	slackOld := slacktest.Client{Secret: oldSigningSecret}
	slackNew := slacktest.Client{Secret: newSigningSecret}
	status := slacktest.Command{Text: "status", UserID: "U1", ChannelID: "C0INCIDENTS"}
	if r, err := slackOld.SlashCommand(ctx, base+"/slack/commands", status); err != nil || r.Status != 200 {
		t.Fatalf("old secret before the reload: %v %+v", err, r)
	}
	if r, err := slackNew.SlashCommand(ctx, base+"/slack/commands", status); err != nil || r.Status != 401 {
		t.Fatalf("new secret before the reload: %v %+v", err, r)
	}
	if code, _ := do(t, "GET", base+"/status", "", nil); code != 404 {
		t.Fatalf("/status before the status page is enabled: %d", code)
	}
	big := map[string]any{"title": "x", "severity": "warning", "summary": strings.Repeat("s", 3000)}
	code, body := do(t, "POST", base+"/api/v1/incidents", adminToken, big)
	if code != 201 {
		t.Fatalf("declare a 3 KB incident before the reload: %d %s", code, body)
	}
	if code, _ := do(t, "POST", base+"/api/v1/incidents/1/resolve", adminToken, nil); code != 200 {
		t.Fatalf("resolve #1: %d", code)
	}
	if code, body := do(t, "GET", base+"/api/v1/incidents/1/postmortem", adminToken, nil); code != 404 {
		t.Fatalf("postmortem of a warning before the reload: %d %s", code, body)
	}

	// Reload with every section changed.
	f.write(t, after)
	if code, body := do(t, "POST", base+"/-/reload", adminToken, nil); code != 200 {
		t.Fatalf("reload: %d %s", code, body)
	}
	// The reload changed connection settings, so the server retired its
	// idle keep-alive connections (as http.Server.Shutdown does). Go's
	// client retries only idempotent requests on a connection closed under
	// it, and the checks below POST, so they start on fresh connections.
	http.DefaultClient.CloseIdleConnections()

	// auth: only the rotated token.
	if code, _ := do(t, "GET", base+"/api/v1/incidents", adminToken, nil); code != 401 {
		t.Errorf("old admin token after rotation: %d", code)
	}
	tok := rotatedAdmin
	// slack: the new signing secret, and the new bot token towards Slack.
	if r, err := slackOld.SlashCommand(ctx, base+"/slack/commands", status); err != nil || r.Status != 401 {
		t.Errorf("old signing secret after rotation: %v %+v", err, r)
	}
	if r, err := slackNew.SlashCommand(ctx, base+"/slack/commands", status); err != nil || r.Status != 200 {
		t.Errorf("new signing secret after rotation: %v %+v", err, r)
	}
	// rum: the new origin, site and route.
	if code, body := beacon("https://new.example.com", "outlet"); code != 202 {
		t.Errorf("beacon from the new origin and site: %d %s", code, body)
	}
	testutil.Eventually(t, 10*time.Second, "the new route in RUM vitals", func() bool {
		_, body := do(t, "GET", base+"/api/v1/rum/vitals", tok, nil)
		return strings.Contains(body, `/product/:id`)
	})
	// server: the smaller body limit.
	if code, body := do(t, "POST", base+"/api/v1/incidents", tok, big); code != 413 {
		t.Errorf("3 KB body over the new 2 KB limit: %d %s", code, body)
	}
	// slos: orders kept its 90 of 100 under the new objective; signups counts.
	code, body = do(t, "GET", base+"/api/v1/slos/orders", tok, nil)
	if code != 200 || !strings.Contains(body, `"objective":99.5`) || !strings.Contains(body, `"sli":0.9`) {
		t.Errorf("orders after the reload: %d %s", code, body)
	}
	if code, body := do(t, "POST", base+"/api/v1/slos/signups/events", tok, map[string]any{"good": 5, "total": 5}); code != 202 && code != 200 {
		t.Errorf("events of the new SLO: %d %s", code, body)
	}
	// oncall: the new schedule answers.
	code, body = do(t, "GET", base+"/api/v1/oncall", tok, nil)
	if code != 200 || !strings.Contains(body, `"name":"secondary"`) || !strings.Contains(body, `"carol"`) {
		t.Errorf("/api/v1/oncall after the reload: %d %s", code, body)
	}
	// runbooks: the new directory.
	code, body = do(t, "GET", base+"/api/v1/runbooks", tok, nil)
	if code != 200 || !strings.Contains(body, "payments-slow") || strings.Contains(body, "checkout-down") {
		t.Errorf("runbooks after the reload: %d %s", code, body)
	}
	// postmortems: warnings now get one.
	if code, body := do(t, "GET", base+"/api/v1/incidents/1/postmortem", tok, nil); code != 200 {
		t.Errorf("postmortem of a warning after the reload: %d %s", code, body)
	}
	// probes and alerting: the new probe runs; when its target fails, the
	// new rule fires with the new runbook, and the incident pages carol
	// (the new policy) through the new webhook pager and Slack (new token).
	testutil.Eventually(t, 10*time.Second, "the new probe's first run", func() bool {
		_, body := do(t, "GET", base+"/api/v1/probes/payments/results", tok, nil)
		return strings.Contains(body, `"success":true`)
	})
	target.Store("fail", true)
	testutil.Eventually(t, 15*time.Second, "PaymentsProbeFailing firing", func() bool {
		_, body := do(t, "GET", base+"/api/v1/alerts", tok, nil)
		return strings.Contains(body, `"PaymentsProbeFailing"`) && strings.Contains(body, `"firing"`) && strings.Contains(body, "payments-slow")
	})
	testutil.Eventually(t, 15*time.Second, "a page to carol at the new webhook pager", func() bool {
		return hooks.has("PaymentsProbeFailing") && hooks.has("carol")
	})
	if !hooks.has("https://grafana.shop.example/d/sentinel-probes") {
		t.Error("the page lacks the link to the new Grafana")
	}
	testutil.Eventually(t, 15*time.Second, "the page in Slack with the new token", func() bool {
		for _, c := range fake.Calls("chat.postMessage") {
			if c.Token == "xoxb-new-token" && strings.Contains(strings.ToLower(c.Form.Get("text")), "payments") {
				return true
			}
		}
		return false
	})
	for _, c := range fake.Calls("chat.postMessage") {
		if c.Token != "xoxb-new-token" && strings.Contains(strings.ToLower(c.Form.Get("text")), "payments") {
			t.Errorf("a page after the reload went out with the old token")
		}
	}
	// status_page: on, with the new title and the new probe's component.
	code, body = do(t, "GET", base+"/status", "", nil)
	if code != 200 || !strings.Contains(body, "Shop status after reload") || !strings.Contains(body, "Payments") {
		t.Errorf("/status after the reload: %d %.300s", code, body)
	}
	// ui: the new session TTL in the cookie.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(base+"/login", map[string][]string{"token": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie string
	for _, c := range resp.Header.Values("Set-Cookie") {
		if strings.Contains(c, "Max-Age=") {
			cookie = c
		}
	}
	if !strings.Contains(cookie, "Max-Age=7200") {
		t.Errorf("session cookie after the reload: %q (want Max-Age=7200)", cookie)
	}
	// logging: debug lines now.
	do(t, "GET", base+"/healthz", "", nil)
	testutil.Eventually(t, 5*time.Second, "a debug line", func() bool { return strings.Contains(f.logs.String(), "level=DEBUG") })
	if m := metricsText(t, base); !strings.Contains(m, "sentinel_config_last_reload_successful 1") {
		t.Error("reload metric not 1")
	}

	// A further reload keeps the firing alert (same start, no new
	// incident) and the counts of the SLOs it leaves alone. First the
	// first reload's own effect must be in: orders' 10 bad of 100 burn
	// the 99.5% budget 20 times too fast, which pages (an incident) at
	// the next evaluation; taken between the two snapshots below, it
	// would read as opened by the second reload.
	testutil.Eventually(t, 10*time.Second, "the orders page-tier burn incident", func() bool {
		_, body := do(t, "GET", base+"/api/v1/incidents", tok, nil)
		return strings.Contains(body, `"slo":"orders","sloth_severity":"page"`)
	})
	_, alertsBefore := do(t, "GET", base+"/api/v1/alerts", tok, nil)
	_, incsBefore := do(t, "GET", base+"/api/v1/incidents", tok, nil)
	f.write(t, strings.Replace(after, "logging: {level: debug}", "logging: {level: info}", 1))
	if code, body := do(t, "POST", base+"/-/reload", tok, nil); code != 200 {
		t.Fatalf("second reload: %d %s", code, body)
	}
	_, alertsAfter := do(t, "GET", base+"/api/v1/alerts", tok, nil)
	if since := jsonField(t, alertsAfter, "since"); since == "" || since != jsonField(t, alertsBefore, "since") {
		t.Errorf("the firing alert's start changed across a reload:\nbefore %s\nafter  %s", alertsBefore, alertsAfter)
	}
	if _, incsAfter := do(t, "GET", base+"/api/v1/incidents", tok, nil); jsonField(t, incsAfter, "id") != jsonField(t, incsBefore, "id") {
		t.Errorf("a reload opened an incident:\nbefore %s\nafter  %s", incsBefore, incsAfter)
	}
	_, body = do(t, "GET", base+"/api/v1/slos/signups", tok, nil)
	if !strings.Contains(body, `"sli":1`) {
		t.Errorf("signups after a second reload: %s", body)
	}
}

// jsonField returns the first string or number value of key in a JSON
// document, as text ("" when absent).
func jsonField(t *testing.T, doc, key string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, doc)
	}
	var find func(any) (string, bool)
	find = func(v any) (string, bool) {
		switch x := v.(type) {
		case map[string]any:
			if val, ok := x[key]; ok {
				b, _ := json.Marshal(val)
				return strings.Trim(string(b), `"`), true
			}
			for _, c := range x {
				if s, ok := find(c); ok {
					return s, true
				}
			}
		case []any:
			for _, c := range x {
				if s, ok := find(c); ok {
					return s, true
				}
			}
		}
		return "", false
	}
	s, _ := find(v)
	return s
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func metricsText(t *testing.T, base string) string {
	t.Helper()
	_, body := get(t, base+"/metrics", "")
	return body
}
