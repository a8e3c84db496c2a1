package probes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sentinel-oss/sentinel/config"
)

// UserAgentMarker is appended to Chromium's User-Agent in browser journeys,
// so the RUM collector (and the shop's own analytics) can drop probe visits.
const UserAgentMarker = "sentinel-probe"

// Limits on what one browser step records.
const (
	maxConsoleErrors  = 20
	maxFailedRequests = 20
	maxConsoleText    = 500
	maxTrackedReqs    = 2000
)

// browserEnv is what browser journeys share: where Chromium is, the vitals
// bundle injected into every page, and the slots that cap how many browsers
// run at once. It is safe for concurrent use.
type browserEnv struct {
	executable string // configured; "" looks in PATH at each run
	profileDir string // "" is os.TempDir()
	vitals     string
	slots      chan struct{}
	log        *slog.Logger

	uaMu sync.Mutex
	ua   map[string]string // User-Agent by Chromium path, read once
}

// userAgent is the User-Agent every request of a browser journey carries:
// headless Chromium's own with UserAgentMarker appended. It is passed as
// --user-agent, not only through DevTools, because requests that outlive
// their page (the RUM snippet's keepalive beacons on pagehide) are sent
// by the browser without the page's override, and RUM must recognise them.
func (e *browserEnv) userAgent(ctx context.Context, path string) string {
	e.uaMu.Lock()
	defer e.uaMu.Unlock()
	if ua, ok := e.ua[path]; ok {
		return ua
	}
	version := "0"
	vctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(vctx, path, "--version").Output(); err == nil {
		// "Chromium 156.0.8078.73 built on Debian …": the first dotted number.
		for _, f := range strings.Fields(string(out)) {
			if strings.Count(f, ".") >= 2 && f[0] >= '0' && f[0] <= '9' {
				version = f
				break
			}
		}
	}
	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/" + version + " Safari/537.36 " + UserAgentMarker
	if e.ua == nil {
		e.ua = map[string]string{}
	}
	e.ua[path] = ua
	return ua
}

func newBrowserEnv(s config.ProbeBrowserSettings, vitals []byte, log *slog.Logger) *browserEnv {
	n := s.MaxConcurrent
	if n <= 0 {
		n = DefaultBrowserConcurrency()
	}
	return &browserEnv{executable: s.Executable, profileDir: s.ProfileDir, vitals: string(vitals), slots: make(chan struct{}, n), log: log}
}

// DefaultBrowserConcurrency is the browser cap used when
// probe_settings.browser.max_concurrent is 0: half the CPU cores, at least
// one (a page load keeps about one core busy).
func DefaultBrowserConcurrency() int { return max(1, runtime.NumCPU()/2) }

// acquire waits for a browser slot; the returned func gives it back.
func (e *browserEnv) acquire(ctx context.Context) (func(), error) {
	select {
	case e.slots <- struct{}{}:
		return func() { <-e.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// chromiumNames are the programs looked up in PATH when no executable is
// configured.
var chromiumNames = [...]string{"chromium", "chromium-browser", "google-chrome", "headless_shell"}

// lookPath finds Chromium.
func (e *browserEnv) lookPath() (string, error) {
	if e.executable != "" {
		p, err := exec.LookPath(e.executable)
		if err != nil {
			return "", fmt.Errorf("probe_settings.browser.executable %q: %w", e.executable, err)
		}
		return p, nil
	}
	for _, n := range chromiumNames {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found in PATH (install Debian's chromium package, or set probe_settings.browser.executable)")
}

// FindChromium returns the path of the Chromium that browser journeys use
// when probe_settings.browser.executable is not set, or an error saying how
// to install one.
func FindChromium() (string, error) { return (&browserEnv{}).lookPath() }

// Screenshot is a PNG kept with a browser run, for the step that took it.
type Screenshot struct {
	Step string
	PNG  []byte
}

// Screenshots returns the screenshots a browser run took (the failing step's
// and, with screenshots: every_step, every step's). They travel beside the
// run, not in its JSON: the service stores them through a ScreenshotStore.
func (r Result) Screenshots() []Screenshot {
	var out []Screenshot
	for _, s := range r.Steps {
		if len(s.png) > 0 {
			out = append(out, Screenshot{Step: s.Name, PNG: s.png})
		}
	}
	return out
}

// withoutScreenshots drops the PNG bytes from r's steps (the steps still say
// that a screenshot was kept).
func (r Result) withoutScreenshots() Result {
	if len(r.Screenshots()) == 0 {
		return r
	}
	steps := make([]StepResult, len(r.Steps))
	copy(steps, r.Steps)
	for i := range steps {
		steps[i].png = nil
	}
	r.Steps = steps
	return r
}

// evidenceReserve is the part of a journey's timeout kept back from the
// steps so that a failing step's screenshot can still be taken before the
// timeout kills the browser.
func evidenceReserve(timeout time.Duration) time.Duration {
	return min(2*time.Second, timeout/10)
}

// runBrowser runs one attempt of a browser journey in a fresh Chromium with
// a fresh profile, killed (with every child process) when the attempt ends.
func (r *runner) runBrowser(ctx context.Context, j *Journey) []StepResult {
	bj := j.browser
	first := bj.steps[0].name
	startFail := func(format string, args ...any) []StepResult {
		res := StepResult{Name: first}
		failer(&res, j.mask)(format, args...)
		return []StepResult{res}
	}
	env := r.browser.Load()
	path, err := env.lookPath()
	if err != nil {
		return startFail("%v", err)
	}
	dir, err := os.MkdirTemp(env.profileDir, "sentinel-probe-")
	if err != nil {
		return startFail("create a browser profile: %v", err)
	}
	defer removeProfile(dir, env.log)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(1280, 800),
		chromedp.UserAgent(env.userAgent(ctx, path)),
	}
	if bj.insecure {
		opts = append(opts, chromedp.Flag("ignore-certificate-errors", true))
	}
	// The browser lives as long as ctx, the attempt's timeout: when it
	// ends, the process is killed whatever a step is doing.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	debugf := func(format string, args ...any) { env.log.Debug(fmt.Sprintf(format, args...), "probe", j.Name) }
	bctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(debugf), chromedp.WithErrorf(debugf))
	defer cancelTab()

	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(j.Timeout)
	}
	stepsDeadline := deadline.Add(-evidenceReserve(j.Timeout))

	events := &pageEvents{reqs: map[network.RequestID]reqInfo{}}
	if err := chromedp.Listen(bctx, events.on); err != nil {
		return startFail("start Chromium: %s", describeError(err, ctx, j.Timeout, "probe timeout"))
	}
	if err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		events.setMainFrame(cdp.FrameID(t.TargetID))
		if env.vitals != "" {
			if _, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: env.vitals}); err != nil {
				return fmt.Errorf("inject the vitals script: %w", err)
			}
		}
		ua, err := chromedp.Evaluate[string]("navigator.userAgent")(ctx, t)
		if err != nil {
			return fmt.Errorf("read the User-Agent: %w", err)
		}
		if strings.Contains(ua, UserAgentMarker) {
			return nil // set by --user-agent already
		}
		_, err = cdp.Call(ctx, t, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua + " " + UserAgentMarker})
		return err
	})); err != nil {
		return startFail("start Chromium: %s", describeError(err, ctx, j.Timeout, "probe timeout"))
	}
	events.drain() // the blank page's events belong to no step

	var out []StepResult
	for _, st := range bj.steps {
		if time.Now().After(stepsDeadline) || ctx.Err() != nil {
			res := StepResult{Name: st.name}
			failer(&res, j.mask)("not started: the journey's timeout %s ran out", j.Timeout)
			out = append(out, res)
			break
		}
		res := r.browserStep(bctx, j, st, events, stepsDeadline)
		if bj.screenshots == config.ScreenshotsEveryStep || (!res.Success && bj.screenshots == config.ScreenshotsOnFailure) {
			sctx, cancel := context.WithDeadline(bctx, deadline)
			png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
			cancel()
			if err == nil && len(png) > 0 {
				res.png, res.Screenshot = png, true
			} else if err != nil {
				env.log.Debug("browser screenshot", "probe", j.Name, "step", st.name, "err", err)
			}
		}
		out = append(out, res)
		if !res.Success {
			break
		}
	}
	return out
}

// browserStep runs one step: its action, wait and assertions, then reads
// the page's vitals and the events the step caused.
func (r *runner) browserStep(bctx context.Context, j *Journey, st *browserStep, events *pageEvents, stepsDeadline time.Time) (res StepResult) {
	bj := j.browser
	res = StepResult{Name: st.name, Success: true}
	fail := failer(&res, j.mask)
	start := time.Now()
	stepDeadline := stepsDeadline
	if st.timeout > 0 && start.Add(st.timeout).Before(stepDeadline) {
		stepDeadline = start.Add(st.timeout)
	}
	limit := stepDeadline.Sub(start)
	ctx, cancel := context.WithDeadline(bctx, stepDeadline)
	defer cancel()
	vars := j.secrets
	// timedOut words an error after the step's deadline passed.
	describe := func(err error) string {
		switch {
		case ctx.Err() == nil:
			return err.Error()
		case stepDeadline.Equal(stepsDeadline):
			return fmt.Sprintf("did not finish within the journey's %s timeout (%s into the step)", j.Timeout, limit.Round(time.Millisecond))
		}
		return fmt.Sprintf("did not finish within the step's %s timeout", st.timeout)
	}

	switch st.action {
	case actionNavigate:
		u, err := st.url.render(vars)
		if err != nil {
			fail("%v", err)
			break
		}
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
		if resp != nil {
			res.Status = int(resp.Status)
		}
		switch {
		case err != nil:
			fail("navigate to %s: %s", u, describe(err))
		case res.Status >= 400:
			fail("navigate to %s: the page answered %d", u, res.Status)
		}
	case actionClick:
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(st.selector))); err != nil {
			res.Selector = st.selector
			fail("click %s: %s", st.selector, waitError(err, ctx, limit))
		}
	case actionFill:
		v, err := st.value.render(vars)
		if err != nil {
			fail("%v", err)
			break
		}
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(st.selector), ""), chromedp.SendKeys(chromedp.CSS(st.selector), v)); err != nil {
			res.Selector = st.selector
			fail("fill %s: %s", st.selector, waitError(err, ctx, limit))
		}
	case actionSelect:
		v, err := st.value.render(vars)
		if err != nil {
			fail("%v", err)
			break
		}
		if msg := selectOption(ctx, st.selector, v); msg != "" {
			res.Selector = st.selector
			if ctx.Err() != nil {
				msg = waitError(ctx.Err(), ctx, limit)
			}
			fail("select %q in %s: %s", v, st.selector, msg)
		}
	}
	if res.Success && st.waitFor != "" {
		wctx, wcancel := ctx, context.CancelFunc(func() {})
		if st.waitTimeout > 0 {
			wctx, wcancel = context.WithTimeout(ctx, st.waitTimeout)
		}
		if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(st.waitFor))); err != nil {
			res.Selector = st.waitFor
			lim := limit
			if st.waitTimeout > 0 && st.waitTimeout < lim {
				lim = st.waitTimeout
			}
			fail("wait_for %s: %s", st.waitFor, waitError(err, wctx, lim))
		}
		wcancel()
	}
	if res.Success && st.text != "" {
		var text string
		var err error
		if st.textSelector != "" {
			text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(st.textSelector)))
		} else {
			text, err = chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
		}
		switch {
		case err != nil:
			res.Selector = st.textSelector
			fail("assert_text: %s", waitError(err, ctx, limit))
		case !strings.Contains(text, st.text):
			res.Selector = st.textSelector
			where := "the page"
			if st.textSelector != "" {
				where = st.textSelector
			}
			fail("expected text %q in %s, not found", st.text, where)
			res.Excerpt = excerpt(j.mask, []byte(text), false)
		}
	}
	if res.Success && (st.urlContains != "" || st.urlMatches != nil) {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		switch {
		case err != nil:
			fail("assert_url: %s", describe(err))
		case st.urlContains != "" && !strings.Contains(loc, st.urlContains):
			fail("expected the URL to contain %q, got %s", st.urlContains, loc)
		case st.urlMatches != nil && !st.urlMatches.MatchString(loc):
			fail("expected the URL to match %q, got %s", st.urlMatches.String(), loc)
		}
	}
	res.Duration = durationOf(time.Since(start))

	// What the page measured and what went wrong in it during the step.
	// The page may be gone (a hanging navigation): reading is best effort
	// and bounded.
	pctx, pcancel := context.WithTimeout(bctx, min(time.Second, max(time.Until(stepsDeadline), 200*time.Millisecond)))
	if snap, err := chromedp.Run(pctx, chromedp.Evaluate[pageSnapshot](snapshotJS, chromedp.EvalAwaitPromise)); err == nil {
		res.URL = j.mask.Mask(snap.URL)
		res.Vitals = snap.Vitals
	}
	pcancel()
	ev := events.drain()
	for _, c := range ev.console {
		res.ConsoleErrors = append(res.ConsoleErrors, j.mask.Mask(c))
	}
	for _, f := range ev.failed {
		f.URL = j.mask.Mask(f.URL)
		res.FailedRequests = append(res.FailedRequests, f)
	}
	if st.action == actionNavigate && res.Status == 0 {
		res.Status = ev.docStatus
	}
	if bj.failOnConsole && len(res.ConsoleErrors) > 0 {
		fail("console error: %s", res.ConsoleErrors[0])
	}
	if bj.failOnRequests && len(res.FailedRequests) > 0 {
		fail("failed request: %s", res.FailedRequests[0])
	}
	return res
}

// waitError words an error of an action that waits for an element: past
// the deadline it says that the element never became ready.
func waitError(err error, ctx context.Context, limit time.Duration) string {
	if ctx.Err() != nil {
		return fmt.Sprintf("no visible element matched within %s", limit.Round(time.Millisecond))
	}
	return err.Error()
}

// selectOption picks the option of a <select> whose value (or else visible
// text) is v, as a person would, firing input and change; it returns a
// message when it cannot.
func selectOption(ctx context.Context, selector, v string) string {
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(selector))); err != nil {
		return err.Error()
	}
	sel, _ := json.Marshal(selector)
	val, _ := json.Marshal(v)
	msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function (s, v) {
  var el = document.querySelector(s);
  if (!el) return "no element matched";
  if (el.tagName !== "SELECT") return "the element is a " + el.tagName.toLowerCase() + ", not a select";
  var found = -1;
  for (var i = 0; i < el.options.length; i++) { if (el.options[i].value === v) { found = i; break; } }
  if (found < 0) for (var k = 0; k < el.options.length; k++) { if (el.options[k].text.trim() === v) { found = k; break; } }
  if (found < 0) return "no option has that value or text";
  el.selectedIndex = found;
  el.dispatchEvent(new Event("input", {bubbles: true}));
  el.dispatchEvent(new Event("change", {bubbles: true}));
  return "";
})(`+string(sel)+`, `+string(val)+`)`))
	if err != nil {
		return err.Error()
	}
	return msg
}

// snapshotJS reads the page's URL and the vitals the injected bundle keeps.
// Paint entries reach the bundle a frame or more after the paint, so it
// waits (polling every frame or 20 ms) until FCP and LCP are there, for at
// most snapshotWait; a page that never paints returns what it has.
const snapshotJS = `new Promise(function (done) {
  var start = Date.now();
  var tick = function () {
    var v = window.__sentinelVitals || null;
    if ((v && v.fcp !== undefined && v.lcp !== undefined) || Date.now() - start > 1000 || !window.__sentinelVitals && Date.now() - start > 100) {
      done({url: location.href, vitals: v});
      return;
    }
    setTimeout(tick, 20);
  };
  tick();
})`

// pageSnapshot is what snapshotJS returns.
type pageSnapshot struct {
	URL    string  `json:"url"`
	Vitals *Vitals `json:"vitals"`
}

// reqInfo is a request in flight, for naming it when it fails.
type reqInfo struct{ url, method string }

// pageEvents collects, from the tab's event loop, the console errors and
// failed requests of the current step. on must return fast: it runs on the
// goroutine that reads the browser's messages.
type pageEvents struct {
	mu        sync.Mutex
	mainFrame cdp.FrameID
	reqs      map[network.RequestID]reqInfo
	cur       stepEvents
}

// stepEvents are the events of one step.
type stepEvents struct {
	console   []string
	failed    []FailedRequest
	docStatus int
}

func (p *pageEvents) setMainFrame(id cdp.FrameID) {
	p.mu.Lock()
	p.mainFrame = id
	p.mu.Unlock()
}

// drain returns the events gathered since the last call.
func (p *pageEvents) drain() stepEvents {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.cur
	p.cur = stepEvents{}
	return out
}

func (p *pageEvents) on(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *cdpruntime.EventExceptionThrown:
		p.addConsole(exceptionText(ev.ExceptionDetails))
	case *cdpruntime.EventConsoleAPICalled:
		if ev.Type == cdpruntime.ConsoleAPICalledTypeError || ev.Type == cdpruntime.ConsoleAPICalledTypeAssert {
			p.addConsole("console." + string(ev.Type) + ": " + argsText(ev.Args))
		}
	case *network.EventRequestWillBeSent:
		if ev.Request != nil && len(p.reqs) < maxTrackedReqs {
			p.reqs[ev.RequestID] = reqInfo{url: ev.Request.URL, method: ev.Request.Method}
		}
	case *network.EventResponseReceived:
		if ev.Response == nil {
			return
		}
		if ev.Type == network.ResourceTypeDocument && (p.mainFrame == "" || ev.FrameID == p.mainFrame) {
			p.cur.docStatus = int(ev.Response.Status)
		}
		if ev.Response.Status >= 400 && !isFavicon(ev.Response.URL) {
			info := p.reqs[ev.RequestID]
			p.addFailed(FailedRequest{URL: ev.Response.URL, Method: info.method, Status: int(ev.Response.Status)})
		}
	case *network.EventLoadingFinished:
		delete(p.reqs, ev.RequestID)
	case *network.EventLoadingFailed:
		info, ok := p.reqs[ev.RequestID]
		delete(p.reqs, ev.RequestID)
		if ev.Canceled || !ok {
			return // cancelled by a navigation or by the page: not a failure of the site
		}
		msg := ev.ErrorText
		if ev.BlockedReason != "" {
			msg += " (blocked: " + string(ev.BlockedReason) + ")"
		}
		p.addFailed(FailedRequest{URL: info.url, Method: info.method, Error: msg})
	}
}

// isFavicon reports the browser's own favicon request, whose 404 is not a
// failure of the page.
func isFavicon(u string) bool {
	u, _, _ = strings.Cut(u, "?")
	return strings.HasSuffix(u, "/favicon.ico")
}

func (p *pageEvents) addConsole(s string) {
	if len(p.cur.console) < maxConsoleErrors {
		p.cur.console = append(p.cur.console, clip(s, maxConsoleText))
	}
}

func (p *pageEvents) addFailed(f FailedRequest) {
	// A request answered >= 400 and then failing is one failure.
	for _, prev := range p.cur.failed {
		if prev.URL == f.URL && prev.Status != 0 && f.Status == 0 {
			return
		}
	}
	if len(p.cur.failed) < maxFailedRequests {
		f.URL = clip(f.URL, maxConsoleText)
		p.cur.failed = append(p.cur.failed, f)
	}
}

// exceptionText is the DevTools console's one-line form of an uncaught
// exception: "Uncaught TypeError: Cannot read properties of undefined".
func exceptionText(d *cdpruntime.ExceptionDetails) string {
	if d == nil {
		return "uncaught exception"
	}
	text := d.Text
	if d.Exception != nil {
		desc := d.Exception.Description
		if desc == "" {
			desc = valueText(d.Exception)
		}
		desc, _, _ = strings.Cut(desc, "\n    at ")
		text = strings.TrimSpace(text + " " + desc)
	}
	if d.URL != "" {
		text += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber+1)
	}
	return text
}

func argsText(args []*cdpruntime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		parts = append(parts, valueText(a))
	}
	return strings.Join(parts, " ")
}

func valueText(o *cdpruntime.RemoteObject) string {
	if o == nil {
		return ""
	}
	if o.Type == cdpruntime.RemoteObjectTypeString {
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
	}
	if o.Description != "" {
		d, _, _ := strings.Cut(o.Description, "\n    at ")
		return d
	}
	if len(o.Value) > 0 {
		return string(o.Value)
	}
	return string(o.Type)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 { // keep UTF-8 whole
		cut--
	}
	return s[:cut] + "…"
}

// removeProfile kills whatever Chromium child still uses the profile, then
// deletes it. It runs after the browser process itself was killed and
// reaped.
func removeProfile(dir string, log *slog.Logger) {
	killLeftovers(dir)
	var err error
	for range 5 {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond) // a dying child may still be writing
	}
	log.Warn("remove browser profile", "dir", dir, "err", err)
}
