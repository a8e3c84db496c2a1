package config

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sentinel-oss/sentinel/model"
)

// Browser journey defaults, applied by ApplyProbeDefaults and listed in
// docs/probes.md. A browser run costs far more than an HTTP one, so browser
// journeys run less often and get longer to finish.
const (
	DefaultBrowserInterval = time.Minute
	DefaultBrowserTimeout  = 30 * time.Second
)

// ProbeBrowserSettings are the settings shared by every browser journey
// (probe_settings.browser).
type ProbeBrowserSettings struct {
	// MaxConcurrent caps the browsers running at once (0: half the CPU
	// cores, at least 1). Runs waiting for a browser wait before their
	// timeout starts.
	MaxConcurrent int `yaml:"max_concurrent"`
	// Executable is the Chromium binary (default: chromium,
	// chromium-browser, google-chrome or headless_shell found in PATH).
	Executable string `yaml:"executable"`
	// ProfileDir is where each run's temporary profile is made (default:
	// the system's temporary directory).
	ProfileDir string `yaml:"profile_dir"`
}

// ScreenshotMode says which steps of a browser journey keep a screenshot.
type ScreenshotMode string

// The screenshot modes.
const (
	ScreenshotsOnFailure ScreenshotMode = "on_failure"
	ScreenshotsEveryStep ScreenshotMode = "every_step"
	ScreenshotsOff       ScreenshotMode = "off"
)

// ProbeBrowser are the settings of one browser journey (probes[].browser).
type ProbeBrowser struct {
	// Screenshots is on_failure (default: the failing step's page),
	// every_step, or off.
	Screenshots ScreenshotMode `yaml:"screenshots"`
	// FailOnConsoleErrors fails a step during which the page threw an
	// uncaught exception or called console.error (default true).
	FailOnConsoleErrors *bool `yaml:"fail_on_console_errors"`
	// FailOnFailedRequests fails a step during which a request of the page
	// failed or was answered with a status of 400 or more (default false:
	// they are only recorded).
	FailOnFailedRequests bool `yaml:"fail_on_failed_requests"`
}

// BrowserInput is what fill and select act on: the element (a CSS selector)
// and the value, which may hold {{ .secret }} templates.
type BrowserInput struct {
	Selector string `yaml:"selector"`
	Value    string `yaml:"value"`
}

// WaitFor waits until an element (a CSS selector) is visible; written as a
// bare selector or as {selector: "#cart", timeout: 5s}.
type WaitFor struct {
	Selector string
	// Timeout bounds the wait (0: what is left of the step).
	Timeout model.Duration
}

// UnmarshalYAML reads a selector or a mapping with selector and timeout.
func (w *WaitFor) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*w = WaitFor{Selector: n.Value}
		return nil
	}
	var out WaitFor
	err := decodeStrictMapping(n, "a CSS selector, or a mapping such as {selector: \"#cart\", timeout: 5s}", map[string]func(*yaml.Node) error{
		"selector": func(v *yaml.Node) error { return decodeScalar(v, &out.Selector) },
		"timeout":  func(v *yaml.Node) error { return v.Decode(&out.Timeout) },
	})
	if err != nil {
		return err
	}
	*w = out
	return nil
}

// AssertText checks that text appears on the page: written as bare text
// (the page's visible text must contain it) or as {selector: h1, text:
// Kettle} (that element's visible text must contain it).
type AssertText struct {
	Selector string
	Text     string
}

// UnmarshalYAML reads text or a mapping with selector and text.
func (a *AssertText) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*a = AssertText{Text: n.Value}
		return nil
	}
	var out AssertText
	err := decodeStrictMapping(n, "text, or a mapping such as {selector: h1, text: Kettle}", map[string]func(*yaml.Node) error{
		"selector": func(v *yaml.Node) error { return decodeScalar(v, &out.Selector) },
		"text":     func(v *yaml.Node) error { return decodeScalar(v, &out.Text) },
	})
	if err != nil {
		return err
	}
	*a = out
	return nil
}

// AssertURL checks the page's URL at the end of a step: written as bare
// text (the URL must contain it) or as {matches: REGEX}.
type AssertURL struct {
	Contains string
	Matches  string
}

// UnmarshalYAML reads text or a mapping with exactly one of contains and
// matches.
func (a *AssertURL) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*a = AssertURL{Contains: n.Value}
		return nil
	}
	var out AssertURL
	err := decodeStrictMapping(n, "text the URL must contain, or a mapping such as {matches: '/cart$'}", map[string]func(*yaml.Node) error{
		"contains": func(v *yaml.Node) error { return decodeScalar(v, &out.Contains) },
		"matches":  func(v *yaml.Node) error { return decodeScalar(v, &out.Matches) },
	})
	if err != nil {
		return err
	}
	if (out.Contains == "") == (out.Matches == "") {
		return fmt.Errorf("set exactly one of contains and matches")
	}
	*a = out
	return nil
}

// decodeStrictMapping decodes a mapping key by key, refusing unknown and
// repeated keys (yaml.v3's strictness does not reach inside a custom
// UnmarshalYAML).
func decodeStrictMapping(n *yaml.Node, want string, keys map[string]func(*yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("expected %s", want)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		dec, ok := keys[k.Value]
		if !ok {
			return fmt.Errorf("unknown key %q: expected %s", k.Value, want)
		}
		if seen[k.Value] {
			return fmt.Errorf("key %q appears twice", k.Value)
		}
		seen[k.Value] = true
		if err := dec(v); err != nil {
			return fmt.Errorf("%s: %w", k.Value, err)
		}
	}
	return nil
}

func decodeScalar(n *yaml.Node, out *string) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a string")
	}
	*out = n.Value
	return nil
}

// applyBrowserDefaults fills the defaults of a browser journey; its steps
// have none (HTTP step defaults would read as request keys set on them).
func applyBrowserDefaults(p *Probe) {
	if p.Browser.Screenshots == "" {
		p.Browser.Screenshots = ScreenshotsOnFailure
	}
	if p.Browser.FailOnConsoleErrors == nil {
		t := true
		p.Browser.FailOnConsoleErrors = &t
	}
}
