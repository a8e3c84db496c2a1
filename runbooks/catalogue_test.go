package runbooks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, text, want string
		line             int
	}{
		{"ok", "---\ntitle: Checkout down\nowners: [payments]\nalerts: [CheckoutProbeFailing]\nlabels: {service: checkout}\nseverity: critical\n---\n# Steps\n", "", 0},
		{"no front matter", "# Steps\n", "missing front matter", 1},
		{"not closed", "---\ntitle: x\n", "not closed", 1},
		{"unknown key", "---\ntitle: x\nowner: bob\n---\n", "field owner not found", 3},
		{"no title", "---\nowners: [a]\n---\n", "title is required", 2},
		{"bad severity", "---\ntitle: x\nseverity: page\n---\n", "unknown severity", 2},
		{"bad yaml", "---\ntitle: [\n---\n", "front matter", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb, ps := Parse("checkout-down", "runbooks/checkout-down.md", []byte(tt.text))
			if tt.want == "" {
				if len(ps) > 0 {
					t.Fatal(ps)
				}
				if rb.Title != "Checkout down" || rb.Labels["service"] != "checkout" || rb.Severity != model.SeverityCritical || rb.Body != "# Steps\n" {
					t.Fatalf("%+v", rb)
				}
				return
			}
			if len(ps) == 0 || !strings.Contains(ps.Error(), tt.want) || ps[0].File != "runbooks/checkout-down.md" {
				t.Fatalf("problems %v, want %q", ps, tt.want)
			}
			if tt.line > 0 && ps[0].Line != tt.line {
				t.Fatalf("line %d, want %d", ps[0].Line, tt.line)
			}
		})
	}
}

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadMatchAndRefresh(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "checkout-down.md", "---\ntitle: Checkout down\nalerts: [CheckoutProbeFailing]\n---\nbody")
	write(t, dir, "checkout.md", "---\ntitle: Checkout in general\nlabels: {service: checkout}\n---\n")
	write(t, dir, "broken.md", "no front matter")
	write(t, dir, "notes.txt", "ignored")
	c, ps := Load(Options{Config: config.Runbooks{Dir: dir, WatchInterval: model.Duration(time.Second)}})
	if len(ps) != 1 || !strings.HasSuffix(ps[0].File, "broken.md") {
		t.Fatalf("problems %v", ps)
	}
	if !c.Has("checkout-down") || c.Has("broken") || len(c.List()) != 2 {
		t.Fatalf("catalogue %+v", c.List())
	}
	if rb, ok := c.Match("CheckoutProbeFailing", model.Labels{"service": "checkout"}); !ok || rb.Name != "checkout-down" {
		t.Fatalf("match by alert: %+v", rb)
	}
	if rb, ok := c.Match("Other", model.Labels{"service": "checkout"}); !ok || rb.Name != "checkout" {
		t.Fatalf("match by labels: %+v", rb)
	}
	if _, ok := c.Match("Other", model.Labels{"service": "search"}); ok {
		t.Fatal("matched nothing relevant")
	}
	if _, err := c.Get("nope"); err == nil {
		t.Fatal("missing runbook found")
	}
	write(t, dir, "search.md", "---\ntitle: Search\n---\n")
	if !c.Refresh() || !c.Has("search") {
		t.Fatal("new file not picked up")
	}
	if c.Refresh() {
		t.Fatal("refresh without changes reported a change")
	}
	missing, ps := Load(Options{Config: config.Runbooks{Dir: filepath.Join(dir, "none")}})
	if len(ps) != 0 || len(missing.List()) != 0 {
		t.Fatalf("missing dir: %v", ps)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("---\ntitle: x\n---\nbody"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("---\r\ntitle: x\r\n---"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rb, ps := Parse("x", "x.md", data)
		if len(ps) == 0 && rb.Title == "" {
			t.Fatal("accepted a runbook without a title")
		}
	})
}
