package probes

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/demo"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/rum"
)

// browserShop serves the demo shop on loopback, with a stub Sentinel
// serving an empty /rum.js so the pages load nothing from elsewhere.
func browserShop(t testing.TB) (*demo.Shop, string) {
	t.Helper()
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
	}))
	t.Cleanup(stub.Close)
	shop := demo.New(demo.Options{SentinelURL: stub.URL})
	srv := httptest.NewServer(shop.Handler())
	t.Cleanup(srv.Close)
	return shop, srv.URL
}

// browserService compiles yaml (with ${SHOP}) into a service with the real
// vitals bundle, its browser profiles made under profiles.
func browserService(t testing.TB, yaml, shopURL, profiles string) (*Service, *MemoryStore) {
	t.Helper()
	chromium := testutil.RequireTool(t, "chromium", "chromium", "chromium-browser")
	cfg := parseConfig(t, yaml, map[string]string{"SHOP": shopURL})
	js, ps := Compile(cfg.Probes)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	settings := cfg.ProbeSettings
	settings.Browser.Executable = chromium
	settings.Browser.ProfileDir = profiles
	store := NewMemoryStore()
	s, err := New(Options{Probes: js, Settings: settings, Store: store, VitalsScript: rum.VitalsScript()})
	if err != nil {
		t.Fatal(err)
	}
	return s, store
}

const shopJourney = `
probes:
  - name: browse
    kind: browser
    timeout: 40s
    steps:
      - {name: home, navigate: "${SHOP}/", assert_text: "Tea things"}
      - {name: product, navigate: "${SHOP}/product/42", wait_for: "h1", assert_text: {selector: h1, text: Kettle}}
      - {name: add, click: "#add", wait_for: {selector: "#total", timeout: 10s}, assert_url: "/cart"}
`

func TestBrowserJourneyPassesWithVitals(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser")
	}
	_, url := browserShop(t)
	profiles := t.TempDir()
	s, _ := browserService(t, shopJourney, url, profiles)
	res, err := s.RunOnce(context.Background(), "browse")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Success || len(res.Steps) != 3 {
		var b strings.Builder
		_ = Format(&b, res)
		t.Fatalf("journey failed:\n%s", b.String())
	}
	var out strings.Builder
	_ = Format(&out, res)
	t.Logf("run:\n%s", out.String())
	home, product, add := res.Steps[0], res.Steps[1], res.Steps[2]
	if home.Status != 200 || product.Status != 200 {
		t.Errorf("document status: home %d, product %d", home.Status, product.Status)
	}
	if !strings.HasSuffix(product.URL, "/product/42") || !strings.HasSuffix(add.URL, "/cart") {
		t.Errorf("urls: %q %q", product.URL, add.URL)
	}
	for _, st := range res.Steps {
		if st.Duration <= 0 || len(st.ConsoleErrors) > 0 || len(st.FailedRequests) > 0 || st.Screenshot {
			t.Errorf("step %s: %+v", st.Name, st)
		}
	}
	// Vitals come from the injected bundle, in seconds, on every page.
	for _, st := range res.Steps {
		v := st.Vitals
		if v == nil || v.TTFB == nil || v.FCP == nil {
			t.Fatalf("step %s: no TTFB/FCP: %+v", st.Name, v)
		}
		if *v.TTFB < 0 || *v.TTFB > 10 || *v.FCP <= 0 || *v.FCP > 30 || *v.FCP < *v.TTFB {
			t.Errorf("step %s: implausible vitals TTFB %v FCP %v", st.Name, *v.TTFB, *v.FCP)
		}
	}
	if v := product.Vitals; v.LCP == nil || *v.LCP <= 0 || v.CLS == nil {
		t.Errorf("product page: LCP/CLS not measured: %+v", v)
	}
	if res.Screenshot != "" || len(res.Screenshots()) != 0 {
		t.Errorf("a passing run kept screenshots in on_failure mode")
	}
	assertNoBrowserLeft(t, profiles)
}

func TestBrowserJourneyFailsOnConsoleErrorWithScreenshot(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser")
	}
	shop, url := browserShop(t)
	if err := shop.SetFaults(demo.Faults{ProductJSError: true}); err != nil {
		t.Fatal(err)
	}
	profiles := t.TempDir()
	s, store := browserService(t, shopJourney, url, profiles)
	ctx := context.Background()
	s.mu.Lock()
	j := s.journeys["browse"]
	s.mu.Unlock()
	res := s.runner.run(ctx, j)
	s.record(ctx, j, res)

	if res.Success || res.FailedStep != "product" || len(res.Steps) != 2 {
		t.Fatalf("want a failure at product: %+v", res)
	}
	product := res.Steps[1]
	if len(product.ConsoleErrors) == 0 || !strings.Contains(product.ConsoleErrors[0], "TypeError") ||
		!strings.Contains(res.Error, "console error: Uncaught TypeError") {
		t.Errorf("console error not recorded: error %q, console %q", res.Error, product.ConsoleErrors)
	}
	if !product.Screenshot || res.Screenshot != "product" {
		t.Fatalf("no screenshot recorded: %+v", product)
	}
	// The stored run says where the screenshot is, without its bytes.
	runs, err := store.Runs(ctx, "browse", "", 1)
	if err != nil || len(runs) != 1 || runs[0].Screenshot != "product" || runs[0].Steps[1].png != nil {
		t.Fatalf("stored run: %+v, %v", runs, err)
	}
	if runs[0].Steps[1].ConsoleErrors[0] != product.ConsoleErrors[0] {
		t.Errorf("console error not in the stored run")
	}
	shot, err := s.Screenshot(ctx, "browse", res.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("screenshot is %v", b)
	}
	if _, err := s.Screenshot(ctx, "browse", res.ID, "home"); err == nil {
		t.Error("a passing step's screenshot was kept in on_failure mode")
	}

	// With console errors allowed, the same page passes and still records
	// the error.
	relaxed := strings.Replace(shopJourney, "timeout: 40s", "timeout: 40s\n    browser: {fail_on_console_errors: false}", 1)
	s2, _ := browserService(t, relaxed, url, profiles)
	res2, _ := s2.RunOnce(ctx, "browse")
	if !res2.Success || len(res2.Steps[1].ConsoleErrors) == 0 {
		t.Errorf("fail_on_console_errors false: success %v, console %q, error %q", res2.Success, res2.Steps[1].ConsoleErrors, res2.Error)
	}
	assertNoBrowserLeft(t, profiles)
}

func TestBrowserJourneyTimeoutKillsTheBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser")
	}
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/busy":
			// The page loads, then its script never yields.
			_, _ = w.Write([]byte(`<!doctype html><title>busy</title><h1>busy</h1><script>setTimeout(function(){for(;;){}},0)</script>`))
		default:
			select { // the answer never comes
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer hang.Close()
	defer close(release)
	tests := []struct{ name, steps string }{
		{"server never answers", `[{name: open, navigate: "${SHOP}/slow"}]`},
		{"page script never yields", `[{name: open, navigate: "${SHOP}/busy"}, {name: wait, wait_for: "#never"}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			profiles := t.TempDir()
			s, _ := browserService(t, `
probes:
  - name: hang
    kind: browser
    timeout: 4s
    steps: `+tc.steps+`
`, hang.URL, profiles)
			// Watch the browser's processes while it runs, so the check
			// after the run is known to see them.
			seen := make(chan int, 1)
			stop := make(chan struct{})
			go func() {
				most := 0
				for {
					most = max(most, len(processesUsing(profiles)))
					select {
					case <-stop:
						seen <- most
						return
					case <-time.After(50 * time.Millisecond):
					}
				}
			}()
			start := time.Now()
			res, err := s.RunOnce(context.Background(), "hang")
			took := time.Since(start)
			close(stop)
			if most := <-seen; most < 2 {
				t.Errorf("saw %d browser processes while the run was going: the leak check cannot see them", most)
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Success || res.Error == "" {
				t.Fatalf("a hanging journey passed: %+v", res)
			}
			t.Logf("took %s: %s", took.Round(time.Millisecond), res.Error)
			if !strings.Contains(res.Error, "did not finish within") && !strings.Contains(res.Error, "no visible element matched within") && !strings.Contains(res.Error, "timeout") {
				t.Errorf("error does not say it timed out: %q", res.Error)
			}
			// The run ends at the timeout, plus the time to kill and clean up.
			if took > 4*time.Second+5*time.Second {
				t.Errorf("run took %s with a 4s timeout", took)
			}
			assertNoBrowserLeft(t, profiles)
		})
	}
}

// assertNoBrowserLeft checks, right after runs returned, that no process
// uses a profile under profiles and no Chromium is a child of this test
// process, and that the profiles were removed.
func assertNoBrowserLeft(t *testing.T, profiles string) {
	t.Helper()
	if left := processesUsing(profiles); len(left) > 0 {
		t.Errorf("browser processes left running: %s", strings.Join(left, "; "))
	}
	if kids := chromiumChildren(); len(kids) > 0 {
		t.Errorf("chromium children of the test process left: %s", strings.Join(kids, "; "))
	}
	entries, err := os.ReadDir(profiles)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) > 0 {
		t.Errorf("browser profiles left behind: %d", len(entries))
	}
}

// processesUsing lists "pid cmdline" of live processes whose command line
// mentions dir (Linux; elsewhere nothing is found).
func processesUsing(dir string) []string {
	var out []string
	forEachProcess(func(pid int, cmdline string, ppid int, state string) {
		if state != "Z" && strings.Contains(cmdline, dir) {
			out = append(out, strconv.Itoa(pid)+" "+clip(cmdline, 200))
		}
	})
	return out
}

// chromiumChildren lists live chromium processes whose parent is this
// process.
func chromiumChildren() []string {
	self := os.Getpid()
	var out []string
	forEachProcess(func(pid int, cmdline string, ppid int, state string) {
		if ppid == self && state != "Z" && strings.Contains(cmdline, "chrom") {
			out = append(out, strconv.Itoa(pid)+" "+clip(cmdline, 200))
		}
	})
	return out
}

func forEachProcess(fn func(pid int, cmdline string, ppid int, state string)) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// stat: pid (comm) state ppid ...; comm may hold spaces.
		rest := string(stat)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		fn(pid, strings.ReplaceAll(string(raw), "\x00", " "), ppid, f[0])
	}
}
