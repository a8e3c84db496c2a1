package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
)

func TestIncidentsSection(t *testing.T) {
	yml := `
people:   [{name: alice, email: alice@shop.example.com}, {name: carol, email: carol@shop.example.com, slack_id: U024BE7LH}]
incidents: {group_by: [service], reopen_window: 15m}
oncall:
  schedules:
    - {name: primary, timezone: Europe/Berlin,
       rotation: {every: 1w, handoff: "Mon 09:00", members: [alice, bob@shop.example.com]}}
  escalation_policies:
    - {name: default, repeat: 2, steps: [{notify: schedule:primary}, {notify: [user:carol, user_group:S1], after: 15m}]}
`
	cfg, err := config.Parse("s.yaml", []byte(yml), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := cfg.Incidents
	if in.ReopenWindow.Std() != 15*time.Minute || !in.AutoResolve || in.AckTimeout.Std() != 30*time.Minute || in.Delivery.MaxAttempts != 6 {
		t.Errorf("incidents %+v", in)
	}
	if got := cfg.Oncall.EscalationPolicies[0].Steps[1].Notify; len(got) != 2 || got[1] != "user_group:S1" {
		t.Errorf("notify %v", got)
	}
	if ps := in.Validate("incidents"); len(ps) > 0 {
		t.Errorf("valid section: %v", ps)
	}
	_, err = config.Parse("s.yaml", []byte("incidents: {reopen_windw: 5m}\noncall: {schedules: [{name: a, rotaton: {}}]}\n"), config.Options{})
	if err == nil || !strings.Contains(err.Error(), "reopen_windw") || !strings.Contains(err.Error(), "rotaton") {
		t.Errorf("unknown keys: %v", err)
	}
	bad := config.DefaultIncidents()
	bad.Pagers = []config.PagerConfig{{Name: "m", Type: "email"}, {Name: "m", Type: "pigeon"}, {Name: "w", Type: "webhook", URL: "ftp://x"}}
	bad.FallbackPager = "nope"
	bad.Delivery.Lease = bad.Delivery.Timeout
	got := bad.Validate("incidents").Error()
	for _, want := range []string{"incidents.pagers[0].smtp.host: missing SMTP host", "incidents.pagers[0].from: not an email address", "incidents.pagers[1].name: duplicate pager name", "incidents.pagers[1].type: unknown pager type \"pigeon\"", "incidents.pagers[2].url: unsupported scheme", "incidents.fallback_pager: no pager named \"nope\"", "incidents.delivery.lease: must be longer"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}
