package dashboards

import (
	"context"
	"fmt"
	"io"
	"slices"
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
}

type scheduleView struct {
	Name     string
	Zone     string
	Now      *shiftRow
	Next     *shiftRow
	Shifts   []shiftRow
	Members  []string
	NoOneNow bool
}

type oncallData struct {
	Configured bool
	Schedules  []scheduleView
	Overrides  []oncall.Override
	Horizon    string
}

// OnCall renders who is on call now and next for every schedule, the
// rotation over the coming weeks, and the overrides in force or planned.
func (d *Dashboards) OnCall(ctx context.Context, w io.Writer, v Viewer) error {
	data := oncallData{Horizon: human(RotationHorizon)}
	if d.opts.OnCall != nil {
		data.Configured = true
		now := d.now()
		ovs, err := d.opts.OnCall.Overrides(ctx, now)
		if err != nil {
			return fmt.Errorf("on-call overrides: %w", err)
		}
		data.Overrides = slices.Clone(ovs)
		slices.SortFunc(data.Overrides, func(a, b oncall.Override) int { return a.Start.Compare(b.Start) })
		for _, sc := range d.opts.OnCall.Schedules() {
			data.Schedules = append(data.Schedules, scheduleOf(sc, now, ovs))
		}
	}
	return d.render(w, "oncall", page{Title: "On call", Nav: "oncall", Viewer: v, Data: data})
}

// scheduleOf walks a schedule's shifts from now until the horizon.
func scheduleOf(sc *oncall.Schedule, now time.Time, ovs []oncall.Override) scheduleView {
	sv := scheduleView{Name: sc.Name, Members: sc.Members(), Zone: sc.Location.String()}
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
