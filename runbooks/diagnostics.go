package runbooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Limits of diagnostics in a runbook's front matter.
const (
	// MaxDiagnostics caps the diagnostics of one runbook.
	MaxDiagnostics = 10
	// DefaultDiagnosticTimeout bounds one HTTP diagnostic unless it says
	// otherwise; MaxDiagnosticTimeout is the most it may ask for.
	DefaultDiagnosticTimeout = 10 * time.Second
	MaxDiagnosticTimeout     = time.Minute
	// diagnosticBodyBytes is how much of an HTTP answer the output quotes.
	diagnosticBodyBytes = 200
)

// Diagnostic is one check a runbook asks Sentinel to run when a matching
// incident opens, so the responder finds its output in the timeline before
// opening a laptop: an HTTP GET with an expected status, or one run of a
// configured probe.
type Diagnostic struct {
	// Name labels the output; it defaults to what the check does.
	Name string `json:"name"`
	// HTTP is a GET of URL expecting ExpectStatus.
	HTTP *HTTPDiagnostic `json:"http,omitempty"`
	// Probe names a configured probe to run once, now.
	Probe string `json:"probe,omitempty"`
	// Line is where the diagnostic starts in its file.
	Line int `json:"-"`
}

// HTTPDiagnostic is a GET with an expected status.
type HTTPDiagnostic struct {
	URL          string         `json:"url"`
	ExpectStatus int            `json:"expect_status"`
	Timeout      model.Duration `json:"timeout"`
}

var (
	diagnosticKeys = []string{"name", "http", "probe"}
	httpKeys       = []string{"url", "expect_status", "timeout"}
)

// parseDiagnostics decodes and checks the diagnostics: list of a front
// matter; lines are the header's (file line = header line + 1).
func parseDiagnostics(node *yaml.Node, file string) ([]Diagnostic, config.Problems) {
	var ps config.Problems
	add := func(n *yaml.Node, path, format string, args ...any) {
		line, col := 2, 1
		if n != nil {
			line, col = n.Line+1, n.Column
		}
		ps = append(ps, config.Problem{File: file, Line: line, Column: col, Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if node == nil || node.Kind == 0 || (node.Kind == yaml.ScalarNode && node.Tag == "!!null") {
		return nil, nil
	}
	if node.Kind != yaml.SequenceNode {
		add(node, "diagnostics", "must be a list of checks")
		return nil, ps
	}
	if len(node.Content) > MaxDiagnostics {
		add(node, "diagnostics", "at most %d diagnostics, got %d", MaxDiagnostics, len(node.Content))
		return nil, ps
	}
	var out []Diagnostic
	for i, item := range node.Content {
		path := fmt.Sprintf("diagnostics[%d]", i)
		if !strictKeys(item, diagnosticKeys, path, add) {
			continue
		}
		var raw struct {
			Name  string    `yaml:"name"`
			HTTP  yaml.Node `yaml:"http"`
			Probe string    `yaml:"probe"`
		}
		if err := item.Decode(&raw); err != nil {
			add(item, path, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			continue
		}
		d := Diagnostic{Name: strings.TrimSpace(raw.Name), Probe: strings.TrimSpace(raw.Probe), Line: item.Line + 1}
		hasHTTP := raw.HTTP.Kind != 0
		switch {
		case hasHTTP && d.Probe != "":
			add(item, path, "give either http or probe, not both")
			continue
		case !hasHTTP && d.Probe == "":
			add(item, path, "give http: {url: ..., expect_status: 200} or probe: NAME")
			continue
		case hasHTTP:
			h, ok := parseHTTPDiagnostic(&raw.HTTP, path+".http", add)
			if !ok {
				continue
			}
			d.HTTP = h
			if d.Name == "" {
				d.Name = "GET " + h.URL
			}
		default:
			if d.Name == "" {
				d.Name = "probe " + d.Probe
			}
		}
		out = append(out, d)
	}
	return out, ps
}

func parseHTTPDiagnostic(n *yaml.Node, path string, add func(*yaml.Node, string, string, ...any)) (*HTTPDiagnostic, bool) {
	if !strictKeys(n, httpKeys, path, add) {
		return nil, false
	}
	var raw struct {
		URL          string         `yaml:"url"`
		ExpectStatus int            `yaml:"expect_status"`
		Timeout      model.Duration `yaml:"timeout"`
	}
	if err := n.Decode(&raw); err != nil {
		add(n, path, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil, false
	}
	ok := true
	u, err := url.Parse(raw.URL)
	switch {
	case raw.URL == "":
		add(n, path+".url", "required")
		ok = false
	case err != nil:
		add(n, path+".url", "not a URL: %v", err)
		ok = false
	case u.Scheme != "http" && u.Scheme != "https":
		add(n, path+".url", "scheme must be http or https, got %q", u.Scheme)
		ok = false
	case u.Host == "":
		add(n, path+".url", "missing host")
		ok = false
	}
	h := &HTTPDiagnostic{URL: raw.URL, ExpectStatus: raw.ExpectStatus, Timeout: raw.Timeout}
	if h.ExpectStatus == 0 {
		h.ExpectStatus = http.StatusOK
	}
	if h.ExpectStatus < 100 || h.ExpectStatus > 599 {
		add(n, path+".expect_status", "must be an HTTP status between 100 and 599, got %d", h.ExpectStatus)
		ok = false
	}
	if h.Timeout == 0 {
		h.Timeout = model.Duration(DefaultDiagnosticTimeout)
	}
	if h.Timeout < 0 || h.Timeout.Std() > MaxDiagnosticTimeout {
		add(n, path+".timeout", "must be between 0 and %s, got %s", model.Duration(MaxDiagnosticTimeout), h.Timeout)
		ok = false
	}
	return h, ok
}

// strictKeys refuses a node that is not a mapping or has keys outside
// allowed (yaml.v3's KnownFields does not reach into nodes decoded by hand).
func strictKeys(n *yaml.Node, allowed []string, path string, add func(*yaml.Node, string, string, ...any)) bool {
	if n.Kind != yaml.MappingNode {
		add(n, path, "must be a mapping")
		return false
	}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		known := false
		for _, a := range allowed {
			if k.Value == a {
				known = true
			}
		}
		if !known {
			add(k, path, "unknown key %q (want one of %s)", k.Value, strings.Join(allowed, ", "))
			ok = false
		}
	}
	return ok
}

// CheckProbes reports diagnostics that name a probe not in known, with
// their file and line (check config calls it with the configured probes).
func (c *Catalogue) CheckProbes(known []string) config.Problems {
	set := map[string]bool{}
	for _, k := range known {
		set[k] = true
	}
	var ps config.Problems
	for _, rb := range c.List() {
		for i, d := range rb.Diagnostics {
			if d.Probe != "" && !set[d.Probe] {
				ps = append(ps, config.Problem{File: rb.Path, Line: d.Line, Column: 1, Path: fmt.Sprintf("diagnostics[%d].probe", i),
					Message: fmt.Sprintf("no probe named %q is configured", d.Probe)})
			}
		}
	}
	return ps
}

// ProbeRunner runs a configured probe once, now; internal/app adapts the
// probes service to it.
type ProbeRunner interface {
	RunProbe(ctx context.Context, name string) (ProbeOutcome, error)
}

// ProbeOutcome is what a probe run tells a diagnostic.
type ProbeOutcome struct {
	Success bool
	// Summary says what happened (the failed step and its error).
	Summary string
}

// DiagnosticEnv is what diagnostics run with.
type DiagnosticEnv struct {
	// Client makes the HTTP GETs; nil means a plain client (each request
	// is still bounded by the diagnostic's timeout).
	Client *http.Client
	// Probes runs probe diagnostics; nil makes them report that probes
	// are not available.
	Probes ProbeRunner
}

// DiagnosticResult is the output of one diagnostic.
type DiagnosticResult struct {
	Name     string
	OK       bool
	Text     string
	Duration time.Duration
}

// String is the line the incident timeline shows.
func (r DiagnosticResult) String() string {
	verdict := "ok"
	if !r.OK {
		verdict = "FAILED"
	}
	return fmt.Sprintf("diagnostic %q %s: %s", r.Name, verdict, r.Text)
}

// Run runs the diagnostic; the result says what happened and never panics.
// ctx bounds it as well as the diagnostic's own timeout.
func (d Diagnostic) Run(ctx context.Context, env DiagnosticEnv) DiagnosticResult {
	start := time.Now()
	res := DiagnosticResult{Name: d.Name}
	switch {
	case d.HTTP != nil:
		res.OK, res.Text = d.HTTP.run(ctx, env.Client)
	case d.Probe != "" && env.Probes == nil:
		res.Text = "probes are not available here"
	case d.Probe != "":
		out, err := env.Probes.RunProbe(ctx, d.Probe)
		switch {
		case err != nil:
			res.Text = fmt.Sprintf("probe %s could not run: %v", d.Probe, err)
		case out.Success:
			res.OK, res.Text = true, fmt.Sprintf("probe %s passed", d.Probe)
		default:
			res.Text = fmt.Sprintf("probe %s failed: %s", d.Probe, out.Summary)
		}
	default:
		res.Text = "nothing to run"
	}
	res.Duration = time.Since(start)
	return res
}

func (h *HTTPDiagnostic) run(ctx context.Context, client *http.Client) (bool, string) {
	if client == nil {
		client = &http.Client{}
	}
	ctx, cancel := context.WithTimeout(ctx, h.Timeout.Std())
	defer cancel()
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return false, fmt.Sprintf("GET %s: %v", h.URL, err)
	}
	req.Header.Set("User-Agent", "sentinel-diagnostic")
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return false, fmt.Sprintf("GET %s: no answer within %s", h.URL, h.Timeout)
		}
		return false, fmt.Sprintf("GET %s: %v", h.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, diagnosticBodyBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	took := time.Since(start).Round(time.Millisecond)
	text := fmt.Sprintf("GET %s answered %d in %s", h.URL, resp.StatusCode, took)
	ok := resp.StatusCode == h.ExpectStatus
	if !ok {
		text += fmt.Sprintf(" (expected %d)", h.ExpectStatus)
	}
	if snippet := oneLine(string(body)); snippet != "" {
		text += fmt.Sprintf("; body: %q", snippet)
	}
	return ok, text
}

// oneLine folds whitespace and drops control characters, for quoting an
// answer's body in one timeline line.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case !unicode.IsPrint(r):
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
