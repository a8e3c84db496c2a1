package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/app"
	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// abuseConfig is a quiet Sentinel (no probes, so nothing changes by
// itself) with every feature that has routes: SLOs, RUM, alerting with a
// heartbeat, incidents, on-call, Slack, runbooks.
func abuseConfig(t *testing.T, slackAPI, extra string) *config.Config {
	t.Helper()
	rb := t.TempDir()
	if err := writeFile(filepath.Join(rb, "checkout-down.md"), "---\ntitle: Checkout is down\nlabels: {service: checkout}\n---\n# Steps\n"); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`server: {listen: 127.0.0.1:0, trusted_proxies: [127.0.0.1]}
storage: {path: %q}
%speople: [{name: carol, email: carol@shop.example.com, slack_id: %s}]
rum:
  allowed_origins: ["https://shop.example.com"]
  routes: [/product/:id]
  rate_limit: {per_ip: 5, per_ip_burst: 10}
slos:
  - {name: orders, service: checkout, objective: 99, window: 30d, sli: {events: {}}}
alerting:
  heartbeats: [{name: backup, timeout: 1h}]
oncall:
  schedules:
    - {name: primary, timezone: UTC, rotation: {every: 1w, members: [carol]}}
slack:
  token: xoxb-e2e
  signing_secret: %s
  api_url: %s
  channel: "#incidents"
  pace: 0s
runbooks: {dir: %q}
%s`, filepath.Join(t.TempDir(), "s.db"), tokensYAML, slackUser, slackSecret, slackAPI, rb, extra)
	cfg, err := config.Parse("abuse.yaml", []byte(src), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// volatile are keys whose values move with the clock, not with state.
// While an events SLO's data covers part of its window, its budget is
// projected over the time observed, so the budget figures move too (the
// counts, window_good, window_total and spent, do not). Counts read in
// the current minute end now (counted_to).
var volatile = map[string]bool{"evaluated_at": true, "history": true, "from": true, "to": true, "now": true, "generated_at": true,
	"time_to_exhaustion": true, "window_start": true, "request_id": true, "next": true, "until": true, "since": true, "burn_rates": true,
	"coverage": true, "expected": true, "allowed": true, "consumed": true, "remaining": true, "error_budget_remaining": true,
	"budget_consumed": true, "budget_remaining": true, "counted_to": true}

// stripVolatile removes volatile keys from decoded JSON, recursively.
func stripVolatile(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if volatile[k] {
				delete(x, k)
				continue
			}
			x[k] = stripVolatile(val)
		}
	case []any:
		for i := range x {
			x[i] = stripVolatile(x[i])
		}
	}
	return v
}

// snapshot reads everything a person could see change, as the admin.
func snapshot(t *testing.T, base string) string {
	t.Helper()
	var b strings.Builder
	for _, p := range []string{"/api/v1/incidents?limit=200", "/api/v1/incidents/1", "/api/v1/incidents/1/postmortem", "/api/v1/silences",
		"/api/v1/oncall", "/api/v1/alerts", "/api/v1/slos/orders", "/api/v1/rum/vitals", "/api/v1/rum/errors", "/api/v1/probes"} {
		code, body := mustAPI(t, http.MethodGet, base+p, adminToken, nil)
		var v any
		if json.Unmarshal(body, &v) == nil {
			body, _ = json.Marshal(stripVolatile(v))
		}
		fmt.Fprintf(&b, "%s %d %s\n", p, code, body)
	}
	return b.String()
}

// param values: valid ones (existing objects) and malformed ones.
var (
	validParam = map[string]string{"id": "1", "name": "orders", "run": "01J00000000000000000000000", "filepath": "x", "cal": "0123456789abcdef", "override": "0123456789abcdef", "file": "x.ics"}
	badParams  = []string{"0", "-1", "abc", "99999999999999999999999", "%00", "..%2F..%2Fetc%2Fpasswd", strings.Repeat("a", 5000), "%F0%28%8C%BC"}
)

// fill puts v in every :param and *param of a gin path template.
var paramRE = regexp.MustCompile(`[:*][A-Za-z_]+`)

func fill(path string, v func(name string) string) string {
	return paramRE.ReplaceAllStringFunc(path, func(p string) string { return v(p[1:]) })
}

// abuseResult counts answers by status, per route, for the log.
type abuseResult struct {
	mu     sync.Mutex
	byCode map[int]int
	n      int
}

func (r *abuseResult) add(code int) {
	r.mu.Lock()
	r.byCode[code]++
	r.n++
	r.mu.Unlock()
}

// send makes one request and fails the test on a 5xx other than 503/504
// (and on 503 from anything but the store, which is healthy here).
func send(t *testing.T, res *abuseResult, method, u string, hdr http.Header, body []byte) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, r)
	if err != nil {
		return 0 // a URL Go itself refuses to send
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: no answer: %v", method, u, err)
		return 0
	}
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	res.add(resp.StatusCode)
	if resp.StatusCode >= 500 {
		t.Errorf("%s %s (%v): %d %s", method, short(u), hdr.Get("Content-Type"), resp.StatusCode, out)
	}
	return resp.StatusCode
}

func short(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// TestAbuseEveryRoute enumerates every route Sentinel mounts and sends
// each one unauthenticated, wrong-role, malformed, oversized and replayed
// requests. Nothing may answer 5xx, protected routes must refuse the
// wrong callers, and what a person can see must not change.
func TestAbuseEveryRoute(t *testing.T) {
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	cfg := abuseConfig(t, fake.APIURL(), "")
	a, err := app.New(t.Context(), app.Options{Config: cfg, Stderr: io.Discard, LoadConfig: func() (*config.Config, error) { return cfg, nil }})
	if err != nil {
		t.Fatal(err)
	}
	runApp(t, a)
	base := a.URL()

	// State to protect: an acknowledged incident (declared, paged), an
	// incident from Alertmanager, a silence, SLO events, a RUM view.
	if code, body := mustAPI(t, http.MethodPost, base+"/api/v1/incidents", responderToken, map[string]any{"title": "Checkout down", "severity": "critical", "labels": map[string]string{"service": "checkout"}}); code != http.StatusCreated {
		t.Fatalf("declare: %d %s", code, body)
	}
	if code, body := mustAPI(t, http.MethodPost, base+"/api/v1/incidents/1/acknowledge", responderToken, nil); code != http.StatusOK {
		t.Fatalf("ack: %d %s", code, body)
	}
	hook := amPayload(`{}:{alertname="Abuse"}`, "Abuse", "firing")
	if code, body := mustAPI(t, http.MethodPost, base+"/api/v1/alertmanager", ingestToken, hook); code != http.StatusOK {
		t.Fatalf("webhook: %d %s", code, body)
	}
	if code, body := mustAPI(t, http.MethodPost, base+"/api/v1/silences", responderToken, map[string]any{"matchers": []string{"service=search"}, "duration": "2h", "comment": "abuse test"}); code != http.StatusCreated {
		t.Fatalf("silence: %d %s", code, body)
	}
	if code, body := mustAPI(t, http.MethodPost, base+"/api/v1/slos/orders/events", ingestToken, map[string]any{"good": 990, "total": 1000}); code != http.StatusAccepted {
		t.Fatalf("events: %d %s", code, body)
	}
	if code, err := beacon(t.Context(), base, "https://shop.example.com", ""); err != nil || code != http.StatusAccepted {
		t.Fatalf("beacon: %d %v", code, err)
	}
	// The page in Slack, to replay a click later.
	var page slacktest.Message
	deadline := time.Now().Add(10 * time.Second)
	for len(pages(fake)["1"]) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if ps := pages(fake)["1"]; len(ps) > 0 {
		page = ps[0]
	} else {
		t.Fatal("incident 1 was not paged")
	}
	// Let asynchronous writers (RUM and SLO flushes, the outbox) settle:
	// two snapshots a moment apart must agree before the abuse starts.
	var before string
	deadline = time.Now().Add(15 * time.Second)
	for {
		s1 := snapshot(t, base)
		time.Sleep(1500 * time.Millisecond) // RUM and SLO counts flush once a second
		s2 := snapshot(t, base)
		if s1 == s2 {
			before = s2
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the state does not settle without load:\n%s", diffLines(s1, s2))
		}
	}

	routes := a.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	if len(routes) < 40 {
		t.Fatalf("only %d routes: %v", len(routes), routes)
	}
	res := &abuseResult{byCode: map[int]int{}}
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	jsonHdr := func(tok string) http.Header {
		h := bearer(tok)
		h.Set("Content-Type", "application/json")
		return h
	}
	bodiless := regexp.MustCompile(`^/api/v1/incidents/:id/(acknowledge|resolve|escalate)$`)
	ingestRoute := regexp.MustCompile(`^/api/v1/(alertmanager|heartbeats/|slos/[^/]+/events)`)
	big := bytes.Repeat([]byte("x"), 2<<20)
	malformed := [][]byte{[]byte(`{"a":`), []byte(`[]`), []byte(`{"title": 1, "good": "x", "matchers": {}}`), []byte("\x00\xff\xfe"),
		[]byte(`{"version":"4","groupKey":"k","alerts":[{"labels":null}]}`), []byte(strings.Repeat("[", 10000)), []byte(`payload=%7B%22type%22`)}
	for _, rt := range routes {
		valid := base + fill(rt.Path, func(n string) string { return validParam[n] })
		protected := strings.HasPrefix(rt.Path, "/api/") || rt.Path == "/-/reload"
		// Unauthenticated.
		code := send(t, res, rt.Method, valid, nil, nil)
		if protected && code != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d, want 401", rt.Method, rt.Path, code)
		}
		// Unknown and malformed tokens.
		for _, h := range []http.Header{bearer("nope-nope-nope-nope"), {"Authorization": {"Basic YWRtaW46YWRtaW4="}}, {"Authorization": {"Bearer " + strings.Repeat("t", 9000)}}} {
			code := send(t, res, rt.Method, valid, h, nil)
			if protected && code != http.StatusUnauthorized && code != http.StatusRequestHeaderFieldsTooLarge && code != http.StatusBadRequest {
				t.Errorf("%s %s with a bad token: %d, want 401", rt.Method, rt.Path, code)
			}
		}
		// Wrong roles: ingest may only feed data in; viewers may not write.
		if protected {
			ingest := ingestRoute.MatchString(rt.Path) || (rt.Path == "/api/v2/alerts" || rt.Path == "/api/v1/changes") && rt.Method == http.MethodPost
			if !ingest {
				if code := send(t, res, rt.Method, valid, bearer(ingestToken), nil); code != http.StatusForbidden {
					t.Errorf("%s %s with the ingest token: %d, want 403", rt.Method, rt.Path, code)
				}
			} else if code := send(t, res, rt.Method, valid, jsonHdr(viewerToken), []byte(`{}`)); code != http.StatusForbidden {
				t.Errorf("%s %s with a viewer token: %d, want 403", rt.Method, rt.Path, code)
			}
			if rt.Method != http.MethodGet && rt.Method != http.MethodHead {
				if code := send(t, res, rt.Method, valid, jsonHdr(viewerToken), []byte(`{}`)); code != http.StatusForbidden {
					t.Errorf("%s %s with a viewer token: %d, want 403", rt.Method, rt.Path, code)
				}
			}
		}
		// Malformed path parameters and queries, as the admin.
		if strings.ContainsAny(rt.Path, ":*") {
			for _, bad := range badParams {
				send(t, res, rt.Method, base+fill(rt.Path, func(string) string { return bad }), bearer(adminToken), nil)
			}
		}
		if bodiless.MatchString(rt.Path) {
			continue // with a valid ID, the admin's action would simply act
		}
		send(t, res, rt.Method, valid+"?limit=-1&before=zz&from=yesterday&to=2026-13-45T99:00:00Z&status=bogus&since=x&step=%00", bearer(adminToken), nil)
		if rt.Method == http.MethodGet || rt.Method == http.MethodHead {
			continue // reads: done; their effect on state is checked below
		}
		// Malformed and oversized bodies, as the admin (who could do
		// anything with a valid one) and as Slack without a signature.
		for _, body := range malformed {
			send(t, res, rt.Method, valid, jsonHdr(adminToken), body)
			h := bearer(adminToken)
			h.Set("Content-Type", "application/x-www-form-urlencoded")
			send(t, res, rt.Method, valid, h, body)
		}
		h := jsonHdr(adminToken)
		h.Set("Origin", "https://shop.example.com")
		if code := send(t, res, rt.Method, valid, h, big); code != http.StatusRequestEntityTooLarge && code != http.StatusNotFound && code != http.StatusMethodNotAllowed && code != http.StatusUnauthorized {
			t.Errorf("%s %s with a 2 MiB body: %d, want 413", rt.Method, rt.Path, code)
		}
	}

	// Replays: a Slack click signed six minutes ago; the same signed body
	// with a tampered payload; Alertmanager's delivery again (an HA peer);
	// an acknowledgement of an acknowledged incident.
	client := slacktest.Client{Secret: slackSecret}
	clickPayload := slacktest.BlockActions(slacktest.Click{ActionID: slack.ActionResolve, Value: "1", UserID: slackUser, UserName: "carol", ChannelID: page.Channel, MessageTS: page.TS})
	old, err := client.Post(t.Context(), base+"/slack/interactions", url.Values{"payload": {string(clickPayload)}}, time.Now().Add(-6*time.Minute), "")
	if err != nil || old.Status != http.StatusUnauthorized {
		t.Errorf("a click signed 6 minutes ago: %v %+v, want 401", err, old)
	}
	forged, err := client.Post(t.Context(), base+"/slack/interactions", url.Values{"payload": {string(clickPayload)}}, time.Now(), "v0=00"+strings.Repeat("ab", 31))
	if err != nil || forged.Status != http.StatusUnauthorized {
		t.Errorf("a click with a forged signature: %v %+v, want 401", err, forged)
	}
	for range 3 {
		if code, body := mustAPI(t, http.MethodPost, base+"/api/v1/alertmanager", ingestToken, hook); code != http.StatusOK || !strings.Contains(string(body), `"unchanged":1`) {
			t.Errorf("replayed webhook: %d %s", code, body)
		}
	}
	if code, _ := mustAPI(t, http.MethodPost, base+"/api/v1/incidents/1/acknowledge", responderToken, nil); code != http.StatusConflict {
		t.Errorf("acknowledging twice: %d, want 409", code)
	}

	if code, body := mustAPI(t, http.MethodGet, base+"/healthz", "", nil); code != http.StatusOK {
		t.Fatalf("healthz after the abuse: %d %s", code, body)
	}
	after := snapshot(t, base)
	if after != before {
		t.Errorf("state changed under abuse:\n%s", diffLines(before, after))
	}
	res.mu.Lock()
	t.Logf("%d routes, %d abusive requests; answers by status: %v", len(routes), res.n, res.byCode)
	res.mu.Unlock()
}

// TestBeaconFloodIsRateLimited floods RUM beacons from one client address
// (through a trusted proxy header) and checks that it gets 429 while
// another client still gets 202, and that an API reader is unaffected.
func TestBeaconFloodIsRateLimited(t *testing.T) {
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	a, err := app.New(t.Context(), app.Options{Config: abuseConfig(t, fake.APIURL(), ""), Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	runApp(t, a)
	base := a.URL()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var accepted, limited, other atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for n := 0; n < 100 && ctx.Err() == nil; n++ {
				code, err := beacon(ctx, base, "https://shop.example.com", "203.0.113.7")
				switch {
				case err != nil:
				case code == http.StatusAccepted:
					accepted.Add(1)
				case code == http.StatusTooManyRequests:
					limited.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	// Meanwhile another visitor and a dashboard reader.
	otherOK := 0
	for range 5 {
		code, err := beacon(t.Context(), base, "https://shop.example.com", "198.51.100.9")
		if err == nil && code == http.StatusAccepted {
			otherOK++
		}
		if code, _ := mustAPI(t, http.MethodGet, base+"/api/v1/slos", viewerToken, nil); code != http.StatusOK {
			t.Errorf("API read during the flood: %d", code)
		}
		time.Sleep(250 * time.Millisecond) // a person's pace: within the per-IP rate
	}
	wg.Wait()
	t.Logf("flood from one address: %d accepted, %d limited (429), %d other; the other visitor: %d of 5 accepted", accepted.Load(), limited.Load(), other.Load(), otherOK)
	if limited.Load() == 0 || other.Load() != 0 {
		t.Errorf("flood: %d accepted, %d limited, %d other answers", accepted.Load(), limited.Load(), other.Load())
	}
	if otherOK != 5 {
		t.Errorf("the other visitor got %d of 5 beacons accepted during the flood", otherOK)
	}
}

// diffLines shows the lines of a that differ in b, and b's version.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			j := 0
			for j < len(x) && j < len(y) && x[j] == y[j] {
				j++
			}
			from := max(0, j-300)
			fmt.Fprintf(&out, "at byte %d of %q:\n- …%s\n+ …%s\n", j, strings.Fields(x + " ")[0], short2(x[from:]), short2(y[min(from, len(y)):]))
		}
	}
	return out.String()
}

func short2(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "…"
	}
	return s
}
