package alerting

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// failingCheckout is the demo's fault as the probe reports it: step pay got
// 503 and the shop said why.
func failingCheckout(at time.Time, failures int, runID string) model.ProbeState {
	return model.ProbeState{
		Probe: "checkout", Location: "local", Labels: model.Labels{"service": "checkout"}, Failing: true,
		Since: t0, LastRun: at, RunID: runID, Step: "pay", Error: "expected status 200, got 503", Status: 503,
		ErrorExcerpt: "payment provider unavailable", Failures: failures,
	}
}

func TestProbeAlertExplainsTheFailure(t *testing.T) {
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{{Name: "CheckoutProbeFailing",
		When: config.AlertCondition{Probe: "checkout"}, Severity: model.SeverityCritical}}})
	f.svc.externalURL = "https://sentinel.example.com"
	f.svc.RecordProbeState(context.Background(), failingCheckout(t0, 3, "01RUN"))
	gs := f.sink.Groups()
	if len(gs) != 1 || len(gs[0].Alerts) != 1 {
		t.Fatalf("groups %+v", gs)
	}
	ann := gs[0].Alerts[0].Annotations
	want := map[string]string{
		"summary": `checkout fails at step pay: HTTP 503, "payment provider unavailable" (from local)`,
		"description": "The checkout probe failed 3 runs in a row from local (counted as failing since 2026-03-02 10:00:00 UTC). " +
			"Step pay failed: expected status 200, got 503. The response said: payment provider unavailable. " +
			"Failed run: https://sentinel.example.com/probes/checkout?run=01RUN#run-01RUN",
		"run_url": "https://sentinel.example.com/probes/checkout?run=01RUN#run-01RUN",
	}
	for k, v := range want {
		if ann[k] != v {
			t.Errorf("%s:\n got %q\nwant %q", k, ann[k], v)
		}
	}
	// A passing run while the probe still counts as failing keeps the
	// failure's words.
	f.clock.Advance(time.Second)
	passed := failingCheckout(f.clock.Now(), 0, "01PASS")
	passed.Step, passed.Error, passed.Status, passed.ErrorExcerpt, passed.Successes = "", "", 0, "", 1
	f.svc.RecordProbeState(context.Background(), passed)
	f.eval(t)
	if got := f.alerts(t)[0].Annotations["summary"]; got != want["summary"] {
		t.Errorf("after a passing run: %q", got)
	}
}

func TestRuleAnnotationsAndTitleOverrideTheDefaults(t *testing.T) {
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{{Name: "CheckoutProbeFailing",
		When: config.AlertCondition{Probe: "checkout"}, Severity: model.SeverityCritical,
		Title:       "Checkout down: {{.Probe.Step}} answers {{.Probe.Status}}",
		Annotations: map[string]string{"summary": "{{.Labels.probe}} broke", "team": "payments"}}}})
	f.svc.RecordProbeState(context.Background(), failingCheckout(t0, 3, "01RUN"))
	ann := f.sink.Groups()[0].Alerts[0].Annotations
	if ann["title"] != "Checkout down: pay answers 503" || ann["summary"] != "checkout broke" || ann["team"] != "payments" {
		t.Errorf("annotations %v", ann)
	}
	if !strings.HasPrefix(ann["description"], "The checkout probe failed 3 runs") {
		t.Errorf("the default description should stay: %q", ann["description"])
	}
	if _, ok := ann["run_url"]; ok {
		t.Errorf("no external_url, yet a run link: %v", ann)
	}
}

func TestBadTitleTemplateIsAProblem(t *testing.T) {
	_, ps := Compile(config.Alerting{Rules: []config.AlertRule{{Name: "X", When: config.AlertCondition{Probe: "checkout"},
		Severity: model.SeverityCritical, Title: "{{ .Probe.Step "}}}, Refs{Probes: []string{"checkout"}})
	if len(ps) != 1 || ps[0].Path != "alerting.rules[0].title" || !strings.Contains(ps[0].Message, "bad template") {
		t.Fatalf("problems %v", ps)
	}
}

func TestRUMAndBudgetRuleSummaries(t *testing.T) {
	lcp := config.Threshold(2.5)
	errs := config.Threshold(50)
	below := 0.25
	rules, ps := Compile(config.Alerting{Rules: []config.AlertRule{
		{Name: "SlowLCP", When: config.AlertCondition{RUM: "lcp", Route: "/product/:id", Above: &lcp}, Severity: model.SeverityWarning},
		{Name: "JSErrorSpike", When: config.AlertCondition{RUM: "js_errors_per_minute", Above: &errs}, Severity: model.SeverityWarning},
		{Name: "BudgetLow", When: config.AlertCondition{SLO: "checkout-availability", BudgetRemainingBelow: &below}, Severity: model.SeverityWarning},
	}}, Refs{SLOs: []string{"checkout-availability"}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	cases := []struct {
		rule        *Rule
		d           templateData
		want, title string
	}{
		// RUM titles name the threshold, not the value, which changes
		// with every evaluation while the incident keeps its title.
		{rules[0], templateData{Value: 4.2, RUM: rumFacts(rules[0], 4.2)}, "p75 LCP on /product/:id is 4.2 s, above 2.5 s (last 5m)",
			"p75 LCP on /product/:id is above 2.5 s"},
		{rules[1], templateData{Value: 72, RUM: rumFacts(rules[1], 72)}, "JS errors per minute across the site is 72, above 50 (last 5m)",
			"JS errors per minute across the site is above 50"},
		{rules[2], templateData{Value: 0.18, SLO: sloFacts(rules[2], model.SLOState{Name: "checkout-availability", Objective: 99.5,
			Window: 30 * 24 * time.Hour, BudgetRemaining: 0.18})}, "checkout-availability has 18% of its 30-day error budget left (this rule fires below 25%)",
			"checkout-availability has less than 25% of its 30-day error budget left"},
	}
	for _, c := range cases {
		ann := c.rule.instanceAnnotations(model.Labels{}, c.d)
		if got := ann["summary"]; got != c.want {
			t.Errorf("%s: %q, want %q", c.rule.Name, got, c.want)
		}
		if got := ann["title"]; got != c.title {
			t.Errorf("%s title: %q, want %q", c.rule.Name, got, c.title)
		}
	}
}

// TestBurnSummaryInPlainWords checks the figures: the share of the budget
// the last hour spent (11.25%: a 1h burn rate of 81 over a fully covered
// 720 h window) and the engine's projection of the rest (88% x 720 h / 81
// = 7.8 h) come with the state from the budget model.
func TestBurnSummaryInPlainWords(t *testing.T) {
	left := time.Duration(0.88 * 720 / 81 * float64(time.Hour))
	spent := 0.1125
	st := model.SLOState{Name: "checkout-availability", Objective: 99.5, Window: 30 * 24 * time.Hour, BudgetRemaining: 0.88,
		BurnRates: map[string]float64{"1h": 81}, TimeToExhaustion: &left, SpentLastHour: &spent,
		Tiers: []model.BurnTier{{Name: "page", LongWindow: time.Hour, ShortWindow: 5 * time.Minute, Factor: 14.4, LongRate: 81, ShortRate: 95.04, Firing: true}}}
	ann := burnAnnotations(st, "page")
	if got, want := ann["summary"], "checkout-availability: 11.2% of the 30-day error budget spent in the last hour; at this rate the rest lasts 7.8 h"; got != want {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
	if got, want := ann["detail"], "page tier, 1h/5m: burn rate 81x and 95x (threshold 14.4x, firing)"; got != want {
		t.Errorf("detail\n got %q\nwant %q", got, want)
	}
	// Data younger than the hour: the share is of the minutes there are,
	// and the projection runs at their rate (1 of 1,296 allowed runs in
	// 2 min: the other 1,295 last 2,590 min = 43.2 h).
	young, youngLeft := 1.0/1296, time.Duration(1295*2*float64(time.Minute))
	yst := st
	yst.BudgetRemaining, yst.SpentLastHour, yst.SpentOver, yst.TimeToExhaustion = 1295.0/1296, &young, 2*time.Minute, &youngLeft
	if got, want := burnAnnotations(yst, "page")["summary"], "checkout-availability: 0.08% of the 30-day error budget spent in the last 2m; at this rate the rest lasts 43.2 h"; got != want {
		t.Errorf("young data\n got %q\nwant %q", got, want)
	}
	st.BudgetRemaining = -0.12
	zero := time.Duration(0)
	st.TimeToExhaustion = &zero
	if got := burnAnnotations(st, "page")["summary"]; !strings.HasSuffix(got, "; the budget is spent (-12% left)") {
		t.Errorf("overspent: %q", got)
	}
	st.SpentLastHour = nil
	if got, want := burnAnnotations(st, "page")["summary"], "checkout-availability is burning its 30-day error budget 81x as fast as it allows; the budget is spent (-12% left)"; got != want {
		t.Errorf("without the last hour's share\n got %q\nwant %q", got, want)
	}
}

// TestBurnTitleHasNoFigureAndFiguresSayWhen: the title of a burn alert
// (the incident's title while it leads) names the SLO and what happens,
// and stays the same while the figures move; the summary and description,
// whose figures an incident keeps as of the alert's last update, say when
// they were taken.
func TestBurnTitleHasNoFigureAndFiguresSayWhen(t *testing.T) {
	// 1 of 1,296 allowed runs spent in the 2 min of data: 0.08% spent, the
	// other 1,295 last 1,295 x 2 min = 2,590 min = 43.2 h.
	spent, left := 1.0/1296, time.Duration(1295*2*float64(time.Minute))
	at := time.Date(2026, 3, 2, 10, 42, 8, 0, time.UTC)
	st := model.SLOState{Name: "checkout-availability", Objective: 99.5, Window: 30 * 24 * time.Hour, BudgetRemaining: 1295.0 / 1296,
		BurnRates: map[string]float64{"1h": 24}, TimeToExhaustion: &left, SpentLastHour: &spent, SpentOver: 2 * time.Minute, EvaluatedAt: at}
	ann := burnAnnotations(st, "page")
	for k, want := range map[string]string{
		"title":   "checkout-availability is burning its 30-day error budget fast",
		"summary": "checkout-availability: 0.08% of the 30-day error budget spent in the last 2m; at this rate the rest lasts 43.2 h (as of 10:42 UTC)",
		"description": "As of 2026-03-02 10:42 UTC, the checkout-availability SLO (99.5% over 30-day windows) has 99.9% of its error budget left; " +
			"the last hour burned it 24x as fast as the budget allows.",
	} {
		if ann[k] != want {
			t.Errorf("%s\n got %q\nwant %q", k, ann[k], want)
		}
	}
	if got, want := burnAnnotations(st, "ticket")["title"], "checkout-availability is burning its 30-day error budget steadily"; got != want {
		t.Errorf("ticket title %q, want %q", got, want)
	}
	// A minute later 3 of 1,296 are spent: the figures move, the title not.
	later := st
	spent3 := 3.0 / 1296
	later.SpentLastHour, later.BudgetRemaining, later.SpentOver, later.EvaluatedAt = &spent3, 1293.0/1296, 3*time.Minute, at.Add(time.Minute)
	ann2 := burnAnnotations(later, "page")
	if ann2["title"] != ann["title"] {
		t.Errorf("title moved with the figures: %q then %q", ann["title"], ann2["title"])
	}
	if want := "checkout-availability: 0.23% of the 30-day error budget spent in the last 3m"; !strings.HasPrefix(ann2["summary"], want) || !strings.HasSuffix(ann2["summary"], "(as of 10:43 UTC)") {
		t.Errorf("later summary %q", ann2["summary"])
	}
	// "30-day" is the window, not a figure.
	if strings.ContainsAny(strings.ReplaceAll(ann["title"], "30-day", ""), "0123456789%") {
		t.Errorf("title %q carries a figure", ann["title"])
	}
}

// TestSLOBudgetRuleTitle: an SLO budget rule's incident is named by the
// threshold it crossed, not by the budget left (which moves); a rule with
// its own summary keeps that as the title, as before.
func TestSLOBudgetRuleTitle(t *testing.T) {
	below := 0.25
	rules, ps := Compile(config.Alerting{Rules: []config.AlertRule{
		{Name: "BudgetLow", When: config.AlertCondition{SLO: "checkout-availability", BudgetRemainingBelow: &below}, Severity: model.SeverityWarning},
		{Name: "OwnSummary", When: config.AlertCondition{SLO: "checkout-availability", BudgetRemainingBelow: &below}, Severity: model.SeverityWarning,
			Annotations: map[string]string{"summary": "{{ .SLO.Name }}: {{ .SLO.BudgetRemaining }} left"}},
	}}, Refs{SLOs: []string{"checkout-availability"}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	st := model.SLOState{Name: "checkout-availability", Objective: 99.9, Window: 30 * 24 * time.Hour, BudgetRemaining: 0.18}
	ann := rules[0].instanceAnnotations(model.Labels{}, templateData{Value: 0.18, SLO: sloFacts(rules[0], st)})
	if got, want := ann["title"], "checkout-availability has less than 25% of its 30-day error budget left"; got != want {
		t.Errorf("title\n got %q\nwant %q", got, want)
	}
	if got, want := ann["summary"], "checkout-availability has 18% of its 30-day error budget left (this rule fires below 25%)"; got != want {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
	own := rules[1].instanceAnnotations(model.Labels{}, templateData{Value: 0.18, SLO: sloFacts(rules[1], st)})
	if _, ok := own["title"]; ok || own["summary"] != "checkout-availability: 18% left" {
		t.Errorf("own summary: %v", own)
	}
}

func TestHumanFigures(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{seconds(0.35), "350 ms"}, {seconds(4.2), "4.2 s"}, {percent(0.18), "18%"}, {percent(0.005), "0.5%"},
		{percent(1), "100%"}, {times(14.4), "14.4x"}, {times(81.04), "81x"}, {windowName(28 * 24 * time.Hour), "28-day"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}

// TestChangedSummaryIsHandedOverAtMostOncePerMinute: a summary whose
// figures move reaches incidents, but not at every evaluation.
func TestChangedSummaryIsHandedOverAtMostOncePerMinute(t *testing.T) {
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{{Name: "CheckoutProbeFailing",
		When: config.AlertCondition{Probe: "checkout"}, Severity: model.SeverityCritical}}})
	f.svc.RecordProbeState(context.Background(), failingCheckout(t0, 3, "01A"))
	for i := 1; i <= 4; i++ { // a run every 15 s: the failure count moves
		f.clock.Advance(15 * time.Second)
		f.svc.RecordProbeState(context.Background(), failingCheckout(f.clock.Now(), 3+i, "01B"))
		f.eval(t)
	}
	gs := f.sink.Groups()
	if len(gs) != 2 {
		t.Fatalf("%d hand-overs in a minute of moving figures, want 2 (the first and one refresh)", len(gs))
	}
	if d := gs[1].Alerts[0].Annotations["description"]; !strings.Contains(d, "failed 7 runs in a row") {
		t.Errorf("refresh carries %q", d)
	}
	f.eval(t) // nothing new
	if n := len(f.sink.Groups()); n != 2 {
		t.Errorf("%d hand-overs without a change", n)
	}
}

func TestDefaultTemplatesCompile(t *testing.T) {
	for _, k := range []RuleKind{KindProbe, KindRUM, KindSLO} {
		sum, desc := defaultAnnotations(k)
		for _, text := range []string{sum, desc} {
			if _, err := parseTemplate(string(k), text); err != nil {
				t.Errorf("%s: %v", k, err)
			}
		}
	}
}

// TestProjectedBudgetIsSaid checks that an events SLO early in its window,
// whose allowance is projected from the traffic seen so far, says so in
// its alerts' words, and that a counted budget does not.
func TestProjectedBudgetIsSaid(t *testing.T) {
	below := 0.25
	rules, ps := Compile(config.Alerting{Rules: []config.AlertRule{
		{Name: "BudgetLow", When: config.AlertCondition{SLO: "orders", BudgetRemainingBelow: &below}, Severity: model.SeverityWarning},
	}}, Refs{SLOs: []string{"orders"}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	st := model.SLOState{Name: "orders", Objective: 99, Window: 30 * 24 * time.Hour, BudgetRemaining: 0.18, BudgetProjected: true,
		BurnRates: map[string]float64{"1h": 20}}
	ann := rules[0].instanceAnnotations(model.Labels{}, templateData{Value: 0.18, SLO: sloFacts(rules[0], st)})
	if got, want := ann["summary"], "orders has 18% of its 30-day error budget left (projected) (this rule fires below 25%)"; got != want {
		t.Errorf("budget rule summary\n got %q\nwant %q", got, want)
	}
	if want := "The window's allowance is projected from the traffic seen so far, so these shares of it change as traffic comes in."; !strings.HasSuffix(ann["description"], want) {
		t.Errorf("budget rule description %q lacks %q", ann["description"], want)
	}
	burn := burnAnnotations(st, "page")
	if got, want := burn["description"], "The orders SLO (99% over 30-day windows) has 18% of its error budget left (projected); the last hour burned it 20x as fast as the budget allows. The window's allowance is projected from the traffic seen so far, so these shares of it change as traffic comes in."; got != want {
		t.Errorf("burn description\n got %q\nwant %q", got, want)
	}
	st.BudgetRemaining = -0.5
	if got := burnAnnotations(st, "page")["summary"]; !strings.HasSuffix(got, "; the budget is spent (-50% left, projected)") {
		t.Errorf("overspent: %q", got)
	}

	st.BudgetProjected, st.BudgetRemaining = false, 0.18
	ann = rules[0].instanceAnnotations(model.Labels{}, templateData{Value: 0.18, SLO: sloFacts(rules[0], st)})
	for k, v := range ann {
		if strings.Contains(v, "projected") {
			t.Errorf("counted budget: %s says %q", k, v)
		}
	}
	for k, v := range burnAnnotations(st, "page") {
		if strings.Contains(v, "projected") {
			t.Errorf("counted budget: burn %s says %q", k, v)
		}
	}
}
