package postmortem

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
)

// SLOSource gives the SLOs an incident affects and their consumption in a
// window, exactly as GET /api/v1/slos/{name}?from=&to= computes it.
type SLOSource interface {
	// SLOsForLabels names the SLOs whose service or labels match.
	SLOsForLabels(labels model.Labels) []string
	// Consumed is the events and budget share of one SLO in [from, to).
	Consumed(ctx context.Context, name string, from, to time.Time) (SLOImpact, error)
}

// ProbeSource counts the runs of the probes an incident concerns.
type ProbeSource interface {
	// ProbeRuns returns, for each probe that inc concerns (by its labels or
	// its alerts), the runs and failed runs in [from, to].
	ProbeRuns(ctx context.Context, inc *incidents.Incident, from, to time.Time) ([]ProbeRuns, error)
}

// RUMSource sums real users' page views and JS errors per minute, on one
// route or, when route is empty, the whole site.
type RUMSource interface {
	Traffic(ctx context.Context, from, to time.Time, route string) (RUMTraffic, error)
}

// OnsetSource finds the first bad event behind an incident: the first
// failed run of the failing streak of a probe it concerns, or the first
// bad minute of an SLO it affects. ok is false when none is found.
type OnsetSource interface {
	Onset(ctx context.Context, inc *incidents.Incident) (o Onset, ok bool, err error)
}

// Sources are where impact figures come from; any may be nil.
type Sources struct {
	SLOs   SLOSource
	Probes ProbeSource
	RUM    RUMSource
	Onsets OnsetSource
	// Changes lists the changes before the incident; nil leaves none.
	Changes incidents.ChangeSource
}

// Draft returns a new draft for a resolved incident; derived fields are
// filled by Derive.
func Draft(inc *incidents.Incident, now time.Time) *Postmortem {
	// The title says what broke (a probe alert's names the failing step,
	// its status and error); the summary tells the rest (runs failed, the
	// response, the failed run). A declared incident's summary is a
	// person's and stays as written.
	summary := strings.TrimSpace(inc.Title)
	if inc.Source == incidents.SourceDeclared && strings.TrimSpace(inc.Summary) != "" {
		summary = inc.Summary
	} else if s := strings.TrimSpace(inc.Summary); s != "" && s != summary {
		if summary != "" && !strings.HasSuffix(summary, ".") {
			summary += "."
		}
		summary = strings.TrimSpace(summary + " " + s)
	}
	return &Postmortem{
		IncidentID: inc.ID, Title: inc.Title, Severity: inc.Severity, Status: StatusDraft,
		Summary: summary, CreatedAt: now, UpdatedAt: now, UpdatedBy: incidents.ActorSentinel,
		ActionItems: []ActionItem{}, ResolvedAt: inc.ResolvedAt,
	}
}

// Window is the incident's impact window: from its creation to its
// resolution (or now while it is open).
func Window(inc *incidents.Incident, now time.Time) (from, to time.Time) {
	to = now
	if inc.ResolvedAt != nil {
		to = *inc.ResolvedAt
	}
	if !to.After(inc.CreatedAt) {
		to = inc.CreatedAt.Add(time.Nanosecond)
	}
	return inc.CreatedAt, to
}

// ResponseTimes computes time to detect, acknowledge and resolve; it is
// pure.
func ResponseTimes(inc *incidents.Incident) Times {
	var t Times
	secs := func(d time.Duration) *float64 { v := d.Seconds(); return &v }
	var first time.Time
	for _, a := range inc.Alerts {
		if !a.StartsAt.IsZero() && (first.IsZero() || a.StartsAt.Before(first)) {
			first = a.StartsAt
		}
	}
	if !first.IsZero() && !first.After(inc.CreatedAt) {
		t.Detect = secs(inc.CreatedAt.Sub(first))
	}
	if d, ok := inc.MTTA(); ok {
		t.Acknowledge = secs(d)
	}
	if d, ok := inc.MTTR(); ok {
		t.Resolve = secs(d)
	}
	return t
}

// Derive fills pm's derived fields (title, severity, commander, impact, timeline,
// response times) from the incident and the sources. A source that fails
// leaves its figures out and says so in Impact.Errors; Derive itself does
// not fail.
func Derive(ctx context.Context, pm *Postmortem, inc *incidents.Incident, src Sources, now time.Time) {
	pm.Title, pm.Severity, pm.ResolvedAt, pm.Commander = inc.Title, inc.Severity, inc.ResolvedAt, inc.Commander
	noteIncident(pm, inc)
	pm.Timeline = append([]incidents.TimelineEntry{}, inc.Timeline...)
	pm.Times = ResponseTimes(inc)
	from, to := Window(inc, now)
	pm.Changes = []incidents.RecentChange{}
	if src.Changes != nil {
		if svcs := incidents.Services(inc); len(svcs) > 0 {
			cs, err := src.Changes.ChangesBefore(ctx, svcs, incidents.Started(inc))
			if err != nil {
				pm.ChangesError = err.Error()
			} else {
				pm.Changes = append(pm.Changes, cs...)
			}
		}
	}
	im := Impact{From: from, To: to, Duration: to.Sub(from).Seconds(), SLOs: []SLOImpact{}, Probes: []ProbeRuns{}, Computed: now,
		Ongoing: inc.ResolvedAt == nil}
	if src.Onsets != nil {
		o, ok, err := src.Onsets.Onset(ctx, inc)
		switch {
		case err != nil:
			im.Errors = append(im.Errors, fmt.Sprintf("first bad event: %v", err))
		case ok && !o.At.After(inc.CreatedAt):
			d := inc.CreatedAt.Sub(o.At).Seconds()
			pm.Times.Detect, pm.Times.DetectedFrom = &d, &o
		}
	}
	if src.SLOs != nil {
		names := append([]string(nil), inc.SLONames...)
		if len(names) == 0 {
			names = src.SLOs.SLOsForLabels(inc.Labels)
		}
		sort.Strings(names)
		for _, n := range names {
			c, err := src.SLOs.Consumed(ctx, n, from, to)
			if err != nil {
				im.Errors = append(im.Errors, fmt.Sprintf("slo %s: %v", n, err))
				continue
			}
			c.Name = n
			im.SLOs = append(im.SLOs, c)
		}
	}
	if src.Probes != nil {
		runs, err := src.Probes.ProbeRuns(ctx, inc, from, to)
		if err != nil {
			im.Errors = append(im.Errors, fmt.Sprintf("probes: %v", err))
		}
		sort.Slice(runs, func(i, j int) bool { return runs[i].Name < runs[j].Name })
		counted := map[string]bool{}
		for _, s := range im.SLOs {
			counted[s.Probe] = s.Probe != ""
		}
		for _, r := range runs {
			if !counted[r.Name] { // an SLO already counts these runs
				im.Probes = append(im.Probes, r)
			}
		}
	}
	if src.RUM != nil {
		tr, err := src.RUM.Traffic(ctx, from, to, incidentRoute(inc))
		if err != nil {
			im.Errors = append(im.Errors, fmt.Sprintf("rum: %v", err))
		} else {
			im.RUM = &tr
		}
	}
	pm.Impact = im
}

// incidentRoute is the one page route an incident is about: its route
// label, else the route label every one of its alerts carries (RUM alert
// rules on a route); "" when there is none or more than one, and then the
// real users counted are the whole site's.
func incidentRoute(inc *incidents.Incident) string {
	if r := inc.Labels["route"]; r != "" {
		return r
	}
	route := ""
	for _, a := range inc.Alerts {
		r := a.Labels["route"]
		if r == "" || (route != "" && r != route) {
			return ""
		}
		route = r
	}
	return route
}
