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
var domain = []string{"probes", "rum", "slo", "alerting", "incidents", "runbooks", "changes", "audit", "statuspage"}

// allowed lists, per room (top-level package), the rooms it may import
// inside the module; docs/architecture.md shows the same table.
var allowed = map[string][]string{
	"cmd/sentinel":       {"internal/app", "config", "model"},
	"internal/app":       {"*"},
	"config":             {"model"},
	"model":              {},
	"probes":             {"model", "config"},
	"rum":                {"model", "config", "internal/ratelimit"},
	"slo":                {"model", "config"},
	"alerting":           {"model", "config", "slo", "runbooks", "internal/jsonerr"},
	"incidents":          {"model", "config", "alerting", "runbooks"},
	"runbooks":           {"model", "config"},
	"changes":            {"model"},
	"audit":              {"model", "config"},
	"statuspage":         {"model", "config"},
	"dashboards":         append([]string{"config", "model"}, domain...),
	"store":              append([]string{"config", "model"}, domain...),
	"slack":              {"incidents", "alerting", "runbooks", "model", "config"},
	"prom":               {"alerting", "slo", "model", "config"},
	"web":                append([]string{"dashboards", "config", "model", "internal/ratelimit", "internal/jsonerr"}, domain...),
	"logship":            {"model", "config"},
	"demo":               {},
	"internal/testutil":  {},
	"internal/ratelimit": {},
	"internal/jsonerr":   {},
	"scripts":            {},    // measuring tools run by hand, not part of the binary
	"internal/e2e":       {},    // tests only: no non-test code
	"":                   {"*"}, // this file's own package
}

// exclusive external libraries: only the named room may import them, so
// gin, bbolt, slack-go, loki-client-go and pgx stay in their adapter.
var exclusive = map[string]string{
	"github.com/gin-gonic/gin":          "web",
	"go.etcd.io/bbolt":                  "store",
	"github.com/slack-go/slack":         "slack",
	"github.com/grafana/loki-client-go": "logship",
	"github.com/jackc/pgx":              "store",
}

// alertmanagerRooms says which rooms may import which of Alertmanager's
// packages (first matching prefix wins). Its pure data and parsing
// packages (matchers, time intervals, the template data that is the
// webhook body) are light and are how alerting speaks Alertmanager
// exactly; the API v2 models serve (web) and push (prom) its JSON; the
// rest of the module (notify, dispatch, the generated client) pulls gRPC,
// OpenTelemetry and go-openapi's runtime and stays in prom.
var alertmanagerRooms = []struct {
	prefix string
	rooms  []string
}{
	{"github.com/prometheus/alertmanager/pkg/labels", []string{"alerting", "web", "prom"}},
	{"github.com/prometheus/alertmanager/matcher/", []string{"alerting", "web", "prom"}},
	{"github.com/prometheus/alertmanager/timeinterval", []string{"alerting", "web", "prom"}},
	{"github.com/prometheus/alertmanager/template", []string{"alerting", "web", "prom"}},
	{"github.com/prometheus/alertmanager/api/v2/models", []string{"web", "prom"}},
	{"github.com/prometheus/alertmanager", []string{"prom"}},
}

// heavy are libraries no domain package may reach, even indirectly.
var heavy = []string{"google.golang.org/grpc", "go.opentelemetry.io/", "github.com/go-openapi/runtime", "github.com/gin-gonic/gin"}

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
			for _, am := range alertmanagerRooms {
				if imp == am.prefix || strings.HasPrefix(imp, strings.TrimSuffix(am.prefix, "/")+"/") {
					if !permits(am.rooms, room) {
						t.Errorf("%s imports %s, which only %v may import", pkg, imp, am.rooms)
					}
					break
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

// TestDomainStaysLight checks what domain packages pull in transitively:
// Alertmanager's light packages may not drag its heavy ones (or gRPC)
// into the domain.
func TestDomainStaysLight(t *testing.T) {
	for _, d := range domain {
		out, err := exec.Command("go", "list", "-deps", "./"+d).Output()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v", d, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, h := range heavy {
				if dep == strings.TrimSuffix(h, "/") || strings.HasPrefix(dep, h) && (strings.HasSuffix(h, "/") || strings.HasPrefix(dep, h+"/")) {
					t.Errorf("%s depends on %s (through its imports); keep it in an adapter", d, dep)
				}
			}
		}
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
