package alerting

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// regionRule is the rule users ask for: a region down mutes every
// critical or warning alert in that region.
var regionRule = config.InhibitRule{
	SourceMatchers: []string{`alertname="RegionDown"`},
	TargetMatchers: []string{`severity=~"critical|warning"`},
	Equal:          []string{"region"},
}

func post(t *testing.T, f *fixture, labels ...model.Labels) {
	t.Helper()
	var as []PostedAlert
	for _, l := range labels {
		as = append(as, PostedAlert{Labels: l})
	}
	if _, err := f.svc.IngestAlerts(context.Background(), as); err != nil {
		t.Fatal(err)
	}
}

func inhibition(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	out := map[string]string{}
	byFP := map[string]string{}
	as := f.alerts(t)
	for _, a := range as {
		byFP[a.Fingerprint] = a.Name + "{" + a.Labels["region"] + "}"
	}
	for _, a := range as {
		out[a.Name+"{"+a.Labels["region"]+"}"] = byFP[a.InhibitedBy]
	}
	return out
}

func handedGroups(f *fixture) []string {
	seen := map[string]bool{}
	for _, g := range f.sink.Groups() {
		seen[g.Key] = true
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestInhibitRuleKeepsAPageFromGoingOut: while RegionDown{region=eu}
// fires, CheckoutDown{region=eu} is inhibited and its group is never
// handed to incidents (no incident, no page); CartDown in another region
// pages. RegionDown matches both sides of the rule and is not inhibited
// by itself. When the source resolves, the target pages.
func TestInhibitRuleKeepsAPageFromGoingOut(t *testing.T) {
	f := newFixture(t, config.Alerting{InhibitRules: []config.InhibitRule{regionRule}})
	post(t, f,
		model.Labels{"alertname": "RegionDown", "region": "eu", "severity": "critical"},
		model.Labels{"alertname": "CheckoutDown", "region": "eu", "severity": "critical", "service": "checkout"},
		model.Labels{"alertname": "CartDown", "region": "us", "severity": "critical", "service": "cart"},
		model.Labels{"alertname": "SearchSlow", "region": "eu", "severity": "info", "service": "search"},
	)
	want := map[string]string{"RegionDown{eu}": "", "CheckoutDown{eu}": "RegionDown{eu}", "CartDown{us}": "", "SearchSlow{eu}": ""}
	if got := inhibition(t, f); !equalMaps(got, want) {
		t.Fatalf("inhibited by: %v, want %v", got, want)
	}
	if got := strings.Join(handedGroups(f), ","); got != "alertname=RegionDown,service=cart,service=search" {
		t.Fatalf("groups handed to incidents: %s (checkout must not page)", got)
	}
	for _, a := range f.alerts(t) {
		if a.Name == "CheckoutDown" && !a.Silenced {
			t.Fatal("an inhibited alert must read as muted")
		}
	}

	// The source resolves: the target is no longer inhibited and pages.
	if _, err := f.svc.IngestAlerts(context.Background(), []PostedAlert{{Labels: model.Labels{"alertname": "RegionDown", "region": "eu", "severity": "critical"},
		StartsAt: t0, EndsAt: t0}}); err != nil {
		t.Fatal(err)
	}
	f.eval(t)
	if got := inhibition(t, f)["CheckoutDown{eu}"]; got != "" {
		t.Fatalf("still inhibited by %s after the source resolved", got)
	}
	if got := strings.Join(handedGroups(f), ","); !strings.Contains(got, "service=checkout") {
		t.Fatalf("checkout did not page once uninhibited: %s", got)
	}
}

// TestInhibitRulesApplyToEverySource: a webhook alert inhibits an alert of
// Sentinel's own probe rule; two alerts that both match both sides do not
// mute each other (Alertmanager's rule); the deprecated source_match form
// works.
func TestInhibitRulesApplyToEverySource(t *testing.T) {
	cfg := config.Alerting{
		Rules: []config.AlertRule{probeRule("CheckoutProbeFailing", 0, 0)},
		InhibitRules: []config.InhibitRule{
			{SourceMatch: map[string]string{"alertname": "DatacenterDown"}, TargetMatchRE: map[string]string{"service": "check.*"}},
			{SourceMatchers: []string{"team=db"}, TargetMatchers: []string{"team=db"}, Equal: []string{"cluster"}},
		},
	}
	f := newFixture(t, cfg)
	w := NewWebhook(`{}:{alertname="DatacenterDown"}`, "firing", map[string]string{"alertname": "DatacenterDown"})
	w.Alerts = []WebhookAlert{{Status: "firing", Labels: map[string]string{"alertname": "DatacenterDown", "dc": "fra1"}, StartsAt: t0}}
	if _, err := f.svc.IngestWebhook(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	f.probe(true)
	post(t, f,
		model.Labels{"alertname": "ReplicaLag", "team": "db", "cluster": "a"},
		model.Labels{"alertname": "PrimaryDown", "team": "db", "cluster": "a"},
	)
	got := inhibition(t, f)
	if got["CheckoutProbeFailing{}"] != "DatacenterDown{}" {
		t.Fatalf("the probe rule's alert is not inhibited by the webhook alert: %v", got)
	}
	if got["ReplicaLag{}"] != "" || got["PrimaryDown{}"] != "" {
		t.Fatalf("two-sided matches inhibited each other: %v", got)
	}
	for _, g := range f.sink.Groups() {
		if g.Key == "service=checkout" {
			t.Fatalf("the inhibited probe alert paged: %+v", g)
		}
	}
}

func TestInhibitRuleProblems(t *testing.T) {
	cfg := config.Alerting{InhibitRules: []config.InhibitRule{
		{SourceMatchers: []string{"foo=bar}"}, TargetMatchers: []string{"a=b"}},
		{SourceMatchers: []string{"a=b"}, TargetMatchers: []string{"c=d"}, Equal: []string{"in valid"}},
		{TargetMatchers: []string{"a=b"}},
		{SourceMatchers: []string{"a=b"}, TargetMatchRE: map[string]string{"x": "("}},
	}, MatcherSyntax: config.MatcherSyntaxUTF8Strict}
	_, ps := Compile(cfg, Refs{})
	text := ps.Error()
	for _, want := range []string{
		`alerting.inhibit_rules[0].source_matchers[0]: "foo=bar}": 0:8: }: expected opening brace`,
		`alerting.inhibit_rules[2]: set source_matchers`,
		`alerting.inhibit_rules[3].target_match_re.x: matcher x=~"(": bad regular expression`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	// UTF-8 names are valid outside classic mode; classic mode refuses them.
	if strings.Contains(text, "equal[0]") {
		t.Errorf("utf8-strict refused a UTF-8 label name in equal:\n%s", text)
	}
	cfg.MatcherSyntax = config.MatcherSyntaxClassic
	if _, ps := Compile(cfg, Refs{}); !strings.Contains(ps.Error(), `alerting.inhibit_rules[1].equal[0]: invalid label name "in valid"`) {
		t.Errorf("classic equal name:\n%s", ps.Error())
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestReloadAppliesMutingKeys: a reload brings in inhibition rules, time
// intervals, maintenance windows and the matcher syntax without a restart.
func TestReloadAppliesMutingKeys(t *testing.T) {
	f := newFixture(t, config.Alerting{})
	post(t, f,
		model.Labels{"alertname": "RegionDown", "region": "eu", "severity": "critical"},
		model.Labels{"alertname": "CheckoutDown", "region": "eu", "severity": "critical", "service": "checkout"},
	)
	if got := inhibition(t, f)["CheckoutDown{eu}"]; got != "" {
		t.Fatalf("inhibited before any rule: %s", got)
	}
	next := config.Alerting{MatcherSyntax: config.MatcherSyntaxUTF8Strict, InhibitRules: []config.InhibitRule{regionRule},
		TimeIntervals: []config.TimeIntervalSpec{{Name: "always", TimeIntervals: []config.TimeInterval{{Years: []string{"2026"}}}}},
		Maintenance:   []config.RecurringMaintenance{{Name: "freeze", TimeIntervals: []string{"always"}, Matchers: []string{"alertname=RegionDown"}}}}
	if _, ps := Compile(next, Refs{}); len(ps) > 0 {
		t.Fatal(ps)
	}
	f.svc.Prepare(Settings{Config: next})()
	f.eval(t)
	if got := inhibition(t, f)["CheckoutDown{eu}"]; got != "RegionDown{eu}" {
		t.Fatalf("after the reload CheckoutDown is inhibited by %q", got)
	}
	for _, a := range f.alerts(t) {
		if a.Name == "RegionDown" && len(a.MaintenanceBy) != 1 {
			t.Fatalf("RegionDown not in the freeze window: %+v", a)
		}
	}
	if f.svc.Matchers().Syntax() != config.MatcherSyntaxUTF8Strict {
		t.Fatal("matcher syntax not reloaded")
	}
}
