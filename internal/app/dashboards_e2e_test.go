package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/store"
)

const (
	uiViewerToken    = "ui-viewer-token-0123456789"
	uiResponderToken = "ui-responder-token-0123456789"
	uiIngestToken    = "ui-ingest-token-0123456789"
)

// TestDashboardsChromium runs the whole of Sentinel in-process with two
// probes against a local shop (one healthy, one failing), an events SLO fed
// through the API, a declared incident, a RUM beacon, an on-call schedule
// and a runbook, and drives a real headless Chromium through every page as
// a person would: sign in with a token, read the SLO's budget, find the
// failing probe's response, see that a viewer gets no buttons, sign in as a
// responder and acknowledge the incident by clicking, resolve it and write
// its postmortem's root cause and send it to review, read a rendered
// runbook, and silence a pending alert and expire the silence. With
// SENTINEL_SCREENSHOTS=DIR it saves a PNG of each page there.
func TestDashboardsChromium(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium", "chromium", "chromium-browser")
	if testing.Short() && os.Getenv("CI") != "true" { // CI never skips it
		t.Skip("drives a real browser; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/checkout" {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1><p>upstream payments-api timed out</p></body></html>")
			return
		}
		io.WriteString(w, "<html><body>Add to cart</body></html>")
	}))
	defer shop.Close()
	rbDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(rbDir, "checkout-down.md"), []byte("---\ntitle: Checkout is down\nowners: [payments]\nalerts: [CheckoutProbeFailing]\nseverity: critical\n---\n## Steps\n\n1. Open the **payments** dashboard.\n2. Roll back the last deploy: `kubectl rollout undo deploy/checkout`\n\n| Symptom | Likely cause |\n| --- | --- |\n| 502 on pay | payments-api timeouts |\n\n<script>alert(1)</script>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `server: {listen: 127.0.0.1:0}
auth:
  tokens:
    - {name: manager, token: ` + uiViewerToken + `, role: viewer}
    - {name: oncall-ops, token: ` + uiResponderToken + `, role: responder}
    - {name: apps, token: ` + uiIngestToken + `, role: ingest}
people:
  - {name: alice, email: alice@shop.example.com}
  - {name: bob, email: bob@shop.example.com}
oncall:
  schedules:
    - {name: primary, timezone: Europe/Berlin, rotation: {every: 1w, handoff: "Mon 09:00", members: [alice, bob]}}
  escalation_policies:
    - {name: default, steps: [{notify: "schedule:primary"}]}
probes:
  - name: storefront
    interval: 2s
    timeout: 1s
    labels: {service: storefront}
    steps: [{name: home, request: {method: GET, url: "` + shop.URL + `/"}, expect: {status: 200, body_contains: "Add to cart"}}]
  - name: checkout
    interval: 2s
    timeout: 1s
    labels: {service: checkout}
    steps:
      - {name: home, request: {method: GET, url: "` + shop.URL + `/"}, expect: {status: 200}}
      - {name: pay, request: {method: POST, url: "` + shop.URL + `/api/checkout", json: {cart: 1}}, expect: {status: 200}}
rum:
  allowed_origins: ["https://shop.example.com"]
  routes: [/product/:id, /cart]
slos:
  - {name: orders-success, service: checkout, objective: 99, window: 30d, sli: {events: {}}}
  - {name: storefront-availability, service: storefront, objective: 99.9, window: 30d, sli: {probe: storefront}}
runbooks: {dir: ` + rbDir + `}
alerting:
  rules:
    # pending for the whole test: it shows on the alerts page without paging
    - {name: CheckoutProbeFailing, when: {probe: checkout}, for: 1h, severity: critical, runbook: checkout-down}
`
	cfg, err := config.Parse("ui.yaml", []byte(src), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	a, err := New(ctx, Options{Config: cfg, Stderr: logs, Engine: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	started(t, a)
	defer func() {
		if t.Failed() {
			t.Logf("sentinel log:\n%s", logs.String())
		}
	}()
	base := a.URL()

	// Data a person would see: events for the SLO, an incident, a real
	// user's page view, and probe runs.
	apiPost(t, base+"/api/v1/slos/orders-success/events", uiIngestToken, `{"good": 996, "total": 1000}`, http.StatusAccepted)
	apiPost(t, base+"/api/v1/incidents", uiResponderToken, `{"title": "Checkout payments failing", "severity": "critical", "summary": "Pay step answers 502.", "labels": {"service": "checkout"}}`, http.StatusCreated)
	beacon := `{"v": 1, "session": "abcdefgh1234", "events": [
	  {"type": "page_view", "url": "https://shop.example.com/product/42", "errors": 1},
	  {"type": "vital", "url": "https://shop.example.com/product/42", "name": "lcp", "value": 3.1},
	  {"type": "vital", "url": "https://shop.example.com/product/42", "name": "cls", "value": 0.02},
	  {"type": "error", "url": "https://shop.example.com/product/42", "kind": "error", "message": "TypeError: Cannot read properties of undefined (reading 'price')", "stack": "at renderRecommendations (product.js:42:7)", "count": 1}]}`
	req, _ := http.NewRequest(http.MethodPost, base+"/rum/v1/beacons", strings.NewReader(beacon))
	req.Header.Set("Origin", "https://shop.example.com")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130 Safari/537.36")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("beacon = %s %s", resp.Status, rb)
	}
	testutil.Eventually(t, 30*time.Second, "both probes to have run and the checkout probe to fail", func() bool {
		_, body := get(t, base+"/api/v1/probes", uiViewerToken)
		var out struct {
			Probes []struct {
				Name    string          `json:"name"`
				LastRun json.RawMessage `json:"last_run"`
				Failing bool            `json:"failing"`
			} `json:"probes"`
		}
		if json.Unmarshal([]byte(body), &out) != nil {
			return false
		}
		ran := 0
		for _, p := range out.Probes {
			if string(p.LastRun) != "null" && len(p.LastRun) > 0 {
				ran++
			}
		}
		return ran == 2
	})
	testutil.Eventually(t, 10*time.Second, "the RUM summary to be stored", func() bool {
		_, body := get(t, base+"/api/v1/rum/vitals", uiViewerToken)
		return strings.Contains(body, "/product/:id")
	})

	b := openBrowser(t, ctx, chromium, base, 1280, 900)
	// Not signed in: every page sends the person to the sign-in page.
	b.open("/incidents")
	b.waitPath("/login")
	b.shot("01-login")
	if !b.eval(`document.activeElement && document.activeElement.id === "token"`) {
		t.Error("the sign-in page does not put the focus in the token field")
	}
	b.signIn("wrong-token-000000000000")
	b.waitText("#login-error", "not valid")
	b.signIn(uiViewerToken)
	b.waitPath("/incidents") // back where the person wanted to go

	// SLO overview: the SLO's name and its budget.
	b.open("/")
	b.waitText("main h1", "SLO overview")
	if bad := b.navProblems(true); bad != "" {
		t.Errorf("the navigation at 1280 px: %s", bad)
	}
	b.run(chromedp.KeyEvent("\t"))
	if !b.eval(`document.activeElement && document.activeElement.classList.contains("skip")`) {
		t.Error("the first Tab does not reach the skip link")
	}
	main := strings.ToLower(b.text("main")) // headings are upper-cased by CSS
	for _, want := range []string{"orders-success", "storefront-availability", "99%", "budget remaining", "1 open incident\n", "on call now"} {
		if !strings.Contains(main, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if n := b.count(`table.slos svg.bar[role="img"]`); n != 2 {
		t.Errorf("overview shows %d budget bars, want 2", n)
	}
	b.shot("02-slos")
	b.run(chromedp.SetValue(chromedp.CSS("#service"), "checkout"), chromedp.Click(chromedp.CSS("form.filter button")))
	b.waitText("main h1", "SLOs of checkout")
	if strings.Contains(b.text("table.slos tbody"), "storefront-availability") {
		t.Error("the service filter kept another service's SLO")
	}
	b.run(chromedp.Click(chromedp.CSS(`a[href="/slos/orders-success"]`)))
	b.waitText("main h1", "orders-success")
	slo := b.text("main")
	for _, want := range []string{"Burn rates", "996 good of 1,000", "The last 7 days", "Incidents that consumed this budget", "Checkout payments failing"} {
		if !strings.Contains(slo, want) {
			t.Errorf("SLO page lacks %q", want)
		}
	}
	b.shot("03-slo")

	// Incidents: the list, then the incident, without buttons for a viewer.
	b.open("/incidents?status=open")
	b.waitText("main h1", "Incidents")
	if !strings.Contains(b.text("table.incidents"), "Checkout payments failing") {
		t.Error("the open incidents list lacks the declared incident")
	}
	b.shot("04-incidents")
	b.run(chromedp.Click(chromedp.CSS(`table.incidents a`)))
	b.waitText("main h1", "Checkout payments failing")
	if n := b.count(`section.actions button`); n != 0 {
		t.Errorf("a viewer sees %d action buttons", n)
	}
	if !strings.Contains(b.text("main"), "Postmortem") {
		t.Error("the incident page has no postmortem section")
	}
	incPath := b.path()
	b.run(chromedp.Click(chromedp.CSS(`form.who button`)))
	b.waitPath("/login")

	// A responder acknowledges it by clicking.
	b.open(incPath)
	b.waitPath("/login")
	b.signIn(uiResponderToken)
	b.waitPath(incPath)
	b.waitText("#status", "triggered")
	b.shot("05-incident")
	b.run(chromedp.Click(chromedp.CSS(`section.actions button.primary`)))
	b.waitText("#status", "acknowledged")
	b.waitText(".flash", "Acknowledged")
	if !strings.Contains(b.text("ol.timeline"), "oncall-ops") {
		t.Error("the timeline does not name who acknowledged")
	}
	b.shot("06-incident-acknowledged")

	// Resolving drafts the postmortem (the incident is critical); the
	// responder writes the root cause and an action item, and sends it to
	// review by clicking.
	b.run(chromedp.Click(chromedp.CSS(`section.actions form[action$="/resolve"] button`)))
	b.waitText("#status", "resolved")
	b.waitText("#postmortem", "Draft")
	b.run(chromedp.Click(chromedp.CSS("#pm-link")))
	b.waitText("main h1", "Postmortem")
	b.waitText("#pm-status", "Draft")
	pmText := strings.ToLower(b.text("main")) // headings are upper-cased by CSS
	for _, want := range []string{"impact", "orders-success", "budget consumed", "time to acknowledge", "timeline", "acknowledged by oncall-ops", "root cause", "download as markdown"} {
		if !strings.Contains(pmText, want) {
			t.Errorf("postmortem page lacks %q", want)
		}
	}
	b.run(chromedp.SendKeys(chromedp.CSS("#root_cause"), "A config push cut the payments API's connection pool to one."),
		chromedp.SendKeys(chromedp.CSS("#ai-0-title"), "Alert on the payments pool size"),
		chromedp.SendKeys(chromedp.CSS("#ai-0-owner"), "alice"))
	b.shot("06a-postmortem-draft")
	b.run(chromedp.Click(chromedp.CSS(`.pm-buttons button[value="in_review"]`)))
	b.waitText(".flash", "submitted for review")
	b.waitText("#pm-status", "In review")
	if !b.eval(`document.getElementById("root_cause").value.indexOf("connection pool") >= 0 && document.getElementById("ai-0-owner").value === "alice"`) {
		t.Error("the saved root cause or action item is not on the page after saving")
	}
	if !strings.Contains(b.text("ol.timeline"), "postmortem moved from draft to in_review by oncall-ops") {
		t.Error("the timeline does not record who sent the postmortem to review")
	}
	if b.count(`.pm-buttons button[value="published"]`) != 1 {
		t.Error("no publish button once in review")
	}
	b.shot("06b-postmortem-in-review")

	// Probes: the grid, the failing probe's response and waterfall.
	b.open("/probes")
	b.waitText("main h1", "Probes")
	grid := b.text("ul.grid")
	if !strings.Contains(grid, "checkout") || !strings.Contains(grid, "storefront") {
		t.Errorf("probe grid: %q", grid)
	}
	b.shot("07-probes")
	b.run(chromedp.Click(chromedp.CSS(`a[href="/probes/checkout"]`)))
	b.waitText("main h1", "checkout")
	probe := b.text("main")
	for _, want := range []string{"Latest run", "pay", "Last failure", "upstream payments-api timed out"} {
		if !strings.Contains(probe, want) {
			t.Errorf("probe page lacks %q", want)
		}
	}
	if b.count(`svg.waterfall rect`) < 2 {
		t.Error("no waterfall bars")
	}
	b.shot("08-probe")

	// RUM: the route, its LCP, the JS error.
	b.open("/rum?window=1h")
	b.waitText("main h1", "Real users")
	rumText := b.text("main")
	for _, want := range []string{"/product/:id", "LCP", "Cannot read properties"} {
		if !strings.Contains(rumText, want) {
			t.Errorf("RUM page lacks %q", want)
		}
	}
	// The 3.1 s LCP needs improvement: its p75 is coloured so.
	if b.count(`td.vital .rate-needs-improvement`) == 0 {
		t.Error("the RUM page does not rate the 3.1 s LCP as needing improvement")
	}
	b.shot("09-rum")

	// On call and runbooks.
	b.open("/oncall")
	b.waitText("main h1", "On call")
	oc := b.text("main")
	if !strings.Contains(oc, "primary") || !(strings.Contains(oc, "alice") && strings.Contains(oc, "bob")) {
		t.Errorf("on-call page: %q", oc)
	}
	b.shot("10-oncall")
	b.open("/runbooks")
	b.waitText("main h1", "Runbooks")
	if !strings.Contains(b.text("main"), "Checkout is down") {
		t.Error("runbooks page lacks the runbook")
	}
	b.shot("11-runbooks")
	b.run(chromedp.Click(chromedp.CSS(`a[href="/runbooks/checkout-down"]`)))
	b.waitText("main h1", "Checkout is down")
	if !strings.Contains(b.text("article.runbook"), "kubectl rollout undo") || b.count(`article.runbook strong`) == 0 || b.count(`article.runbook table`) != 1 {
		t.Error("the runbook is not rendered from its Markdown")
	}
	if b.count(`main script`) != 0 || strings.Contains(b.text("article.runbook"), "alert(1)") {
		t.Error("the runbook's raw HTML reached the page")
	}
	b.shot("11a-runbook")

	// Alerts: the pending rule, silenced from its row, then expired.
	testutil.Eventually(t, 30*time.Second, "the checkout rule to be pending", func() bool {
		_, body := get(t, base+"/api/v1/alerts", uiViewerToken)
		return strings.Contains(body, "CheckoutProbeFailing")
	})
	b.open("/alerts")
	b.waitText("main h1", "Alerts")
	alertsText := b.text("table.alerts")
	for _, want := range []string{"CheckoutProbeFailing", "pending", "probe=checkout", "Runbook: checkout-down"} {
		if !strings.Contains(alertsText, want) {
			t.Errorf("alerts table lacks %q: %s", want, alertsText)
		}
	}
	b.shot("11b-alerts")
	b.run(chromedp.Click(chromedp.CSS(`table.alerts a[href^="/alerts?silence="]`)))
	b.waitText("main h1", "Alerts")
	if !b.eval(`document.getElementById("matchers").value.indexOf('alertname="CheckoutProbeFailing"') >= 0`) {
		t.Error("the silence form is not filled with the alert's labels")
	}
	b.run(chromedp.SetValue(chromedp.CSS("#duration"), "30m"),
		chromedp.SendKeys(chromedp.CSS("#comment"), "payments vendor incident"),
		chromedp.Click(chromedp.CSS(`#new-silence button.primary`)))
	b.waitText(".flash", "Silence created")
	if s := b.text("table.silences"); !strings.Contains(s, "active") || !strings.Contains(s, "oncall-ops") || !strings.Contains(s, "payments vendor incident") {
		t.Errorf("silences table: %s", s)
	}
	if !strings.Contains(b.text("table.alerts"), "silenced") {
		t.Error("the alert is not shown as silenced")
	}
	b.shot("11c-alerts-silenced")
	b.run(chromedp.Click(chromedp.CSS(`table.silences form button`)))
	b.waitText(".flash", "Silence expired")
	if s := b.text("table.silences"); !strings.Contains(s, "expired") {
		t.Errorf("silences table after expiring: %s", s)
	}
	b.shot("11d-silence-expired")

	// A phone: the overview still reads.
	b.run(chromedp.EmulateViewport(390, 844))
	b.open("/")
	b.waitText("main h1", "SLO overview")
	if w := b.evalFloat(`document.documentElement.scrollWidth`); w > 400 {
		t.Errorf("the overview is %v px wide on a 390 px phone", w)
	}
	b.shot("12-slos-phone")
	for _, p := range []struct{ path, h1, shot string }{{"/alerts", "Alerts", "13-alerts-phone"}, {incPath + "/postmortem", "Postmortem", "14-postmortem-phone"}} {
		b.open(p.path)
		b.waitText("main h1", p.h1)
		if w := b.evalFloat(`document.documentElement.scrollWidth`); w > 400 {
			t.Errorf("%s is %v px wide on a 390 px phone", p.path, w)
		}
		b.shot(p.shot)
	}
	// Every page shares the top bar: on a phone each of its links is
	// inside the screen and is what a tap at its middle reaches.
	for _, path := range []string{"/", "/incidents", incPath, incPath + "/postmortem", "/alerts", "/probes", "/rum", "/oncall", "/reports/slos", "/runbooks", "/settings"} {
		b.open(path)
		b.run(waitJS(`document.readyState === "complete" && !!document.querySelector("header.top nav a")`))
		if bad := b.navProblems(false); bad != "" {
			t.Errorf("%s on a 390 px phone: the navigation %s", path, bad)
		}
	}
	b.shot("15-nav-phone")
}

// navProblems names the top bar's links that a person cannot read or tap
// whole: outside the window, cut by the bar's overflow, or covered at
// their middle. With oneRow, links on more than one row are a problem too
// (a wide window keeps the bar on one line). Empty when all is well.
func (b *browser) navProblems(oneRow bool) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	js := `(function(oneRow){
	  var links = document.querySelectorAll("header.top nav a"), out = [], tops = {};
	  if (links.length < 8) out.push("has " + links.length + " links");
	  var w = document.documentElement.clientWidth, nav = document.querySelector("header.top nav");
	  if (nav.scrollWidth > nav.clientWidth + 1) out.push("scrolls sideways (" + nav.scrollWidth + " px of content in " + nav.clientWidth + " px)");
	  links.forEach(function(a){
	    var r = a.getBoundingClientRect(), name = a.textContent.trim();
	    tops[Math.round(r.top)] = true;
	    if (r.left < 0 || r.right > w + 0.5) { out.push(name + " runs past the window (" + Math.round(r.left) + " to " + Math.round(r.right) + " of " + w + " px)"); return; }
	    var hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
	    if (!hit || !a.contains(hit)) out.push(name + " is not what a tap at its middle reaches");
	  });
	  if (oneRow && Object.keys(tops).length > 1) out.push("wraps onto " + Object.keys(tops).length + " rows");
	  return out.join("; ");
	})(` + fmt.Sprint(oneRow) + `)`
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

func apiPost(t *testing.T, url, token, body string, want int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s = %d %s", url, resp.StatusCode, b)
	}
}

// openBrowser starts a headless Chromium (closed when the test ends) with
// its first tab open, for pages on base; its screenshots go to
// SENTINEL_SCREENSHOTS when that names a folder.
func openBrowser(t *testing.T, ctx context.Context, chromium, base string, width, height int) *browser {
	t.Helper()
	shots := os.Getenv("SENTINEL_SCREENSHOTS")
	if shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	profile := filepath.Join(t.TempDir(), "chromium-profile")
	t.Cleanup(func() { noProcessesUsing(t, profile) })
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(width, height))
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	// Start the browser and its tab on bctx itself: a browser first
	// started under a shorter-lived child context would close with it.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: bctx, base: base, shots: shots}
}

// browser wraps the chromedp calls a page check needs, failing the test
// with the page's text when something is missing.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v (page: %s)", err, b.pageText())
	}
}

func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + (document.body ? document.body.innerText : "")`))
	return s
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base + path))
}

func (b *browser) path() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	p, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		b.t.Fatal(err)
	}
	return p
}

func (b *browser) waitPath(path string) {
	b.t.Helper()
	b.run(waitJS(fmt.Sprintf(`location.pathname === %q && document.readyState === "complete"`, path)))
}

// waitText waits until the element sel holds text.
func (b *browser) waitText(sel, text string) {
	b.t.Helper()
	b.run(waitJS(fmt.Sprintf(`(function(){var e = document.querySelector(%q); return !!e && e.textContent.indexOf(%q) >= 0})()`, sel, text)))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	// Read through the page's own DOM: a node ID chromedp tracked can go
	// stale when a click's navigation lands between query and read.
	b.run(waitJS(fmt.Sprintf(`!!document.querySelector(%q)`, sel)))
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v (page: %s)", sel, err, b.pageText())
	}
	return s
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	return int(b.evalFloat(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
}

func (b *browser) eval(expr string) bool {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

func (b *browser) evalFloat(expr string) float64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](expr))
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// signIn types token into the sign-in form and submits it.
func (b *browser) signIn(token string) {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.CSS("#token")), chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.Click(chromedp.CSS(".login button")))
}

// shot saves a full-page PNG when SENTINEL_SCREENSHOTS names a folder.
func (b *browser) shot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
