// Package sentinel_test holds repository-wide checks; it has no code of its own.
package sentinel_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/sentinel-oss/sentinel"

// domain packages hold the product's logic and stay free of adapters.
var domain = []string{"probes", "rum", "slo", "alerting", "incidents", "runbooks"}

// allowed lists, per room (top-level package), the rooms it may import
// inside the module; docs/architecture.md shows the same table.
var allowed = map[string][]string{
	"cmd/sentinel":      {"internal/app", "config", "model"},
	"internal/app":      {"*"},
	"config":            {"model"},
	"model":             {},
	"probes":            {"model", "config"},
	"rum":               {"model", "config"},
	"slo":               {"model", "config"},
	"alerting":          {"model", "config", "slo", "runbooks"},
	"incidents":         {"model", "config", "alerting", "runbooks"},
	"runbooks":          {"model", "config"},
	"dashboards":        append([]string{"config", "model"}, domain...),
	"store":             append([]string{"config", "model"}, domain...),
	"slack":             {"incidents", "alerting", "runbooks", "model", "config"},
	"prom":              {"alerting", "slo", "model", "config"},
	"web":               append([]string{"dashboards", "config", "model"}, domain...),
	"logship":           {"model", "config"},
	"demo":              {},
	"internal/testutil": {},
	"internal/e2e":      {},    // tests only: no non-test code
	"":                  {"*"}, // this file's own package
}

// exclusive external libraries: only the named room may import them, so
// gin, bbolt, slack-go, loki-client-go and alertmanager stay in their adapter.
var exclusive = map[string]string{
	"github.com/gin-gonic/gin":           "web",
	"go.etcd.io/bbolt":                   "store",
	"github.com/slack-go/slack":          "slack",
	"github.com/grafana/loki-client-go":  "logship",
	"github.com/prometheus/alertmanager": "prom",
	"github.com/jackc/pgx":               "store",
}

func roomOf(pkg string) (string, bool) {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	if rel == pkg {
		return "", false
	}
	for room := range allowed {
		if room != "" && (rel == room || strings.HasPrefix(rel, room+"/")) {
			return room, true
		}
	}
	return rel, rel == ""
}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	checked := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg, imports := fields[0], fields[1:]
		room, ok := roomOf(pkg)
		if !ok {
			t.Errorf("package %s belongs to no room in the architecture table; add it there and to docs/architecture.md", pkg)
			continue
		}
		checked++
		for _, imp := range imports {
			for lib, owner := range exclusive {
				if (imp == lib || strings.HasPrefix(imp, lib+"/")) && room != owner {
					t.Errorf("%s imports %s, which only %s may import", pkg, imp, owner)
				}
			}
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			target, ok := roomOf(imp)
			if !ok || target == room {
				continue
			}
			if !permits(allowed[room], target) {
				t.Errorf("%s imports %s: %s may import only %v", pkg, imp, room, allowed[room])
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked only %d packages; is go list working?", checked)
	}
}

func permits(list []string, target string) bool {
	for _, a := range list {
		if a == "*" || a == target {
			return true
		}
	}
	return false
}

func TestGofmt(t *testing.T) {
	out, err := exec.Command("gofmt", "-l", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("gofmt: %v\n%s", err, out)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("files not gofmt-ed:\n%s", s)
	}
}
