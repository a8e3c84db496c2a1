package slo

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
)

const slothFile = `version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      page_alert: {labels: {severity: pageteam}}
`

const openSLOFile = `apiVersion: openslo/v1
kind: SLI
metadata:
  name: good-checkouts
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: Prometheus
        spec:
          query: checkout_total{result="ok"}
    total:
      metricSource:
        type: Prometheus
        spec:
          query: checkout_total
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout
  labels: {team: payments}
spec:
  service: shop
  indicatorRef: good-checkouts
  budgetingMethod: Occurrences
  timeWindow:
    - duration: 28d
      isRolling: true
  objectives:
    - target: 0.995
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: latency
spec:
  service: shop
  indicator:
    metadata: {name: latency}
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec:
            query: http_request_duration_seconds_bucket{job="shop"}
  timeWindow:
    - duration: 1M
      isRolling: false
      calendar: {startTime: "2024-01-01 00:00:00", timeZone: Europe/Berlin}
  budgetingMethod: Occurrences
  objectives:
    - displayName: Fast
      op: lte
      value: 0.5
      targetPercent: 95
    - displayName: Very fast
      op: lte
      value: 0.1
      targetPercent: 80
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: lcp}
spec:
  service: storefront
  indicator:
    metadata: {name: lcp}
    spec:
      thresholdMetric:
        metricSource: {type: sentinel, spec: {metric: lcp}}
  timeWindow: [{duration: 30d, isRolling: true}]
  objectives: [{op: lte, value: 2.5, target: 0.75}]
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata: {name: ignored}
spec: {}
`

func mustImport(t *testing.T, in string) Imported {
	t.Helper()
	res, err := Import([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func hasWarning(res Imported, parts ...string) bool {
	for _, w := range res.Warnings {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(w, p)
		}
		if all {
			return true
		}
	}
	return false
}

func TestImportSloth(t *testing.T) {
	res := mustImport(t, slothFile)
	if len(res.SLOs) != 1 || len(res.Warnings) != 0 {
		t.Fatalf("got %d SLOs, warnings %q", len(res.SLOs), res.Warnings)
	}
	s := res.SLOs[0]
	if s.Name != "requests-availability" || s.Service != "myservice" || s.Objective != 99.9 || s.Window != "30d" ||
		s.Labels["owner"] != "myteam" || s.SLI.Prometheus == nil || !strings.Contains(s.SLI.Prometheus.Errors, "429") {
		t.Errorf("converted = %+v", s)
	}
	if s.Alerting == nil || s.Alerting.Name != "MyServiceHighErrorRate" || s.Alerting.Page.Labels["severity"] != "pageteam" {
		t.Errorf("alerting = %+v", s.Alerting)
	}
}

// A Sloth file in the form of Sloth's multifile example: the same SLO name
// in two services, with alerting, plugins and a disabled ticket tier.
const slothMultiFile = `---
version: "prometheus/v1"
service: "cart"
labels: {owner: "shop"}
slo_plugins:
  chain:
    - id: "sloth.dev/core/debug/v1"
slos:
  - name: "requests-availability"
    objective: 99.9
    plugins:
      chain:
        - id: "sloth.dev/contrib/info_labels/v1"
          config: {labels: {a: b}}
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="cart",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="cart"}[{{.window}}]))
    alerting:
      name: CartErrors
      labels: {category: availability}
      annotations: {summary: "Cart errors burn the budget", runbook: "https://runbooks.example.com/cart"}
      page_alert:
        labels: {severity: pageteam, routing_key: shop}
      ticket_alert:
        disable: true
---
version: "prometheus/v1"
service: "payments"
slos:
  - name: "requests-availability"
    objective: 99.99
    frobnicate: yes
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="payments",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="payments"}[{{.window}}]))
    alerting:
      page_alert: {disable: true}
      ticket_alert: {disable: true}
---
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata: {name: search, namespace: monitoring}
spec:
  service: "search"
  sloPlugins:
    chain:
      - id: "sloth.dev/contrib/denominator_corrected_rules/v1"
  slos:
    - name: "latency"
      objective: 99
      sli:
        events:
          errorQuery: sum(rate(search_seconds_count[{{.window}}])) - sum(rate(search_seconds_bucket{le="0.3"}[{{.window}}]))
          totalQuery: sum(rate(search_seconds_count[{{.window}}]))
      alerting:
        name: SearchSlow
        pageAlert: {labels: {severity: critical}}
        ticketAlert: {labels: {severity: warning}}
`

func TestImportSlothFidelity(t *testing.T) {
	res := mustImport(t, slothMultiFile)
	byName := map[string]config.SLO{}
	for _, s := range res.SLOs {
		byName[s.Name] = s
	}
	cart, pay, search := byName["cart-requests-availability"], byName["payments-requests-availability"], byName["latency"]
	if cart.Service != "cart" || pay.Service != "payments" || search.Service != "search" {
		t.Fatalf("SLOs = %+v", res.SLOs)
	}
	for _, want := range [][]string{
		{"requests-availability", "renamed cart-requests-availability", "payments"},
		{"requests-availability", "renamed payments-requests-availability", "cart"},
		{"plugin sloth.dev/core/debug/v1"},
		{"plugin sloth.dev/contrib/info_labels/v1"},
		{"plugin sloth.dev/contrib/denominator_corrected_rules/v1"},
		{"document 2", "frobnicate"},
	} {
		if !hasWarning(res, want...) {
			t.Errorf("no warning with %q in %q", want, res.Warnings)
		}
	}
	a := cart.Alerting
	if a == nil || a.Name != "CartErrors" || a.Labels["category"] != "availability" || a.Annotations["runbook"] == "" ||
		a.Page.Labels["routing_key"] != "shop" || a.Page.Disable || !a.Ticket.Disable {
		t.Errorf("cart alerting = %+v", a)
	}
	if pay.Alerting == nil || !pay.Alerting.Page.Disable || !pay.Alerting.Ticket.Disable {
		t.Errorf("payments alerting = %+v", pay.Alerting)
	}
	if search.Alerting == nil || search.Alerting.Name != "SearchSlow" || search.Alerting.Ticket.Labels["severity"] != "warning" {
		t.Errorf("search alerting = %+v", search.Alerting)
	}

	// The rules Sentinel exports from the import keep all of it.
	specs, ps := Compile(res.SLOs, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	f := Rules(specs)
	var groups []string
	alerts := map[string][]Rule{}
	for _, g := range f.Groups {
		groups = append(groups, g.Name)
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts[g.Name] = append(alerts[g.Name], r)
			}
		}
	}
	if _, ok := alerts["sentinel-slo-alerts-payments-payments-requests-availability"]; ok || len(groups) != 8 {
		t.Errorf("payments has both tiers disabled, so no alert group; groups %v", groups)
	}
	cr := alerts["sentinel-slo-alerts-cart-cart-requests-availability"]
	if len(cr) != 1 || cr[0].Alert != "CartErrors" || cr[0].Labels["severity"] != "pageteam" || cr[0].Labels["routing_key"] != "shop" ||
		cr[0].Labels["category"] != "availability" || cr[0].Labels["sloth_severity"] != "page" ||
		cr[0].Annotations["summary"] != "Cart errors burn the budget" || cr[0].Annotations["runbook"] != "https://runbooks.example.com/cart" {
		t.Errorf("cart alerts = %+v (the ticket tier is disabled)", cr)
	}
	promtoolCheck(t, f)
}

func promtoolCheck(t *testing.T, f RuleFile) {
	t.Helper()
	promtool := testutil.RequireTool(t, "prometheus", "promtool")
	out, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, msg)
	}
}

func TestImportOpenSLO(t *testing.T) {
	res := mustImport(t, openSLOFile)
	slos := res.SLOs
	byName := map[string]config.SLO{}
	for _, s := range slos {
		byName[s.Name] = s
	}
	if len(slos) != 4 {
		t.Fatalf("got %d SLOs: %+v", len(slos), slos)
	}
	c := byName["checkout"]
	if c.Objective != 99.5 || c.Window != "28d" || c.Labels["team"] != "payments" || c.SLI.Prometheus == nil ||
		c.SLI.Prometheus.Total != "sum(rate(checkout_total[{{.window}}]))" ||
		c.SLI.Prometheus.Errors != `(sum(rate(checkout_total[{{.window}}]))) - (sum(rate(checkout_total{result="ok"}[{{.window}}])))` {
		t.Errorf("checkout = %+v %+v", c, c.SLI.Prometheus)
	}
	f := byName["latency-fast"]
	if f.Window != "month" || f.TimeZone != "Europe/Berlin" || f.Objective != 95 || f.SLI.Prometheus == nil ||
		!strings.Contains(f.SLI.Prometheus.Errors, `http_request_duration_seconds_bucket{job="shop", le="0.5"}`) {
		t.Errorf("latency-fast = %+v %+v", f, f.SLI.Prometheus)
	}
	if _, ok := byName["latency-very-fast"]; !ok {
		t.Error("second objective not converted")
	}
	l := byName["lcp"]
	if l.SLI.RUM == nil || l.SLI.RUM.Metric != "lcp" || l.SLI.RUM.Threshold != "2.5s" || l.Objective != 75 {
		t.Errorf("lcp = %+v", l)
	}
	if !hasWarning(res, "AlertPolicy") {
		t.Errorf("warnings %q lack the alert policy", res.Warnings)
	}
	out, _, err := ImportYAML([]byte(openSLOFile))
	if err != nil || !strings.HasPrefix(string(out), "slos:\n") {
		t.Fatalf("yaml = %s, %v", out, err)
	}
	// The output reads back as a valid config.
	cfg, err := config.Parse("imported.yaml", out, config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("imported YAML does not load: %v\n%s", err, out)
	}
	if _, ps := Compile(cfg.SLOs, nil); len(ps) > 0 {
		t.Fatalf("imported SLOs do not compile: %v", ps)
	}
}

// OpenSLO budgeting methods and windows, in the forms of OpenSLO's own
// budgeting examples, as one YAML list (the form the oslo tool accepts).
const openSLOListFile = `- apiVersion: openslo/v1
  kind: SLO
  metadata: {name: availability, displayName: Time the shop was up}
  spec:
    service: shop
    indicator:
      metadata: {name: up}
      spec:
        ratioMetric:
          counter: true
          good: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total{code!~"5.."}'}}}
          total: {metricSource: {type: Prometheus, spec: {query: http_requests_total}}}
    timeWindow:
      - duration: 1M
        isRolling: false
        calendar: {startTime: "2024-01-01 12:00:00", timeZone: America/New_York}
    budgetingMethod: Timeslices
    objectives:
      - displayName: Internal
        target: 0.995
        timeSliceTarget: 0.99
        timeSliceWindow: 1m
      - displayName: SLA
        target: 0.99
        timeSliceTarget: 0.95
        timeSliceWindow: 5m
    alertPolicies: [{kind: AlertPolicy}]
- apiVersion: openslo/v1
  kind: SLO
  metadata: {name: main-page}
  spec:
    service: shop
    indicator:
      metadata: {name: codes}
      spec:
        ratioMetric:
          counter: true
          good: {metricSource: {type: Prometheus, spec: {query: 'page_requests_total{code="200"}'}}}
          total: {metricSource: {type: Prometheus, spec: {query: page_requests_total}}}
    timeWindow: [{duration: 2w, isRolling: true}]
    budgetingMethod: RatioTimeslices
    objectives: [{op: gt, target: 0.99, timeSliceWindow: 1m}]
- apiVersion: openslo/v1
  kind: SLO
  metadata: {name: weekly}
  spec:
    service: shop
    indicator:
      metadata: {name: codes}
      spec:
        ratioMetric:
          counter: true
          bad: {metricSource: {type: Prometheus, spec: {query: 'page_requests_total{code="500"}'}}}
          total: {metricSource: {type: Prometheus, spec: {query: page_requests_total}}}
    timeWindow: [{duration: 1w, isRolling: false}]
    objectives: [{target: 0.9995}]
- apiVersion: openslo/v1
  kind: SLO
  metadata: {name: rolling-month}
  spec:
    service: shop
    indicatorRef: none-needed
    indicator:
      metadata: {name: codes}
      spec:
        ratioMetric:
          counter: true
          bad: {metricSource: {type: Prometheus, spec: {query: 'page_requests_total{code="500"}'}}}
          total: {metricSource: {type: Prometheus, spec: {query: page_requests_total}}}
    timeWindow: [{duration: 1M, isRolling: true}]
    objectives: [{target: 0.999}]
`

func TestImportOpenSLOBudgetingAndList(t *testing.T) {
	res := mustImport(t, openSLOListFile)
	byName := map[string]config.SLO{}
	for _, s := range res.SLOs {
		byName[s.Name] = s
	}
	in, sla := byName["availability-internal"], byName["availability-sla"]
	if in.Budgeting != "timeslices" || in.TimesliceTarget != 99 || in.TimesliceWindow != 0 || in.Objective != 99.5 ||
		in.Window != "month" || in.TimeZone != "America/New_York" {
		t.Errorf("internal = %+v", in)
	}
	if sla.TimesliceTarget != 95 || sla.TimesliceWindow != model.Duration(5*time.Minute) {
		t.Errorf("sla = %+v", sla)
	}
	mp := byName["main-page"]
	if mp.Budgeting != "ratio_timeslices" || mp.Window != "14d" || mp.TimesliceTarget != 0 {
		t.Errorf("main-page = %+v", mp)
	}
	if w := byName["weekly"]; w.Window != "week" || w.Objective != 99.95 {
		t.Errorf("weekly = %+v", w)
	}
	if rm := byName["rolling-month"]; rm.Window != "30d" {
		t.Errorf("rolling-month = %+v", rm)
	}
	for _, want := range [][]string{
		{"document 1, item 1", "startTime", "1st of the month"},
		{"item 1", "alertPolicies"},
		{"item 4", "rolling month (1M) becomes a rolling 30d"},
	} {
		if !hasWarning(res, want...) {
			t.Errorf("no warning with %q in %q", want, res.Warnings)
		}
	}
	specs, ps := Compile(res.SLOs, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	for _, sp := range specs {
		if sp.Name == "availability-sla" && (sp.Budgeting != Timeslices || sp.SliceTarget != 0.95 || sp.Slice != 5*time.Minute) {
			t.Errorf("compiled sla = %+v", sp)
		}
	}
	promtoolCheck(t, Rules(specs))
}

// OpenSLO v1alpha, the form of Sloth's own OpenSLO examples.
func TestImportOpenSLOAlpha(t *testing.T) {
	res := mustImport(t, `apiVersion: openslo/v1alpha
kind: SLO
metadata: {name: latency, displayName: Requests latency}
spec:
  service: api
  budgetingMethod: Occurrences
  objectives:
    - ratioMetrics:
        good: {source: prometheus, queryType: promql, query: 'sum(rate(req_seconds_bucket{le="0.4"}[{{.window}}]))'}
        total: {source: prometheus, queryType: promql, query: 'sum(rate(req_seconds_count[{{.window}}]))'}
      target: 0.99
    - ratioMetrics:
        good: {source: prometheus, queryType: promql, query: 'sum(rate(req_seconds_bucket{le="5"}[{{.window}}]))'}
        total: {source: prometheus, queryType: promql, query: 'sum(rate(req_seconds_count[{{.window}}]))'}
      target: 0.999
  timeWindows:
    - count: 28
      unit: Day
`)
	if len(res.SLOs) != 2 || res.SLOs[0].Name != "latency-1" || res.SLOs[1].Name != "latency-2" || res.SLOs[0].Window != "28d" ||
		res.SLOs[1].Objective != 99.9 || res.SLOs[0].Description != "Requests latency" {
		t.Fatalf("SLOs = %+v", res.SLOs)
	}
}

func TestImportErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "no SLO found"},
		{"not yaml", "{[", "invalid YAML"},
		{"unknown", "apiVersion: foo/v1\nkind: X\n", "neither OpenSLO v1 nor Sloth"},
		{"openslo v2", "apiVersion: openslo/v2alpha\nkind: SLO\n", "openslo/v2alpha is not supported"},
		{"sloth raw", "version: prometheus/v1\nservice: s\nslos:\n- name: a\n  objective: 99\n  sli: {raw: {error_ratio_query: x}}\n", "sli.raw"},
		{"sloth plugin", "version: prometheus/v1\nservice: s\nslos:\n- name: a\n  objective: 99\n  sli: {plugin: {id: sloth-common/kubernetes/apiserver/availability}}\n", "sli.plugin sloth-common/kubernetes/apiserver/availability"},
		{"timeslices without target", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  budgetingMethod: Timeslices\n  indicator: {metadata: {name: a}, spec: {ratioMetric: {counter: true, good: {metricSource: {type: Prometheus, spec: {query: a}}}, total: {metricSource: {type: Prometheus, spec: {query: b}}}}}}\n  timeWindow: [{duration: 30d, isRolling: true}]\n  objectives: [{target: 0.9}]\n", "needs timeSliceTarget"},
		{"odd slice", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  budgetingMethod: Timeslices\n  indicator: {metadata: {name: a}, spec: {ratioMetric: {counter: true, good: {metricSource: {type: Prometheus, spec: {query: a}}}, total: {metricSource: {type: Prometheus, spec: {query: b}}}}}}\n  timeWindow: [{duration: 30d, isRolling: true}]\n  objectives: [{target: 0.9, timeSliceTarget: 0.9, timeSliceWindow: 7m}]\n", "divide an hour"},
		{"missing ref", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  indicatorRef: x\n  timeWindow: [{duration: 30d, isRolling: true}]\n  objectives: [{target: 0.9}]\n", `indicatorRef "x" names no SLI`},
		{"gauge threshold", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  indicator: {metadata: {name: a}, spec: {thresholdMetric: {metricSource: {type: Prometheus, spec: {query: up}}}}}\n  timeWindow: [{duration: 30d, isRolling: true}]\n  objectives: [{op: lte, value: 1, target: 0.9}]\n", "time slices"},
		{"datadog", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  indicator: {metadata: {name: a}, spec: {ratioMetric: {good: {metricSource: {type: Datadog}}, total: {metricSource: {type: Datadog}}}}}\n  timeWindow: [{duration: 30d, isRolling: true}]\n  objectives: [{target: 0.9}]\n", `type "Datadog" cannot be converted`},
		{"bad objective", "version: prometheus/v1\nservice: s\nslos:\n- name: a\n  objective: 100\n  sli: {events: {error_query: 'a[{{.window}}]', total_query: 'b[{{.window}}]'}}\n", "objective"},
		{"calendar quarter", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  timeWindow: [{duration: 1Q, isRolling: false}]\n", "calendar window"},
		{"calendar minute", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  timeWindow: [{duration: 1m, isRolling: false}]\n", "OpenSLO writes a month as 1M"},
		{"same name same service", "version: prometheus/v1\nservice: s\nslos:\n- {name: a, objective: 99, sli: {events: {error_query: 'a[{{.window}}]', total_query: 'b[{{.window}}]'}}}\n- {name: a, objective: 99, sli: {events: {error_query: 'a[{{.window}}]', total_query: 'b[{{.window}}]'}}}\n", "duplicate SLO name"},
		{"list of scalars", "- 1\n- 2\n", "document 1, item 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Import([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			var ie ImportError
			if !errors.As(err, &ie) {
				t.Errorf("err is %T, want ImportError", err)
			}
		})
	}
}

func FuzzImport(f *testing.F) {
	f.Add([]byte(slothFile))
	f.Add([]byte(slothMultiFile))
	f.Add([]byte(openSLOFile))
	f.Add([]byte(openSLOListFile))
	f.Add([]byte("apiVersion: openslo/v1\nkind: SLO\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Import(data)
		if err != nil {
			return
		}
		if _, ps := Compile(res.SLOs, nil); len(ps) > 0 {
			t.Fatalf("Import returned SLOs that do not compile: %v", ps)
		}
		if _, _, err := ImportYAML(data); err != nil {
			t.Fatalf("ImportYAML failed where Import did not: %v", err)
		}
	})
}
