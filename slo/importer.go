package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// MaxImportBytes caps the size of a file given to Import.
const MaxImportBytes = 4 << 20

// ImportError lists everything in a file that could not be converted, one
// entry per problem, each naming the document and what is wrong.
type ImportError []string

func (e ImportError) Error() string { return strings.Join(e, "\n") }

// Import converts OpenSLO v1 (kinds SLO and SLI; other kinds are skipped)
// and Sloth prometheus/v1 specs, in one or several YAML documents, into
// Sentinel SLOs. Anything that cannot be converted faithfully is an
// ImportError; nothing is half-converted.
func Import(data []byte) ([]config.SLO, error) {
	if len(data) > MaxImportBytes {
		return nil, fmt.Errorf("the file is larger than %d bytes", MaxImportBytes)
	}
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, ImportError{fmt.Sprintf("document %d: invalid YAML: %s", len(docs)+1, strings.TrimPrefix(err.Error(), "yaml: "))}
		}
		docs = append(docs, &n)
	}
	im := &importer{slis: map[string]*osloSLI{}}
	// OpenSLO SLOs may refer to SLI documents anywhere in the file.
	type head struct {
		APIVersion string `yaml:"apiVersion"`
		Version    string `yaml:"version"`
		Kind       string `yaml:"kind"`
	}
	heads := make([]head, len(docs))
	for i, d := range docs {
		if err := d.Decode(&heads[i]); err != nil {
			im.fail(i, "", "expected a mapping with apiVersion and kind (OpenSLO) or version (Sloth)")
			continue
		}
		if strings.EqualFold(heads[i].APIVersion, "openslo/v1") && heads[i].Kind == "SLI" {
			var s osloSLI
			if err := d.Decode(&s); err != nil {
				im.fail(i, "", "invalid SLI: %s", cleanErr(err))
				continue
			}
			im.slis[s.Metadata.Name] = &s
		}
	}
	for i, d := range docs {
		h := heads[i]
		switch {
		case h.APIVersion == "" && h.Version == "" && h.Kind == "":
			if d.Kind == 0 || (len(d.Content) > 0 && d.Content[0].Kind == yaml.ScalarNode && d.Content[0].Tag == "!!null") {
				continue // an empty document
			}
			im.fail(i, "", "neither OpenSLO (apiVersion: openslo/v1) nor Sloth (version: prometheus/v1)")
		case strings.EqualFold(h.APIVersion, "openslo/v1"):
			switch h.Kind {
			case "SLO":
				im.openSLO(i, d)
			case "SLI", "AlertPolicy", "AlertCondition", "AlertNotificationTarget", "DataSource", "Service":
				// SLIs are used through SLOs; the rest has no Sentinel equivalent in slos:.
			default:
				im.fail(i, "", "unknown OpenSLO kind %q", h.Kind)
			}
		case strings.HasPrefix(strings.ToLower(h.APIVersion), "openslo/"):
			im.fail(i, "", "OpenSLO %s is not supported; convert it to openslo/v1", h.APIVersion)
		case h.Version == "prometheus/v1":
			var s slothSpec
			if err := d.Decode(&s); err != nil {
				im.fail(i, "", "invalid Sloth spec: %s", cleanErr(err))
				continue
			}
			im.sloth(i, s)
		case h.APIVersion == "sloth.slok.dev/v1" && h.Kind == "PrometheusServiceLevel":
			var k struct {
				Spec slothSpec `yaml:"spec"`
			}
			if err := d.Decode(&k); err != nil {
				im.fail(i, "", "invalid PrometheusServiceLevel: %s", cleanErr(err))
				continue
			}
			im.sloth(i, k.Spec)
		case h.Version != "":
			im.fail(i, "", "Sloth spec version %q is not supported (want prometheus/v1)", h.Version)
		default:
			im.fail(i, "", "apiVersion %q kind %q is neither OpenSLO v1 nor Sloth", h.APIVersion, h.Kind)
		}
	}
	if len(im.errs) > 0 {
		return nil, im.errs
	}
	if len(im.out) == 0 {
		return nil, ImportError{"no SLO found in the file"}
	}
	// The result must be a valid slos: section.
	if _, ps := Compile(im.out, nil); len(ps) > 0 {
		var e ImportError
		for _, p := range ps {
			e = append(e, "converted SLO is invalid: "+p.String())
		}
		return nil, e
	}
	return im.out, nil
}

// ImportYAML converts like Import and renders the result as a slos:
// section.
func ImportYAML(data []byte) ([]byte, error) {
	slos, err := Import(data)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(struct {
		SLOs []config.SLO `yaml:"slos"`
	}{slos}); err != nil {
		return nil, fmt.Errorf("render slos: %w", err)
	}
	_ = enc.Close()
	return buf.Bytes(), nil
}

func cleanErr(err error) string { return strings.TrimPrefix(err.Error(), "yaml: ") }

type importer struct {
	slis map[string]*osloSLI
	out  []config.SLO
	errs ImportError
}

func (im *importer) fail(doc int, name, format string, args ...any) {
	where := fmt.Sprintf("document %d", doc+1)
	if name != "" {
		where += fmt.Sprintf(" (SLO %s)", name)
	}
	im.errs = append(im.errs, where+": "+fmt.Sprintf(format, args...))
}

// --- Sloth prometheus/v1 ---

type slothSpec struct {
	Version string            `yaml:"version"`
	Service string            `yaml:"service"`
	Labels  map[string]string `yaml:"labels"`
	SLOs    []struct {
		Name        string            `yaml:"name"`
		Objective   float64           `yaml:"objective"`
		Description string            `yaml:"description"`
		Labels      map[string]string `yaml:"labels"`
		SLI         struct {
			Events *struct {
				ErrorQuery string `yaml:"error_query"`
				TotalQuery string `yaml:"total_query"`
				// Sloth's Kubernetes CRD spells them in camel case.
				ErrorQueryCamel string `yaml:"errorQuery"`
				TotalQueryCamel string `yaml:"totalQuery"`
			} `yaml:"events"`
			Raw    *yaml.Node `yaml:"raw"`
			Plugin *yaml.Node `yaml:"plugin"`
		} `yaml:"sli"`
	} `yaml:"slos"`
}

func (im *importer) sloth(doc int, s slothSpec) {
	if len(s.SLOs) == 0 {
		im.fail(doc, "", "the Sloth spec has no slos")
	}
	for _, so := range s.SLOs {
		c := config.SLO{
			Name: so.Name, Description: so.Description, Service: s.Service, Objective: so.Objective,
			Window: "30d", Labels: mergeLabels(s.Labels, so.Labels),
		}
		switch {
		case so.SLI.Events != nil:
			e := so.SLI.Events
			errs, total := first(e.ErrorQuery, e.ErrorQueryCamel), first(e.TotalQuery, e.TotalQueryCamel)
			if errs == "" || total == "" {
				im.fail(doc, so.Name, "sli.events needs both error_query and total_query")
				continue
			}
			c.SLI.Prometheus = &config.SLIPrometheus{Errors: strings.TrimSpace(errs), Total: strings.TrimSpace(total)}
		case so.SLI.Raw != nil:
			im.fail(doc, so.Name, "sli.raw (a single error_ratio_query) cannot be converted: Sentinel needs separate error and total queries to weigh windows by traffic")
			continue
		case so.SLI.Plugin != nil:
			im.fail(doc, so.Name, "sli.plugin cannot be converted: Sloth plugins generate their queries at build time; expand the plugin into sli.events first")
			continue
		default:
			im.fail(doc, so.Name, "the SLO has no sli")
			continue
		}
		im.out = append(im.out, c)
	}
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func mergeLabels(a, b map[string]string) model.Labels {
	if len(a)+len(b) == 0 {
		return nil
	}
	out := model.Labels{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// --- OpenSLO v1 ---

type osloMeta struct {
	Name        string         `yaml:"name"`
	DisplayName string         `yaml:"displayName"`
	Labels      map[string]any `yaml:"labels"`
}

type osloMetric struct {
	MetricSource struct {
		Type string         `yaml:"type"`
		Spec map[string]any `yaml:"spec"`
	} `yaml:"metricSource"`
}

type osloSLI struct {
	Metadata osloMeta `yaml:"metadata"`
	Spec     struct {
		RatioMetric *struct {
			Counter bool        `yaml:"counter"`
			Good    *osloMetric `yaml:"good"`
			Bad     *osloMetric `yaml:"bad"`
			Total   *osloMetric `yaml:"total"`
			Raw     *osloMetric `yaml:"raw"`
		} `yaml:"ratioMetric"`
		ThresholdMetric *osloMetric `yaml:"thresholdMetric"`
	} `yaml:"spec"`
}

type osloSLO struct {
	Metadata osloMeta `yaml:"metadata"`
	Spec     struct {
		Description  string   `yaml:"description"`
		Service      string   `yaml:"service"`
		Indicator    *osloSLI `yaml:"indicator"`
		IndicatorRef string   `yaml:"indicatorRef"`
		TimeWindow   []struct {
			Duration  string `yaml:"duration"`
			IsRolling bool   `yaml:"isRolling"`
			Calendar  *struct {
				StartTime string `yaml:"startTime"`
				TimeZone  string `yaml:"timeZone"`
			} `yaml:"calendar"`
		} `yaml:"timeWindow"`
		BudgetingMethod string `yaml:"budgetingMethod"`
		Objectives      []struct {
			DisplayName   string   `yaml:"displayName"`
			Op            string   `yaml:"op"`
			Value         *float64 `yaml:"value"`
			Target        *float64 `yaml:"target"`
			TargetPercent *float64 `yaml:"targetPercent"`
		} `yaml:"objectives"`
	} `yaml:"spec"`
}

func (im *importer) openSLO(doc int, n *yaml.Node) {
	var s osloSLO
	if err := n.Decode(&s); err != nil {
		im.fail(doc, "", "invalid SLO: %s", cleanErr(err))
		return
	}
	name := s.Metadata.Name
	fail := func(format string, args ...any) { im.fail(doc, name, format, args...) }
	if name == "" {
		fail("metadata.name is missing")
		return
	}
	if m := s.Spec.BudgetingMethod; m != "" && m != "Occurrences" {
		fail("budgetingMethod %s cannot be converted: Sentinel counts events (Occurrences), not time slices", m)
		return
	}
	if len(s.Spec.TimeWindow) != 1 {
		fail("spec.timeWindow must hold exactly one window (got %d)", len(s.Spec.TimeWindow))
		return
	}
	tw := s.Spec.TimeWindow[0]
	base := config.SLO{Description: s.Spec.Description, Service: s.Spec.Service, Labels: osloLabels(s.Metadata.Labels)}
	switch {
	case tw.IsRolling:
		if _, err := model.ParseDuration(tw.Duration); err != nil {
			fail("spec.timeWindow[0].duration: %v", err)
			return
		}
		base.Window = strings.TrimSpace(tw.Duration)
	default:
		switch strings.TrimSpace(tw.Duration) {
		case "1M", "1mo", "month":
			base.Window = "month"
		case "1w", "7d", "week":
			base.Window = "week"
		default:
			fail("calendar window %q cannot be converted: Sentinel's calendar windows are one month (1M) or one week (1w)", tw.Duration)
			return
		}
		if tw.Calendar != nil && tw.Calendar.TimeZone != "" && tw.Calendar.TimeZone != "UTC" {
			base.TimeZone = tw.Calendar.TimeZone
		}
	}
	sli := s.Spec.Indicator
	if sli == nil {
		if s.Spec.IndicatorRef == "" {
			fail("spec.indicator or spec.indicatorRef is required")
			return
		}
		sli = im.slis[s.Spec.IndicatorRef]
		if sli == nil {
			fail("spec.indicatorRef %q names no SLI in this file", s.Spec.IndicatorRef)
			return
		}
	}
	if len(s.Spec.Objectives) == 0 {
		fail("spec.objectives is empty")
		return
	}
	for i, o := range s.Spec.Objectives {
		c := base
		c.Labels = base.Labels.Clone()
		if len(base.Labels) == 0 {
			c.Labels = nil
		}
		c.Name = name
		if len(s.Spec.Objectives) > 1 {
			suffix := slug(o.DisplayName)
			if suffix == "" {
				suffix = strconv.Itoa(i + 1)
			}
			c.Name = name + "-" + suffix
		}
		switch {
		case o.TargetPercent != nil:
			c.Objective = *o.TargetPercent
		case o.Target != nil:
			c.Objective = roundSig(*o.Target * 100)
		default:
			fail("spec.objectives[%d] needs target or targetPercent", i)
			continue
		}
		if err := osloSLIInto(&c, sli, o.Op, o.Value); err != nil {
			fail("spec.objectives[%d]: %v", i, err)
			continue
		}
		im.out = append(im.out, c)
	}
}

func osloLabels(in map[string]any) model.Labels {
	if len(in) == 0 {
		return nil
	}
	out := model.Labels{}
	for k, v := range in {
		switch x := v.(type) {
		case string:
			out[k] = x
		case []any:
			parts := make([]string, 0, len(x))
			for _, p := range x {
				parts = append(parts, fmt.Sprint(p))
			}
			out[k] = strings.Join(parts, ",")
		default:
			out[k] = fmt.Sprint(x)
		}
	}
	return out
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(slugRE.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

var (
	plainSelectorRE = regexp.MustCompile(`^\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^{}]*\})?\s*$`)
)

// promQuery returns a metric source's PromQL with a {{.window}} placeholder.
func promQuery(m *osloMetric, counter bool) (string, error) {
	if m == nil {
		return "", errors.New("missing metric source")
	}
	t := strings.ToLower(m.MetricSource.Type)
	if t != "prometheus" {
		return "", fmt.Errorf("metric source type %q cannot be converted (only Prometheus queries can)", m.MetricSource.Type)
	}
	q := ""
	for _, key := range []string{"query", "promql"} {
		if v, ok := m.MetricSource.Spec[key].(string); ok && v != "" {
			q = strings.TrimSpace(v)
		}
	}
	if q == "" {
		return "", errors.New("the Prometheus metric source has no query")
	}
	if windowRE.MatchString(q) {
		return q, nil
	}
	if counter && plainSelectorRE.MatchString(q) {
		return fmt.Sprintf("sum(rate(%s[{{.window}}]))", q), nil
	}
	return "", fmt.Errorf("query %q cannot be converted: write it with a {{.window}} range, such as sum(rate(http_requests_total[{{.window}}])), or as a plain counter selector with counter: true", q)
}

func osloSLIInto(c *config.SLO, sli *osloSLI, op string, value *float64) error {
	sp := sli.Spec
	switch {
	case sp.RatioMetric != nil:
		rm := sp.RatioMetric
		if rm.Raw != nil {
			return errors.New("ratioMetric.raw (a precomputed ratio) cannot be converted: Sentinel needs good or bad events and total events")
		}
		total, err := promQuery(rm.Total, rm.Counter)
		if err != nil {
			return fmt.Errorf("ratioMetric.total: %w", err)
		}
		var errs string
		switch {
		case rm.Bad != nil:
			if errs, err = promQuery(rm.Bad, rm.Counter); err != nil {
				return fmt.Errorf("ratioMetric.bad: %w", err)
			}
		case rm.Good != nil:
			good, err := promQuery(rm.Good, rm.Counter)
			if err != nil {
				return fmt.Errorf("ratioMetric.good: %w", err)
			}
			errs = fmt.Sprintf("(%s) - (%s)", total, good)
		default:
			return errors.New("ratioMetric needs good or bad beside total")
		}
		c.SLI.Prometheus = &config.SLIPrometheus{Errors: errs, Total: total}
		return nil
	case sp.ThresholdMetric != nil:
		return thresholdInto(c, sp.ThresholdMetric, op, value)
	}
	return errors.New("the SLI has neither ratioMetric nor thresholdMetric")
}

// thresholdInto converts a threshold SLI: Sentinel's own RUM vitals
// (metric source type sentinel) or a Prometheus histogram, whose events at
// or under the threshold are its le bucket.
func thresholdInto(c *config.SLO, m *osloMetric, op string, value *float64) error {
	if value == nil {
		return errors.New("a threshold SLI needs the objective's value")
	}
	if op != "lte" && op != "lt" {
		return fmt.Errorf("op %q cannot be converted: good events are those at or under the threshold (lte)", op)
	}
	switch strings.ToLower(m.MetricSource.Type) {
	case "sentinel", "sentinel-rum":
		metric, _ := m.MetricSource.Spec["metric"].(string)
		metric = strings.ToLower(metric)
		if _, ok := rumDefaults[metric]; !ok {
			return fmt.Errorf("sentinel metric source: metric %q is not lcp, inp, cls, fcp or ttfb", metric)
		}
		th := strconv.FormatFloat(*value, 'g', -1, 64)
		if metric != "cls" {
			th += "s"
		}
		c.SLI.RUM = &config.SLIRUM{Metric: metric, Threshold: th}
		return nil
	case "prometheus":
		q := ""
		for _, key := range []string{"query", "promql"} {
			if v, ok := m.MetricSource.Spec[key].(string); ok && v != "" {
				q = strings.TrimSpace(v)
			}
		}
		sm := plainSelectorRE.FindStringSubmatch(q)
		if sm == nil || !strings.HasSuffix(sm[1], "_bucket") {
			return fmt.Errorf("threshold query %q cannot be converted: only a histogram's _bucket series (counted per event) can; a threshold on a gauge needs time slices", q)
		}
		base := strings.TrimSuffix(sm[1], "_bucket")
		labels := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(sm[2], "{"), "}"))
		le := strconv.FormatFloat(*value, 'g', -1, 64)
		sep := ""
		if labels != "" {
			sep = ", "
		}
		total := fmt.Sprintf("sum(rate(%s_count{%s}[{{.window}}]))", base, labels)
		good := fmt.Sprintf("sum(rate(%s_bucket{%s%sle=%q}[{{.window}}]))", base, labels, sep, le)
		c.SLI.Prometheus = &config.SLIPrometheus{Errors: fmt.Sprintf("%s - %s", total, good), Total: total}
		return nil
	}
	return fmt.Errorf("threshold metric source type %q cannot be converted (use prometheus with a histogram, or sentinel for RUM vitals)", m.MetricSource.Type)
}
