package oncall

import (
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

var testPeople = []config.Person{
	{Name: "alice", Email: "alice@shop.example.com"},
	{Name: "bob", Email: "bob@shop.example.com"},
	{Name: "carol", Email: "carol@shop.example.com", SlackID: "U024BE7LH"},
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func week(every string) model.Duration {
	d, err := model.ParseDuration(every)
	if err != nil {
		panic(err)
	}
	return d
}

func mustCompile(t *testing.T, oc config.Oncall) *Config {
	t.Helper()
	c, ps := Compile(testPeople, oc)
	if len(ps) > 0 {
		t.Fatalf("Compile: %v", ps)
	}
	return c
}

func berlinWeekly(start string) config.Oncall {
	return config.Oncall{Schedules: []config.Schedule{{
		Name: "primary", Timezone: "Europe/Berlin",
		Rotation: &config.Rotation{Every: week("1w"), Handoff: "Mon 09:00", Members: []string{"alice", "bob"}, Start: start},
	}}}
}

// TestRotationAcrossDST checks that hand-offs stay at 09:00 Berlin time on
// both sides of the March and October clock changes (2026-03-29 and
// 2026-10-25), where adding 168 hours would be an hour off.
func TestRotationAcrossDST(t *testing.T) {
	c := mustCompile(t, berlinWeekly("2026-03-23"))
	s, _ := c.Schedule("primary")
	tests := []struct {
		name      string
		at        string
		who       string
		since     string
		until     string
		nextUser  string
		nextUntil string
	}{
		{"before spring change", "2026-03-28T12:00:00Z", "alice", "2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z", "bob", "2026-04-06T07:00:00Z"},
		{"one minute before handoff in summer time", "2026-03-30T06:59:00Z", "alice", "2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z", "bob", "2026-04-06T07:00:00Z"},
		{"at handoff 09:00 CEST", "2026-03-30T07:00:00Z", "bob", "2026-03-30T07:00:00Z", "2026-04-06T07:00:00Z", "alice", "2026-04-13T07:00:00Z"},
		{"where 168h would still say alice", "2026-03-30T07:30:00Z", "bob", "2026-03-30T07:00:00Z", "2026-04-06T07:00:00Z", "alice", "2026-04-13T07:00:00Z"},
		{"before autumn change", "2026-10-24T12:00:00Z", "alice", "2026-10-19T07:00:00Z", "2026-10-26T08:00:00Z", "bob", "2026-11-02T08:00:00Z"},
		{"09:00 CET after autumn change", "2026-10-26T07:30:00Z", "alice", "2026-10-19T07:00:00Z", "2026-10-26T08:00:00Z", "bob", "2026-11-02T08:00:00Z"},
		{"at handoff 09:00 CET", "2026-10-26T08:00:00Z", "bob", "2026-10-26T08:00:00Z", "2026-11-02T08:00:00Z", "alice", "2026-11-09T08:00:00Z"},
		{"before the start, counting backwards", "2026-03-20T12:00:00Z", "bob", "2026-03-16T08:00:00Z", "2026-03-23T08:00:00Z", "alice", "2026-03-30T07:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cur, next := s.Current(utc(tc.at), nil)
			if cur.User != tc.who || !cur.Since.Equal(utc(tc.since)) || !cur.Until.Equal(utc(tc.until)) {
				t.Errorf("current = %s [%s, %s), want %s [%s, %s)", cur.User, cur.Since.UTC().Format(time.RFC3339), cur.Until.UTC().Format(time.RFC3339), tc.who, tc.since, tc.until)
			}
			if next.User != tc.nextUser || !next.Since.Equal(cur.Until) || !next.Until.Equal(utc(tc.nextUntil)) {
				t.Errorf("next = %s [%s, %s), want %s until %s", next.User, next.Since.UTC().Format(time.RFC3339), next.Until.UTC().Format(time.RFC3339), tc.nextUser, tc.nextUntil)
			}
		})
	}
}

func TestDefaultStartIsFirstMatchingWeekday(t *testing.T) {
	c := mustCompile(t, berlinWeekly(""))
	s, _ := c.Schedule("primary")
	// 2024-01-01 is a Monday: alice starts then; weeks alternate since.
	cur, _ := s.Current(utc("2024-01-01T08:00:00Z"), nil)
	if cur.User != "alice" || !cur.Since.Equal(utc("2024-01-01T08:00:00Z")) {
		t.Fatalf("got %+v", cur)
	}
	cur, _ = s.Current(utc("2024-01-08T09:00:00Z"), nil)
	if cur.User != "bob" {
		t.Fatalf("second week: got %+v", cur)
	}
}

func TestOverride(t *testing.T) {
	c := mustCompile(t, berlinWeekly("2026-03-23"))
	s, _ := c.Schedule("primary")
	ov := []Override{{Schedule: "primary", User: "carol", Start: utc("2026-03-29T22:00:00Z"), End: utc("2026-03-31T22:00:00Z")}}
	tests := []struct {
		at, who, since, until string
	}{
		{"2026-03-29T21:59:00Z", "alice", "2026-03-23T08:00:00Z", "2026-03-29T22:00:00Z"},
		{"2026-03-30T07:30:00Z", "carol", "2026-03-29T22:00:00Z", "2026-03-31T22:00:00Z"},
		{"2026-03-31T22:00:00Z", "bob", "2026-03-31T22:00:00Z", "2026-04-06T07:00:00Z"},
	}
	for _, tc := range tests {
		cur, _ := s.Current(utc(tc.at), ov)
		if cur.User != tc.who || !cur.Since.Equal(utc(tc.since)) || !cur.Until.Equal(utc(tc.until)) {
			t.Errorf("at %s: %s [%s, %s), want %s [%s, %s)", tc.at, cur.User, cur.Since.UTC().Format(time.RFC3339), cur.Until.UTC().Format(time.RFC3339), tc.who, tc.since, tc.until)
		}
	}
	// An override of another schedule does not apply.
	if who := s.Who(utc("2026-03-30T07:30:00Z"), []Override{{Schedule: "other", User: "carol", Start: utc("2026-03-29T00:00:00Z"), End: utc("2026-04-01T00:00:00Z")}}); who != "bob" {
		t.Errorf("other schedule's override applied: %s", who)
	}
}

func TestLayersWithRestriction(t *testing.T) {
	c := mustCompile(t, config.Oncall{Schedules: []config.Schedule{{
		Name: "layered", Timezone: "Europe/Berlin",
		Layers: []config.Layer{
			{Name: "nights", Rotation: config.Rotation{Every: week("1d"), Handoff: "09:00", Members: []string{"alice"}}},
			{Name: "office", Rotation: config.Rotation{Every: week("1w"), Handoff: "Mon 09:00", Members: []string{"bob"}},
				Restrict: &config.Restrict{From: "09:00", To: "17:00", Days: []string{"Mon", "Tue", "Wed", "Thu", "Fri"}}},
		},
	}}})
	s, _ := c.Schedule("layered")
	tests := []struct{ at, who, until string }{
		{"2026-04-01T10:00:00Z", "bob", "2026-04-01T15:00:00Z"},   // Wed 12:00 CEST
		{"2026-04-01T16:00:00Z", "alice", "2026-04-02T07:00:00Z"}, // Wed 18:00 CEST
		{"2026-04-04T10:00:00Z", "alice", "2026-04-06T07:00:00Z"}, // Saturday
	}
	for _, tc := range tests {
		cur, _ := s.Current(utc(tc.at), nil)
		if cur.User != tc.who || !cur.Until.Equal(utc(tc.until)) {
			t.Errorf("at %s: %s until %s, want %s until %s", tc.at, cur.User, cur.Until.UTC().Format(time.RFC3339), tc.who, tc.until)
		}
	}
}

func TestCompileProblems(t *testing.T) {
	_, ps := Compile(testPeople, config.Oncall{
		Schedules: []config.Schedule{
			{Name: "a", Timezone: "Mars/Olympus", Rotation: &config.Rotation{Every: week("12h"), Handoff: "Xyz 09:00", Members: []string{"dave", "erin@example.com"}}},
			{Name: "b", Rotation: &config.Rotation{Every: week("1d"), Handoff: "Mon 09:00", Members: []string{"alice"}}},
		},
		EscalationPolicies: []config.EscalationPolicy{{Name: "p", Steps: []config.EscalationStep{{Notify: config.Targets{"schedule:nope"}}, {Notify: config.Targets{"pager:x"}}}}},
		Routes:             []config.EscalationRoute{{Policy: "missing"}},
		Overrides:          []config.Override{{Schedule: "a", User: "alice", Start: "yesterday", End: "2026-01-01T00:00:00Z"}},
	})
	got := ps.Error()
	for _, want := range []string{
		`oncall.schedules[0].timezone: unknown time zone "Mars/Olympus"`,
		`oncall.schedules[0].rotation.every: must be a whole number of days`,
		`oncall.schedules[0].rotation.handoff: unknown weekday "Xyz"`,
		`oncall.schedules[0].rotation.members[0]: unknown person "dave"`,
		`oncall.schedules[1].rotation.handoff: a handoff on a weekday needs every to be whole weeks`,
		`oncall.escalation_policies[0].steps[0].notify: target "schedule:nope": no schedule named "nope"`,
		`oncall.escalation_policies[0].steps[1].notify: target "pager:x": unknown kind`,
		`oncall.routes[0].policy: no escalation policy named "missing"`,
		`oncall.overrides[0].start: invalid time "yesterday"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing problem %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "erin@example.com") {
		t.Errorf("an email-looking member must be accepted:\n%s", got)
	}
}

func TestDirectoryResolve(t *testing.T) {
	d := NewDirectory(testPeople)
	tests := []struct {
		ref, name, email string
		ok               bool
	}{
		{"alice", "alice", "alice@shop.example.com", true},
		{"BOB@shop.example.com", "bob", "bob@shop.example.com", true},
		{"erin@example.com", "erin@example.com", "erin@example.com", true},
		{"dave", "", "", false},
		{"Dave <dave@example.com>", "", "", false},
	}
	for _, tc := range tests {
		p, ok := d.Resolve(tc.ref)
		if ok != tc.ok || p.Name != tc.name || p.Email != tc.email {
			t.Errorf("Resolve(%q) = %+v, %v", tc.ref, p, ok)
		}
	}
}

func TestPolicyRoutingAndSteps(t *testing.T) {
	oc := berlinWeekly("2026-03-23")
	oc.EscalationPolicies = []config.EscalationPolicy{
		{Name: "default", Repeat: 2, Steps: []config.EscalationStep{{Notify: config.Targets{"schedule:primary"}}, {Notify: config.Targets{"user:carol", "user_group:S0614TZR7"}, After: week("15m")}}},
		{Name: "payments", Steps: []config.EscalationStep{{Notify: config.Targets{"user:bob"}}}},
	}
	oc.Routes = []config.EscalationRoute{{Match: map[string]string{"service": "payments"}, Policy: "payments"}}
	c := mustCompile(t, oc)
	if p := c.PolicyFor(model.Labels{"service": "payments"}); p.Name != "payments" {
		t.Errorf("routed to %s", p.Name)
	}
	p := c.PolicyFor(model.Labels{"service": "checkout"})
	if p.Name != "default" || len(p.Steps[1].Targets) != 2 {
		t.Fatalf("policy %+v", p)
	}
	// Walk the steps: 2 steps x 3 passes.
	pass, step, n := 0, 0, 1
	for {
		var ok bool
		pass, step, ok = p.Next(pass, step)
		if !ok {
			break
		}
		n++
	}
	if n != 6 {
		t.Errorf("fired %d steps, want 6", n)
	}
	if d := p.Delay(1, 0); d != DefaultRepeatAfter {
		t.Errorf("repeat delay %s", d)
	}
	got := c.Recipients(Target{Kind: TargetSchedule, Name: "primary"}, utc("2026-03-30T07:30:00Z"), nil)
	if len(got) != 1 || got[0].Name != "bob" {
		t.Errorf("recipients %+v", got)
	}
}
