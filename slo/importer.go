package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// MaxImportBytes caps the size of a file given to Import.
const MaxImportBytes = 4 << 20

// maxImportDocs caps the documents (or list items) of one file.
const maxImportDocs = 10_000

// ImportError lists everything in a file that could not be converted, one
// entry per problem, each naming the document and what is wrong.
type ImportError []string

func (e ImportError) Error() string { return strings.Join(e, "\n") }

// Imported is what Import converted, and what it changed or left out on
// the way (each warning names the document, the SLO and the thing).
type Imported struct {
	SLOs     []config.SLO
	Warnings []string
}

// Import converts OpenSLO v1 and v1alpha (kinds SLO and SLI; other kinds
// are skipped) and Sloth prometheus/v1 specs (plain or as the Kubernetes
// PrometheusServiceLevel), in one or several YAML documents or in one YAML
// list of documents, into Sentinel SLOs. What cannot be converted
// faithfully is an ImportError and nothing is half-converted; what is
// converted with a change (a plugin not run, a rolling month made 30
// days, a name made unique) is a warning.
//
// Sentinel SLO names are unique in a config file (they name URLs, metrics
// and alerts). Sloth names SLOs per service; when one name appears in
// several services, each is imported as "<service>-<name>", which is
// Sloth's own sloth_id.
func Import(data []byte) (Imported, error) {
	if len(data) > MaxImportBytes {
		return Imported{}, fmt.Errorf("the file is larger than %d bytes", MaxImportBytes)
	}
	im := &importer{slis: map[string]*osloSLI{}}
	var docs []importDoc
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for n := 1; ; n++ {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Imported{}, ImportError{fmt.Sprintf("document %d: invalid YAML: %s", n, cleanErr(err))}
		}
		root := &node
		if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
			root = root.Content[0]
		}
		if root.Kind == yaml.SequenceNode {
			// The list form the oslo tool accepts: one document holding a
			// YAML list of documents.
			for i, item := range root.Content {
				docs = append(docs, importDoc{where: fmt.Sprintf("document %d, item %d", n, i+1), node: item})
			}
		} else {
			docs = append(docs, importDoc{where: fmt.Sprintf("document %d", n), node: root})
		}
		if len(docs) > maxImportDocs {
			return Imported{}, ImportError{fmt.Sprintf("more than %d documents", maxImportDocs)}
		}
	}
	// OpenSLO SLOs may refer to SLI documents anywhere in the file.
	for i := range docs {
		d := &docs[i]
		if d.node.Kind != yaml.MappingNode {
			if !isEmpty(d.node) {
				im.fail(d.where, "", "expected a mapping with apiVersion and kind (OpenSLO) or version (Sloth)")
			}
			d.skip = true
			continue
		}
		if err := d.node.Decode(&d.head); err != nil {
			im.fail(d.where, "", "expected a mapping with apiVersion and kind (OpenSLO) or version (Sloth)")
			d.skip = true
			continue
		}
		if strings.EqualFold(d.head.APIVersion, "openslo/v1") && d.head.Kind == "SLI" {
			var s osloSLI
			if err := d.node.Decode(&s); err != nil {
				im.fail(d.where, "", "invalid SLI: %s", cleanErr(err))
				continue
			}
			im.slis[s.Metadata.Name] = &s
		}
	}
	for _, d := range docs {
		if d.skip {
			continue
		}
		im.convert(d)
	}
	if len(im.errs) > 0 {
		return Imported{}, im.errs
	}
	if len(im.out) == 0 {
		e := ImportError{"no SLO found in the file"}
		return Imported{}, append(e, im.warns...)
	}
	im.uniqueNames()
	// The result must be a valid slos: section.
	var out []config.SLO
	for _, s := range im.out {
		out = append(out, s.slo)
	}
	if _, ps := Compile(out, nil); len(ps) > 0 {
		var e ImportError
		for _, p := range ps {
			e = append(e, "converted SLO is invalid: "+p.String())
		}
		return Imported{}, e
	}
	return Imported{SLOs: out, Warnings: im.warns}, nil
}

// ImportYAML converts like Import and renders the result as a slos:
// section.
func ImportYAML(data []byte) (out []byte, warnings []string, err error) {
	res, err := Import(data)
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(struct {
		SLOs []config.SLO `yaml:"slos"`
	}{res.SLOs}); err != nil {
		return nil, nil, fmt.Errorf("render slos: %w", err)
	}
	_ = enc.Close()
	return buf.Bytes(), res.Warnings, nil
}

func cleanErr(err error) string { return strings.TrimPrefix(err.Error(), "yaml: ") }

func isEmpty(n *yaml.Node) bool {
	return n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

type importHead struct {
	APIVersion string `yaml:"apiVersion"`
	Version    string `yaml:"version"`
	Kind       string `yaml:"kind"`
}

type importDoc struct {
	where string
	node  *yaml.Node
	head  importHead
	skip  bool
}

// importedSLO is a converted SLO with the service its source named it
// under (Sloth names are unique per service).
type importedSLO struct {
	slo   config.SLO
	where string
}

type importer struct {
	slis  map[string]*osloSLI
	out   []importedSLO
	errs  ImportError
	warns []string
}

func (im *importer) fail(where, name, format string, args ...any) {
	if name != "" {
		where += fmt.Sprintf(" (SLO %s)", name)
	}
	im.errs = append(im.errs, where+": "+fmt.Sprintf(format, args...))
}

func (im *importer) warn(where, name, format string, args ...any) {
	if name != "" {
		where += fmt.Sprintf(" (SLO %s)", name)
	}
	w := where + ": " + fmt.Sprintf(format, args...)
	if !slices.Contains(im.warns, w) {
		im.warns = append(im.warns, w)
	}
}

func (im *importer) add(where string, c config.SLO) {
	im.out = append(im.out, importedSLO{slo: c, where: where})
}

func (im *importer) convert(d importDoc) {
	h := d.head
	switch {
	case h.APIVersion == "" && h.Version == "" && h.Kind == "":
		if !isEmpty(d.node) {
			im.fail(d.where, "", "neither OpenSLO (apiVersion: openslo/v1) nor Sloth (version: prometheus/v1)")
		}
	case strings.EqualFold(h.APIVersion, "openslo/v1"):
		switch h.Kind {
		case "SLO":
			im.openSLO(d.where, d.node)
		case "SLI":
			// used through the SLOs that refer to it
		case "AlertPolicy", "AlertCondition", "AlertNotificationTarget":
			im.warn(d.where, "", "OpenSLO %s is not converted: Sentinel raises multi-window burn-rate alerts for every SLO (customise them under slos[].alerting)", h.Kind)
		case "DataSource", "Service":
			// nothing in slos: corresponds to them
		default:
			im.fail(d.where, "", "unknown OpenSLO kind %q", h.Kind)
		}
	case strings.EqualFold(h.APIVersion, "openslo/v1alpha"):
		if h.Kind == "SLO" {
			im.openSLOAlpha(d.where, d.node)
		} else if h.Kind != "Service" {
			im.fail(d.where, "", "OpenSLO v1alpha kind %q is not supported", h.Kind)
		}
	case strings.HasPrefix(strings.ToLower(h.APIVersion), "openslo/"):
		im.fail(d.where, "", "OpenSLO %s is not supported; convert it to openslo/v1", h.APIVersion)
	case h.Version == "prometheus/v1":
		var s slothSpec
		if err := d.node.Decode(&s); err != nil {
			im.fail(d.where, "", "invalid Sloth spec: %s", cleanErr(err))
			return
		}
		im.unknownKeys(d.where, d.node, &slothSpec{})
		im.sloth(d.where, s)
	case h.APIVersion == "sloth.slok.dev/v1" && h.Kind == "PrometheusServiceLevel":
		var k slothCRD
		if err := d.node.Decode(&k); err != nil {
			im.fail(d.where, "", "invalid PrometheusServiceLevel: %s", cleanErr(err))
			return
		}
		im.unknownKeys(d.where, d.node, &slothCRD{})
		im.sloth(d.where, k.Spec)
	case h.APIVersion == "sloth.slok.dev/v1":
		im.warn(d.where, "", "Sloth %s is not converted: Sentinel's burn-rate windows are the SRE workbook's", h.Kind)
	case h.Version != "":
		im.fail(d.where, "", "Sloth spec version %q is not supported (want prometheus/v1)", h.Version)
	default:
		im.fail(d.where, "", "apiVersion %q kind %q is neither OpenSLO v1 nor Sloth", h.APIVersion, h.Kind)
	}
}

// unknownKeys warns about keys of a spec that the importer does not read,
// so nothing is dropped silently.
func (im *importer) unknownKeys(where string, n *yaml.Node, into any) {
	raw, err := yaml.Marshal(n)
	if err != nil {
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var te *yaml.TypeError
	if err := dec.Decode(into); !errors.As(err, &te) {
		return
	}
	for _, e := range te.Errors {
		if i := strings.Index(e, "field "); i >= 0 && strings.Contains(e, " not found") {
			field := strings.TrimSuffix(e[i+len("field "):], e[strings.Index(e, " not found"):])
			im.warn(where, "", "key %s is not understood and was ignored", field)
		}
	}
}

// uniqueNames renames SLOs whose name appears in several services to
// "<service>-<name>".
func (im *importer) uniqueNames() {
	services := map[string]map[string]bool{}
	for _, s := range im.out {
		if services[s.slo.Name] == nil {
			services[s.slo.Name] = map[string]bool{}
		}
		services[s.slo.Name][s.slo.Service] = true
	}
	for i := range im.out {
		s := &im.out[i]
		if len(services[s.slo.Name]) < 2 || s.slo.Service == "" {
			continue
		}
		others := make([]string, 0, len(services[s.slo.Name]))
		for svc := range services[s.slo.Name] {
			if svc != s.slo.Service {
				others = append(others, svc)
			}
		}
		sort.Strings(others)
		old := s.slo.Name
		s.slo.Name = s.slo.Service + "-" + old
		im.warn(s.where, old, "renamed %s: the name is also used in service %s, and Sentinel SLO names are unique in a file", s.slo.Name, strings.Join(others, ", "))
	}
}

// --- Sloth prometheus/v1 ---

type slothCRD struct {
	APIVersion string         `yaml:"apiVersion"`
	Kind       string         `yaml:"kind"`
	Metadata   map[string]any `yaml:"metadata"`
	Spec       slothSpec      `yaml:"spec"`
}

type slothPlugins struct {
	OverridePrevious bool `yaml:"overridePrevious"`
	Chain            []struct {
		ID       string `yaml:"id"`
		Config   any    `yaml:"config"`
		Priority int    `yaml:"priority"`
	} `yaml:"chain"`
}

type slothAlert struct {
	Disable     bool              `yaml:"disable"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type slothSpec struct {
	Version    string            `yaml:"version"`
	Service    string            `yaml:"service"`
	Labels     map[string]string `yaml:"labels"`
	SLOPlugins *slothPlugins     `yaml:"slo_plugins"`
	// The Kubernetes CRD spells it in camel case.
	SLOPluginsCamel *slothPlugins `yaml:"sloPlugins"`
	SLOs            []struct {
		Name        string            `yaml:"name"`
		Objective   float64           `yaml:"objective"`
		Description string            `yaml:"description"`
		Labels      map[string]string `yaml:"labels"`
		Plugins     *slothPlugins     `yaml:"plugins"`
		SLI         struct {
			Events *struct {
				ErrorQuery string `yaml:"error_query"`
				TotalQuery string `yaml:"total_query"`
				// Sloth's Kubernetes CRD spells them in camel case.
				ErrorQueryCamel string `yaml:"errorQuery"`
				TotalQueryCamel string `yaml:"totalQuery"`
			} `yaml:"events"`
			Raw *struct {
				ErrorRatioQuery      string `yaml:"error_ratio_query"`
				ErrorRatioQueryCamel string `yaml:"errorRatioQuery"`
			} `yaml:"raw"`
			Plugin *struct {
				ID      string            `yaml:"id"`
				Options map[string]string `yaml:"options"`
			} `yaml:"plugin"`
		} `yaml:"sli"`
		Alerting struct {
			Name             string            `yaml:"name"`
			Labels           map[string]string `yaml:"labels"`
			Annotations      map[string]string `yaml:"annotations"`
			PageAlert        slothAlert        `yaml:"page_alert"`
			TicketAlert      slothAlert        `yaml:"ticket_alert"`
			PageAlertCamel   slothAlert        `yaml:"pageAlert"`
			TicketAlertCamel slothAlert        `yaml:"ticketAlert"`
		} `yaml:"alerting"`
	} `yaml:"slos"`
}

// pluginIDs lists a plugin chain's ids.
func pluginIDs(p *slothPlugins) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, c := range p.Chain {
		id := c.ID
		if id == "" {
			id = "(without id)"
		}
		out = append(out, id)
	}
	return out
}

func (im *importer) sloth(where string, s slothSpec) {
	if len(s.SLOs) == 0 {
		im.fail(where, "", "the Sloth spec has no slos")
	}
	for _, id := range append(pluginIDs(s.SLOPlugins), pluginIDs(s.SLOPluginsCamel)...) {
		im.warn(where, "", "SLO plugin %s is not run by Sentinel: its SLOs are converted without it", id)
	}
	for _, so := range s.SLOs {
		c := config.SLO{
			Name: so.Name, Description: so.Description, Service: s.Service, Objective: so.Objective,
			Window: "30d", Labels: mergeLabels(s.Labels, so.Labels),
		}
		for _, id := range pluginIDs(so.Plugins) {
			im.warn(where, so.Name, "SLO plugin %s is not run by Sentinel: the SLO is converted without it", id)
		}
		switch {
		case so.SLI.Events != nil:
			e := so.SLI.Events
			errs, total := first(e.ErrorQuery, e.ErrorQueryCamel), first(e.TotalQuery, e.TotalQueryCamel)
			if errs == "" || total == "" {
				im.fail(where, so.Name, "sli.events needs both error_query and total_query")
				continue
			}
			c.SLI.Prometheus = &config.SLIPrometheus{Errors: strings.TrimSpace(errs), Total: strings.TrimSpace(total)}
		case so.SLI.Raw != nil:
			im.fail(where, so.Name, "sli.raw (a single error_ratio_query) cannot be converted: Sentinel needs separate error and total queries to weigh windows by traffic")
			continue
		case so.SLI.Plugin != nil:
			im.fail(where, so.Name, "sli.plugin %s cannot be converted: Sloth SLI plugins generate their queries inside Sloth; write the queries it generates under sli.events", so.SLI.Plugin.ID)
			continue
		default:
			im.fail(where, so.Name, "the SLO has no sli")
			continue
		}
		a := so.Alerting
		page, ticket := a.PageAlert, a.TicketAlert
		if isZeroAlert(page) {
			page = a.PageAlertCamel
		}
		if isZeroAlert(ticket) {
			ticket = a.TicketAlertCamel
		}
		if a.Name != "" || len(a.Labels)+len(a.Annotations) > 0 || !isZeroAlert(page) || !isZeroAlert(ticket) {
			c.Alerting = &config.SLOAlerting{
				Name: a.Name, Labels: labelsOrNil(a.Labels), Annotations: labelsOrNil(a.Annotations),
				Page:   config.SLOAlertTier{Disable: page.Disable, Labels: labelsOrNil(page.Labels), Annotations: labelsOrNil(page.Annotations)},
				Ticket: config.SLOAlertTier{Disable: ticket.Disable, Labels: labelsOrNil(ticket.Labels), Annotations: labelsOrNil(ticket.Annotations)},
			}
		}
		im.add(where, c)
	}
}

func isZeroAlert(a slothAlert) bool {
	return !a.Disable && len(a.Labels) == 0 && len(a.Annotations) == 0
}

func labelsOrNil(m map[string]string) model.Labels {
	if len(m) == 0 {
		return nil
	}
	return model.Labels(m)
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

type osloObjective struct {
	DisplayName     string   `yaml:"displayName"`
	Op              string   `yaml:"op"`
	Value           *float64 `yaml:"value"`
	Target          *float64 `yaml:"target"`
	TargetPercent   *float64 `yaml:"targetPercent"`
	TimeSliceTarget *float64 `yaml:"timeSliceTarget"`
	TimeSliceWindow string   `yaml:"timeSliceWindow"`
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
		BudgetingMethod string          `yaml:"budgetingMethod"`
		Objectives      []osloObjective `yaml:"objectives"`
		AlertPolicies   []any           `yaml:"alertPolicies"`
	} `yaml:"spec"`
}

// osloDurationRE is an OpenSLO duration shorthand: 28d, 2w, 1M, 1Q, 1Y, 1h, 1m.
var osloDurationRE = regexp.MustCompile(`^([1-9][0-9]{0,4})(m|h|d|w|M|Q|Y)$`)

// osloWindow converts an OpenSLO time window to Sentinel's window (and
// time zone), with a warning where it changes it.
func (im *importer) osloWindow(where, name, dur string, rolling bool, tz, start string) (window, zone string, ok bool) {
	dur = strings.TrimSpace(dur)
	m := osloDurationRE.FindStringSubmatch(dur)
	if m == nil {
		im.fail(where, name, "spec.timeWindow[0].duration %q is not an OpenSLO duration such as 28d, 1w or 1M", dur)
		return "", "", false
	}
	n, _ := strconv.Atoi(m[1])
	if rolling {
		switch m[2] {
		case "m", "h", "d":
			return dur, "", true
		case "w":
			return strconv.Itoa(n*7) + "d", "", true
		case "M":
			if n == 1 {
				im.warn(where, name, "a rolling month (1M) becomes a rolling 30d window: Sentinel's rolling windows have a fixed length")
			} else {
				im.warn(where, name, "a rolling %s becomes %dd: Sentinel's rolling windows have a fixed length", dur, n*30)
			}
			return strconv.Itoa(n*30) + "d", "", true
		}
		im.fail(where, name, "a rolling %s window cannot be converted: Sentinel's windows are at most 366 days (write it in days)", dur)
		return "", "", false
	}
	switch {
	case dur == "1M":
		window = "month"
	case dur == "1w" || dur == "7d":
		window = "week"
	case m[2] == "m" && n == 1:
		im.fail(where, name, "calendar window %q is one minute: OpenSLO writes a month as 1M", dur)
		return "", "", false
	default:
		im.fail(where, name, "calendar window %q cannot be converted: Sentinel's calendar windows are one month (1M) or one week (1w)", dur)
		return "", "", false
	}
	if tz != "" && tz != "UTC" {
		if _, err := time.LoadLocation(tz); err != nil {
			im.fail(where, name, "calendar time zone %q is not a known IANA zone", tz)
			return "", "", false
		}
		zone = tz
	}
	if start = strings.TrimSpace(start); start != "" {
		if t, err := time.Parse("2006-01-02 15:04:05", start); err != nil || t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 ||
			(window == "month" && t.Day() != 1) || (window == "week" && t.Weekday() != time.Monday) {
			first := "the 1st of the month"
			if window == "week" {
				first = "Monday"
			}
			im.warn(where, name, "calendar startTime %q is not used: Sentinel's calendar %ss start on %s at 00:00", start, window, first)
		}
	}
	return window, zone, true
}

// decodeSLO decodes an OpenSLO SLO document into v and returns its name
// (in meta); ok is false, and the reason noted, when it has none.
func (im *importer) decodeSLO(where string, n *yaml.Node, v any, meta *osloMeta) (name string, ok bool) {
	if err := n.Decode(v); err != nil {
		im.fail(where, "", "invalid SLO: %s", cleanErr(err))
		return "", false
	}
	if meta.Name == "" {
		im.fail(where, "", "metadata.name is missing")
		return "", false
	}
	return meta.Name, true
}

func (im *importer) openSLO(where string, n *yaml.Node) {
	var s osloSLO
	name, ok := im.decodeSLO(where, n, &s, &s.Metadata)
	if !ok {
		return
	}
	budgeting := ""
	switch s.Spec.BudgetingMethod {
	case "", "Occurrences":
	case "Timeslices":
		budgeting = config.BudgetingTimeslices
	case "RatioTimeslices":
		budgeting = config.BudgetingRatioTimeslices
	default:
		im.fail(where, name, "budgetingMethod %q is not one of Occurrences, Timeslices or RatioTimeslices", s.Spec.BudgetingMethod)
		return
	}
	if len(s.Spec.TimeWindow) != 1 {
		im.fail(where, name, "spec.timeWindow must hold exactly one window (got %d)", len(s.Spec.TimeWindow))
		return
	}
	tw := s.Spec.TimeWindow[0]
	var tz, start string
	if tw.Calendar != nil {
		tz, start = tw.Calendar.TimeZone, tw.Calendar.StartTime
	}
	window, zone, ok := im.osloWindow(where, name, tw.Duration, tw.IsRolling, tz, start)
	if !ok {
		return
	}
	if len(s.Spec.AlertPolicies) > 0 {
		im.warn(where, name, "alertPolicies are not converted: Sentinel raises multi-window burn-rate alerts for every SLO (customise them under slos[].alerting)")
	}
	base := config.SLO{Description: s.Spec.Description, Service: s.Spec.Service, Labels: osloLabels(s.Metadata.Labels),
		Window: window, TimeZone: zone, Budgeting: budgeting}
	if base.Description == "" {
		base.Description = s.Metadata.DisplayName
	}
	sli := s.Spec.Indicator
	if sli == nil {
		if s.Spec.IndicatorRef == "" {
			im.fail(where, name, "spec.indicator or spec.indicatorRef is required")
			return
		}
		sli = im.slis[s.Spec.IndicatorRef]
		if sli == nil {
			im.fail(where, name, "spec.indicatorRef %q names no SLI in this file", s.Spec.IndicatorRef)
			return
		}
	}
	if len(s.Spec.Objectives) == 0 {
		im.fail(where, name, "spec.objectives is empty")
		return
	}
	for i, o := range s.Spec.Objectives {
		c := base
		c.Labels = nil
		if len(base.Labels) > 0 {
			c.Labels = base.Labels.Clone()
		}
		c.Name = objectiveName(name, o.DisplayName, i, len(s.Spec.Objectives))
		switch {
		case o.TargetPercent != nil:
			c.Objective = *o.TargetPercent
		case o.Target != nil:
			c.Objective = roundSig(*o.Target * 100)
		default:
			im.fail(where, name, "spec.objectives[%d] needs target or targetPercent", i)
			continue
		}
		if !im.osloSlices(where, name, i, &c, o) {
			continue
		}
		if err := osloSLIInto(&c, sli, o.Op, o.Value); err != nil {
			im.fail(where, name, "spec.objectives[%d]: %v", i, err)
			continue
		}
		im.add(where, c)
	}
}

// objectiveName names the SLO of one of an OpenSLO SLO's objectives.
func objectiveName(name, display string, i, n int) string {
	if n < 2 {
		return name
	}
	suffix := slug(display)
	if suffix == "" {
		suffix = strconv.Itoa(i + 1)
	}
	return name + "-" + suffix
}

// osloSlices carries an objective's time slices into c.
func (im *importer) osloSlices(where, name string, i int, c *config.SLO, o osloObjective) bool {
	if c.Budgeting == "" {
		if o.TimeSliceTarget != nil || o.TimeSliceWindow != "" {
			im.warn(where, name, "spec.objectives[%d]: timeSliceTarget and timeSliceWindow are ignored with Occurrences budgeting", i)
		}
		return true
	}
	if o.TimeSliceWindow != "" {
		d, err := model.ParseDuration(o.TimeSliceWindow)
		if err != nil || d.Std() < time.Minute || d.Std()%time.Minute != 0 || time.Hour%d.Std() != 0 {
			im.fail(where, name, "spec.objectives[%d].timeSliceWindow %q cannot be converted: Sentinel's time slices are whole minutes that divide an hour (1m, 5m, 10m, 15m, 30m, 1h)", i, o.TimeSliceWindow)
			return false
		}
		if d.Std() != time.Minute {
			c.TimesliceWindow = d
		}
	}
	if c.Budgeting == config.BudgetingTimeslices {
		if o.TimeSliceTarget == nil {
			im.fail(where, name, "spec.objectives[%d]: Timeslices budgeting needs timeSliceTarget", i)
			return false
		}
		c.TimesliceTarget = roundSig(*o.TimeSliceTarget * 100)
	} else if o.TimeSliceTarget != nil {
		im.warn(where, name, "spec.objectives[%d]: timeSliceTarget is ignored with RatioTimeslices budgeting (each slice's ratio counts)", i)
	}
	return true
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

// promQueryText returns q with a {{.window}} placeholder, wrapping a plain
// counter selector in sum(rate(...)).
func promQueryText(q string, counter bool) (string, error) {
	q = strings.TrimSpace(q)
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
			q = v
		}
	}
	return promQueryText(q, counter)
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

// --- OpenSLO v1alpha (the form Sloth's OpenSLO examples use) ---

type osloAlphaQuery struct {
	Source    string `yaml:"source"`
	QueryType string `yaml:"queryType"`
	Query     string `yaml:"query"`
}

type osloAlphaSLO struct {
	Metadata osloMeta `yaml:"metadata"`
	Spec     struct {
		Service         string `yaml:"service"`
		Description     string `yaml:"description"`
		BudgetingMethod string `yaml:"budgetingMethod"`
		Objectives      []struct {
			DisplayName  string   `yaml:"displayName"`
			Target       *float64 `yaml:"target"`
			RatioMetrics *struct {
				Incremental bool            `yaml:"incremental"`
				Good        *osloAlphaQuery `yaml:"good"`
				Total       *osloAlphaQuery `yaml:"total"`
			} `yaml:"ratioMetrics"`
		} `yaml:"objectives"`
		TimeWindows []struct {
			Count     int    `yaml:"count"`
			Unit      string `yaml:"unit"`
			IsRolling *bool  `yaml:"isRolling"`
		} `yaml:"timeWindows"`
	} `yaml:"spec"`
}

// alphaUnits are v1alpha's time window units as OpenSLO v1 shorthands.
var alphaUnits = map[string]string{"Minute": "m", "Hour": "h", "Day": "d", "Week": "w", "Month": "M", "Quarter": "Q", "Year": "Y"}

func (im *importer) openSLOAlpha(where string, n *yaml.Node) {
	var s osloAlphaSLO
	name, ok := im.decodeSLO(where, n, &s, &s.Metadata)
	if !ok {
		return
	}
	if m := s.Spec.BudgetingMethod; m != "" && m != "Occurrences" {
		im.fail(where, name, "v1alpha budgetingMethod %s cannot be converted: only Occurrences has ratio metrics in v1alpha", m)
		return
	}
	window := "30d"
	switch len(s.Spec.TimeWindows) {
	case 0:
	case 1:
		tw := s.Spec.TimeWindows[0]
		u, ok := alphaUnits[tw.Unit]
		if !ok || tw.Count <= 0 {
			im.fail(where, name, "spec.timeWindows[0]: %d %s is not a window (units: Minute, Hour, Day, Week, Month)", tw.Count, tw.Unit)
			return
		}
		rolling := tw.IsRolling == nil || *tw.IsRolling
		w, _, ok := im.osloWindow(where, name, strconv.Itoa(tw.Count)+u, rolling, "", "")
		if !ok {
			return
		}
		window = w
	default:
		im.fail(where, name, "spec.timeWindows must hold one window (got %d)", len(s.Spec.TimeWindows))
		return
	}
	if len(s.Spec.Objectives) == 0 {
		im.fail(where, name, "spec.objectives is empty")
		return
	}
	for i, o := range s.Spec.Objectives {
		c := config.SLO{Name: objectiveName(name, o.DisplayName, i, len(s.Spec.Objectives)), Description: s.Spec.Description,
			Service: s.Spec.Service, Labels: osloLabels(s.Metadata.Labels), Window: window}
		if c.Description == "" {
			c.Description = s.Metadata.DisplayName
		}
		if o.Target == nil {
			im.fail(where, name, "spec.objectives[%d] needs target", i)
			continue
		}
		c.Objective = roundSig(*o.Target * 100)
		rm := o.RatioMetrics
		if rm == nil || rm.Good == nil || rm.Total == nil {
			im.fail(where, name, "spec.objectives[%d] needs ratioMetrics with good and total", i)
			continue
		}
		q := func(which string, a *osloAlphaQuery) (string, bool) {
			if !strings.EqualFold(a.Source, "prometheus") {
				im.fail(where, name, "spec.objectives[%d].ratioMetrics.%s: source %q cannot be converted (only Prometheus queries can)", i, which, a.Source)
				return "", false
			}
			out, err := promQueryText(a.Query, rm.Incremental)
			if err != nil {
				im.fail(where, name, "spec.objectives[%d].ratioMetrics.%s: %v", i, which, err)
				return "", false
			}
			return out, true
		}
		good, ok1 := q("good", rm.Good)
		total, ok2 := q("total", rm.Total)
		if !ok1 || !ok2 {
			continue
		}
		c.SLI.Prometheus = &config.SLIPrometheus{Errors: fmt.Sprintf("(%s) - (%s)", total, good), Total: total}
		im.add(where, c)
	}
}
