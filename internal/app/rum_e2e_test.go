package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/rum"
)

// TestRUMEndToEndChromium runs the whole of Sentinel with the demo shop and
// a real headless Chromium: the shop's pages load rum.js from Sentinel (a
// different origin), a person clicks and navigates, the product page throws
// (the product_js_error fault), the page is hidden, and Sentinel must have
// counted LCP, FCP, TTFB, CLS, INP, the page views and the error.
func TestRUMEndToEndChromium(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium", "chromium", "chromium-browser")
	if testing.Short() && os.Getenv("CI") != "true" { // CI never skips it
		t.Skip("drives a real browser; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	logs := &lockedBuffer{}
	d, err := NewDemo(ctx, DemoOptions{Listen: "127.0.0.1:0", ShopListen: "127.0.0.1:0", DataDir: t.TempDir(), Stderr: logs})
	if err != nil {
		t.Fatal(err)
	}
	started(t, d.App)
	defer func() {
		if t.Failed() {
			t.Logf("sentinel log:\n%s", logs.String())
		}
	}()
	shop, base := d.Shop.URL(), d.URL()
	testutil.Eventually(t, 10*time.Second, "the demo shop", func() bool {
		resp, err := http.Get(shop + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	resp, err := http.Post(shop+"/demo/faults", "application/json", strings.NewReader(`{"product_js_error": true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("set fault: %s", resp.Status)
	}

	profile := filepath.Join(t.TempDir(), "chromium-profile")
	t.Cleanup(func() { noProcessesUsing(t, profile) })
	browse(ctx, t, chromium, profile, shop, func() {
		// Sentinel writes summaries every second; poll its API until the
		// product page's vitals, the views and the error are there.
		var last string
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok, why := rumCounted(t, base, d.Token)
			if ok {
				_, body := get(t, base+"/api/v1/rum/vitals", d.Token)
				t.Logf("counted: %s", body)
				return
			}
			last = why
			if time.Now().After(deadline) {
				t.Fatalf("Sentinel did not count the browser's RUM data within 30s: %s", last)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	code, body := get(t, base+"/api/v1/rum/errors", d.Token)
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/rum/errors = %d %s", code, body)
	}
	var errs rum.ErrorsReport
	if err := json.Unmarshal([]byte(body), &errs); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range errs.Groups {
		if strings.Contains(g.Message, "render") && g.Count >= 1 && strings.Contains(strings.Join(g.Routes, ","), "/product/:id") {
			found = true
			if !strings.Contains(g.SampleStack, "renderRecommendations") {
				t.Errorf("error group's stack lacks the throwing function: %q", g.SampleStack)
			}
		}
	}
	if !found {
		t.Errorf("no error group for the product page's TypeError: %s", body)
	}

	code, metrics := get(t, base+"/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", code)
	}
	for _, want := range []string{"sentinel_rum_lcp_seconds_count{", "sentinel_rum_inp_seconds_count{", "sentinel_rum_cls_count{", "sentinel_rum_js_errors_total{"} {
		ok := false
		for line := range strings.Lines(metrics) {
			if strings.HasPrefix(line, want) && strings.Contains(line, `route="/product/:id"`) && strings.Contains(line, `site="demo-shop"`) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("/metrics has no %s...route=\"/product/:id\"} line", want)
		}
	}
}

// browse drives Chromium through the shop: home, a trusted click to a
// product (which throws on load), a trusted click on the page (INP), a
// trusted click on "Add to cart" (to the cart page), then away to
// about:blank so every page has been hidden; then it runs whileOpen and
// closes the browser. Browser console output, exceptions and failed
// requests are logged to help when something breaks.
func browse(ctx context.Context, t *testing.T, chromium, profile, shop string, whileOpen func()) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc() // kills the browser and waits for it
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	var mu sync.Mutex
	exceptions := 0
	// Open the tab first, so the listener sees everything from the start.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	err := chromedp.Listen(bctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value))
			}
			t.Logf("browser console.%s: %s", ev.Type, strings.Join(parts, " "))
		case *runtime.EventExceptionThrown:
			desc := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				desc += " " + ev.ExceptionDetails.Exception.Description
			}
			t.Logf("browser exception: %s", desc)
			if strings.Contains(desc, "render") {
				mu.Lock()
				exceptions++
				mu.Unlock()
			}
		case *network.EventLoadingFailed:
			t.Logf("browser request failed: %s %s (blocked: %q, cors: %+v)", ev.Type, ev.ErrorText, ev.BlockedReason, ev.CorsErrorStatus)
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	// Ready for a person: the snippet runs and the page's LCP is known.
	snippetReady := waitJS(`!!(window.sentinelRUM && window.sentinelRUM.grant && window.__e2e && window.__e2e.lcp)`)
	onPath := func(p string) chromedp.Action[chromedp.Void] {
		return waitJS(fmt.Sprintf(`location.pathname === %q && document.readyState === "complete"`, p))
	}
	thrown := func(ctx context.Context, _ *chromedp.Target) error {
		for {
			mu.Lock()
			n := exceptions
			mu.Unlock()
			if n > 0 {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("the product page never threw: %w", ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	err = chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tgt, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: paintsJS})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(bctx,
		chromedp.Navigate(shop+"/"),
		snippetReady,
		chromedp.Click(chromedp.CSS(`h2 a[href="/product/42"]`)),
		onPath("/product/42"),
		snippetReady,
		chromedp.Func(thrown),
		chromedp.Click(chromedp.CSS(`h1`)),
		// The click's timing entry is out, and web-vitals, which handles
		// it in an idle callback, has had it (idle callbacks run in order).
		// Leaving before that loses INP inside web-vitals; a person is
		// never that fast.
		waitJS(`window.__e2e.input`),
		chromedp.Evaluate[chromedp.Void](`new Promise(function (r) { requestIdleCallback(function () { r(true); }, {timeout: 5000}); })`, chromedp.EvalAwaitPromise),
		chromedp.Click(chromedp.CSS(`#add`)),
		onPath("/cart"),
		snippetReady,
		chromedp.Navigate("about:blank"),
	)
	if err != nil {
		t.Fatalf("browsing the shop: %v", err)
	}
	// Beacons sent on page hide are keepalive requests that outlive their
	// page, but not the browser: wait for Sentinel to count them before
	// the browser is shut down.
	whileOpen()
}

// paintsJS, run in every page before its own scripts, notes when the
// browser has dispatched the page's LCP entry and its first input's event
// timing entry. Those entries reach every performance observer in the same
// task, web-vitals' included, so once they are noted, a click (which
// finalises LCP) or leaving the page (which reports INP) cannot lose them.
// A person takes longer than this between load and click; the test has to
// wait for it explicitly.
const paintsJS = `(function(){
  var s = window.__e2e = {lcp: false, input: false};
  try {
    new PerformanceObserver(function () { s.lcp = true; }).observe({type: "largest-contentful-paint", buffered: true});
    new PerformanceObserver(function () { s.input = true; }).observe({type: "first-input", buffered: true});
  } catch (e) {}
})();`

// waitJS waits (up to 15 s) until expr is true in the current page. Unlike
// chromedp.Poll it survives navigations: an evaluation that fails because
// the page it ran in went away is tried again in the next one.
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

// rumCounted asks Sentinel's API whether the browser's visit is counted,
// and if not, what is missing.
func rumCounted(t *testing.T, base, token string) (bool, string) {
	code, body := get(t, base+"/api/v1/rum/vitals", token)
	if code != http.StatusOK {
		return false, fmt.Sprintf("vitals answered %d %s", code, body)
	}
	var rep rum.VitalsReport
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		return false, err.Error()
	}
	var missing []string
	if rep.Overall.PageViews < 2 {
		missing = append(missing, fmt.Sprintf("page views %v < 2", rep.Overall.PageViews))
	}
	var product *rum.RouteVitals
	for i := range rep.Routes {
		if rep.Routes[i].Route == "/product/:id" {
			product = &rep.Routes[i]
		}
	}
	if product == nil {
		return false, "no /product/:id route yet: " + body
	}
	if product.JSErrors < 1 {
		missing = append(missing, "product js_errors < 1")
	}
	for _, v := range []string{"lcp", "fcp", "ttfb", "cls", "inp"} {
		if product.Vitals[v].Samples <= 0 || product.Vitals[v].P75 == nil {
			missing = append(missing, "product "+v)
		}
	}
	if len(missing) > 0 {
		return false, strings.Join(missing, ", ") + " in " + body
	}
	return true, ""
}

// noProcessesUsing fails the test when a process still runs with profile on its
// command line (a leaked Chromium or one of its helpers).
func noProcessesUsing(t *testing.T, profile string) {
	t.Helper()
	leaked := func() []string {
		var out []string
		dirs, _ := os.ReadDir("/proc")
		for _, d := range dirs {
			cmd, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
			if err == nil && bytes.Contains(cmd, []byte(profile)) {
				out = append(out, d.Name()+": "+string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))
			}
		}
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ps := leaked()
		if len(ps) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("Chromium processes still running after the browser was closed:\n%s", strings.Join(ps, "\n"))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lockedBuffer collects the process log from several goroutines.
type lockedBuffer = testutil.LockedBuffer
