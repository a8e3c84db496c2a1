package probes

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/config"
)

// browserJourney is a compiled browser journey: its steps and how a run
// treats console errors, failed requests and screenshots.
type browserJourney struct {
	steps          []*browserStep
	screenshots    config.ScreenshotMode
	failOnConsole  bool
	failOnRequests bool
	insecure       bool // tls.insecure_skip_verify: Chromium ignores certificate errors
}

// browserStep is one compiled browser step: at most one action, then an
// optional wait, then the assertions.
type browserStep struct {
	name    string
	timeout time.Duration
	action  string // navigate, click, fill, select, or "" for a step that only waits or asserts

	url      tmpl   // navigate
	selector string // click, fill, select
	value    tmpl   // fill, select

	waitFor     string
	waitTimeout time.Duration

	textSelector string
	text         string

	urlContains string
	urlMatches  *regexp.Regexp
}

// The browser step actions, as written in the config.
const (
	actionNavigate = "navigate"
	actionClick    = "click"
	actionFill     = "fill"
	actionSelect   = "select"
)

// compileBrowser checks and compiles the steps and settings of a browser
// journey; secrets are the only names its templates may use.
func compileBrowser(ps *config.Problems, path string, p config.Probe, secrets map[string]string) *browserJourney {
	at := func(k ...string) string { return config.JoinPath(append([]string{path}, k...)...) }
	b := &browserJourney{
		screenshots:    p.Browser.Screenshots,
		failOnConsole:  p.Browser.FailOnConsoleErrors == nil || *p.Browser.FailOnConsoleErrors,
		failOnRequests: p.Browser.FailOnFailedRequests,
		insecure:       p.TLS.InsecureSkipVerify,
	}
	switch b.screenshots {
	case config.ScreenshotsOnFailure, config.ScreenshotsEveryStep, config.ScreenshotsOff:
	case "":
		b.screenshots = config.ScreenshotsOnFailure
	default:
		ps.Add(at("browser", "screenshots"), "unknown mode %q (want on_failure, every_step or off)", p.Browser.Screenshots)
	}
	if p.Target != "" {
		ps.Add(at("target"), "not used by browser probes: the first step navigates")
	}
	t := p.TLS
	if t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" || t.MinDaysLeft != nil {
		ps.Add(at("tls"), "browser probes use only tls.insecure_skip_verify (Chromium trusts the system's roots)")
	}
	if len(p.Steps) == 0 {
		ps.Add(at("steps"), "a browser probe needs at least one step")
	} else if p.Steps[0].Navigate == "" {
		ps.Add(at("steps[0]"), "the first step of a browser journey must navigate")
	}
	defined := map[string]string{}
	for k := range secrets {
		defined[k] = "secret"
	}
	names := map[string]int{}
	for i, sc := range p.Steps {
		sp := fmt.Sprintf("%s.steps[%d]", path, i)
		if prev, dup := names[sc.Name]; dup && sc.Name != "" {
			ps.Add(config.JoinPath(sp, "name"), "duplicate step name %q (also steps[%d])", sc.Name, prev)
		}
		names[sc.Name] = i
		b.steps = append(b.steps, compileBrowserStep(ps, sp, sc, defined, p.Timeout.Std()))
	}
	return b
}

func compileBrowserStep(ps *config.Problems, path string, sc config.ProbeStep, defined map[string]string, journeyTimeout time.Duration) *browserStep {
	at := func(k ...string) string { return config.JoinPath(append([]string{path}, k...)...) }
	st := &browserStep{name: sc.Name, timeout: sc.Timeout.Std()}
	switch {
	case sc.Name == "":
		ps.Add(at("name"), "missing name")
	case !nameRE.MatchString(sc.Name) || len(sc.Name) > 100:
		ps.Add(at("name"), "invalid step name %q: use letters, digits, '-', '_' and '.'", sc.Name)
	}
	if st.timeout < 0 {
		ps.Add(at("timeout"), "must not be negative")
	}
	if st.timeout > journeyTimeout {
		ps.Add(at("timeout"), "step timeout %s is longer than the probe's timeout %s", sc.Timeout, journeyTimeout)
	}
	if sc.Request.URL != "" || sc.Request.Method != "" || len(sc.Request.Headers) > 0 || sc.Request.JSON != nil || sc.Request.Form != nil || sc.Request.Body != "" || sc.Request.FollowRedirects != nil {
		ps.Add(at("request"), "only for http probes: browser steps use navigate, click, fill, select, wait_for, assert_text and assert_url")
	}
	if !emptyExpect(sc.Expect) {
		ps.Add(at("expect"), "only for http probes: browser steps check with wait_for, assert_text and assert_url")
	}
	if len(sc.Extract) > 0 {
		ps.Add(at("extract"), "only for http probes")
	}
	templ := func(p, s string) tmpl {
		t, names, err := compileTemplate(s)
		if err != nil {
			ps.Add(p, "%v", err)
			return tmpl{raw: s}
		}
		for _, n := range names {
			if _, ok := defined[n]; !ok {
				ps.Add(p, "template uses .%s, which no secret defines (browser journeys use secrets only)", n)
			}
		}
		return t
	}
	var actions []string
	if sc.Navigate != "" {
		actions = append(actions, actionNavigate)
		st.action = actionNavigate
		st.url = templ(at("navigate"), sc.Navigate)
		checkTemplatedURL(ps, at("navigate"), st.url, defined)
	}
	if sc.Click != "" {
		actions = append(actions, actionClick)
		st.action, st.selector = actionClick, sc.Click
		checkSelector(ps, at("click"), sc.Click)
	}
	for _, in := range []struct {
		name string
		v    *config.BrowserInput
	}{{actionFill, sc.Fill}, {actionSelect, sc.Select}} {
		if in.v == nil {
			continue
		}
		actions = append(actions, in.name)
		st.action, st.selector = in.name, in.v.Selector
		checkSelector(ps, at(in.name, "selector"), in.v.Selector)
		st.value = templ(at(in.name, "value"), in.v.Value)
		if in.name == actionSelect && in.v.Value == "" {
			ps.Add(at(in.name, "value"), "missing value (an option's value or its text)")
		}
	}
	if len(actions) > 1 {
		ps.Add(path, "set only one of navigate, click, fill and select per step (found %s)", strings.Join(actions, ", "))
	}
	if w := sc.WaitFor; w != nil {
		st.waitFor, st.waitTimeout = w.Selector, w.Timeout.Std()
		checkSelector(ps, at("wait_for", "selector"), w.Selector)
		if st.waitTimeout < 0 {
			ps.Add(at("wait_for", "timeout"), "must not be negative")
		}
		if limit := max(st.timeout, 0); (limit > 0 && st.waitTimeout > limit) || st.waitTimeout > journeyTimeout {
			ps.Add(at("wait_for", "timeout"), "longer than the step's or the probe's timeout")
		}
	}
	if a := sc.AssertText; a != nil {
		st.textSelector, st.text = a.Selector, a.Text
		if a.Text == "" {
			ps.Add(at("assert_text"), "missing text")
		}
		if a.Selector != "" {
			checkSelector(ps, at("assert_text", "selector"), a.Selector)
		}
	}
	if a := sc.AssertURL; a != nil {
		st.urlContains = a.Contains
		if a.Matches != "" {
			re, err := regexp.Compile(a.Matches)
			if err != nil {
				ps.Add(at("assert_url", "matches"), "invalid regular expression: %v", err)
			}
			st.urlMatches = re
		} else if a.Contains == "" {
			ps.Add(at("assert_url"), "missing text")
		}
	}
	if len(actions) == 0 && sc.WaitFor == nil && sc.AssertText == nil && sc.AssertURL == nil {
		ps.Add(path, "empty step: set one of navigate, click, fill or select, or wait_for, assert_text or assert_url")
	}
	return st
}

func emptyExpect(e config.ProbeExpect) bool {
	return len(e.Status) == 0 && e.BodyContains == "" && e.BodyMatches == "" && len(e.JSON) == 0 &&
		len(e.JSONExists) == 0 && len(e.Headers) == 0 && e.MaxDuration == 0
}

// checkSelector catches what is surely not a CSS selector at load; the
// browser checks the rest when the step runs (and the step names it).
func checkSelector(ps *config.Problems, path, s string) {
	switch {
	case strings.TrimSpace(s) == "":
		ps.Add(path, "missing CSS selector")
		return
	case len(s) > 1000:
		ps.Add(path, "CSS selector longer than 1000 characters")
		return
	case strings.ContainsAny(s, "\x00\n\r"):
		ps.Add(path, "CSS selector %q contains a line break or NUL", s)
		return
	}
	var stack []byte
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '(' || c == '[':
			stack = append(stack, c)
		case c == ')' || c == ']':
			want := byte('(')
			if c == ']' {
				want = '['
			}
			if len(stack) == 0 || stack[len(stack)-1] != want {
				ps.Add(path, "CSS selector %q has an unmatched %q", s, string(c))
				return
			}
			stack = stack[:len(stack)-1]
		}
	}
	if quote != 0 {
		ps.Add(path, "CSS selector %q has an unclosed quote", s)
	} else if len(stack) > 0 {
		ps.Add(path, "CSS selector %q has an unclosed %q", s, string(stack[len(stack)-1]))
	}
}

// rejectBrowserKeys reports browser step keys set on a step of an http
// journey.
func rejectBrowserKeys(ps *config.Problems, path string, sc config.ProbeStep) {
	for _, k := range []struct {
		name string
		set  bool
	}{
		{"navigate", sc.Navigate != ""}, {"click", sc.Click != ""}, {"fill", sc.Fill != nil}, {"select", sc.Select != nil},
		{"wait_for", sc.WaitFor != nil}, {"assert_text", sc.AssertText != nil}, {"assert_url", sc.AssertURL != nil},
	} {
		if k.set {
			ps.Add(config.JoinPath(path, k.name), "only for browser probes (kind: browser)")
		}
	}
}

// formatBrowserStep adds what a browser step recorded (its page, vitals,
// console errors, failed requests, screenshot) to Format's output.
func formatBrowserStep(b *strings.Builder, s StepResult) {
	if s.URL != "" {
		fmt.Fprintf(b, "\n%s: page %s", s.Name, s.URL)
	}
	if v := s.Vitals; v != nil {
		var parts []string
		for _, x := range []struct {
			name string
			v    *float64
			secs bool
		}{{"LCP", v.LCP, true}, {"FCP", v.FCP, true}, {"TTFB", v.TTFB, true}, {"INP", v.INP, true}, {"CLS", v.CLS, false}} {
			switch {
			case x.v == nil:
			case x.secs:
				parts = append(parts, fmt.Sprintf("%s %s", x.name, ms(time.Duration(*x.v*float64(time.Second)))))
			default:
				parts = append(parts, fmt.Sprintf("%s %.4g", x.name, *x.v))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(b, "\n%s: vitals %s", s.Name, strings.Join(parts, ", "))
		}
	}
	for _, c := range s.ConsoleErrors {
		fmt.Fprintf(b, "\n%s: console error: %s", s.Name, c)
	}
	for _, f := range s.FailedRequests {
		fmt.Fprintf(b, "\n%s: failed request: %s", s.Name, f)
	}
	if s.Selector != "" && !s.Success {
		fmt.Fprintf(b, "\n%s: selector %s", s.Name, s.Selector)
	}
	if s.Screenshot {
		fmt.Fprintf(b, "\n%s: screenshot kept with the run", s.Name)
	}
}
