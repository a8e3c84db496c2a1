package slo

import (
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
)

func TestCompileProblems(t *testing.T) {
	ev := config.SLI{Events: &config.SLIEvents{}}
	tests := []struct {
		name string
		slo  config.SLO
		path string
		want string
	}{
		{"missing name", config.SLO{Objective: 99, Window: "30d", SLI: ev}, "slos[0].name", "missing name"},
		{"bad name", config.SLO{Name: "a b", Objective: 99, Window: "30d", SLI: ev}, "slos[0].name", "invalid name"},
		{"objective 100", config.SLO{Name: "a", Objective: 100, Window: "30d", SLI: ev}, "slos[0].objective", "below 100"},
		{"objective 0", config.SLO{Name: "a", Objective: 0, Window: "30d", SLI: ev}, "slos[0].objective", "above 0"},
		{"window missing", config.SLO{Name: "a", Objective: 99, SLI: ev}, "slos[0].window", "missing window"},
		{"window bad", config.SLO{Name: "a", Objective: 99, Window: "30 days", SLI: ev}, "slos[0].window", "invalid duration"},
		{"window short", config.SLO{Name: "a", Objective: 99, Window: "5m", SLI: ev}, "slos[0].window", "shorter than 1h"},
		{"timezone rolling", config.SLO{Name: "a", Objective: 99, Window: "30d", TimeZone: "Europe/Berlin", SLI: ev}, "slos[0].timezone", "only calendar windows"},
		{"timezone unknown", config.SLO{Name: "a", Objective: 99, Window: "month", TimeZone: "Mars/Olympus", SLI: ev}, "slos[0].timezone", "unknown time zone"},
		{"no sli", config.SLO{Name: "a", Objective: 99, Window: "30d"}, "slos[0].sli", "missing SLI"},
		{"two slis", config.SLO{Name: "a", Objective: 99, Window: "30d", SLI: config.SLI{Probe: "p", Events: &config.SLIEvents{}}}, "slos[0].sli", "only one"},
		{"unknown probe", config.SLO{Name: "a", Objective: 99, Window: "30d", SLI: config.SLI{Probe: "nope"}}, "slos[0].sli.probe", `no probe named "nope"`},
		{"unknown metric", config.SLO{Name: "a", Objective: 99, Window: "30d", SLI: config.SLI{RUM: &config.SLIRUM{Metric: "fid"}}}, "slos[0].sli.rum.metric", "unknown metric"},
		{"bad threshold", config.SLO{Name: "a", Objective: 99, Window: "30d", SLI: config.SLI{RUM: &config.SLIRUM{Metric: "lcp", Threshold: "2500"}}}, "slos[0].sli.rum.threshold", "duration"},
		{"cls threshold", config.SLO{Name: "a", Objective: 99, Window: "30d", SLI: config.SLI{RUM: &config.SLIRUM{Metric: "cls", Threshold: "100ms"}}}, "slos[0].sli.rum.threshold", "unitless"},
		{"prom no window", config.SLO{Name: "a", Objective: 99, Window: "30d", SLI: config.SLI{Prometheus: &config.SLIPrometheus{Errors: "sum(x)", Total: "sum(rate(y[{{.window}}]))"}}}, "slos[0].sli.prometheus.errors", "{{.window}}"},
		{"reserved label", config.SLO{Name: "a", Objective: 99, Window: "30d", Labels: map[string]string{"sloth_id": "x"}, SLI: ev}, "slos[0].labels.sloth_id", "set by Sentinel"},
		{"negative min events", config.SLO{Name: "a", Objective: 99, Window: "30d", MinEvents: -1, SLI: ev}, "slos[0].min_events", "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ps := Compile([]config.SLO{tc.slo}, []ProbeRef{{Name: "p"}})
			for _, p := range ps {
				if p.Path == tc.path && strings.Contains(p.Message, tc.want) {
					return
				}
			}
			t.Errorf("problems %v lack %s: ...%s...", ps, tc.path, tc.want)
		})
	}
	_, ps := Compile([]config.SLO{{Name: "a", Objective: 99, Window: "30d", SLI: ev}, {Name: "a", Objective: 99, Window: "30d", SLI: ev}}, nil)
	if len(ps) != 1 || ps[0].Path != "slos[1].name" {
		t.Errorf("duplicate: %v", ps)
	}
}

func TestConfigFileStrict(t *testing.T) {
	src := "slos:\n  - name: orders\n    objective: 99\n    window: 30d\n    sli: {events: {}}\n  - name: lcp\n    objective: 95\n    window: month\n    timezone: Europe/Berlin\n    sli: {rum: {metric: lcp, threshold: 2500ms, route: /cart}}\n"
	cfg, err := config.Parse("c.yaml", []byte(src), config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	specs, ps := Compile(cfg.SLOs, nil)
	if len(ps) > 0 || len(specs) != 2 || specs[0].Kind != KindEvents || specs[1].Threshold != 2.5 || specs[1].RouteFilter != "/cart" {
		t.Fatalf("specs %+v problems %v", specs, ps)
	}
	_, err = config.Parse("c.yaml", []byte("slos:\n  - name: x\n    sli: {rum: {metric: lcp, treshold: 1s}}\n"), config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err == nil || !strings.Contains(err.Error(), "slos[0].sli.rum.treshold") {
		t.Fatalf("typo in a nested key: %v", err)
	}
}
