package slo

import (
	"errors"
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
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

func TestImportSloth(t *testing.T) {
	slos, err := Import([]byte(slothFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(slos) != 1 {
		t.Fatalf("got %d SLOs", len(slos))
	}
	s := slos[0]
	if s.Name != "requests-availability" || s.Service != "myservice" || s.Objective != 99.9 || s.Window != "30d" ||
		s.Labels["owner"] != "myteam" || s.SLI.Prometheus == nil || !strings.Contains(s.SLI.Prometheus.Errors, "429") {
		t.Errorf("converted = %+v", s)
	}
}

func TestImportOpenSLO(t *testing.T) {
	slos, err := Import([]byte(openSLOFile))
	if err != nil {
		t.Fatal(err)
	}
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
	out, err := ImportYAML([]byte(openSLOFile))
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

func TestImportErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "no SLO found"},
		{"not yaml", "{[", "invalid YAML"},
		{"unknown", "apiVersion: foo/v1\nkind: X\n", "neither OpenSLO v1 nor Sloth"},
		{"old openslo", "apiVersion: openslo/v1alpha\nkind: SLO\n", "openslo/v1alpha is not supported"},
		{"sloth raw", "version: prometheus/v1\nservice: s\nslos:\n- name: a\n  objective: 99\n  sli: {raw: {error_ratio_query: x}}\n", "sli.raw"},
		{"sloth plugin", "version: prometheus/v1\nservice: s\nslos:\n- name: a\n  objective: 99\n  sli: {plugin: {id: x}}\n", "sli.plugin"},
		{"timeslices", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  budgetingMethod: Timeslices\n", "Timeslices cannot be converted"},
		{"missing ref", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  indicatorRef: x\n  timeWindow: [{duration: 30d, isRolling: true}]\n  objectives: [{target: 0.9}]\n", `indicatorRef "x" names no SLI`},
		{"gauge threshold", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  indicator: {metadata: {name: a}, spec: {thresholdMetric: {metricSource: {type: Prometheus, spec: {query: up}}}}}\n  timeWindow: [{duration: 30d, isRolling: true}]\n  objectives: [{op: lte, value: 1, target: 0.9}]\n", "time slices"},
		{"datadog", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  indicator: {metadata: {name: a}, spec: {ratioMetric: {good: {metricSource: {type: Datadog}}, total: {metricSource: {type: Datadog}}}}}\n  timeWindow: [{duration: 30d, isRolling: true}]\n  objectives: [{target: 0.9}]\n", `type "Datadog" cannot be converted`},
		{"bad objective", "version: prometheus/v1\nservice: s\nslos:\n- name: a\n  objective: 100\n  sli: {events: {error_query: 'a[{{.window}}]', total_query: 'b[{{.window}}]'}}\n", "objective"},
		{"calendar quarter", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  timeWindow: [{duration: 1Q, isRolling: false}]\n", "calendar window"},
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
	f.Add([]byte(openSLOFile))
	f.Add([]byte("apiVersion: openslo/v1\nkind: SLO\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		slos, err := Import(data)
		if err != nil {
			return
		}
		if _, ps := Compile(slos, nil); len(ps) > 0 {
			t.Fatalf("Import returned SLOs that do not compile: %v", ps)
		}
	})
}
