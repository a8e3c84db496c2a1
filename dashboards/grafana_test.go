package dashboards

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/slo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func grafanaSpecs(t *testing.T) []*slo.Spec {
	t.Helper()
	cfg, err := config.Parse("grafana.yaml", []byte(`
probes:
  - {name: checkout, interval: 30s, steps: [{name: home, request: {method: GET, url: "https://shop.example.com/"}}]}
slos:
  - {name: checkout-availability, service: checkout, labels: {team: payments}, objective: 99.9, window: 30d, sli: {probe: checkout}}
  - {name: storefront-lcp, service: storefront, objective: 95, window: 28d, sli: {rum: {metric: lcp, threshold: 2500ms}}}
  - {name: orders, objective: 99, window: 7d, sli: {events: {}}}
`), config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	specs, ps := slo.Compile(cfg.SLOs, []slo.ProbeRef{{Name: "checkout"}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	return specs
}

func TestGrafanaGolden(t *testing.T) {
	boards, err := GrafanaBoards(grafanaSpecs(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(boards) != 3 {
		t.Fatalf("got %d boards, want 3", len(boards))
	}
	for _, b := range boards {
		path := filepath.Join("testdata", b.File+".golden")
		if *update {
			if err := os.WriteFile(path, b.JSON, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(want, b.JSON) {
			t.Errorf("%s differs from %s; run go test ./dashboards -run Grafana -update and review the diff", b.File, path)
		}
	}
}

// TestGrafanaImportable checks what Grafana needs to import a board: a
// uid, a title, a schemaVersion, the datasource variable every query uses,
// unique panel IDs and panels inside the 24-column grid.
func TestGrafanaImportable(t *testing.T) {
	boards, err := GrafanaBoards(grafanaSpecs(t))
	if err != nil {
		t.Fatal(err)
	}
	uids := map[string]bool{}
	for _, b := range boards {
		var d map[string]any
		if err := json.Unmarshal(b.JSON, &d); err != nil {
			t.Fatalf("%s: not JSON: %v", b.File, err)
		}
		uid, _ := d["uid"].(string)
		if uid == "" || len(uid) > 40 || uids[uid] {
			t.Errorf("%s: bad or duplicate uid %q", b.File, uid)
		}
		uids[uid] = true
		if d["title"] == "" || d["schemaVersion"] != float64(GrafanaSchemaVersion) {
			t.Errorf("%s: title %v, schemaVersion %v", b.File, d["title"], d["schemaVersion"])
		}
		vars := d["templating"].(map[string]any)["list"].([]any)
		first := vars[0].(map[string]any)
		if first["name"] != "datasource" || first["type"] != "datasource" || first["query"] != "prometheus" {
			t.Errorf("%s: the first variable is %v, want the prometheus datasource", b.File, first)
		}
		ids := map[float64]bool{}
		for _, p := range d["panels"].([]any) {
			p := p.(map[string]any)
			id := p["id"].(float64)
			if ids[id] {
				t.Errorf("%s: duplicate panel id %v", b.File, id)
			}
			ids[id] = true
			g := p["gridPos"].(map[string]any)
			if g["x"].(float64)+g["w"].(float64) > 24 {
				t.Errorf("%s: panel %q overflows the grid", b.File, p["title"])
			}
			if p["type"] == "row" {
				continue
			}
			if ds := p["datasource"].(map[string]any); ds["uid"] != "${datasource}" {
				t.Errorf("%s: panel %q uses datasource %v", b.File, p["title"], ds)
			}
			for _, tg := range p["targets"].([]any) {
				if strings.TrimSpace(tg.(map[string]any)["expr"].(string)) == "" {
					t.Errorf("%s: panel %q has an empty query", b.File, p["title"])
				}
			}
		}
	}
}

// TestGrafanaUsesExportedRecords checks every slo:* series the SLO board
// queries is recorded by `sentinel slo rules`, with the same labels.
func TestGrafanaUsesExportedRecords(t *testing.T) {
	specs := grafanaSpecs(t)
	rules, err := slo.RulesYAML(specs)
	if err != nil {
		t.Fatal(err)
	}
	boards, err := GrafanaBoards(specs)
	if err != nil {
		t.Fatal(err)
	}
	records := map[string]bool{}
	for _, m := range regexp.MustCompile(`record: (\S+)`).FindAllStringSubmatch(string(rules), -1) {
		records[m[1]] = true
	}
	used := regexp.MustCompile(`\b(slo:[a-z_]+:[a-z_0-9]+|sloth_slo_info)\b`).FindAllString(string(boards[0].JSON), -1)
	if len(used) < 10 {
		t.Fatalf("the SLO board uses only %d recorded series", len(used))
	}
	for _, u := range used {
		if !records[u] {
			t.Errorf("the SLO board queries %s, which the rule export does not record", u)
		}
	}
	for _, sp := range specs {
		id := slo.SlothID(sp)
		if !strings.Contains(string(rules), "sloth_id: "+id) || !strings.Contains(string(boards[0].JSON), `sloth_id=\"`+id+`\"`) {
			t.Errorf("sloth_id %s is not in both the rules and the board", id)
		}
	}
	for _, want := range []string{"probe_success", "probe_duration_seconds", "probe_http_duration_seconds", "probe_http_status_code", "probe_ssl_earliest_cert_expiry"} {
		if !strings.Contains(string(boards[1].JSON), want) {
			t.Errorf("the probe board does not use %s", want)
		}
	}
	for _, want := range []string{"sentinel_rum_lcp_seconds_bucket", "sentinel_rum_inp_seconds_bucket", "sentinel_rum_cls_bucket", "sentinel_rum_fcp_seconds_bucket", "sentinel_rum_ttfb_seconds_bucket", "sentinel_rum_page_views_total", "sentinel_rum_js_errors_total"} {
		if !strings.Contains(string(boards[2].JSON), want) {
			t.Errorf("the RUM board does not use %s", want)
		}
	}
}
