package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/incidents/postmortem"
	"github.com/sentinel-oss/sentinel/internal/testutil"
)

const (
	aliceToken = "alice-responder-token-0123456789"
	bobToken   = "bob-responder-token-0123456789ab"
)

// offsetClock is real time plus an offset the test moves forward, so
// incidents last minutes while the test lasts seconds.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) advance(d time.Duration) { c.off.Add(int64(d)) }

func call(t *testing.T, method, u, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestPostmortemDoneWhen proves the "done when" in process: the
// whole app on 127.0.0.1:0 with a temporary store; an incident declared,
// acknowledged and resolved through the API by two people; the draft's
// impact equals the SLO API's figures for the same window, and its
// timeline lists every API action with its author. The runbook's HTTP
// diagnostic runs when the incident opens and its output lands in the
// timeline; the Markdown export, the status flow and the report work.
func TestPostmortemDoneWhen(t *testing.T) {
	diagHits := atomic.Int32{}
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		diagHits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "payments: connection pool exhausted")
	}))
	defer backend.Close()

	rbDir := t.TempDir()
	rb := "---\ntitle: Checkout is down\nlabels: {service: checkout}\ndiagnostics:\n  - {name: payments health, http: {url: " +
		backend.URL + "/healthz, expect_status: 200, timeout: 2s}}\n---\n# Checkout is down\n\n<script>alert(1)</script>\n\n1. Check **payments**.\n"
	if err := os.WriteFile(filepath.Join(rbDir, "checkout-down.md"), []byte(rb), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, `    - {name: alice, token: `+aliceToken+`, role: responder}
    - {name: bob, token: `+bobToken+`, role: responder}
people: [{name: alice, email: alice@example.com}, {name: bob, email: bob@example.com}]
slos:
  - {name: orders, service: checkout, objective: 99, window: 30d, sli: {events: {}}}
runbooks: {dir: `+rbDir+`}
`)
	clock := &offsetClock{}
	a, err := New(context.Background(), Options{Config: cfg, Stderr: io.Discard, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	started(t, a)
	base := a.URL()

	event := func(good, total int) {
		t.Helper()
		code, body := call(t, http.MethodPost, base+"/api/v1/slos/orders/events", adminToken, map[string]any{"good": good, "total": total})
		if code != http.StatusAccepted {
			t.Fatalf("events: %d %s", code, body)
		}
	}
	event(1000, 1000) // before the incident: the budget's base
	clock.advance(5 * time.Minute)

	code, body := call(t, http.MethodPost, base+"/api/v1/incidents", aliceToken,
		map[string]any{"title": "Checkout is failing", "severity": "critical", "summary": "Payments time out", "labels": map[string]string{"service": "checkout"}})
	if code != http.StatusCreated {
		t.Fatalf("declare: %d %s", code, body)
	}
	var inc struct {
		ID int64 `json:"id"`
	}
	_ = json.Unmarshal(body, &inc)
	incURL := fmt.Sprintf("%s/api/v1/incidents/%d", base, inc.ID)

	testutil.Eventually(t, 10*time.Second, "the runbook diagnostic in the timeline", func() bool {
		_, b := call(t, http.MethodGet, incURL, adminToken, nil)
		return strings.Contains(string(b), `"kind":"diagnostic"`) && strings.Contains(string(b), "expected 200")
	})

	clock.advance(2 * time.Minute)
	event(70, 100)
	if code, body := call(t, http.MethodPost, incURL+"/acknowledge", bobToken, nil); code != http.StatusOK {
		t.Fatalf("ack: %d %s", code, body)
	}
	clock.advance(3 * time.Minute)
	event(80, 100)
	clock.advance(5 * time.Minute)
	if code, body := call(t, http.MethodPost, incURL+"/resolve", aliceToken, nil); code != http.StatusOK {
		t.Fatalf("resolve: %d %s", code, body)
	}
	clock.advance(2 * time.Minute)
	event(5, 10) // after the incident: not in its window

	code, body = call(t, http.MethodGet, incURL+"/postmortem", adminToken, nil)
	if code != http.StatusOK {
		t.Fatalf("GET postmortem: %d %s", code, body)
	}
	var pm postmortem.Postmortem
	if err := json.Unmarshal(body, &pm); err != nil {
		t.Fatal(err)
	}
	if pm.Status != postmortem.StatusDraft || pm.Severity != "critical" || pm.Summary != "Payments time out" {
		t.Errorf("draft: status %s severity %s summary %q", pm.Status, pm.Severity, pm.Summary)
	}
	if len(pm.Impact.SLOs) != 1 || pm.Impact.SLOs[0].Name != "orders" {
		t.Fatalf("impact SLOs: %+v (errors %v)", pm.Impact.SLOs, pm.Impact.Errors)
	}
	got := pm.Impact.SLOs[0]
	q := url.Values{"from": {pm.Impact.From.Format(time.RFC3339Nano)}, "to": {pm.Impact.To.Format(time.RFC3339Nano)}}
	code, body = call(t, http.MethodGet, base+"/api/v1/slos/orders?"+q.Encode(), adminToken, nil)
	if code != http.StatusOK {
		t.Fatalf("GET slo: %d %s", code, body)
	}
	var sloAPI struct {
		Good           int64   `json:"good"`
		Total          int64   `json:"total"`
		BudgetConsumed float64 `json:"budget_consumed"`
	}
	_ = json.Unmarshal(body, &sloAPI)
	if got.Good != sloAPI.Good || got.Total != sloAPI.Total || got.BudgetConsumed != sloAPI.BudgetConsumed {
		t.Errorf("draft impact %+v != SLO API %+v for the same window", got, sloAPI)
	}
	if got.Total != 200 || got.Good != 150 || got.BudgetConsumed <= 0 {
		t.Errorf("impact counts %+v, want 150 good of 200 in the window", got)
	}
	if math.Abs(pm.Impact.Duration-10*60) > 1 {
		t.Errorf("duration %.0fs, want 600", pm.Impact.Duration)
	}
	if pm.Times.Acknowledge == nil || math.Abs(*pm.Times.Acknowledge-120) > 1 || pm.Times.Resolve == nil || math.Abs(*pm.Times.Resolve-600) > 1 {
		t.Errorf("times: %+v", pm.Times)
	}
	authors := map[string]string{}
	for _, e := range pm.Timeline {
		authors[e.Kind] = e.Actor
	}
	for kind, who := range map[string]string{"declared": "alice", "acknowledged": "bob", "resolved": "alice", "diagnostic": "sentinel"} {
		if authors[kind] != who {
			t.Errorf("timeline %s by %q, want %q (timeline %+v)", kind, authors[kind], who, pm.Timeline)
		}
	}

	// The status flow: leaving the draft needs a root cause.
	code, body = call(t, http.MethodPut, incURL+"/postmortem", bobToken, map[string]any{"status": "in_review"})
	if code != http.StatusBadRequest {
		t.Errorf("in_review without root cause: %d %s", code, body)
	}
	code, body = call(t, http.MethodPut, incURL+"/postmortem", bobToken, map[string]any{
		"status": "in_review", "root_cause": "The payments pool was too small.",
		"action_items": []map[string]any{{"title": "Size the pool", "owner": "bob", "due": "2030-01-31"}},
	})
	if code != http.StatusOK {
		t.Fatalf("PUT in_review: %d %s", code, body)
	}
	code, body = call(t, http.MethodPut, incURL+"/postmortem", adminToken, map[string]any{"status": "published", "version": 0})
	if code != http.StatusConflict {
		t.Errorf("stale version: %d %s", code, body)
	}
	code, body = call(t, http.MethodPut, incURL+"/postmortem", aliceToken, map[string]any{"status": "published"})
	if code != http.StatusOK {
		t.Fatalf("PUT published: %d %s", code, body)
	}
	_, body = call(t, http.MethodGet, incURL, adminToken, nil)
	if !strings.Contains(string(body), `"actor":"bob","text":"postmortem moved from draft to in_review by bob"`) {
		t.Errorf("incident timeline lacks the postmortem status change by bob: %s", body)
	}
	code, body = call(t, http.MethodPut, incURL+"/postmortem", aliceToken, map[string]any{"lessons": "too late"})
	if code != http.StatusConflict {
		t.Errorf("editing a published text: %d %s", code, body)
	}

	// The Markdown export.
	req, _ := http.NewRequest(http.MethodGet, incURL+"/postmortem.md", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/markdown") ||
		!strings.Contains(string(md), "## Root cause\n\nThe payments pool was too small.") || !strings.Contains(string(md), "| alice | declared by alice |") {
		t.Errorf("markdown export: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), md)
	}

	// The report.
	from, to := clock.now().Add(-time.Hour).Format(time.RFC3339), clock.now().Add(time.Hour).Format(time.RFC3339)
	code, body = call(t, http.MethodGet, base+"/api/v1/reports/incidents?from="+from+"&to="+to, adminToken, nil)
	var rep postmortem.Report
	_ = json.Unmarshal(body, &rep)
	if code != http.StatusOK || rep.Count != 1 || rep.BySeverity["critical"] != 1 || len(rep.Weeks) != 1 || rep.MTTR == nil ||
		len(rep.SLOs) != 1 || rep.SLOs[0].BudgetConsumed != got.BudgetConsumed {
		t.Errorf("report: %d %s", code, body)
	}

	// The runbooks, rendered without the raw script.
	code, body = call(t, http.MethodGet, base+"/api/v1/runbooks/checkout-down", adminToken, nil)
	var page struct{ HTML string }
	_ = json.Unmarshal(body, &page)
	if code != http.StatusOK || !strings.Contains(page.HTML, "<strong>payments</strong>") || strings.Contains(page.HTML, "<script") {
		t.Errorf("runbook: %d %s", code, body)
	}
	if code, body := call(t, http.MethodGet, base+"/api/v1/runbooks", adminToken, nil); code != http.StatusOK || !strings.Contains(string(body), `"payments health"`) {
		t.Errorf("runbooks: %d %s", code, body)
	}
	if code, _ := call(t, http.MethodGet, base+"/api/v1/runbooks/nope", adminToken, nil); code != http.StatusNotFound {
		t.Errorf("missing runbook: %d", code)
	}
	if diagHits.Load() != 1 {
		t.Errorf("the diagnostic ran %d times, want 1", diagHits.Load())
	}
}

// TestCheckConfigValidatesDiagnostics: check config reports a runbook
// diagnostic naming a probe that is not configured, and bad postmortems:
// keys, with their positions.
func TestCheckConfigValidatesDiagnostics(t *testing.T) {
	dir := t.TempDir()
	doc := "---\ntitle: T\ndiagnostics:\n  - probe: nope\n---\n"
	if err := os.WriteFile(filepath.Join(dir, "r.md"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, "runbooks: {dir: "+dir+"}\npostmortems: {required_for: [critical, critical], check_interval: 0s}\n")
	err := Check(context.Background(), cfg)
	if err == nil {
		t.Fatal("check passed")
	}
	for _, want := range []string{`r.md:4:1: diagnostics[0].probe: no probe named "nope" is configured`, "postmortems.required_for[1]: critical is listed twice", "postmortems.check_interval: must be at least 1s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("check config output lacks %q:\n%v", want, err)
		}
	}
}

// TestPostmortemOfAReopenedIncident runs the whole app: an Alertmanager
// group opens a critical incident and resolves it (a draft is made), then
// fires again within incidents.reopen_window. While the incident is open
// again its postmortem says so, its window runs to the time of reading and
// review waits; resolving again ends the window there.
func TestPostmortemOfAReopenedIncident(t *testing.T) {
	clock := &offsetClock{}
	a, err := New(context.Background(), Options{Config: testConfig(t, ""), Stderr: io.Discard, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	started(t, a)
	base := a.URL()
	deliver := func(status string) {
		t.Helper()
		labels := map[string]string{"alertname": "CheckoutDown", "service": "checkout", "severity": "critical"}
		ends := "0001-01-01T00:00:00Z"
		if status == "resolved" {
			ends = clock.now().UTC().Format(time.RFC3339)
		}
		body := map[string]any{"version": "4", "groupKey": "{}:{alertname=\"CheckoutDown\"}", "status": status, "receiver": "sentinel",
			"groupLabels": map[string]string{"alertname": "CheckoutDown"}, "commonLabels": labels, "commonAnnotations": map[string]string{},
			"externalURL": "http://alertmanager.test:9093",
			"alerts": []map[string]any{{"status": status, "labels": labels, "annotations": map[string]string{"summary": "checkout is down"},
				"startsAt": clock.now().UTC().Add(-time.Minute).Format(time.RFC3339), "endsAt": ends, "fingerprint": "0123456789abcdef"}}}
		if code, b := call(t, http.MethodPost, base+"/api/v1/alertmanager", adminToken, body); code != http.StatusOK {
			t.Fatalf("webhook %s: %d %s", status, code, b)
		}
	}
	type view struct {
		Status         string     `json:"status"`
		IncidentStatus string     `json:"incident_status"`
		ReopenedAt     *time.Time `json:"reopened_at"`
		ResolvedAt     *time.Time `json:"resolved_at"`
		Impact         struct {
			From     time.Time `json:"from"`
			To       time.Time `json:"to"`
			Duration float64   `json:"duration"`
			Ongoing  bool      `json:"ongoing"`
		} `json:"impact"`
		Times struct {
			Resolve *float64 `json:"time_to_resolve"`
		} `json:"times"`
	}
	get := func() view {
		t.Helper()
		code, b := call(t, http.MethodGet, base+"/api/v1/incidents/1/postmortem", adminToken, nil)
		if code != http.StatusOK {
			t.Fatalf("GET postmortem: %d %s", code, b)
		}
		var v view
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	deliver("firing")
	clock.advance(10 * time.Minute)
	deliver("resolved")
	if v := get(); v.IncidentStatus != "resolved" || v.ReopenedAt != nil || v.Impact.Ongoing || math.Abs(v.Impact.Duration-600) > 2 {
		t.Fatalf("first resolution: %+v", v)
	}
	clock.advance(5 * time.Minute)
	deliver("firing") // within the 15m reopen window
	clock.advance(20 * time.Minute)
	v := get()
	if v.Status != "draft" || v.IncidentStatus != "triggered" || v.ReopenedAt == nil || v.ResolvedAt != nil || !v.Impact.Ongoing || v.Times.Resolve != nil {
		t.Errorf("open again: %+v", v)
	}
	// The window runs to the time of reading: 35 minutes since it opened.
	if math.Abs(v.Impact.Duration-35*60) > 2 {
		t.Errorf("open again: duration %.0fs, want 2100", v.Impact.Duration)
	}
	code, b := call(t, http.MethodPut, base+"/api/v1/incidents/1/postmortem", adminToken, map[string]any{"status": "in_review", "root_cause": "pool size"})
	if code != http.StatusConflict || !strings.Contains(string(b), "incident #1 was reopened and is triggered again; its postmortem can go to in review once it resolves") {
		t.Errorf("review while open again: %d %s", code, b)
	}
	code, b = call(t, http.MethodPut, base+"/api/v1/incidents/1/postmortem", adminToken, map[string]any{"root_cause": "pool size"})
	if code != http.StatusOK {
		t.Errorf("writing while open again: %d %s", code, b)
	}

	clock.advance(5 * time.Minute)
	deliver("resolved")
	v = get()
	if v.IncidentStatus != "resolved" || v.Impact.Ongoing || v.ResolvedAt == nil || !v.Impact.To.Equal(*v.ResolvedAt) ||
		math.Abs(v.Impact.Duration-40*60) > 2 || v.Times.Resolve == nil || math.Abs(*v.Times.Resolve-40*60) > 2 {
		t.Errorf("resolved again: %+v", v)
	}
	if code, b := call(t, http.MethodPut, base+"/api/v1/incidents/1/postmortem", adminToken, map[string]any{"status": "in_review"}); code != http.StatusOK {
		t.Errorf("review once resolved again: %d %s", code, b)
	}
}
