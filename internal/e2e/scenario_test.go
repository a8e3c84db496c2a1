package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sentinel-oss/sentinel/alerting/alertingtest"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/app"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// scenarioOpts are the moving parts of the scenario's config.
type scenarioOpts struct {
	listen, db, shop, slackAPI string
	alertmanager               string // "" leaves the push to Alertmanager off
	browser                    bool   // add the browser journey
}

// scenarioConfig is the demo's setup with test-sized intervals: a checkout
// journey every second that is failing after 3 runs and pages 2 s later,
// SLOs with the workbook's burn alerts, an on-call schedule, Slack.
func scenarioConfig(o scenarioOpts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server: {listen: %q, external_url: %q}\nstorage: {path: %q}\n", o.listen, "http://"+o.listen, o.db)
	b.WriteString(tokensYAML)
	fmt.Fprintf(&b, `people: [{name: carol, email: carol@shop.example.com, slack_id: %s}]
probes:
  - name: checkout
    interval: 1s
    timeout: 900ms
    labels: {service: checkout}
    secrets: {card: "4242424242424242"}
    steps:
      - {name: home, request: {method: GET, url: "%[2]s/"}, expect: {status: 200, body_contains: "Add to cart"}}
      - name: add-to-cart
        request: {method: POST, url: "%[2]s/api/cart", json: {sku: TEST-1, qty: 1}}
        expect: {status: 201, json_exists: [$.cart.id]}
        extract: {cart_id: $.cart.id}
      - name: pay
        request: {method: POST, url: "%[2]s/api/checkout", json: {cart_id: "{{ .cart_id }}", card: "{{ .card }}"}}
        expect: {status: 200, json: {$.status: paid}}
`, slackUser, o.shop)
	if o.browser {
		fmt.Fprintf(&b, `  - name: storefront-browser
    kind: browser
    interval: 10s
    timeout: 9s
    labels: {service: storefront}
    steps:
      - {name: home, navigate: "%[1]s/", assert_text: "Add to cart"}
      - {name: product, navigate: "%[1]s/product/42", wait_for: "h1", assert_text: {selector: h1, text: Kettle}}
`, o.shop)
	}
	fmt.Fprintf(&b, `rum:
  allowed_origins: ["%s"]
  site: demo-shop
  sample_rate: 1.0
  routes: [/product/:id, /cart, /checkout]
slos:
  - {name: checkout-availability, service: checkout, objective: 99.5, window: 30d, min_events: 5, sli: {probe: checkout}}
  - {name: storefront-lcp, service: storefront, objective: 95, window: 30d, sli: {rum: {metric: lcp, threshold: 2500ms}}}
alerting:
  slo_burn: sre-workbook
  rules:
    - {name: CheckoutProbeFailing, when: {probe: checkout}, for: 2s, severity: critical}
`, o.shop)
	if o.alertmanager != "" {
		fmt.Fprintf(&b, "  alertmanager: {url: %q, interval: 1s, timeout: 2s}\n", o.alertmanager)
	}
	fmt.Fprintf(&b, `incidents: {group_by: [service], reopen_window: 15m, ack_timeout: 0s}
oncall:
  schedules:
    - {name: primary, timezone: UTC, rotation: {every: 1w, members: [carol]}}
  escalation_policies:
    - {name: default, steps: [{notify: "schedule:primary"}]}
slack:
  token: xoxb-e2e
  signing_secret: %s
  api_url: %s
  channel: "#incidents"
  pace: 10ms
  timeout: 2s
`, slackSecret, o.slackAPI)
	return b.String()
}

// pages returns the pages (not updates or thread notes) the fake Slack
// holds, by incident ID.
func pages(fake *slacktest.Server) map[string][]slacktest.Message {
	out := map[string][]slacktest.Message{}
	for _, m := range fake.Posted("") {
		if m.Metadata != nil && m.Metadata.EventPayload["role"] == "page" {
			id := fmt.Sprint(m.Metadata.EventPayload["incident_id"])
			out[id] = append(out[id], m)
		}
	}
	return out
}

// click sends a signed button click as Slack would and returns its status.
func click(t testing.TB, base, action string, id int64, page slacktest.Message) int {
	t.Helper()
	client := slacktest.Client{Secret: slackSecret}
	payload := slacktest.BlockActions(slacktest.Click{ActionID: action, Value: fmt.Sprint(id), UserID: slackUser, UserName: "carol", ChannelID: page.Channel, MessageTS: page.TS})
	r, err := client.Interaction(t.Context(), base+"/slack/interactions", payload)
	if err != nil {
		t.Fatalf("click %s: %v", action, err)
	}
	return r.Status
}

// TestScenarioInProcess is the story from the issue, in one process: the
// demo shop, an HTTP journey and a browser journey, real Chromium sending
// RUM, SLOs with burn alerts, a real Alertmanager that Sentinel pushes to
// and that sends its webhook back, and the fake Slack. A checkout fault
// makes the probe fail and the SLO burn; that is one incident and one
// page; a signed click acknowledges; the fault is cleared; a signed click
// resolves; the postmortem's impact equals the SLO API's for its window.
func TestScenarioInProcess(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium", "chromium", "chromium-browser")
	amBin := testutil.RequireTool(t, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	fake := slacktest.New()
	t.Cleanup(fake.Close)
	fake.AddUser(slacktest.User{ID: slackUser, Name: "carol", Email: "carol@shop.example.com"})
	ln := freeListener(t)
	base := "http://" + ln.Addr().String()
	am := alertingtest.StartAlertmanager(t, amBin, base+"/api/v1/alertmanager", ingestToken)
	shop := startShop(t, base)

	src := scenarioConfig(scenarioOpts{listen: ln.Addr().String(), db: filepath.Join(t.TempDir(), "s.db"), shop: shop.URL(),
		slackAPI: fake.APIURL(), alertmanager: am.URL, browser: true})
	cfg, err := config.Parse("scenario.yaml", []byte(src), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	a, err := app.New(ctx, app.Options{Config: cfg, Stderr: logs, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	runApp(t, a)
	defer func() {
		if t.Failed() {
			t.Logf("sentinel log:\n%s", logs.String())
		}
	}()

	// Healthy first: the journey passes, so the SLO has good events.
	testutil.Eventually(t, 30*time.Second, "three passing checkout runs", func() bool {
		return passingRuns(t, base, "checkout") >= 3
	})

	// A person browses the shop in Chromium: RUM reaches Sentinel from
	// another origin. The browser journey runs beside it.
	browseShop(ctx, t, chromium, shop.URL(), func() {
		testutil.Eventually(t, 30*time.Second, "RUM page views from Chromium", func() bool {
			_, body := mustAPI(t, http.MethodGet, base+"/api/v1/rum/vitals", viewerToken, nil)
			return strings.Contains(string(body), "/product/:id")
		})
	})
	testutil.Eventually(t, 90*time.Second, "a passing browser journey", func() bool {
		return passingRuns(t, base, "storefront-browser") >= 1
	})

	// The fault: every checkout fails.
	setFaults(t, shop, map[string]any{"checkout_error_rate": 1})
	faultAt := time.Now()
	var inc incidentJSON
	testutil.Eventually(t, 60*time.Second, "an incident for checkout", func() bool {
		open := listIncidents(t, base, "open")
		if len(open) > 0 {
			inc = open[0]
		}
		return len(open) > 0
	})
	t.Logf("fault to incident: %s (3 failed runs at 1 s, then for: 2s)", time.Since(faultAt).Round(100*time.Millisecond))
	testutil.Eventually(t, 60*time.Second, "the SLO's page tier to fire", func() bool {
		_, body := mustAPI(t, http.MethodGet, base+"/api/v1/slos/checkout-availability", viewerToken, nil)
		var s struct {
			BurnRates map[string]float64 `json:"burn_rates"`
			Alerts    []struct {
				Tier string `json:"tier"`
			} `json:"alerts"`
		}
		_ = json.Unmarshal(body, &s)
		for _, al := range s.Alerts {
			if al.Tier == "page" && s.BurnRates["5m"] > 14.4 {
				return true
			}
		}
		return false
	})
	// The burn alert joins the probe's incident (same service), and
	// Alertmanager sends Sentinel's own alerts back: still one incident.
	testutil.Eventually(t, 30*time.Second, "the burn alert in the incident and a webhook from Alertmanager", func() bool {
		got := getIncident(t, base, inc.ID)
		burn := false
		for _, al := range got.Alerts {
			burn = burn || al.Name == "SLOErrorBudgetBurn"
		}
		return burn && webhooksOK(t, base) > 0
	})
	var page slacktest.Message
	testutil.Eventually(t, 20*time.Second, "the page in Slack", func() bool {
		ps := pages(fake)[fmt.Sprint(inc.ID)]
		if len(ps) > 0 {
			page = ps[0]
		}
		return len(ps) > 0
	})
	t.Logf("fault to page in Slack (observed by polling): %s", time.Since(faultAt).Round(100*time.Millisecond))
	// A few more Alertmanager rounds (group_interval 1s) and probe runs.
	before := webhooksOK(t, base)
	testutil.Eventually(t, 20*time.Second, "three more Alertmanager deliveries", func() bool { return webhooksOK(t, base) >= before+3 })
	if all := listIncidents(t, base, ""); len(all) != 1 {
		t.Fatalf("%d incidents, want exactly 1: %+v", len(all), all)
	}
	if ps := pages(fake); len(ps) != 1 || len(ps[fmt.Sprint(inc.ID)]) != 1 {
		t.Fatalf("pages by incident %v, want exactly one page", pageCounts(ps))
	}
	t.Logf("chat.postMessage calls so far: %d (pages: 1)", len(fake.Calls("chat.postMessage")))

	if code := click(t, base, slack.ActionAcknowledge, inc.ID, page); code != http.StatusOK {
		t.Fatalf("acknowledge click: %d", code)
	}
	got := getIncident(t, base, inc.ID)
	if got.Status != "acknowledged" || got.Timeline[len(got.Timeline)-1].Actor != "carol" {
		t.Fatalf("after the click: %s, last entry %+v", got.Status, got.Timeline[len(got.Timeline)-1])
	}
	testutil.Eventually(t, 10*time.Second, "the page updated", func() bool {
		for _, m := range fake.Posted("") {
			if m.TS == page.TS && m.Updates > 0 {
				return true
			}
		}
		return false
	})

	// SLO counts are kept per minute and impact sums whole minutes inside
	// the incident: keep failing into the next minute so it has some.
	boundary := inc.CreatedAt.Truncate(time.Minute).Add(time.Minute + 3*time.Second)
	testutil.Eventually(t, 70*time.Second, "failing runs in the minute after the incident opened", func() bool { return time.Now().After(boundary) })

	// The fault is cleared: the journey passes and its alert resolves.
	setFaults(t, shop, nil)
	testutil.Eventually(t, 60*time.Second, "the probe alert to resolve", func() bool {
		_, body := mustAPI(t, http.MethodGet, base+"/api/v1/alerts", viewerToken, nil)
		return !strings.Contains(string(body), "CheckoutProbeFailing")
	})
	if code := click(t, base, slack.ActionResolve, inc.ID, page); code != http.StatusOK {
		t.Fatalf("resolve click: %d", code)
	}
	got = getIncident(t, base, inc.ID)
	if got.Status != "resolved" || got.ResolvedAt == nil {
		t.Fatalf("after the resolve click: %+v", got)
	}

	// The postmortem draft's impact equals the SLO API for its window.
	var pm struct {
		Status string `json:"status"`
		Impact struct {
			From time.Time `json:"from"`
			To   time.Time `json:"to"`
			SLOs []struct {
				Name           string  `json:"name"`
				Good           int64   `json:"good"`
				Total          int64   `json:"total"`
				BudgetConsumed float64 `json:"budget_consumed"`
			} `json:"slos"`
		} `json:"impact"`
	}
	testutil.Eventually(t, 20*time.Second, "the postmortem draft", func() bool {
		code, body := mustAPI(t, http.MethodGet, fmt.Sprintf("%s/api/v1/incidents/%d/postmortem", base, inc.ID), viewerToken, nil)
		return code == http.StatusOK && json.Unmarshal(body, &pm) == nil && pm.Status == "draft"
	})
	found := false
	for _, s := range pm.Impact.SLOs {
		if s.Name != "checkout-availability" {
			continue
		}
		found = true
		q := url.Values{"from": {pm.Impact.From.Format(time.RFC3339Nano)}, "to": {pm.Impact.To.Format(time.RFC3339Nano)}}
		code, body := mustAPI(t, http.MethodGet, base+"/api/v1/slos/checkout-availability?"+q.Encode(), viewerToken, nil)
		var api struct {
			Good           int64   `json:"good"`
			Total          int64   `json:"total"`
			BudgetConsumed float64 `json:"budget_consumed"`
		}
		if code != http.StatusOK || json.Unmarshal(body, &api) != nil {
			t.Fatalf("SLO API for the window: %d %s", code, body)
		}
		if s.Good != api.Good || s.Total != api.Total || s.BudgetConsumed != api.BudgetConsumed {
			t.Errorf("postmortem impact %+v != SLO API %+v", s, api)
		}
		if s.Total == 0 || s.Good >= s.Total || s.BudgetConsumed <= 0 {
			t.Errorf("impact shows no failed runs: %+v", s)
		}
		t.Logf("impact: %d good of %d, budget consumed %.4f (the SLO API agrees)", s.Good, s.Total, s.BudgetConsumed)
	}
	if !found {
		t.Errorf("postmortem impact lacks checkout-availability: %+v", pm.Impact)
	}
	// Still one incident and one page, end to end.
	if all := listIncidents(t, base, ""); len(all) != 1 {
		t.Errorf("%d incidents at the end, want 1", len(all))
	}
	if ps := pages(fake); len(ps[fmt.Sprint(inc.ID)]) != 1 {
		t.Errorf("pages at the end: %v", pageCounts(ps))
	}
}

// TestScenarioBinary runs the same story against the real binary: serve
// with a config file; the checkout fault makes the probe fail; the
// incident opens; the page reaches the fake Slack; a signed click
// acknowledges it.
func TestScenarioBinary(t *testing.T) {
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	addr := freeAddr(t)
	shop := startShop(t, "http://"+addr)
	cfgPath := write(t, "sentinel.yaml", scenarioConfig(scenarioOpts{listen: addr, db: filepath.Join(t.TempDir(), "data", "sentinel.db"), shop: shop.URL(), slackAPI: fake.APIURL()}))
	p := startBinary(t, cfgPath, addr, 20*time.Second)
	defer func() {
		if t.Failed() {
			t.Logf("sentinel log:\n%s", p.stderr.String())
		}
	}()
	base := p.base()
	testutil.Eventually(t, 30*time.Second, "passing checkout runs", func() bool { return passingRuns(t, base, "checkout") >= 2 })
	inc, page := faultToPage(t, base, shop, fake)
	if code := click(t, base, slack.ActionAcknowledge, inc.ID, page); code != http.StatusOK {
		t.Fatalf("acknowledge click: %d", code)
	}
	if got := getIncident(t, base, inc.ID); got.Status != "acknowledged" {
		t.Fatalf("after the click: %s", got.Status)
	}
	if all := listIncidents(t, base, ""); len(all) != 1 {
		t.Errorf("%d incidents, want 1", len(all))
	}
	if ps := pages(fake); len(ps) != 1 || len(ps[fmt.Sprint(inc.ID)]) != 1 {
		t.Errorf("pages: %v", pageCounts(ps))
	}
}

func pageCounts(ps map[string][]slacktest.Message) map[string]int {
	out := map[string]int{}
	for id, list := range ps {
		out[id] = len(list)
	}
	return out
}

func getIncident(t testing.TB, base string, id int64) incidentJSON {
	t.Helper()
	code, body := mustAPI(t, http.MethodGet, fmt.Sprintf("%s/api/v1/incidents/%d", base, id), viewerToken, nil)
	var inc incidentJSON
	if code != http.StatusOK || json.Unmarshal(body, &inc) != nil {
		t.Fatalf("incident %d: %d %s", id, code, body)
	}
	return inc
}

// passingRuns counts the probe's passing runs among its last 50.
func passingRuns(t testing.TB, base, probe string) int {
	_, body := mustAPI(t, http.MethodGet, base+"/api/v1/probes/"+probe+"/results?limit=50", viewerToken, nil)
	var out struct {
		Results []struct {
			Success bool `json:"success"`
		} `json:"results"`
		Runs []struct {
			Success bool `json:"success"`
		} `json:"runs"`
	}
	_ = json.Unmarshal(body, &out)
	n := 0
	for _, r := range append(out.Results, out.Runs...) {
		if r.Success {
			n++
		}
	}
	return n
}

// webhooksOK counts Alertmanager deliveries Sentinel answered 200, from
// its own request metric.
func webhooksOK(t testing.TB, base string) int {
	_, body := mustAPI(t, http.MethodGet, base+"/metrics", "", nil)
	n := 0
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, "sentinel_http_requests_total{") && strings.Contains(line, `route="/api/v1/alertmanager"`) && strings.Contains(line, `code="200"`) {
			var v float64
			fields := strings.Fields(line)
			fmt.Sscan(fields[len(fields)-1], &v)
			n += int(v)
		}
	}
	return n
}

// browseShop has headless Chromium open the shop's home and a product
// page, then leave (the page hides, so the snippet sends its beacons);
// whileOpen runs before the browser closes.
func browseShop(ctx context.Context, t *testing.T, chromium, shop string, whileOpen func()) {
	t.Helper()
	profile := filepath.Join(t.TempDir(), "chromium-profile")
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ready := waitJS(`!!window.sentinelRUM && document.readyState === "complete"`)
	err := chromedp.Do(bctx,
		chromedp.Navigate(shop+"/"), ready,
		chromedp.Navigate(shop+"/product/42"), ready,
		chromedp.Click(chromedp.CSS(`h1`)),
		chromedp.Navigate("about:blank"),
	)
	if err != nil {
		t.Fatalf("browse the shop: %v", err)
	}
	whileOpen() // closing the browser at once could cut the page-hide beacons short
}

// waitJS waits (up to 15 s) until expr is true in the current page, trying
// again when a navigation takes the page away.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		var lastErr error
		for {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, tgt)
			if err == nil && ok {
				return nil
			}
			lastErr = err
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s (last error: %v): %w", expr, lastErr, ctx.Err())
			case <-time.After(25 * time.Millisecond):
			}
		}
	})
}
