package oncall

import (
	"fmt"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// TargetKind says what a step notifies.
type TargetKind string

// The kinds of escalation targets.
const (
	TargetSchedule  TargetKind = "schedule"
	TargetUser      TargetKind = "user"
	TargetUserGroup TargetKind = "user_group"
	// TargetChannel with an empty name means the pager's default channel.
	TargetChannel TargetKind = "channel"
)

// Target is one thing a step notifies.
type Target struct {
	Kind TargetKind `json:"kind"`
	Name string     `json:"name"`
}

// String is the config spelling, kind:name.
func (t Target) String() string { return string(t.Kind) + ":" + t.Name }

// Step is one escalation step: its targets are paged After the previous
// step (the first step After the incident triggers).
type Step struct {
	Targets []Target
	After   time.Duration
}

// Urgency is how hard an incident asks for people: a high-urgency
// incident pages, escalates and repeats until someone acknowledges; a
// low-urgency one notifies its policy's first step once and waits.
type Urgency string

// The two urgencies.
const (
	UrgencyHigh Urgency = "high"
	UrgencyLow  Urgency = "low"
)

// UrgencyRule is a policy's urgency key: which of its incidents are urgent.
type UrgencyRule string

// The urgency rules.
const (
	// UrgencyRuleHigh makes every incident high urgency (the default).
	UrgencyRuleHigh UrgencyRule = "high"
	// UrgencyRuleLow makes every incident low urgency.
	UrgencyRuleLow UrgencyRule = "low"
	// UrgencyRuleBySeverity makes critical incidents high urgency and
	// warning and info ones low.
	UrgencyRuleBySeverity UrgencyRule = "by_severity"
)

// Policy is a compiled escalation policy.
type Policy struct {
	Name        string
	Repeat      int
	RepeatAfter time.Duration
	Steps       []Step
	// Urgency decides the urgency of its incidents (UrgencyFor).
	Urgency UrgencyRule
}

// UrgencyFor is the urgency of an incident of severity sev under p.
func (p *Policy) UrgencyFor(sev model.Severity) Urgency {
	switch p.Urgency {
	case UrgencyRuleLow:
		return UrgencyLow
	case UrgencyRuleBySeverity:
		if sev != model.SeverityCritical {
			return UrgencyLow
		}
	}
	return UrgencyHigh
}

// DefaultRepeatAfter is the wait before a repeat when repeat_after is unset.
const DefaultRepeatAfter = 15 * time.Minute

// Delay is how long after the previous step (pass, step) fires.
func (p *Policy) Delay(pass, step int) time.Duration {
	if step == 0 && pass > 0 {
		if p.RepeatAfter > 0 {
			return p.RepeatAfter
		}
		return DefaultRepeatAfter
	}
	return p.Steps[step].After
}

// Next returns the step after (pass, step), and false when the policy is
// exhausted (the last step of the last pass has fired).
func (p *Policy) Next(pass, step int) (int, int, bool) {
	step++
	if step < len(p.Steps) {
		return pass, step, true
	}
	if pass+1 <= p.Repeat {
		return pass + 1, 0, true
	}
	return pass, step - 1, false
}

// Route sends incidents whose labels match to a policy.
type Route struct {
	Match  map[string]string
	Policy string
}

// Config is the compiled oncall: and people: sections. It is read-only
// and safe for concurrent use.
type Config struct {
	People    *Directory
	schedules map[string]*Schedule
	order     []string
	policies  map[string]*Policy
	polOrder  []string
	routes    []Route
	overrides []Override
}

// Compile checks people: and oncall: together (every name a schedule,
// policy or override uses must resolve) and compiles them. Problems carry
// config paths.
func Compile(people []config.Person, oc config.Oncall) (*Config, config.Problems) {
	ps := config.ValidatePeople(people, "people")
	c := &Config{People: NewDirectory(people), schedules: map[string]*Schedule{}, policies: map[string]*Policy{}}
	for i, sc := range oc.Schedules {
		path := fmt.Sprintf("oncall.schedules[%d]", i)
		s, _ := compileSchedule(sc, c.People, path, &ps)
		if s == nil || s.Name == "" {
			continue
		}
		if _, dup := c.schedules[s.Name]; dup {
			ps.Add(config.JoinPath(path, "name"), "duplicate schedule %q", s.Name)
			continue
		}
		c.schedules[s.Name] = s
		c.order = append(c.order, s.Name)
	}
	for i, pc := range oc.EscalationPolicies {
		path := fmt.Sprintf("oncall.escalation_policies[%d]", i)
		p := c.compilePolicy(pc, path, &ps)
		if p.Name == "" {
			continue
		}
		if _, dup := c.policies[p.Name]; dup {
			ps.Add(config.JoinPath(path, "name"), "duplicate escalation policy %q", p.Name)
			continue
		}
		c.policies[p.Name] = p
		c.polOrder = append(c.polOrder, p.Name)
	}
	for i, r := range oc.Routes {
		path := fmt.Sprintf("oncall.routes[%d]", i)
		if _, ok := c.policies[r.Policy]; !ok {
			ps.Add(config.JoinPath(path, "policy"), "no escalation policy named %q", r.Policy)
		}
		c.routes = append(c.routes, Route{Match: r.Match, Policy: r.Policy})
	}
	for i, o := range oc.Overrides {
		path := fmt.Sprintf("oncall.overrides[%d]", i)
		ov := Override{Schedule: o.Schedule, User: o.User, CreatedBy: "config", ID: fmt.Sprintf("config-%d", i)}
		var err error
		if ov.Start, err = time.Parse(time.RFC3339, o.Start); err != nil {
			ps.Add(config.JoinPath(path, "start"), "invalid time %q (want RFC 3339, such as 2026-03-29T09:00:00+02:00)", o.Start)
		}
		if ov.End, err = time.Parse(time.RFC3339, o.End); err != nil {
			ps.Add(config.JoinPath(path, "end"), "invalid time %q (want RFC 3339)", o.End)
		}
		norm, err := c.CheckOverride(ov)
		if err != nil && !ov.Start.IsZero() && !ov.End.IsZero() {
			ps.Add(path, "%v", err)
			continue
		}
		c.overrides = append(c.overrides, norm)
	}
	sortOverrides(c.overrides)
	c.People = c.People.withDefaultRoles(people, c.onDuty(oc))
	if len(c.policies) == 0 {
		c.policies["default"] = c.builtinPolicy()
		c.polOrder = append(c.polOrder, "default")
	}
	return c, ps
}

// builtinPolicy pages every schedule (or, without schedules, the pagers'
// default channel) once.
func (c *Config) builtinPolicy() *Policy {
	step := Step{}
	for _, n := range c.order {
		step.Targets = append(step.Targets, Target{Kind: TargetSchedule, Name: n})
	}
	if len(step.Targets) == 0 {
		step.Targets = []Target{{Kind: TargetChannel}}
	}
	return &Policy{Name: "default", Steps: []Step{step}, Urgency: UrgencyRuleHigh}
}

func (c *Config) compilePolicy(pc config.EscalationPolicy, path string, ps *config.Problems) *Policy {
	p := &Policy{Name: pc.Name, Repeat: pc.Repeat, RepeatAfter: pc.RepeatAfter.Std(), Urgency: UrgencyRuleHigh}
	switch r := UrgencyRule(strings.TrimSpace(pc.Urgency)); r {
	case "":
	case UrgencyRuleHigh, UrgencyRuleLow, UrgencyRuleBySeverity:
		p.Urgency = r
	default:
		ps.Add(config.JoinPath(path, "urgency"), "unknown urgency %q (want high, low or by_severity)", pc.Urgency)
	}
	if pc.Name == "" {
		ps.Add(config.JoinPath(path, "name"), "missing name")
	}
	if pc.Repeat < 0 || pc.Repeat > 100 {
		ps.Add(config.JoinPath(path, "repeat"), "must be between 0 and 100, got %d", pc.Repeat)
	}
	if pc.RepeatAfter < 0 {
		ps.Add(config.JoinPath(path, "repeat_after"), "must not be negative")
	}
	if len(pc.Steps) == 0 {
		ps.Add(config.JoinPath(path, "steps"), "at least one step is required")
	}
	for i, st := range pc.Steps {
		sp := fmt.Sprintf("%s.steps[%d]", path, i)
		if st.After < 0 {
			ps.Add(config.JoinPath(sp, "after"), "must not be negative")
		}
		if len(st.Notify) == 0 {
			ps.Add(config.JoinPath(sp, "notify"), "missing target (such as schedule:primary or user:alice)")
		}
		step := Step{After: st.After.Std()}
		for j, raw := range st.Notify {
			tp := config.JoinPath(sp, "notify")
			if len(st.Notify) > 1 {
				tp = fmt.Sprintf("%s[%d]", tp, j)
			}
			t, err := c.ParseTarget(raw)
			if err != nil {
				ps.Add(tp, "%v", err)
				continue
			}
			step.Targets = append(step.Targets, t)
		}
		p.Steps = append(p.Steps, step)
	}
	return p
}

// onDuty names the people on a schedule (as members or by an override in
// the file) or named by an escalation policy: responders unless their
// people: entry says otherwise.
func (c *Config) onDuty(oc config.Oncall) map[string]bool {
	out := map[string]bool{}
	mark := func(ref string) {
		if p, ok := c.People.Resolve(ref); ok {
			out[p.Name] = true
		}
	}
	for _, s := range oc.Schedules {
		if s.Rotation != nil {
			for _, m := range s.Rotation.Members {
				mark(m)
			}
		}
		for _, l := range s.Layers {
			for _, m := range l.Rotation.Members {
				mark(m)
			}
		}
	}
	for _, o := range oc.Overrides {
		mark(o.User)
	}
	for _, p := range oc.EscalationPolicies {
		for _, st := range p.Steps {
			for _, t := range st.Notify {
				if kind, name, ok := strings.Cut(strings.TrimSpace(t), ":"); ok && kind == string(TargetUser) {
					mark(name)
				}
			}
		}
	}
	return out
}

// ParseTarget reads kind:name and checks that the name resolves.
func (c *Config) ParseTarget(raw string) (Target, error) {
	kind, name, ok := strings.Cut(strings.TrimSpace(raw), ":")
	if !ok || name == "" {
		return Target{}, fmt.Errorf("invalid target %q (want schedule:NAME, user:NAME, user_group:ID or channel:NAME)", raw)
	}
	t := Target{Kind: TargetKind(kind), Name: name}
	switch t.Kind {
	case TargetSchedule:
		if _, ok := c.schedules[name]; !ok {
			return Target{}, fmt.Errorf("target %q: no schedule named %q", raw, name)
		}
	case TargetUser:
		p, ok := c.People.Resolve(name)
		if !ok {
			return Target{}, fmt.Errorf("target %q: unknown person %q: not in people: and not an email address", raw, name)
		}
		t.Name = p.Name
	case TargetUserGroup, TargetChannel:
	default:
		return Target{}, fmt.Errorf("target %q: unknown kind %q (want schedule, user, user_group or channel)", raw, kind)
	}
	return t, nil
}

// CheckOverride validates an override and returns it with the user's
// canonical name.
func (c *Config) CheckOverride(o Override) (Override, error) {
	if _, ok := c.schedules[o.Schedule]; !ok {
		return o, fmt.Errorf("no schedule named %q", o.Schedule)
	}
	p, ok := c.People.Resolve(o.User)
	if !ok {
		return o, fmt.Errorf("unknown person %q: not in people: and not an email address", o.User)
	}
	o.User = p.Name
	if o.Start.IsZero() || o.End.IsZero() {
		return o, fmt.Errorf("start and end are required")
	}
	if !o.End.After(o.Start) {
		return o, fmt.Errorf("end (%s) must be after start (%s)", o.End.Format(time.RFC3339), o.Start.Format(time.RFC3339))
	}
	return o, nil
}

// Schedule returns the named schedule.
func (c *Config) Schedule(name string) (*Schedule, bool) {
	s, ok := c.schedules[name]
	return s, ok
}

// Schedules lists the schedules in config order.
func (c *Config) Schedules() []*Schedule {
	out := make([]*Schedule, 0, len(c.order))
	for _, n := range c.order {
		out = append(out, c.schedules[n])
	}
	return out
}

// ConfigOverrides are the overrides written in the file.
func (c *Config) ConfigOverrides() []Override { return append([]Override(nil), c.overrides...) }

// Policy returns the named policy.
func (c *Config) Policy(name string) (*Policy, bool) {
	p, ok := c.policies[name]
	return p, ok
}

// Policies lists the escalation policies in config order (the built-in
// "default" when none is configured).
func (c *Config) Policies() []*Policy {
	out := make([]*Policy, 0, len(c.polOrder))
	for _, n := range c.polOrder {
		out = append(out, c.policies[n])
	}
	return out
}

// Routes lists the routes in the order they are tried.
func (c *Config) Routes() []Route { return append([]Route(nil), c.routes...) }

// PolicyFor picks the policy for an incident's labels: the first matching
// route, else the policy named default, else the first policy.
func (c *Config) PolicyFor(labels model.Labels) *Policy {
	for _, r := range c.routes {
		match := true
		for k, v := range r.Match {
			if labels[k] != v {
				match = false
				break
			}
		}
		if match {
			if p, ok := c.policies[r.Policy]; ok {
				return p
			}
		}
	}
	if p, ok := c.policies["default"]; ok {
		return p
	}
	return c.policies[c.polOrder[0]]
}

// Recipients are the people a target reaches at t: the person on call for
// a schedule, the person for a user, nobody for groups and channels (their
// pagers address them directly).
func (c *Config) Recipients(t Target, at time.Time, overrides []Override) []Person {
	switch t.Kind {
	case TargetSchedule:
		s, ok := c.schedules[t.Name]
		if !ok {
			return nil
		}
		if who := s.Who(at, overrides); who != "" {
			if p, ok := c.People.Resolve(who); ok {
				return []Person{p}
			}
		}
	case TargetUser:
		if p, ok := c.People.Resolve(t.Name); ok {
			return []Person{p}
		}
	}
	return nil
}
