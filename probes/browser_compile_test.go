package probes

import (
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
)

func TestBrowserConfigProblemsHavePaths(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // "path: message fragment"
	}{
		{"first step must navigate", `
probes:
  - name: p
    kind: browser
    steps: [{name: a, click: "#add"}]
`, []string{"probes[0].steps[0]: the first step of a browser journey must navigate"}},
		{"two actions in a step", `
probes:
  - name: p
    kind: browser
    steps: [{name: a, navigate: "http://x/", click: "#add"}]
`, []string{"probes[0].steps[0]: set only one of navigate, click, fill and select per step (found navigate, click)"}},
		{"bad URL and unknown secret", `
probes:
  - name: p
    kind: browser
    secrets: {card: "4242424242424242"}
    steps:
      - {name: a, navigate: "ftp://x/"}
      - {name: b, fill: {selector: "#card", value: "{{ .crad }}"}}
`, []string{"probes[0].steps[0].navigate: unsupported scheme", "probes[0].steps[1].fill.value: template uses .crad, which no secret defines"}},
		{"selectors", `
probes:
  - name: p
    kind: browser
    steps:
      - {name: a, navigate: "http://x/", wait_for: "div[data-x"}
      - {name: b, click: "a:not(.x"}
      - {name: c, select: {selector: "", value: ""}}
      - {name: d, assert_text: {selector: "h1)", text: Kettle}}
`, []string{
			"probes[0].steps[0].wait_for.selector: CSS selector \"div[data-x\" has an unclosed \"[\"",
			"probes[0].steps[1].click: CSS selector \"a:not(.x\" has an unclosed \"(\"",
			"probes[0].steps[2].select.selector: missing CSS selector",
			"probes[0].steps[2].select.value: missing value",
			"probes[0].steps[3].assert_text.selector: CSS selector \"h1)\" has an unmatched \")\"",
		}},
		{"http keys on browser steps and browser keys on http steps", `
probes:
  - name: p
    kind: browser
    steps:
      - {name: a, navigate: "http://x/", expect: {status: 200}, extract: {x: $.x}}
  - name: q
    steps:
      - {name: a, request: {url: "http://x/"}, click: "#add"}
`, []string{"probes[0].steps[0].expect: only for http probes", "probes[0].steps[0].extract: only for http probes", "probes[1].steps[0].click: only for browser probes"}},
		{"empty step, bad regex, long wait, screenshots mode", `
probes:
  - name: p
    kind: browser
    timeout: 20s
    browser: {screenshots: always}
    steps:
      - {name: a, navigate: "http://x/", assert_url: {matches: "(("}}
      - {name: b}
      - {name: c, wait_for: {selector: "#x", timeout: 25s}}
`, []string{
			"probes[0].browser.screenshots: unknown mode \"always\"",
			"probes[0].steps[0].assert_url.matches: invalid regular expression",
			"probes[0].steps[1]: empty step",
			"probes[0].steps[2].wait_for.timeout: longer than the step's or the probe's timeout",
		}},
		{"target and tls files", `
probes:
  - name: p
    kind: browser
    target: shop.example.com
    tls: {server_name: shop}
    steps: [{name: a, navigate: "http://x/"}]
`, []string{"probes[0].target: not used by browser probes", "probes[0].tls: browser probes use only tls.insecure_skip_verify"}},
		{"timeout beyond the interval", `
probes:
  - name: p
    kind: browser
    interval: 20s
    steps: [{name: a, navigate: "http://x/"}]
`, []string{"probes[0].timeout: timeout 30s with 0 retries does not fit in the interval 20s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			js, ps := Compile(parseConfig(t, tc.yaml, nil).Probes)
			if len(ps) == 0 {
				t.Fatalf("compiled without problems: %d journeys", len(js))
			}
			text := ps.Error()
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("problems lack %q:\n%s", w, text)
				}
			}
		})
	}
}

func TestBrowserStepDecodingProblems(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"wait_for key", `probes: [{name: p, kind: browser, steps: [{name: a, navigate: "http://x/", wait_for: {selectr: h1}}]}]`, `probes[0].steps[0].wait_for: unknown key "selectr"`},
		{"assert_url both", `probes: [{name: p, kind: browser, steps: [{name: a, navigate: "http://x/", assert_url: {contains: a, matches: b}}]}]`, "set exactly one of contains and matches"},
		{"assert_text list", `probes: [{name: p, kind: browser, steps: [{name: a, navigate: "http://x/", assert_text: [a]}]}]`, "probes[0].steps[0].assert_text: expected text"},
		{"fill key", `probes: [{name: p, kind: browser, steps: [{name: a, navigate: "http://x/"}, {name: b, fill: {selector: "#a", val: x}}]}]`, `did you mean "value"`},
		{"browser setting", `probes: [{name: p, kind: browser, browser: {screenshot: off}, steps: [{name: a, navigate: "http://x/"}]}]`, `unknown key "screenshot"`},
		{"wait_for timeout", `probes: [{name: p, kind: browser, steps: [{name: a, navigate: "http://x/", wait_for: {selector: h1, timeout: soon}}]}]`, "probes[0].steps[0].wait_for: timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("test.yaml", []byte(tc.yaml), config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestBrowserJourneyCompiles(t *testing.T) {
	js := compile(t, `
probes:
  - name: browse-checkout
    kind: browser
    secrets: {card: "4242424242424242"}
    browser: {screenshots: every_step, fail_on_console_errors: false}
    steps:
      - {name: home, navigate: "https://shop.example.com/"}
      - {name: add, click: "#add"}
      - {name: product, navigate: "https://shop.example.com/product/42", wait_for: "h1", assert_text: "Kettle"}
      - {name: card, fill: {selector: "#card", value: "{{ .card }}"}, timeout: 5s}
      - {name: size, select: {selector: "select[name=size]", value: Large}, wait_for: {selector: "#ok", timeout: 2s}}
      - {name: done, assert_url: {matches: "/cart$"}, assert_text: {selector: "#total", text: "€"}}
`, nil)
	j := js[0]
	if j.Interval.String() != "1m0s" || j.Timeout.String() != "30s" || j.Target != "https://shop.example.com/" {
		t.Errorf("browser defaults: interval %s timeout %s target %s", j.Interval, j.Timeout, j.Target)
	}
	b := j.browser
	if b == nil || len(b.steps) != 6 || b.screenshots != config.ScreenshotsEveryStep || b.failOnConsole || b.failOnRequests {
		t.Fatalf("browser journey: %+v", b)
	}
	s := b.steps
	if s[0].action != actionNavigate || s[1].action != actionClick || s[1].selector != "#add" ||
		s[2].waitFor != "h1" || s[2].text != "Kettle" || s[3].action != actionFill || s[3].timeout.String() != "5s" ||
		s[4].action != actionSelect || s[4].waitTimeout.String() != "2s" || s[5].urlMatches == nil || s[5].textSelector != "#total" {
		t.Errorf("steps compiled wrongly: %+v %+v %+v %+v %+v %+v", s[0], s[1], s[2], s[3], s[4], s[5])
	}
	if v, err := s[3].value.render(j.secrets); err != nil || v != "4242424242424242" {
		t.Errorf("fill value = %q, %v", v, err)
	}
	def := compile(t, `probes: [{name: p, kind: browser, steps: [{name: a, navigate: "http://x/"}]}]`, nil)[0].browser
	if def.screenshots != config.ScreenshotsOnFailure || !def.failOnConsole {
		t.Errorf("defaults: %+v", def)
	}
}
