package oncall

import (
	"testing"

	"github.com/sentinel-oss/sentinel/config"
)

func TestPersonRoles(t *testing.T) {
	people := []config.Person{
		{Name: "ann"}, // on a schedule: responder
		{Name: "ben", Email: "ben@shop.example.com"}, // on a policy by email: responder
		{Name: "cat"},                          // on nothing: viewer
		{Name: "dan", Role: config.RoleViewer}, // on a schedule, but says viewer
		{Name: "eve", Role: config.RoleAdmin},  // on nothing, admin
		{Name: "fay"},                          // has an override in the file: responder
	}
	c, ps := Compile(people, config.Oncall{
		Schedules:          []config.Schedule{{Name: "primary", Timezone: "UTC", Rotation: &config.Rotation{Every: 7 * 24 * 3600e9, Handoff: "09:00", Members: []string{"ann", "dan"}}}},
		EscalationPolicies: []config.EscalationPolicy{{Name: "default", Steps: []config.EscalationStep{{Notify: config.Targets{"schedule:primary", "user:ben@shop.example.com"}}}}},
		Overrides:          []config.Override{{Schedule: "primary", User: "fay", Start: "2026-01-01T00:00:00Z", End: "2026-01-02T00:00:00Z"}},
	})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	want := map[string]config.Role{"ann": "responder", "ben": "responder", "cat": "viewer", "dan": "viewer", "eve": "admin", "fay": "responder"}
	for name, role := range want {
		p, ok := c.People.Resolve(name)
		if !ok || p.Role != role {
			t.Errorf("%s: role %q, want %q", name, p.Role, role)
		}
	}
	if p, _ := c.People.ByEmail("BEN@shop.example.com"); p.Role != config.RoleResponder {
		t.Errorf("ben by email: %q", p.Role)
	}
}

func TestPersonRoleValidated(t *testing.T) {
	ps := config.ValidatePeople([]config.Person{{Name: "ann", Role: "ingest"}, {Name: "bo", Role: "boss"}}, "people")
	if len(ps) != 2 || ps[0].Path != "people[0].role" {
		t.Fatalf("problems %v", ps)
	}
}
