package alerting

import (
	"fmt"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Refs are the names rule references are checked against when compiling:
// the configured probes and SLOs, and the runbook catalogue.
type Refs struct {
	Probes []string
	SLOs   []string
	// Runbooks reports whether a runbook exists; nil skips the check.
	Runbooks interface{ Has(name string) bool }
	// RunbooksDir names the directory in problems about missing runbooks.
	RunbooksDir string
}

// RuleKind is the kind of signal a rule watches.
type RuleKind string

// Rule kinds.
const (
	KindProbe RuleKind = "probe"
	KindRUM   RuleKind = "rum"
	KindSLO   RuleKind = "slo"
)

// Rule is one compiled alerting.rules[] entry: its condition typed, its
// templates parsed.
type Rule struct {
	Name          string
	Kind          RuleKind
	Probe         string
	RUMMeasure    string // js_errors_per_minute, lcp, inp, cls, fcp, ttfb
	Route         string
	Window        time.Duration
	Above         float64
	SLO           string
	BudgetBelow   float64
	For           time.Duration
	KeepFiringFor time.Duration
	Severity      model.Severity
	Runbook       string
	labels        map[string]*template.Template
	annotations   map[string]*template.Template
	// title, when set, renders the title annotation (the incident's title).
	title *template.Template
}

// Compile checks the alerting section (its shape and its references to
// probes, SLOs and runbooks) and compiles the rules. Problem paths start
// with "alerting".
func Compile(cfg config.Alerting, refs Refs) ([]*Rule, config.Problems) {
	cfg = cfg.WithDefaults()
	ps := cfg.Validate("alerting")
	probes := toSet(refs.Probes)
	slos := toSet(refs.SLOs)
	var rules []*Rule
	for i, rc := range cfg.Rules {
		p := fmt.Sprintf("alerting.rules[%d]", i)
		r := &Rule{
			Name: rc.Name, Kind: RuleKind(rc.When.Kind()), For: rc.For.Std(), KeepFiringFor: rc.KeepFiringFor.Std(),
			Severity: rc.Severity, Runbook: rc.Runbook,
			labels: map[string]*template.Template{}, annotations: map[string]*template.Template{},
		}
		switch r.Kind {
		case KindProbe:
			r.Probe = rc.When.Probe
			if _, ok := probes[r.Probe]; !ok {
				ps.Add(p+".when.probe", "no probe named %q%s", r.Probe, suggest(r.Probe, refs.Probes))
			}
		case KindRUM:
			r.RUMMeasure, r.Route, r.Window = rc.When.RUM, rc.When.Route, rc.When.Window.Std()
			if rc.When.Above != nil {
				r.Above = float64(*rc.When.Above)
			}
		case KindSLO:
			r.SLO = rc.When.SLO
			if _, ok := slos[r.SLO]; !ok {
				ps.Add(p+".when.slo", "no SLO named %q%s", r.SLO, suggest(r.SLO, refs.SLOs))
			}
			if rc.When.BudgetRemainingBelow != nil {
				r.BudgetBelow = *rc.When.BudgetRemainingBelow
			}
		}
		if r.Runbook != "" && refs.Runbooks != nil && !refs.Runbooks.Has(r.Runbook) {
			ps.Add(p+".runbook", "no runbook named %q in %s (expected the file %s.md)", r.Runbook, refs.RunbooksDir, r.Runbook)
		}
		for k, v := range rc.Labels {
			t, err := parseTemplate(rc.Name, v)
			if err != nil {
				ps.Add(config.JoinPath(p, "labels", k), "%v", err)
				continue
			}
			r.labels[k] = t
		}
		sum, desc := defaultAnnotations(r.Kind)
		for k, v := range map[string]string{AnnotationSummary: sum, AnnotationDescription: desc} {
			if _, own := rc.Annotations[k]; own || v == "" {
				continue
			}
			t, err := parseTemplate(rc.Name, v)
			if err != nil {
				ps.Add(config.JoinPath(p, "annotations", k), "default template: %v", err)
				continue
			}
			r.annotations[k] = t
		}
		for k, v := range rc.Annotations {
			t, err := parseTemplate(rc.Name, v)
			if err != nil {
				ps.Add(config.JoinPath(p, "annotations", k), "%v", err)
				continue
			}
			r.annotations[k] = t
		}
		title := rc.Title
		if _, ownSummary := rc.Annotations[AnnotationSummary]; title == "" && !ownSummary {
			title = defaultTitle(r.Kind)
		}
		if title != "" {
			t, err := parseTemplate(rc.Name, title)
			if err != nil {
				ps.Add(p+".title", "%v", err)
			} else {
				r.title = t
			}
		}
		rules = append(rules, r)
	}
	parser := NewMatcherParser(cfg.MatcherSyntax, nil)
	_, ips := compileInhibitRules(cfg, parser)
	intervals, tps := compileTimeIntervals(cfg)
	_, mps := compileMaintenance(cfg, parser, intervals)
	ps = append(append(append(ps, ips...), tps...), mps...)
	for i, h := range cfg.Heartbeats {
		if h.Runbook != "" && refs.Runbooks != nil && !refs.Runbooks.Has(h.Runbook) {
			ps.Add(fmt.Sprintf("alerting.heartbeats[%d].runbook", i), "no runbook named %q in %s", h.Runbook, refs.RunbooksDir)
		}
	}
	return rules, ps
}

func parseTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("bad template: %v", strings.TrimPrefix(err.Error(), "template: "))
	}
	return t, nil
}

// expand runs t on d; an execution error leaves a marker rather than
// failing the evaluation.
func expand(t *template.Template, d templateData) string {
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return fmt.Sprintf("<error expanding template: %v>", err)
	}
	return b.String()
}

// instanceLabels builds an alert's labels: the source labels, then the
// rule's templated labels, then alertname and severity.
func (r *Rule) instanceLabels(source model.Labels) model.Labels {
	l := source.Clone()
	d := templateData{Name: r.Name, Labels: source}
	for k, t := range r.labels {
		l[k] = expand(t, d)
	}
	l["alertname"] = r.Name
	l["severity"] = string(r.Severity)
	return l
}

// instanceAnnotations expands the annotations (and the title) for d,
// whose Name and Labels it sets. A probe rule's run link also becomes the
// run_url annotation, which Slack and the incident page link to.
func (r *Rule) instanceAnnotations(labels model.Labels, d templateData) model.Labels {
	out := model.Labels{}
	d.Name, d.Labels = r.Name, labels
	for k, t := range r.annotations {
		out[k] = expand(t, d)
	}
	if r.title != nil {
		out[AnnotationTitle] = expand(r.title, d)
	}
	if _, own := out[AnnotationRunURL]; !own && d.Probe.RunURL != "" {
		out[AnnotationRunURL] = d.Probe.RunURL
	}
	return out
}

func toSet(names []string) map[string]struct{} {
	out := make(map[string]struct{}, len(names))
	for _, n := range names {
		out[n] = struct{}{}
	}
	return out
}

// suggest lists the known names in a problem message.
func suggest(_ string, known []string) string {
	if len(known) == 0 {
		return " (none are configured)"
	}
	k := append([]string(nil), known...)
	sort.Strings(k)
	if len(k) > 10 {
		k = append(k[:10], "…")
	}
	return " (known: " + strings.Join(k, ", ") + ")"
}
