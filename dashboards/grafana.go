package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/slo"
)

// Grafana boards for setups where Prometheus scrapes Sentinel: the SLO board
// reads the Sloth-compatible recording rules of `sentinel slo rules` (so a
// Sloth board works too), the probe board reads the blackbox-compatible
// probe_* series, and the RUM board reads the sentinel_rum_* histograms.
// Every board picks its Prometheus through a datasource variable, so it
// imports into any Grafana without editing.

// GrafanaSchemaVersion is the dashboard schema the boards are written in
// (Grafana 10.4 and later read it; newer versions migrate it on import).
const GrafanaSchemaVersion = 39

// GrafanaBoard is one exported dashboard: its file name and JSON.
type GrafanaBoard struct {
	File string
	JSON []byte
}

// GrafanaBoards renders the three boards for specs (every configured SLO;
// those with a Prometheus SLI are included, their rules come from the same
// export). The output is deterministic, for golden tests and diffs.
func GrafanaBoards(specs []*slo.Spec) ([]GrafanaBoard, error) {
	var out []GrafanaBoard
	for _, b := range []struct {
		file  string
		board dashboard
	}{
		{"sentinel-slos.json", sloBoard(specs)},
		{"sentinel-probes.json", probeBoard()},
		{"sentinel-rum.json", rumBoard()},
	} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(b.board); err != nil {
			return nil, fmt.Errorf("encode %s: %w", b.file, err)
		}
		out = append(out, GrafanaBoard{File: b.file, JSON: buf.Bytes()})
	}
	return out, nil
}

// dashboard is the part of Grafana's dashboard model the boards use.
type dashboard struct {
	UID           string        `json:"uid"`
	Title         string        `json:"title"`
	Description   string        `json:"description"`
	Tags          []string      `json:"tags"`
	Timezone      string        `json:"timezone"`
	SchemaVersion int           `json:"schemaVersion"`
	Version       int           `json:"version"`
	Editable      bool          `json:"editable"`
	GraphTooltip  int           `json:"graphTooltip"`
	Refresh       string        `json:"refresh"`
	Time          timeRange     `json:"time"`
	Templating    templating    `json:"templating"`
	Annotations   annotations   `json:"annotations"`
	Links         []dashLink    `json:"links"`
	Panels        []panel       `json:"panels"`
	Requires      []requirement `json:"__requires"`
}

type requirement struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

type timeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type templating struct {
	List []variable `json:"list"`
}

type annotations struct {
	List []any `json:"list"`
}

type dashLink struct {
	Title    string   `json:"title"`
	Type     string   `json:"type"`
	Tags     []string `json:"tags"`
	AsDrop   bool     `json:"asDropdown"`
	Icon     string   `json:"icon"`
	Tooltip  string   `json:"tooltip"`
	URL      string   `json:"url"`
	KeepTime bool     `json:"keepTime"`
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// ds is every panel's and query's data source: the board's variable.
var ds = &dsRef{Type: "prometheus", UID: "${datasource}"}

type variable struct {
	Name       string         `json:"name"`
	Label      string         `json:"label"`
	Type       string         `json:"type"`
	Query      any            `json:"query"`
	Definition string         `json:"definition,omitempty"`
	Datasource *dsRef         `json:"datasource,omitempty"`
	Refresh    int            `json:"refresh"`
	Regex      string         `json:"regex"`
	Hide       int            `json:"hide"`
	IncludeAll bool           `json:"includeAll"`
	Multi      bool           `json:"multi"`
	AllValue   string         `json:"allValue,omitempty"`
	Sort       int            `json:"sort"`
	Current    map[string]any `json:"current"`
	Options    []any          `json:"options"`
}

func datasourceVar() variable {
	return variable{Name: "datasource", Label: "Prometheus", Type: "datasource", Query: "prometheus", Refresh: 1,
		Current: map[string]any{}, Options: []any{}}
}

// queryVar is a multi-value variable over a label's values.
func queryVar(name, label, query string) variable {
	return variable{
		Name: name, Label: label, Type: "query", Datasource: ds, Definition: query,
		Query:   map[string]any{"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": 1},
		Refresh: 2, IncludeAll: true, Multi: true, AllValue: ".*", Sort: 1,
		Current: map[string]any{"selected": true, "text": []string{"All"}, "value": []string{"$__all"}}, Options: []any{},
	}
}

type gridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

type target struct {
	RefID        string `json:"refId"`
	Expr         string `json:"expr"`
	LegendFormat string `json:"legendFormat,omitempty"`
	Instant      bool   `json:"instant,omitempty"`
	Range        bool   `json:"range"`
	Datasource   *dsRef `json:"datasource"`
}

type panel struct {
	ID          int            `json:"id"`
	Type        string         `json:"type"`
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	GridPos     gridPos        `json:"gridPos"`
	Datasource  *dsRef         `json:"datasource,omitempty"`
	Targets     []target       `json:"targets,omitempty"`
	FieldConfig map[string]any `json:"fieldConfig,omitempty"`
	Options     map[string]any `json:"options,omitempty"`
	Collapsed   *bool          `json:"collapsed,omitempty"`
	Panels      []panel        `json:"panels,omitempty"`
}

// layout hands out panel IDs and positions on Grafana's 24-column grid.
type layout struct {
	id, x, y, rowH int
	panels         []panel
}

func (l *layout) add(p panel, w, h int) {
	if l.x+w > 24 {
		l.x, l.y = 0, l.y+l.rowH
		l.rowH = 0
	}
	l.id++
	p.ID = l.id
	p.GridPos = gridPos{H: h, W: w, X: l.x, Y: l.y}
	if p.Type != "row" {
		p.Datasource = ds
	}
	l.panels = append(l.panels, p)
	l.x += w
	l.rowH = max(l.rowH, h)
}

func (l *layout) row(title string) {
	if l.x > 0 {
		l.x, l.y = 0, l.y+l.rowH
		l.rowH = 0
	}
	f := false
	l.add(panel{Type: "row", Title: title, Collapsed: &f, Panels: []panel{}}, 24, 1)
	l.x, l.y, l.rowH = 0, l.y+1, 0
}

func targets(exprs ...string) []target {
	var out []target
	for i := 0; i+1 < len(exprs); i += 2 {
		out = append(out, target{RefID: string(rune('A' + i/2)), Expr: exprs[i], LegendFormat: exprs[i+1], Range: true, Datasource: ds})
	}
	return out
}

func instant(expr, legend string) []target {
	return []target{{RefID: "A", Expr: expr, LegendFormat: legend, Instant: true, Datasource: ds}}
}

// fields builds a fieldConfig with a unit, bounds and thresholds (value,
// colour pairs; the first value is the base and ignored).
func fields(unit string, minV, maxV *float64, decimals int, steps ...any) map[string]any {
	def := map[string]any{"unit": unit, "color": map[string]any{"mode": "thresholds"}}
	if minV != nil {
		def["min"] = *minV
	}
	if maxV != nil {
		def["max"] = *maxV
	}
	if decimals >= 0 {
		def["decimals"] = decimals
	}
	var st []map[string]any
	for i := 0; i+1 < len(steps); i += 2 {
		s := map[string]any{"color": steps[i+1], "value": steps[i]}
		st = append(st, s)
	}
	if len(st) == 0 {
		st = []map[string]any{{"color": "green", "value": nil}}
	}
	def["thresholds"] = map[string]any{"mode": "absolute", "steps": st}
	return map[string]any{"defaults": def, "overrides": []any{}}
}

func timeseriesFields(unit string, minV *float64) map[string]any {
	f := fields(unit, minV, nil, -1)
	def := f["defaults"].(map[string]any)
	def["color"] = map[string]any{"mode": "palette-classic"}
	def["custom"] = map[string]any{"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never", "spanNulls": true}
	return f
}

func fl(v float64) *float64 { return &v }

var (
	statOptions = map[string]any{
		"reduceOptions": map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false},
		"colorMode":     "background", "graphMode": "none", "justifyMode": "auto", "textMode": "auto", "orientation": "auto",
	}
	tsOptions = map[string]any{
		"legend":  map[string]any{"displayMode": "list", "placement": "bottom", "showLegend": true},
		"tooltip": map[string]any{"mode": "multi", "sort": "desc"},
	}
	gaugeOptions = map[string]any{
		"reduceOptions": map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false},
		"displayMode":   "gradient", "orientation": "horizontal", "showUnfilled": true,
	}
)

func baseBoard(uid, title, desc string, tags ...string) dashboard {
	return dashboard{
		UID: uid, Title: title, Description: desc, Tags: append([]string{"sentinel"}, tags...), Timezone: "browser",
		SchemaVersion: GrafanaSchemaVersion, Version: 1, Editable: true, GraphTooltip: 1, Refresh: "1m",
		Time: timeRange{From: "now-24h", To: "now"}, Annotations: annotations{List: []any{}},
		Links: []dashLink{{Title: "Sentinel", Type: "dashboards", Tags: []string{"sentinel"}, AsDrop: true, Icon: "external link", Tooltip: "", URL: "", KeepTime: true}},
		Requires: []requirement{
			{Type: "grafana", ID: "grafana", Name: "Grafana", Version: "10.4.0"},
			{Type: "datasource", ID: "prometheus", Name: "Prometheus", Version: "1.0.0"},
		},
	}
}

// promDuration spells a duration as Prometheus and the rule export do.
func promDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// promString quotes a label value for a PromQL selector.
func promString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// sloBoard shows every SLO over the Sloth-compatible recording rules: an
// overview filtered by the service and slo variables, then one row per
// configured SLO.
func sloBoard(specs []*slo.Spec) dashboard {
	d := baseBoard("sentinel-slos", "Sentinel / SLOs",
		"Error budgets and burn rates of Sentinel's SLOs, from the recording rules of `sentinel slo rules` (Sloth-compatible names).", "slo")
	d.Time = timeRange{From: "now-7d", To: "now"}
	d.Templating.List = []variable{
		datasourceVar(),
		queryVar("service", "Service", `label_values(sloth_slo_info{sloth_mode="sentinel"}, sloth_service)`),
		queryVar("slo", "SLO", `label_values(sloth_slo_info{sloth_mode="sentinel", sloth_service=~"$service"}, sloth_slo)`),
	}
	sel := `{sloth_service=~"$service", sloth_slo=~"$slo"}`
	var l layout
	l.row("Overview")
	l.add(panel{Type: "bargauge", Title: "Error budget remaining",
		Description: "Share of each SLO's error budget left over its window; below zero the budget is overspent.",
		Targets:     instant("slo:period_error_budget_remaining:ratio"+sel, "{{sloth_slo}}"),
		FieldConfig: fields("percentunit", fl(0), fl(1), 1, nil, "red", 0.25, "orange", 0.5, "green"), Options: gaugeOptions}, 12, 9)
	l.add(panel{Type: "bargauge", Title: "Current burn rate (5m)",
		Description: "Error ratio over 5 minutes divided by the error budget: 1 spends the budget exactly over the window.",
		Targets:     instant("slo:current_burn_rate:ratio"+sel, "{{sloth_slo}}"),
		FieldConfig: fields("x", fl(0), nil, 2, nil, "green", 1, "orange", 6, "red"), Options: gaugeOptions}, 12, 9)
	l.add(panel{Type: "timeseries", Title: "Error budget remaining over time",
		Targets:     targets("slo:period_error_budget_remaining:ratio"+sel, "{{sloth_slo}}"),
		FieldConfig: timeseriesFields("percentunit", nil), Options: tsOptions}, 12, 8)
	l.add(panel{Type: "timeseries", Title: "Burn rate (1h)",
		Description: "One-hour error ratio over the error budget; the page tier fires above 14.4 (at 30 days) together with the 5m rate.",
		Targets: targets(
			`slo:sli_error:ratio_rate1h`+sel+"\n/ ignoring(sloth_window)\nslo:error_budget:ratio"+sel, "{{sloth_slo}}"),
		FieldConfig: timeseriesFields("x", fl(0)), Options: tsOptions}, 12, 8)
	l.add(panel{Type: "table", Title: "Alerts firing", Description: "Sentinel's SLO burn-rate alerts as Prometheus evaluates them.",
		Targets:     instant(`ALERTS{alertstate="firing", sloth_service=~"$service", sloth_slo=~"$slo"}`, ""),
		FieldConfig: fields("", nil, nil, -1), Options: map[string]any{"showHeader": true}}, 24, 6)

	for _, sp := range specs {
		id := slo.SlothID(sp)
		one := "{sloth_id=" + promString(id) + "}"
		period := promDuration(sp.Window.Nominal())
		title := sp.Name
		if sp.Service != "" {
			title += " (" + sp.Service + ")"
		}
		l.row(title)
		obj := sp.Objective / 100
		l.add(panel{Type: "stat", Title: "SLI over " + period,
			Description: sp.Description,
			Targets:     instant("1 - slo:sli_error:ratio_rate"+period+one, "SLI"),
			FieldConfig: fields("percentunit", nil, nil, 3, nil, "red", obj, "green"), Options: statOptions}, 6, 5)
		l.add(panel{Type: "stat", Title: "Objective",
			Targets:     instant("slo:objective:ratio"+one, "objective"),
			FieldConfig: fields("percentunit", nil, nil, 3, nil, "blue"), Options: statOptions}, 6, 5)
		l.add(panel{Type: "stat", Title: "Budget remaining",
			Targets:     instant("slo:period_error_budget_remaining:ratio"+one, "remaining"),
			FieldConfig: fields("percentunit", nil, nil, 1, nil, "red", 0.25, "orange", 0.5, "green"), Options: statOptions}, 6, 5)
		l.add(panel{Type: "stat", Title: "Burn rate over the window",
			Targets:     instant("slo:period_burn_rate:ratio"+one, "burn"),
			FieldConfig: fields("x", nil, nil, 2, nil, "green", 1, "red"), Options: statOptions}, 6, 5)
		var exprs []string
		for _, w := range []string{"5m", "1h", "6h", "1d", "3d"} {
			exprs = append(exprs, "slo:sli_error:ratio_rate"+w+one+"\n/ ignoring(sloth_window)\nslo:error_budget:ratio"+one, w)
		}
		l.add(panel{Type: "timeseries", Title: "Burn rate per window",
			Targets: targets(exprs...), FieldConfig: timeseriesFields("x", fl(0)), Options: tsOptions}, 24, 7)
	}
	d.Panels = l.panels
	return d
}

// probeBoard shows the synthetic journeys over the blackbox-compatible
// series and Sentinel's run counter.
func probeBoard() dashboard {
	d := baseBoard("sentinel-probes", "Sentinel / Probes", "Synthetic journeys run by Sentinel (blackbox_exporter-compatible probe_* series).", "probes")
	d.Templating.List = []variable{
		datasourceVar(),
		queryVar("probe", "Probe", `label_values(probe_success, probe)`),
		queryVar("location", "Location", `label_values(probe_success{probe=~"$probe"}, location)`),
	}
	sel := `{probe=~"$probe", location=~"$location"}`
	var l layout
	upFields := fields("", fl(0), fl(1), 0, nil, "red", 1, "green")
	upFields["defaults"].(map[string]any)["mappings"] = []any{map[string]any{"type": "value", "options": map[string]any{
		"0": map[string]any{"text": "DOWN", "color": "red", "index": 0},
		"1": map[string]any{"text": "UP", "color": "green", "index": 1},
	}}}
	l.add(panel{Type: "stat", Title: "Last run", Targets: instant("probe_success"+sel, "{{probe}} {{location}}"),
		FieldConfig: upFields, Options: statOptions}, 24, 5)
	l.add(panel{Type: "timeseries", Title: "Success ratio",
		Targets: targets(`sum by (probe) (rate(sentinel_probe_runs_total{probe=~"$probe", location=~"$location", result="success"}[$__rate_interval]))
/
sum by (probe) (rate(sentinel_probe_runs_total{probe=~"$probe", location=~"$location"}[$__rate_interval]))`, "{{probe}}"),
		FieldConfig: timeseriesFields("percentunit", fl(0)), Options: tsOptions}, 12, 8)
	l.add(panel{Type: "timeseries", Title: "Run duration", Targets: targets("probe_duration_seconds"+sel, "{{probe}} {{location}}"),
		FieldConfig: timeseriesFields("s", fl(0)), Options: tsOptions}, 12, 8)
	phases := timeseriesFields("s", fl(0))
	phases["defaults"].(map[string]any)["custom"].(map[string]any)["stacking"] = map[string]any{"mode": "normal", "group": "A"}
	phases["defaults"].(map[string]any)["custom"].(map[string]any)["drawStyle"] = "bars"
	l.add(panel{Type: "timeseries", Title: "Step phases (last run)",
		Description: "Time per HTTP phase of each step: resolve, connect, tls, processing, transfer.",
		Targets:     targets(`sum by (probe, step, phase) (probe_http_duration_seconds`+sel+`)`, "{{probe}} {{step}} {{phase}}"),
		FieldConfig: phases, Options: tsOptions}, 24, 9)
	l.add(panel{Type: "timeseries", Title: "HTTP status code per step", Targets: targets("probe_http_status_code"+sel, "{{probe}} {{step}}"),
		FieldConfig: timeseriesFields("none", nil), Options: tsOptions}, 12, 8)
	l.add(panel{Type: "bargauge", Title: "Days until the certificate expires",
		Targets:     instant(`min by (probe) ((probe_ssl_earliest_cert_expiry`+sel+` - time()) / 86400)`, "{{probe}}"),
		FieldConfig: fields("d", fl(0), nil, 0, nil, "red", 14, "orange", 30, "green"), Options: gaugeOptions}, 12, 8)
	d.Panels = l.panels
	return d
}

// rumBoard shows real users' web vitals (p75, per route), page views and
// JS errors over the sentinel_rum_* series.
func rumBoard() dashboard {
	d := baseBoard("sentinel-rum", "Sentinel / Real users", "Web vitals, page views and JavaScript errors measured by Sentinel's RUM snippet.", "rum")
	d.Templating.List = []variable{
		datasourceVar(),
		queryVar("site", "Site", `label_values(sentinel_rum_page_views_total, site)`),
		queryVar("route", "Route", `label_values(sentinel_rum_page_views_total{site=~"$site"}, route)`),
		queryVar("device", "Device", `label_values(sentinel_rum_page_views_total{site=~"$site"}, device)`),
	}
	sel := `{site=~"$site", route=~"$route", device=~"$device"}`
	var l layout
	l.row("p75 by route (web-vitals thresholds)")
	for _, v := range Vitals {
		metric := "sentinel_rum_" + v.Name + "_seconds"
		unit := "s"
		if v.Name == "cls" {
			metric, unit = "sentinel_rum_cls", "none"
		}
		l.add(panel{Type: "timeseries", Title: v.Label + " p75",
			Description: fmt.Sprintf("75th percentile per route; good up to %s, poor above %s.", v.format(v.Good), v.format(v.Poor)),
			Targets: targets(
				`histogram_quantile(0.75, sum by (le, route) (rate(`+metric+`_bucket`+sel+`[$__rate_interval])))`, "{{route}}"),
			FieldConfig: withThresholdLines(timeseriesFields(unit, fl(0)), v.Good, v.Poor), Options: tsOptions}, 8, 8)
	}
	l.row("Traffic and errors")
	l.add(panel{Type: "timeseries", Title: "Page views per second",
		Targets:     targets(`sum by (route) (rate(sentinel_rum_page_views_total`+sel+`[$__rate_interval]))`, "{{route}}"),
		FieldConfig: timeseriesFields("reqps", fl(0)), Options: tsOptions}, 12, 8)
	l.add(panel{Type: "timeseries", Title: "JavaScript errors per second",
		Targets:     targets(`sum by (route) (rate(sentinel_rum_js_errors_total`+sel+`[$__rate_interval]))`, "{{route}}"),
		FieldConfig: timeseriesFields("reqps", fl(0)), Options: tsOptions}, 12, 8)
	d.Panels = l.panels
	return d
}

// withThresholdLines colours a time series' thresholds at the vital's
// good and poor limits and draws them as dashed lines.
func withThresholdLines(f map[string]any, good, poor float64) map[string]any {
	def := f["defaults"].(map[string]any)
	def["thresholds"] = map[string]any{"mode": "absolute", "steps": []map[string]any{
		{"color": "green", "value": nil}, {"color": "orange", "value": good}, {"color": "red", "value": poor},
	}}
	def["custom"].(map[string]any)["thresholdsStyle"] = map[string]any{"mode": "dashed"}
	return f
}
