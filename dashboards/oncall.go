package dashboards

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/runbooks"
)

// RotationHorizon is how far ahead the on-call page lists shifts, and
// maxShifts bounds the list per schedule.
const (
	RotationHorizon = 28 * 24 * time.Hour
	maxShifts       = 24
)

type shiftRow struct {
	User         string
	Since, Until time.Time
	Current      bool
	Override     bool
	// SinceZ and UntilZ are the times in the schedule's own zone, shown
	// beside the viewer's when the two differ.
	SinceZ, UntilZ string
}

type scheduleView struct {
	Name string
	Zone string
	// OwnZone is true when the schedule's zone differs from the viewer's,
	// so each time is also shown in the schedule's zone.
	OwnZone  bool
	Now      *shiftRow
	Next     *shiftRow
	Shifts   []shiftRow
	Members  []string
	NoOneNow bool
}

// policyView is an escalation policy as the on-call page states it.
type policyView struct {
	Name string
	// UsedFor says which incidents it pages for ("service=payments",
	// "every other incident").
	UsedFor []string
	Steps   []policyStep
	Repeat  string
	// Urgency says which of its incidents page and escalate.
	Urgency string
}

type policyStep struct {
	When    string
	Targets []string
}

type oncallData struct {
	// CanOverride shows the override form (responders); Zone names the
	// viewer's zone its times are read in; People are the names it offers.
	CanOverride bool
	Zone        string
	People      []string
	Configured  bool
	Schedules   []scheduleView
	Overrides   []oncall.Override
	Policies    []policyView
	Horizon     string
}

// OnCall renders who is on call now and next for every schedule, the
// rotation over the coming weeks, and the overrides in force or planned.
// flash is a message about the override just added ("" for none).
func (d *Dashboards) OnCall(ctx context.Context, w io.Writer, v Viewer, flash string) error {
	data := oncallData{Horizon: human(RotationHorizon), CanOverride: v.CanRespond(), Zone: "UTC"}
	if z := d.zoneOf(v); z != nil {
		data.Zone = z.String()
	}
	if d.opts.OnCall != nil {
		data.Configured = true
		now := d.now()
		ovs, err := d.opts.OnCall.Overrides(ctx, now)
		if err != nil {
			return fmt.Errorf("on-call overrides: %w", err)
		}
		data.Overrides = slices.Clone(ovs)
		slices.SortFunc(data.Overrides, func(a, b oncall.Override) int { return a.Start.Compare(b.Start) })
		vz := d.zoneOf(v)
		for _, sc := range d.opts.OnCall.Schedules() {
			sv := scheduleOf(sc, now, ovs)
			sv.OwnZone = !sameZone(sc.Location, vz, now)
			data.Schedules = append(data.Schedules, sv)
			for _, m := range sv.Members {
				if !slices.Contains(data.People, m) {
					data.People = append(data.People, m)
				}
			}
		}
		data.Policies = policiesOf(d.opts.OnCall.Policies(), d.opts.OnCall.Routes(), data.Schedules)
		data.CanOverride = data.CanOverride && len(data.Schedules) > 0
	}
	return d.render(w, "oncall", page{Title: "On call", Nav: "oncall", Viewer: v, Flash: flash, Data: data})
}

// sameZone reports whether two zones name the same place, or at least
// keep the same offset around now (UTC and Etc/UTC).
func sameZone(a, b *time.Location, now time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.String() == b.String() {
		return true
	}
	_, oa := now.In(a).Zone()
	_, ob := now.In(b).Zone()
	_, oa2 := now.AddDate(0, 6, 0).In(a).Zone()
	_, ob2 := now.AddDate(0, 6, 0).In(b).Zone()
	return oa == ob && oa2 == ob2
}

// zoneTime formats t in loc as a schedule states its hand-overs.
func zoneTime(t time.Time, loc *time.Location) string {
	if t.IsZero() || loc == nil {
		return ""
	}
	return t.In(loc).Format("Mon Jan 2 15:04 MST")
}

// scheduleOf walks a schedule's shifts from now until the horizon.
func scheduleOf(sc *oncall.Schedule, now time.Time, ovs []oncall.Override) scheduleView {
	sv := scheduleView{Name: sc.Name, Members: sc.Members(), Zone: sc.Location.String()}
	defer func() {
		for _, r := range []*shiftRow{sv.Now, sv.Next} {
			if r != nil {
				r.SinceZ, r.UntilZ = zoneTime(r.Since, sc.Location), zoneTime(r.Until, sc.Location)
			}
		}
		for i := range sv.Shifts {
			sv.Shifts[i].SinceZ, sv.Shifts[i].UntilZ = zoneTime(sv.Shifts[i].Since, sc.Location), zoneTime(sv.Shifts[i].Until, sc.Location)
		}
	}()
	end := now.Add(RotationHorizon)
	t := now
	for len(sv.Shifts) < maxShifts && t.Before(end) {
		cur, next := sc.Current(t, ovs)
		if cur.User != "" {
			row := shiftRow{User: cur.User, Since: cur.Since, Until: cur.Until, Current: t.Equal(now), Override: isOverride(ovs, sc.Name, cur)}
			sv.Shifts = append(sv.Shifts, row)
		}
		if t.Equal(now) {
			if cur.User != "" {
				r := sv.Shifts[0]
				sv.Now = &r
			} else {
				sv.NoOneNow = true
			}
			if next.User != "" {
				sv.Next = &shiftRow{User: next.User, Since: next.Since, Until: next.Until, Override: isOverride(ovs, sc.Name, next)}
			}
		}
		nt := cur.Until
		if nt.IsZero() || !nt.After(t) {
			nt = next.Since
		}
		if nt.IsZero() || !nt.After(t) {
			break
		}
		t = nt
	}
	return sv
}

// policiesOf states each policy: the incidents routed to it, its steps
// with who a schedule reaches now, and how it repeats.
func policiesOf(pols []*oncall.Policy, routes []oncall.Route, schedules []scheduleView) []policyView {
	fallback := ""
	if len(pols) > 0 {
		fallback = pols[0].Name
		for _, p := range pols {
			if p.Name == "default" {
				fallback = p.Name
			}
		}
	}
	onCallNow := map[string]string{}
	for _, sv := range schedules {
		if sv.Now != nil {
			onCallNow[sv.Name] = sv.Now.User
		}
	}
	var out []policyView
	for _, p := range pols {
		pv := policyView{Name: p.Name}
		for _, r := range routes {
			if r.Policy == p.Name {
				pv.UsedFor = append(pv.UsedFor, labelsText(r.Match))
			}
		}
		if p.Name == fallback {
			if len(routes) > 0 {
				pv.UsedFor = append(pv.UsedFor, "every other incident")
			} else {
				pv.UsedFor = append(pv.UsedFor, "every incident")
			}
		}
		for i, st := range p.Steps {
			ps := policyStep{When: "at once"}
			if i > 0 || st.After > 0 {
				ps.When = human(st.After) + " later"
				if i == 0 {
					ps.When = human(st.After) + " after the incident opens"
				}
			}
			for _, t := range st.Targets {
				ps.Targets = append(ps.Targets, targetText(t, onCallNow))
			}
			pv.Steps = append(pv.Steps, ps)
		}
		switch {
		case p.Repeat == 1:
			pv.Repeat = fmt.Sprintf("then starts over once, %s after the last step", human(p.Delay(1, 0)))
		case p.Repeat > 1:
			pv.Repeat = fmt.Sprintf("then starts over %d times, %s after the last step", p.Repeat, human(p.Delay(1, 0)))
		default:
			pv.Repeat = "runs once"
		}
		pv.Urgency = urgencyRuleText(p.Urgency)
		out = append(out, pv)
	}
	return out
}

// urgencyRuleText says what a policy's urgency key does.
func urgencyRuleText(r oncall.UrgencyRule) string {
	const low = "the first step is notified once, with no escalation or repeats"
	switch r {
	case oncall.UrgencyRuleLow:
		return "Every incident is low urgency: " + low + "."
	case oncall.UrgencyRuleBySeverity:
		return "Critical incidents are high urgency and run these steps; warning and info incidents are low urgency: " + low + ". A triggered one that becomes critical starts the steps from the first."
	}
	return "Every incident is high urgency and runs these steps."
}

// labelsText writes a route's match as label=value pairs in key order.
func labelsText(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ", ")
}

// targetText names a step's target as people read it.
func targetText(t oncall.Target, onCallNow map[string]string) string {
	switch t.Kind {
	case oncall.TargetSchedule:
		if who := onCallNow[t.Name]; who != "" {
			return fmt.Sprintf("whoever is on call for %s (now %s)", t.Name, who)
		}
		return fmt.Sprintf("whoever is on call for %s (nobody now)", t.Name)
	case oncall.TargetUser:
		return t.Name
	case oncall.TargetUserGroup:
		return "Slack user group " + t.Name
	case oncall.TargetChannel:
		if t.Name == "" {
			return "the pagers' default channel"
		}
		return "channel " + t.Name
	}
	return t.String()
}

func isOverride(ovs []oncall.Override, schedule string, s oncall.Shift) bool {
	for _, o := range ovs {
		if o.Schedule == schedule && o.User == s.User && !o.Start.After(s.Since) && o.End.After(s.Since) {
			return true
		}
	}
	return false
}

type runbooksData struct {
	Configured bool
	Runbooks   []runbooks.Runbook
}

// Runbooks renders the runbook catalogue (titles, owners, the alerts each
// applies to), each linking to its rendered page (see Runbook).
func (d *Dashboards) Runbooks(_ context.Context, w io.Writer, v Viewer) error {
	data := runbooksData{}
	if d.opts.Runbooks != nil {
		data.Configured = true
		data.Runbooks = d.opts.Runbooks.List()
	}
	return d.render(w, "runbooks", page{Title: "Runbooks", Nav: "runbooks", Viewer: v, Data: data})
}

// LoginForm is what the sign-in page shows: where to go after signing in
// and, after a failed attempt, why.
type LoginForm struct {
	Next  string
	Error string
	// SSO offers "Sign in with SSO" (auth.oidc is configured).
	SSO bool
}

// Login renders the sign-in page.
func (d *Dashboards) Login(w io.Writer, f LoginForm) error {
	return d.render(w, "login", page{Title: "Sign in", NoChrom: true, Data: f})
}

type errorData struct {
	Status  int
	Message string
}

// Error renders an error page with the status and a message that says
// what went wrong (never internal details: web passes a generic text for
// server errors).
func (d *Dashboards) Error(w io.Writer, v Viewer, status int, msg string) error {
	return d.render(w, "error", page{Title: "Error", Viewer: v, Data: errorData{status, msg}, NoChrom: v.Name == ""})
}
