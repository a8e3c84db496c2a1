package slo

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite golden files")

func goldenSpecs(t testing.TB) []*Spec {
	t.Helper()
	specs, ps := Compile([]config.SLO{
		{Name: "checkout-availability", Service: "checkout", Objective: 99.9, Window: "30d", SLI: config.SLI{Probe: "checkout"},
			Labels: map[string]string{"team": "payments"}},
		{Name: "storefront-lcp", Service: "storefront", Objective: 95, Window: "28d",
			SLI: config.SLI{RUM: &config.SLIRUM{Metric: "lcp", Threshold: "2500ms"}}},
		{Name: "orders", Service: "checkout", Objective: 99, Window: "month", TimeZone: "Europe/Berlin", SLI: config.SLI{Events: &config.SLIEvents{}}},
		{Name: "api-availability", Service: "api", Objective: 99.5, Window: "7d", SLI: config.SLI{Prometheus: &config.SLIPrometheus{
			Errors: `sum(rate(http_requests_total{job="api",code=~"5.."}[{{.window}}]))`,
			Total:  `sum(rate(http_requests_total{job="api"}[{{ .window }}]))`,
		}}},
	}, []ProbeRef{{Name: "checkout"}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	return specs
}

func TestRulesGolden(t *testing.T) {
	got, err := RulesYAML(goldenSpecs(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "rules.golden.yaml")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./slo -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("rules differ from %s; run go test ./slo -run Golden -update and review the diff", path)
	}
	for _, name := range []string{"slo:sli_error:ratio_rate5m", "slo:sli_error:ratio_rate30d", "slo:sli_error:ratio_rate28d",
		"slo:objective:ratio", "slo:error_budget:ratio", "slo:time_period:days", "slo:current_burn_rate:ratio",
		"slo:period_burn_rate:ratio", "slo:period_error_budget_remaining:ratio", "sloth_slo_info", "sloth_window", "sloth_severity: page",
		"> 0.0144", "> 0.672", "> 0.14"} {
		if !bytes.Contains(got, []byte(name)) {
			t.Errorf("rules lack %q", name)
		}
	}
}

func TestRulesPromtoolCheck(t *testing.T) {
	promtool := testutil.RequireTool(t, "prometheus", "promtool")
	got, err := RulesYAML(goldenSpecs(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(path, got, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

// alertRule finds the named alert of the SLO in the rules.
func alertRule(t *testing.T, f RuleFile, sp *Spec, alert string) Rule {
	t.Helper()
	for _, g := range f.Groups {
		if g.Name != "sentinel-slo-alerts-"+SlothID(sp) {
			continue
		}
		for _, r := range g.Rules {
			if r.Alert == alert {
				return r
			}
		}
	}
	t.Fatalf("no alert %s for %s", alert, sp.Name)
	return Rule{}
}

// TestRulesPromtoolBurn runs the exported rules in promtool's rule tests:
// the page alert fires once a burn above 14.4x (15x) has lasted about an
// hour, not after half an hour, and never at 1x.
func TestRulesPromtoolBurn(t *testing.T) {
	promtool := testutil.RequireTool(t, "prometheus", "promtool")
	specs := goldenSpecs(t)[:1] // checkout-availability: 99.9% over 30d
	sp := specs[0]
	rules := Rules(specs)
	rulesYAML, err := RulesYAML(specs)
	if err != nil {
		t.Fatal(err)
	}
	page := alertRule(t, rules, sp, AlertPage)
	labels := map[string]string{"sloth_id": SlothID(sp), "sloth_service": serviceOf(sp), "sloth_slo": sp.Name}
	for k, v := range page.Labels {
		labels[k] = v
	}
	type alert struct {
		Labels      map[string]string `yaml:"exp_labels"`
		Annotations map[string]string `yaml:"exp_annotations"`
	}
	type alertTest struct {
		EvalTime  string  `yaml:"eval_time"`
		Alertname string  `yaml:"alertname"`
		Alerts    []alert `yaml:"exp_alerts"`
	}
	type series struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	type testCase struct {
		Interval string      `yaml:"interval"`
		Input    []series    `yaml:"input_series"`
		Alerts   []alertTest `yaml:"alert_rule_test"`
	}
	good := fmt.Sprintf(`%s{slo=%q,result="good"}`, EventsMetric, sp.Name)
	bad := fmt.Sprintf(`%s{slo=%q,result="bad"}`, EventsMetric, sp.Name)
	firing := []alert{{Labels: labels, Annotations: page.Annotations}}
	doc := map[string]any{
		"rule_files":          []string{"rules.yaml"},
		"evaluation_interval": "1m",
		"tests": []testCase{
			{ // 3h clean, then 15x burn: 15 bad of 1000 events a minute.
				Interval: "1m",
				Input: []series{
					{good, "0+1000x179 180000+985x120"},
					{bad, "0x179 0+15x120"},
				},
				Alerts: []alertTest{
					{"2h", AlertPage, nil},
					{"3h30m", AlertPage, nil},   // 30 minutes in: the 1h window is not there yet
					{"4h5m", AlertPage, firing}, // over an hour in: both windows above 14.4x
					// (With only 4h of history the 1d, 3d and 30d windows hold the
					// burn too, so ticket and budget-exhausted fire as well.)
				},
			},
			{ // 6h at exactly the budget: 1 bad of 1000 a minute.
				Interval: "1m",
				Input: []series{
					{good, "0+999x360"},
					{bad, "0+1x360"},
				},
				Alerts: []alertTest{
					{"1h", AlertPage, nil},
					{"3h", AlertPage, nil},
					{"6h", AlertPage, nil},
				},
			},
		},
	}
	testYAML, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	promtoolTest(t, promtool, rulesYAML, testYAML)
}

// promtoolTest runs `promtool test rules` on a test file over a rule file.
func promtoolTest(t *testing.T, promtool string, rulesYAML, testYAML []byte) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rulesYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), testYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", "test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool test rules: %v\n%s\ntest file:\n%s", err, out, testYAML)
	}
}

// TestRulesPromtoolTimeslices runs the exported rules of timeslices and
// ratio_timeslices SLOs in promtool: 100 events a minute, 1 bad a minute
// for an hour (every slice good at a 95% target), then 10 bad a minute
// (every slice bad). The 30m error is 0 in the first hour and 1 in the
// second for timeslices, and the slices' mean error ratio, 0.01 then 0.1,
// for ratio_timeslices.
func TestRulesPromtoolTimeslices(t *testing.T) {
	promtool := testutil.RequireTool(t, "prometheus", "promtool")
	specs, ps := Compile([]config.SLO{
		{Name: "minutes", Service: "shop", Objective: 99.9, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}},
			Budgeting: "timeslices", TimesliceTarget: 95},
		{Name: "ratios", Service: "shop", Objective: 99.9, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}},
			Budgeting: "ratio_timeslices"},
	}, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	rulesYAML, err := RulesYAML(specs)
	if err != nil {
		t.Fatal(err)
	}
	type sample struct {
		Labels string  `yaml:"labels"`
		Value  float64 `yaml:"value"`
	}
	type exprTest struct {
		Expr     string   `yaml:"expr"`
		EvalTime string   `yaml:"eval_time"`
		Samples  []sample `yaml:"exp_samples"`
	}
	type series struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	var input []series
	var tests []exprTest
	for _, sp := range specs {
		for _, res := range []string{"good", "bad"} {
			v := "0+99x60 5940+90x60"
			if res == "bad" {
				v = "0+1x60 60+10x60"
			}
			input = append(input, series{fmt.Sprintf(`%s{slo=%q,result=%q}`, EventsMetric, sp.Name, res), v})
		}
		first, second := 0.0, 1.0
		if sp.Budgeting == RatioTimeslices {
			first, second = 0.01, 0.1
		}
		lbl := fmt.Sprintf(`slo:sli_error:ratio_rate30m{sloth_id=%q, sloth_service="shop", sloth_slo=%q, sloth_window="30m"}`, SlothID(sp), sp.Name)
		for _, c := range []struct {
			at string
			v  float64
		}{{"50m", first}, {"2h", second}} {
			tests = append(tests, exprTest{Expr: fmt.Sprintf(`slo:sli_error:ratio_rate30m{sloth_slo=%q}`, sp.Name), EvalTime: c.at,
				Samples: []sample{{lbl, c.v}}})
		}
	}
	doc := map[string]any{
		"rule_files":          []string{"rules.yaml"},
		"evaluation_interval": "1m",
		"tests":               []map[string]any{{"interval": "1m", "input_series": input, "promql_expr_test": tests}},
	}
	testYAML, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	promtoolTest(t, promtool, rulesYAML, testYAML)
}
