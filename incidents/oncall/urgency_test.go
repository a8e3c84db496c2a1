package oncall

import (
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

func TestPolicyUrgency(t *testing.T) {
	oc := berlinWeekly("2026-03-23")
	step := []config.EscalationStep{{Notify: config.Targets{"schedule:primary"}}}
	oc.EscalationPolicies = []config.EscalationPolicy{
		{Name: "default", Steps: step},
		{Name: "low", Urgency: "low", Steps: step},
		{Name: "sev", Urgency: "by_severity", Steps: step},
		{Name: "high", Urgency: "high", Steps: step},
	}
	c := mustCompile(t, oc)
	for _, tc := range []struct {
		policy string
		sev    model.Severity
		want   Urgency
	}{
		{"default", model.SeverityInfo, UrgencyHigh},
		{"high", model.SeverityWarning, UrgencyHigh},
		{"low", model.SeverityCritical, UrgencyLow},
		{"sev", model.SeverityCritical, UrgencyHigh},
		{"sev", model.SeverityWarning, UrgencyLow},
		{"sev", model.SeverityInfo, UrgencyLow},
	} {
		p, _ := c.Policy(tc.policy)
		if got := p.UrgencyFor(tc.sev); got != tc.want {
			t.Errorf("policy %s, %s: urgency %s, want %s", tc.policy, tc.sev, got, tc.want)
		}
	}
	// The built-in policy pages every incident as it always did.
	b, _ := mustCompile(t, berlinWeekly("2026-03-23")).Policy("default")
	if b.UrgencyFor(model.SeverityInfo) != UrgencyHigh {
		t.Errorf("built-in policy urgency %s", b.Urgency)
	}
}

func TestPolicyUrgencyProblems(t *testing.T) {
	oc := berlinWeekly("2026-03-23")
	step := []config.EscalationStep{{Notify: config.Targets{"schedule:primary"}}}
	oc.EscalationPolicies = []config.EscalationPolicy{
		{Name: "default", Urgency: "by_severity", Steps: step},
		{Name: "night", Urgency: "urgent", Steps: step},
		{Name: "caps", Urgency: "Low", Steps: step},
	}
	_, ps := Compile(testPeople, oc)
	got := ps.Error()
	for _, want := range []string{
		`oncall.escalation_policies[1].urgency: unknown urgency "urgent" (want high, low or by_severity)`,
		`oncall.escalation_policies[2].urgency: unknown urgency "Low" (want high, low or by_severity)`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing problem %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "escalation_policies[0]") {
		t.Errorf("by_severity refused:\n%s", got)
	}
}
