package runbooks

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

func TestParseDiagnostics(t *testing.T) {
	head := "---\ntitle: T\n"
	cases := []struct {
		name, front string
		want        []Diagnostic
		wantProblem string
		line        int
	}{
		{"none", "", nil, "", 0},
		{"http and probe", "diagnostics:\n  - {name: api, http: {url: \"https://api.example.com/healthz\", expect_status: 204, timeout: 3s}}\n  - probe: checkout\n",
			[]Diagnostic{
				{Name: "api", HTTP: &HTTPDiagnostic{URL: "https://api.example.com/healthz", ExpectStatus: 204, Timeout: model.Duration(3 * time.Second)}, Line: 4},
				{Name: "probe checkout", Probe: "checkout", Line: 5},
			}, "", 0},
		{"defaults", "diagnostics:\n  - http: {url: \"http://x.example\"}\n",
			[]Diagnostic{{Name: "GET http://x.example", HTTP: &HTTPDiagnostic{URL: "http://x.example", ExpectStatus: 200, Timeout: model.Duration(DefaultDiagnosticTimeout)}, Line: 4}}, "", 0},
		{"not a list", "diagnostics: {probe: x}\n", nil, "must be a list", 3},
		{"unknown key", "diagnostics:\n  - {probe: x, command: rm}\n", nil, `unknown key "command"`, 4},
		{"unknown http key", "diagnostics:\n  - http:\n      url: http://x.example\n      method: POST\n", nil, `diagnostics[0].http: unknown key "method"`, 6},
		{"both", "diagnostics:\n  - {probe: x, http: {url: \"http://x.example\"}}\n", nil, "either http or probe", 4},
		{"neither", "diagnostics:\n  - {name: x}\n", nil, "give http", 4},
		{"bad scheme", "diagnostics:\n  - http: {url: \"ftp://x.example\"}\n", nil, "scheme must be http or https", 4},
		{"no host", "diagnostics:\n  - http: {url: \"http:///x\"}\n", nil, "missing host", 4},
		{"bad status", "diagnostics:\n  - http: {url: \"http://x.example\", expect_status: 42}\n", nil, "between 100 and 599", 4},
		{"long timeout", "diagnostics:\n  - http: {url: \"http://x.example\", timeout: 5m}\n", nil, "timeout: must be between", 4},
		{"bad duration", "diagnostics:\n  - http: {url: \"http://x.example\", timeout: soon}\n", nil, "diagnostics[0].http", 4},
		{"too many", "diagnostics:\n" + strings.Repeat("  - probe: x\n", MaxDiagnostics+1), nil, "at most", 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rb, ps := Parse("r", "r.md", []byte(head+c.front+"---\nbody\n"))
			if c.wantProblem == "" {
				if len(ps) > 0 {
					t.Fatal(ps)
				}
				if len(rb.Diagnostics) != len(c.want) {
					t.Fatalf("got %+v", rb.Diagnostics)
				}
				for i, d := range c.want {
					g := rb.Diagnostics[i]
					if g.Name != d.Name || g.Probe != d.Probe || g.Line != d.Line || (d.HTTP == nil) != (g.HTTP == nil) || (d.HTTP != nil && *d.HTTP != *g.HTTP) {
						t.Errorf("diagnostic %d: %+v %+v, want %+v %+v", i, g, g.HTTP, d, d.HTTP)
					}
				}
				return
			}
			if len(ps) == 0 || !strings.Contains(ps.Error(), c.wantProblem) {
				t.Fatalf("problems %v, want %q", ps, c.wantProblem)
			}
			if ps[0].File != "r.md" || ps[0].Line != c.line {
				t.Errorf("position %s:%d, want r.md:%d (%s)", ps[0].File, ps[0].Line, c.line, ps[0])
			}
		})
	}
}

type fakeProbe struct {
	ok  bool
	err error
}

func (f fakeProbe) RunProbe(_ context.Context, name string) (ProbeOutcome, error) {
	return ProbeOutcome{Success: f.ok, Summary: "step pay: status 500"}, f.err
}

func TestRunDiagnostics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			_, _ = io.WriteString(w, "fine\n")
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		default:
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "upstream\x00 down\n"+strings.Repeat("x", 500))
		}
	}))
	defer srv.Close()
	httpDiag := func(path string, timeout time.Duration) Diagnostic {
		return Diagnostic{Name: path, HTTP: &HTTPDiagnostic{URL: srv.URL + path, ExpectStatus: 200, Timeout: model.Duration(timeout)}}
	}
	cases := []struct {
		name string
		d    Diagnostic
		env  DiagnosticEnv
		ok   bool
		want string
	}{
		{"http ok", httpDiag("/ok", time.Second), DiagnosticEnv{Client: srv.Client()}, true, `answered 200 in`},
		{"http wrong status", httpDiag("/bad", time.Second), DiagnosticEnv{Client: srv.Client()}, false, `answered 502 in`},
		{"http timeout", httpDiag("/slow", 50*time.Millisecond), DiagnosticEnv{}, false, "no answer within 50ms"},
		{"probe passes", Diagnostic{Name: "p", Probe: "checkout"}, DiagnosticEnv{Probes: fakeProbe{ok: true}}, true, "probe checkout passed"},
		{"probe fails", Diagnostic{Name: "p", Probe: "checkout"}, DiagnosticEnv{Probes: fakeProbe{}}, false, "probe checkout failed: step pay: status 500"},
		{"probe error", Diagnostic{Name: "p", Probe: "gone"}, DiagnosticEnv{Probes: fakeProbe{err: errors.New("no such probe")}}, false, "could not run: no such probe"},
		{"no probes here", Diagnostic{Name: "p", Probe: "checkout"}, DiagnosticEnv{}, false, "not available"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := c.d.Run(t.Context(), c.env)
			if res.OK != c.ok || !strings.Contains(res.Text, c.want) {
				t.Errorf("got %v %q, want %v containing %q", res.OK, res.Text, c.ok, c.want)
			}
			if strings.ContainsAny(res.Text, "\x00\n") || len(res.Text) > 400 {
				t.Errorf("output must be one bounded line: %q", res.Text)
			}
		})
	}
	res := httpDiag("/bad", time.Second).Run(t.Context(), DiagnosticEnv{})
	if !strings.Contains(res.String(), `"/bad" FAILED: GET`) || !strings.Contains(res.String(), "(expected 200)") {
		t.Errorf("timeline line: %s", res)
	}
}

func TestCheckProbesNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	doc := "---\ntitle: T\ndiagnostics:\n  - probe: checkout\n  - probe: typo\n---\n"
	if err := os.WriteFile(filepath.Join(dir, "r.md"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, ps := Load(Options{Config: config.Runbooks{Dir: dir}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	ps = cat.CheckProbes([]string{"checkout"})
	if len(ps) != 1 || ps[0].Line != 5 || !strings.HasSuffix(ps[0].File, "r.md") || !strings.Contains(ps[0].String(), `diagnostics[1].probe: no probe named "typo"`) {
		t.Errorf("problems: %v", ps)
	}
}

func FuzzParseFrontMatter(f *testing.F) {
	f.Add([]byte("---\ntitle: T\ndiagnostics:\n  - {probe: x}\n  - http: {url: \"http://x\", expect_status: 200}\n---\nbody"))
	f.Add([]byte("---\ntitle: T\ndiagnostics: [[1]]\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rb, ps := Parse("r", "r.md", data)
		if len(ps) == 0 && rb.Title == "" {
			t.Fatal("accepted without a title")
		}
		for _, d := range rb.Diagnostics {
			if (d.HTTP == nil) == (d.Probe == "") {
				t.Fatalf("diagnostic with both or neither: %+v", d)
			}
		}
	})
}
