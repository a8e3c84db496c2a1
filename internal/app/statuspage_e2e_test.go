package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mmcdole/gofeed"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/store"
)

const (
	spResponderToken = "sp-responder-token-0123456789"
	spIngestToken    = "sp-ingest-token-0123456789"
)

// statusShop is a storefront whose checkout answers 502 on a path only the
// probe's config knows.
func statusShop(t *testing.T) *httptest.Server {
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/internal-pay-gw-7731") {
			http.Error(w, `{"error": "upstream pay-gw-7731.svc.cluster.local timed out"}`, http.StatusBadGateway)
			return
		}
		io.WriteString(w, "<html><body>Add to cart</body></html>")
	}))
	t.Cleanup(shop.Close)
	return shop
}

// statusRunbooks is a runbook folder with the checkout alert's runbook.
func statusRunbooks(t *testing.T) string {
	dir := t.TempDir()
	rb := "---\ntitle: Checkout down (pay-gw-7731)\nalerts: [CheckoutProbeFailing7731]\n---\nRestart pay-gw-7731.\n"
	if err := os.WriteFile(filepath.Join(dir, "checkout-down-7731.md"), []byte(rb), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// laterWeekday names the weekday three days from now (UTC): the weekly
// window is never in progress while a test runs, whatever day it runs on.
func laterWeekday() string {
	return strings.ToLower(time.Now().UTC().AddDate(0, 0, 3).Weekday().String())
}

func statusConfigYAML(dbPath, rbDir, shop, title string, enabled bool) string {
	return `server: {listen: 127.0.0.1:0}
runbooks: {dir: ` + rbDir + `}
storage: {path: ` + dbPath + `}
auth:
  tokens:
    - {name: admin, token: ` + adminToken + `, role: admin}
    - {name: oncall-alice-7731, token: ` + spResponderToken + `, role: responder}
    - {name: deploy-bot, token: ` + spIngestToken + `, role: ingest}
people:
  - {name: alice-7731, email: alice-7731@shop.example.com}
oncall:
  schedules:
    - {name: primary, timezone: UTC, rotation: {every: 1w, handoff: "Mon 09:00", members: [alice-7731]}}
  escalation_policies:
    - {name: default, steps: [{notify: "schedule:primary"}]}
probes:
  - name: storefront
    interval: 1s
    timeout: 900ms
    labels: {service: storefront}
    steps: [{name: home, request: {method: GET, url: "` + shop + `/"}, expect: {status: 200, body_contains: "Add to cart"}}]
  - name: checkout
    interval: 1s
    timeout: 900ms
    labels: {service: checkout, team: payments-7731}
    steps:
      - {name: pay, request: {method: POST, url: "` + shop + `/internal-pay-gw-7731/charge", json: {card: "4242424242424242"}}, expect: {status: 200}}
slos:
  - {name: orders, service: orders, objective: 99, window: 30d, sli: {events: {}}}
alerting:
  evaluation_interval: 1s
  time_intervals:
    - {name: weekly-7731, time_intervals: [{weekdays: [` + laterWeekday() + `], times: [{start_time: "03:00", end_time: "04:00"}]}]}
  maintenance:
    - {name: search-reindex-7731, time_intervals: [weekly-7731], matchers: ["service=storefront"], comment: "reindex internal-7731"}
  rules:
    - {name: CheckoutProbeFailing7731, when: {probe: checkout}, for: 0s, severity: critical, runbook: checkout-down-7731,
       annotations: {summary: "pay-gw-7731 is failing", description: "see runbook checkout-down-7731"}}
status_page:
  enabled: ` + strconv.FormatBool(enabled) + `
  title: "` + title + `"
  components:
    - {name: Storefront, description: Browsing and search, probe: storefront}
    - {name: Checkout, description: Cart and payment, service: checkout}
    - {name: Orders API, slo: orders}
`
}

// TestStatusPageEndToEnd runs Sentinel with a failing checkout probe that
// pages through an alert rule, a declared incident, private and public
// updates, a responder's override and internal names everywhere (alert,
// runbook, labels, probe URL and error, token and people names, notes);
// it reads every public answer over HTTP and finds none of those names,
// parses the feeds with a feed parser, and reloads the config: a new
// title, then the page switched off.
func TestStatusPageEndToEnd(t *testing.T) {
	ctx := t.Context()
	shop := statusShop(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "sentinel.yaml")
	db := filepath.Join(dir, "s.db")
	rbDir := statusRunbooks(t)
	write := func(title string, enabled bool) {
		if err := os.WriteFile(path, []byte(statusConfigYAML(db, rbDir, shop.URL, title, enabled)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("Example Shop status", true)
	cfg, err := config.Load(path, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	a, err := New(ctx, Options{Config: cfg, Stderr: logs, Engine: store.NewMemory(),
		LoadConfig: func() (*config.Config, error) { return config.Load(path, config.Options{}) }})
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

	// The alert rule opens an incident titled after the alert.
	var alertInc *incidents.Incident
	testutil.Eventually(t, 30*time.Second, "the checkout alert to open an incident", func() bool {
		list, err := a.comps.incidents.List(ctx, incidents.ListQuery{Status: "open", Limit: 10})
		if err != nil || len(list) == 0 {
			return false
		}
		alertInc = list[0]
		return true
	})
	// A person declares another, with internal words in title and summary.
	apiPost(t, base+"/api/v1/incidents", spResponderToken, `{"title": "Orders DB replica lag on pg-7731", "severity": "warning", "summary": "note: failover runbook step 3 (pg-7731)", "labels": {"service": "orders", "cluster": "eu-7731"}}`, http.StatusCreated)
	list, err := a.comps.incidents.List(ctx, incidents.ListQuery{Status: "open", Limit: 10})
	if err != nil || len(list) != 2 {
		t.Fatalf("open incidents = %d %v", len(list), err)
	}
	declared := list[0]
	for _, u := range []struct {
		id     int64
		text   string
		public bool
	}{
		{alertInc.ID, "internal: pay-gw-7731 pods crashlooping, paging alice-7731", false},
		{alertInc.ID, "Card payments are failing for some shoppers. We are working on it.", true},
		{declared.ID, "Order history may be a few minutes behind.", true},
	} {
		if _, _, err := a.comps.incidents.AddUpdate(ctx, u.id, incidents.NewUpdate{Text: u.text, Public: u.public}, "oncall-alice-7731"); err != nil {
			t.Fatal(err)
		}
	}
	// Planned work on the orders service, now.
	apiPost(t, base+"/api/v1/maintenance", spResponderToken, `{"matchers": ["service=orders"], "duration": "30m", "comment": "pg-7731 vacuum"}`, http.StatusCreated)
	// A responder sets the storefront's status by hand, with a reason.
	req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/status-page/components/storefront/override",
		strings.NewReader(`{"status": "degraded_performance", "reason": "CDN vendor ticket 7731-CDN"}`))
	req.Header.Set("Authorization", "Bearer "+spResponderToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("override = %s", resp.Status)
	}

	// (dashboards' TestStatuspageShape checks every field of this JSON.)
	var sum struct {
		Status     struct{ Indicator string }
		Components []struct{ ID, Status string }
		Incidents  []json.RawMessage
		// scheduled_maintenances
		ScheduledMaintenances []struct{ Name, Status string } `json:"scheduled_maintenances"`
	}
	testutil.Eventually(t, 20*time.Second, "checkout to show a major outage", func() bool {
		code, body := get(t, base+"/status/api/v2/summary.json", "")
		if code != http.StatusOK {
			return false
		}
		if err := json.Unmarshal([]byte(body), &sum); err != nil {
			t.Fatalf("summary.json: %v\n%s", err, body)
		}
		return len(sum.Components) == 3 && sum.Components[1].Status == "major_outage" && len(sum.Incidents) == 2
	})
	if sum.Components[0].Status != "degraded_performance" || sum.Components[2].Status != "under_maintenance" || sum.Status.Indicator != "critical" {
		t.Errorf("summary = %+v", sum)
	}
	// The one-off window in progress and the recurring one's next occurrence.
	var ms []string
	for _, m := range sum.ScheduledMaintenances {
		ms = append(ms, m.Name+" "+m.Status)
	}
	if strings.Join(ms, "; ") != "Planned maintenance of Orders API in_progress; Planned maintenance of Storefront scheduled" {
		t.Errorf("scheduled maintenances = %q", ms)
	}
	if _, err := a.comps.statusPage.RecordNow(ctx); err != nil {
		t.Fatal(err)
	}

	// Every public answer, and what must not be in any of them.
	paths := []string{"/status", "/status/feed.atom", "/status/feed.rss", "/status/badge/storefront.svg", "/status/badge/checkout.svg", "/status/badge/orders-api.svg",
		"/status/incidents/" + strconv.FormatInt(alertInc.ID, 10), "/status/incidents/" + strconv.FormatInt(declared.ID, 10)}
	for _, k := range []string{"summary.json", "status.json", "components.json", "incidents.json", "incidents/unresolved.json",
		"scheduled-maintenances.json", "scheduled-maintenances/upcoming.json", "scheduled-maintenances/active.json"} {
		paths = append(paths, "/status/api/v2/"+k)
	}
	secrets := []string{"7731", "CheckoutProbeFailing", "internal-pay-gw", "crashlooping", "4242", "payments-7731", "checkout-down", "runbook", "replica lag",
		"failover", "alice", "deploy-bot", "cluster", "CDN vendor", "Bad Gateway", "timed out", "reindex", "vacuum", "weekly", shop.URL, "127.0.0.1:" + strings.Split(shop.URL, ":")[2]}
	for _, p := range paths {
		code, body := get(t, base+p, "")
		if code != http.StatusOK {
			t.Errorf("GET %s = %d %s", p, code, body)
			continue
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("GET %s shows %q", p, s)
			}
		}
	}
	// The authenticated API does say why.
	_, internal := get(t, base+"/api/v1/status-page/components", spResponderToken)
	if !strings.Contains(internal, "CDN vendor ticket 7731-CDN") || !strings.Contains(internal, "probe checkout fails in every location") {
		t.Errorf("components API = %s", internal)
	}

	// The feeds, read by a feed parser.
	for _, p := range []string{"/status/feed.atom", "/status/feed.rss"} {
		_, body := get(t, base+p, "")
		feed, err := gofeed.NewParser().ParseString(body)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		// Two public incidents and two maintenance windows.
		if feed.Title != "Example Shop status - incident history" || len(feed.Items) != 4 {
			t.Fatalf("%s: %q with %d items", p, feed.Title, len(feed.Items))
		}
		var texts []string
		for _, it := range feed.Items {
			texts = append(texts, it.Title+": "+it.Content+it.Description)
		}
		all := strings.Join(texts, "\n")
		if !strings.Contains(all, "Major outage of Checkout: ") || !strings.Contains(all, "Card payments are failing for some shoppers.") ||
			!strings.Contains(all, "Order history may be a few minutes behind.") || !strings.Contains(all, "Orders API is under planned maintenance until") ||
			!strings.Contains(all, "Storefront will be under planned maintenance from") {
			t.Errorf("%s items:\n%s", p, all)
		}
	}

	// A reload applies status_page: a new title, then off.
	write("Example Shop - live status", true)
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, base+"/status", ""); !strings.Contains(body, "Example Shop - live status") {
		t.Error("the reloaded title is not on the page")
	}
	write("Example Shop - live status", false)
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/status", "/status/api/v2/summary.json"} {
		if code, _ := get(t, base+p, ""); code != http.StatusNotFound {
			t.Errorf("after switching the page off, GET %s = %d", p, code)
		}
	}
}

// TestStatusPageChromium opens the status page in a real Chromium at
// 1400 px and at a 390 px phone width, with 40 days of history behind it
// and an open incident: the page needs no script, fits the phone without
// sideways scrolling, and shows the bars, the incident and the banner.
// With SENTINEL_SCREENSHOTS=DIR it saves both PNGs there.
func TestStatusPageChromium(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium", "chromium", "chromium-browser")
	if testing.Short() && os.Getenv("CI") != "true" { // CI never skips it
		t.Skip("drives a real browser; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	shop := statusShop(t)
	eng := store.NewMemory()
	cfg, err := config.Parse("status.yaml", []byte(statusConfigYAML(filepath.Join(t.TempDir(), "s.db"), statusRunbooks(t), shop.URL, "Example Shop status", true)), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(ctx, Options{Config: cfg, Stderr: io.Discard, Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	seedStatusHistory(t, eng, time.Now().UTC())
	started(t, a)
	base := a.URL()
	var inc *incidents.Incident
	testutil.Eventually(t, 30*time.Second, "the checkout alert to open an incident", func() bool {
		list, err := a.comps.incidents.List(ctx, incidents.ListQuery{Status: "open", Limit: 1})
		if err != nil || len(list) == 0 {
			return false
		}
		inc = list[0]
		return true
	})
	for _, text := range []string{"Card payments are failing for some shoppers. We are investigating.", "We found the cause and are rolling out a fix. Payments by PayPal are not affected."} {
		if _, _, err := a.comps.incidents.AddUpdate(ctx, inc.ID, incidents.NewUpdate{Text: text, Public: true}, "oncall-alice-7731"); err != nil {
			t.Fatal(err)
		}
	}
	apiPost(t, base+"/api/v1/maintenance", spResponderToken, `{"matchers": ["service=orders"], "duration": "2h", "comment": "pg-7731 vacuum"}`, http.StatusCreated)
	testutil.Eventually(t, 20*time.Second, "the incident on the page", func() bool {
		_, body := get(t, base+"/status", "")
		return strings.Contains(body, "We found the cause")
	})

	b := openBrowser(t, ctx, chromium, base, 1400, 900)
	for _, vp := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"status-1400", 1400, 900, false}, {"status-390", 390, 844, true}} {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if vp.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		b.run(chromedp.EmulateViewport(vp.width, vp.height, opts...))
		b.open("/status")
		b.waitText(".overall", "System Outage")
		if n := b.count("script"); n != 0 {
			t.Errorf("%s: %d script elements", vp.name, n)
		}
		if n := b.count(".component svg.days rect"); n != 3*90 {
			t.Errorf("%s: %d day bars, want 270", vp.name, n)
		}
		if !strings.Contains(b.text(".incident"), "We found the cause") || !strings.Contains(b.text(".component:nth-child(2)"), "Major outage") {
			t.Errorf("%s: the incident or checkout's status is missing", vp.name)
		}
		if !b.eval(`getComputedStyle(document.querySelector(".overall")).color === "rgb(255, 255, 255)"`) {
			t.Errorf("%s: the stylesheet did not apply", vp.name)
		}
		if w := b.evalFloat(`document.documentElement.scrollWidth`); w > float64(vp.width) {
			t.Errorf("%s: the page is %v px wide", vp.name, w)
		}
		if bw := b.evalFloat(`document.querySelector("svg.days").getBoundingClientRect().width`); bw < float64(vp.width)/2 {
			t.Errorf("%s: the uptime bar is only %v px wide", vp.name, bw)
		}
		b.shot(vp.name)
	}
	b.open("/status/incidents/" + strconv.FormatInt(inc.ID, 10))
	b.waitText("h1", "Major outage of Checkout")
	b.shot("status-incident-390")
}

// seedStatusHistory writes 40 days of minutes before today: storefront up
// throughout but for a 45-minute major outage 3 days ago and a day of
// degraded performance, checkout with a partial outage 10 days ago and a
// maintenance night, orders from 20 days ago only.
func seedStatusHistory(t *testing.T, eng store.Engine, now time.Time) {
	t.Helper()
	st := store.NewStatusPage(eng)
	today := now.Truncate(24 * time.Hour)
	const op, mnt, deg, part, maj = 1, 2, 3, 4, 5
	for d := 40; d >= 1; d-- {
		day := today.AddDate(0, 0, -d)
		for m := range 24 * 60 {
			codes := map[string]byte{"storefront": op, "checkout": op}
			if d <= 20 {
				codes["orders-api"] = op
			}
			switch {
			case d == 3 && m >= 600 && m < 645:
				codes["storefront"] = maj
			case d == 7:
				codes["storefront"] = deg
			}
			switch {
			case d == 10 && m >= 480 && m < 600:
				codes["checkout"] = part
			case d == 14 && m < 120:
				codes["checkout"] = mnt
			}
			if err := st.RecordMinute(context.Background(), day.Add(time.Duration(m)*time.Minute), codes); err != nil {
				t.Fatal(err)
			}
		}
	}
}
