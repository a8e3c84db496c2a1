package alerting

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Annotations that explain an alert: every rule's alerts carry a summary
// (one line: what is wrong, with the figures) and a description (the
// detail a person reads first), from templates that a rule may override
// (alerting.rules[].annotations) and a title (alerting.rules[].title) that
// names the incident. The defaults below read facts gathered per kind of
// rule: the probe's failing step, status, error and failed run; the RUM
// measure, route, value and threshold; the SLO's budget.

// Annotation names Sentinel sets besides the rule's own.
const (
	AnnotationSummary     = "summary"
	AnnotationDescription = "description"
	AnnotationTitle       = "title"
	// AnnotationDetail holds the figures behind an SLO burn alert (tier,
	// windows, burn rates).
	AnnotationDetail = "detail"
	// AnnotationRunURL links to the failed probe run (the probe page
	// anchored at that run).
	AnnotationRunURL = "run_url"
)

// templateData is what label, annotation and title templates see.
type templateData struct {
	// Name is the rule's name; Labels the alert's labels.
	Name   string
	Labels model.Labels
	// Value is the measured value (the RUM measure, the SLO's remaining
	// budget fraction), 0 for probe rules.
	Value float64
	// ExternalURL is Sentinel's server.external_url.
	ExternalURL string
	// Probe, RUM and SLO are the facts of the rule's kind (zero for the
	// others).
	Probe ProbeFacts
	RUM   RUMFacts
	SLO   SLOFacts

	// stale is set when the facts describe no failure to explain (a probe
	// whose latest run passed while its state still fails): the alert keeps
	// the annotations of its last failure.
	stale bool
}

// ProbeFacts describe a probe rule's latest failure, for templates.
type ProbeFacts struct {
	Name, Location string
	// Step is the step that failed, Status its HTTP status (0 when none),
	// Error the failed assertion or error, ErrorExcerpt what the response
	// said went wrong.
	Step         string
	Status       int
	Error        string
	ErrorExcerpt string
	// Problem is status, error and excerpt in one phrase, as in
	// `HTTP 503, "payment provider unavailable"`.
	Problem string
	// Failures counts the failed runs in a row; Since is when the probe
	// started to count as failing (UTC), after its failure_threshold.
	Failures int
	Since    string
	// RunID names the failed run; RunURL is its place on the probe page.
	RunID, RunURL string
}

// RUMFacts describe a RUM rule's measure, for templates.
type RUMFacts struct {
	// Measure is what is measured, as in "p75 LCP" or "JS errors per
	// minute"; Where the route ("on /checkout") or "across the site".
	Measure, Where, Route string
	// Value and Threshold are formatted with their unit ("4.2 s").
	Value, Threshold string
	// Window is the span the measure covers ("5m").
	Window string
}

// SLOFacts describe an SLO rule's budget, for templates.
type SLOFacts struct {
	Name string
	// Objective is the configured percentage ("99.5%"), Window the SLO's
	// window ("30-day").
	Objective, Window string
	// BudgetRemaining and Threshold are percentages of the error budget.
	BudgetRemaining, Threshold string
	// Projected is true when the budget's allowance is projected from the
	// traffic seen so far (event SLIs early in their window).
	Projected bool
}

// The default templates, by rule kind. A rule's own annotations of the
// same name replace them.
const (
	defaultProbeSummary     = `{{.Probe.Name}} fails{{with .Probe.Step}} at step {{.}}{{end}}{{with .Probe.Problem}}: {{.}}{{end}}{{with .Probe.Location}} (from {{.}}){{end}}`
	defaultProbeDescription = `The {{.Probe.Name}} probe failed {{.Probe.Failures}} runs in a row from {{.Probe.Location}}{{with .Probe.Since}} (counted as failing since {{.}}){{end}}.` +
		`{{with .Probe.Step}} Step {{.}}{{end}}{{with .Probe.Error}} failed: {{.}}.{{end}}{{with .Probe.ErrorExcerpt}} The response said: {{.}}.{{end}}` +
		`{{with .Probe.RunURL}} Failed run: {{.}}{{end}}`
	defaultRUMSummary     = `{{.RUM.Measure}} {{.RUM.Where}} is {{.RUM.Value}}, above {{.RUM.Threshold}} (last {{.RUM.Window}})`
	defaultRUMDescription = `Real users' {{.RUM.Measure}} {{.RUM.Where}} over the last {{.RUM.Window}} is {{.RUM.Value}}; this rule fires above {{.RUM.Threshold}}.`
	defaultSLOSummary     = `{{.SLO.Name}} has {{.SLO.BudgetRemaining}} of its {{.SLO.Window}} error budget left{{if .SLO.Projected}} (projected){{end}} (this rule fires below {{.SLO.Threshold}})`
	defaultSLODescription = `The {{.SLO.Name}} SLO ({{.SLO.Objective}} over {{.SLO.Window}} windows) has {{.SLO.BudgetRemaining}} of its error budget left; this rule fires below {{.SLO.Threshold}}.` +
		`{{if .SLO.Projected}} ` + projectedSentence + `{{end}}`
)

// defaultSLOTitle names an SLO budget rule's incident without the budget
// left, a figure that would go stale in a title kept after the alert's
// last update: the threshold it crossed is the rule's own.
const defaultSLOTitle = `{{.SLO.Name}} has less than {{.SLO.Threshold}} of its {{.SLO.Window}} error budget left`

// defaultRUMTitle names a RUM rule's incident by the threshold crossed,
// not the measured value, which changes with every evaluation.
const defaultRUMTitle = `{{.RUM.Measure}} {{.RUM.Where}} is above {{.RUM.Threshold}}`

// defaultTitle returns the default title template of a rule kind; "" when
// the incident takes the summary (probe rules: what broke).
func defaultTitle(k RuleKind) string {
	switch k {
	case KindSLO:
		return defaultSLOTitle
	case KindRUM:
		return defaultRUMTitle
	}
	return ""
}

// defaultAnnotations returns the default summary and description
// templates of a rule kind.
func defaultAnnotations(k RuleKind) (summary, description string) {
	switch k {
	case KindProbe:
		return defaultProbeSummary, defaultProbeDescription
	case KindRUM:
		return defaultRUMSummary, defaultRUMDescription
	case KindSLO:
		return defaultSLOSummary, defaultSLODescription
	}
	return "", ""
}

// probeFacts turns a probe's state into template facts; base is
// server.external_url for the run link.
func probeFacts(ps model.ProbeState, base string) ProbeFacts {
	f := ProbeFacts{Name: ps.Probe, Location: ps.Location, Step: ps.Step, Status: ps.Status, Error: ps.Error,
		ErrorExcerpt: ps.ErrorExcerpt, Failures: ps.Failures}
	if !ps.Since.IsZero() {
		f.Since = ps.Since.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if ps.Step != "" || ps.Error != "" {
		f.RunID = ps.RunID
	}
	if f.RunID != "" && base != "" {
		f.RunURL = RunURL(base, ps.Probe, f.RunID)
	}
	var parts []string
	if ps.Status > 0 {
		parts = append(parts, "HTTP "+strconv.Itoa(ps.Status))
	}
	if ps.Error != "" && !(ps.Status > 0 && restatesStatus(ps.Error)) {
		parts = append(parts, ps.Error)
	}
	if ps.ErrorExcerpt != "" {
		parts = append(parts, strconv.Quote(ps.ErrorExcerpt))
	}
	f.Problem = strings.Join(parts, ", ")
	return f
}

// restatesStatus reports whether a probe error only says the status was
// not the expected one ("expected status 200, got 503"), which "HTTP 503"
// already tells.
func restatesStatus(err string) bool {
	return strings.HasPrefix(err, "expected status ") && !strings.Contains(err, ";")
}

// RunURL is where a probe run is shown: the probe page, holding that run,
// anchored at it.
func RunURL(base, probe, runID string) string {
	return fmt.Sprintf("%s/probes/%s?run=%s#run-%s", strings.TrimRight(base, "/"), url.PathEscape(probe),
		url.QueryEscape(runID), url.PathEscape(runID))
}

// rumFacts describes a RUM rule's measure at value.
func rumFacts(r *Rule, value float64) RUMFacts {
	f := RUMFacts{Route: r.Route, Where: "across the site", Window: model.Duration(r.Window).String()}
	if r.Route != "" {
		f.Where = "on " + r.Route
	}
	switch r.RUMMeasure {
	case "js_errors_per_minute":
		f.Measure, f.Value, f.Threshold = "JS errors per minute", number(value), number(r.Above)
	case "cls":
		f.Measure, f.Value, f.Threshold = "p75 CLS", number(value), number(r.Above)
	default:
		f.Measure = "p75 " + strings.ToUpper(r.RUMMeasure)
		f.Value, f.Threshold = seconds(value), seconds(r.Above)
	}
	return f
}

// sloFacts describes an SLO rule's budget.
func sloFacts(r *Rule, st model.SLOState) SLOFacts {
	return SLOFacts{Name: st.Name, Objective: number(st.Objective) + "%", Window: windowName(st.Window),
		BudgetRemaining: percent(st.BudgetRemaining), Threshold: percent(r.BudgetBelow), Projected: st.BudgetProjected}
}

// projectedSentence explains the figures of a projected budget.
const projectedSentence = "The window's allowance is projected from the traffic seen so far, so these shares of it change as traffic comes in."

// addFailedRun tells, in a burn alert's summary and description, how the
// probe its SLO counts is failing, and links the failed run (run_url). It
// leads the summary (the incident's title): what broke comes first, in
// the probe alert's own words, then what it costs.
func addFailedRun(ann model.Labels, f ProbeFacts) {
	what := f.Name + " fails"
	if f.Step != "" {
		what += " at step " + f.Step
	}
	if f.Problem != "" {
		what += ": " + f.Problem
	}
	if f.Location != "" {
		what += " (from " + f.Location + ")"
	}
	ann[AnnotationSummary] = what + "; " + ann[AnnotationSummary]
	if t := ann[AnnotationTitle]; t != "" {
		ann[AnnotationTitle] = what + "; " + t
	}
	ann[AnnotationDescription] += " The last " + f.Name + " run failed" + strings.TrimPrefix(what, f.Name+" fails") + "."
	if f.RunURL != "" {
		ann[AnnotationRunURL] = f.RunURL
	}
}

// burnAnnotations explain an SLO burn alert in plain words: how much of
// the budget the last hour spent and how long the rest lasts at this rate,
// with the tier's windows and burn rates in the detail annotation. The
// share the last hour spent and the time to exhaustion are the SLO
// engine's own figures, and the summary and description say the moment
// they were taken: an incident keeps them as of its last update, beside
// figures that are live. The title (the incident's, while the alert
// leads) names the SLO and what is happening, without a figure, so it
// never goes stale.
func burnAnnotations(st model.SLOState, tier string) model.Labels {
	rate := st.BurnRates["1h"]
	win := windowName(st.Window)
	// The share comes from the SLO engine's budget model: what the last
	// hour's bad runs or events spent of what the window allows. It is not
	// told as time: a ratio of events does not say how long anything was
	// down.
	summary := fmt.Sprintf("%s is burning its %s error budget %s as fast as it allows", st.Name, win, times(rate))
	if st.SpentLastHour != nil {
		over := "hour"
		if st.SpentOver > 0 && st.SpentOver < time.Hour {
			// Younger data: the share is of that part, and so is the rate
			// the time to exhaustion projects.
			over = model.Elapsed(st.SpentOver)
		}
		summary = fmt.Sprintf("%s: %s of the %s error budget spent in the last %s", st.Name, percent(*st.SpentLastHour), win, over)
	}
	proj, inParens := "", ""
	if st.BudgetProjected {
		proj, inParens = " (projected)", ", projected"
	}
	left := fmt.Sprintf("has %s of its error budget left%s", percent(st.BudgetRemaining), proj)
	switch ttl := st.TimeToExhaustion; {
	case st.BudgetRemaining <= 0:
		summary += fmt.Sprintf("; the budget is spent (%s left%s)", percent(st.BudgetRemaining), inParens)
		left = fmt.Sprintf("has overspent its error budget (%s left%s)", percent(st.BudgetRemaining), inParens)
	case ttl != nil:
		summary += "; at this rate the rest lasts " + model.SpokenDuration(*ttl)
	}
	if !st.EvaluatedAt.IsZero() {
		summary += " (as of " + st.EvaluatedAt.UTC().Format("15:04 UTC") + ")"
	}
	desc := fmt.Sprintf("The %s SLO (%s%% over %s windows) %s; the last hour burned it %s as fast as the budget allows.",
		st.Name, number(st.Objective), win, left, times(rate))
	if !st.EvaluatedAt.IsZero() {
		desc = fmt.Sprintf("As of %s, the %s SLO (%s%% over %s windows) %s; the last hour burned it %s as fast as the budget allows.",
			st.EvaluatedAt.UTC().Format("2006-01-02 15:04 UTC"), st.Name, number(st.Objective), win, left, times(rate))
	}
	if st.BudgetProjected {
		desc += " " + projectedSentence
	}
	var detail []string
	for _, t := range st.Tiers {
		if t.Name != tier {
			continue
		}
		state := "not firing"
		if t.Firing {
			state = "firing"
		}
		detail = append(detail, fmt.Sprintf("%s/%s: burn rate %s and %s (threshold %s, %s)",
			model.Duration(t.LongWindow), model.Duration(t.ShortWindow), times(t.LongRate), times(t.ShortRate), times(t.Factor), state))
	}
	return model.Labels{
		AnnotationTitle:       burnTitle(st.Name, win, tier),
		AnnotationSummary:     summary,
		AnnotationDescription: desc,
		AnnotationDetail:      fmt.Sprintf("%s tier, %s", tier, strings.Join(detail, "; ")),
		"budget_remaining":    fmt.Sprintf("%.4f", st.BudgetRemaining),
	}
}

// burnTitle says what a burn alert is about, without a figure: the SLO,
// its window and how fast the tier means it burns ("checkout-availability
// is burning its 30-day error budget fast"). The page tier's windows catch
// a fast burn, the ticket tier's a steady one.
func burnTitle(slo, win, tier string) string {
	pace := "steadily"
	if tier == "page" {
		pace = "fast"
	}
	return fmt.Sprintf("%s is burning its %s error budget %s", slo, win, pace)
}

// windowName names an SLO window as an adjective: "30-day", "1-hour".
func windowName(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d-day", d/(24*time.Hour))
	}
	return model.Duration(d).String()
}

// seconds formats a timing in seconds: "350 ms", "4.2 s".
func seconds(v float64) string {
	if v < 1 {
		return fmt.Sprintf("%d ms", int64(math.Round(v*1000)))
	}
	return trimZero(fmt.Sprintf("%.2f", v)) + " s"
}

// number formats a plain number without needless decimals: 50, 0.25, 99.5.
func number(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// percent formats a fraction as a percentage: 0.18 is "18%".
func percent(f float64) string { return model.SpokenPercent(f) }

// times formats a burn rate to a tenth: "81.2x", "14.4x", "6x".
func times(v float64) string { return trimZero(fmt.Sprintf("%.1f", v)) + "x" }

func trimZero(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
