package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/postmortem"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/probes"
	"github.com/sentinel-oss/sentinel/runbooks"
	"github.com/sentinel-oss/sentinel/slo"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// postmortemParts are what wirePostmortems builds and shares.
type postmortemParts struct {
	// catalogue is the runbook catalogue wireAlerting loads.
	catalogue *runbooks.Catalogue
	// service drafts and serves postmortems; nil until built.
	service *postmortem.Service
	// diagnostics runs runbook diagnostics when incidents open.
	diagnostics *postmortem.Diagnostics
}

// wirePostmortems checks postmortems: and the runbooks' diagnostics (every
// probe they name must be configured), builds the postmortem service
// (drafts on resolve, reminders through the incident pagers, reports) and
// the diagnostics runner (an incident open hook), and mounts the
// postmortem, report and runbook endpoints. It runs after wireIncidents
// and wireAlerting; probes and RUM, built later, are reached late-bound.
func (c *components) wirePostmortems(cfg *config.Config) config.Problems {
	ps := cfg.Postmortems.Validate("postmortems")
	if cat := c.post.catalogue; cat != nil {
		names := make([]string, 0, len(cfg.Probes))
		for _, p := range cfg.Probes {
			names = append(names, p.Name)
		}
		ps = append(ps, cat.CheckProbes(names)...)
	}
	if len(ps) > 0 || c.incidents == nil {
		return ps // the incidents section reports its own problems
	}
	src := postmortem.Sources{Probes: lateProbeRuns{c}, RUM: lateRUM{c}, Onsets: lateOnsets{c}}
	if c.slo != nil {
		src.SLOs = sloImpacts{sloBudgets{engine: c.slo}}
	}
	if c.changes != nil {
		src.Changes = changesBefore{c.changes}
	}
	svc, err := postmortem.NewService(postmortem.Options{
		Config:      cfg.Postmortems,
		Store:       store.NewPostmortems(c.deps.engine),
		Incidents:   c.incidents,
		Sources:     src,
		ExternalURL: c.deps.externalURL,
		Logger:      c.deps.log,
		Registerer:  c.deps.registry,
		Now:         c.deps.now,
	})
	if err != nil {
		return config.Problems{{Path: "postmortems", Message: err.Error()}}
	}
	c.post.service = svc
	c.onReload("postmortems", func(_ context.Context, p *reloadPlan) (func(), error) {
		if ps := p.next.Postmortems.Validate("postmortems"); len(ps) > 0 {
			return nil, ps
		}
		return svc.Prepare(p.next.Postmortems, p.next.Server.ExternalURL), nil
	})
	c.incidents.AddResolveHook(svc)
	c.runners = append(c.runners, runner{name: "postmortems", run: svc.Run})
	c.mounts = append(c.mounts, func(r *web.Routes) { web.MountPostmortems(r, svc) })
	if cat := c.post.catalogue; cat != nil {
		diag, err := postmortem.NewDiagnostics(postmortem.DiagnosticsOptions{
			Runbooks: cat,
			Notes:    c.incidents,
			Env: runbooks.DiagnosticEnv{
				Client: &http.Client{Timeout: runbooks.MaxDiagnosticTimeout},
				Probes: lateProbeRunner{c},
			},
			Logger:     c.deps.log,
			Registerer: c.deps.registry,
		})
		if err != nil {
			return config.Problems{{Path: "runbooks", Message: err.Error()}}
		}
		c.post.diagnostics = diag
		c.incidents.AddOpenHook(diag)
		c.runners = append(c.runners, runner{name: "diagnostics", run: diag.Run})
		c.mounts = append(c.mounts, func(r *web.Routes) { web.MountRunbooks(r, cat) })
	}
	return nil
}

// PostmortemLinker is what the Slack command `/sentinel postmortem <id>`
// calls: the postmortem's status and links (its draft is made on the way
// when the incident is resolved and its severity requires one).
type PostmortemLinker interface {
	Link(ctx context.Context, id int64) (postmortem.Link, error)
}

// latePostmortems hands Slack (built before this wiring) the postmortem
// service once it exists.
type latePostmortems struct{ c *components }

var _ PostmortemLinker = latePostmortems{}

// Link implements PostmortemLinker.
func (l latePostmortems) Link(ctx context.Context, id int64) (postmortem.Link, error) {
	if l.c.post.service == nil {
		return postmortem.Link{}, errors.New("postmortems are not running")
	}
	return l.c.post.service.Link(ctx, id)
}

// sloImpacts adapts the SLO engine to postmortem.SLOSource: the same
// Consumed call GET /api/v1/slos/{name}?from=&to= makes.
type sloImpacts struct{ b sloBudgets }

// SLOsForLabels names the SLOs an incident's labels point at.
func (s sloImpacts) SLOsForLabels(l model.Labels) []string { return s.b.SLOsForLabels(l) }

// Consumed is one SLO's events and budget share in the whole minutes
// [from, to) touches, and which minutes those are.
func (s sloImpacts) Consumed(ctx context.Context, name string, from, to time.Time) (postmortem.SLOImpact, error) {
	c, err := s.b.engine.Consumed(ctx, name, from, to)
	if err != nil {
		return postmortem.SLOImpact{}, err
	}
	im := postmortem.SLOImpact{Name: name, Good: c.Good, Total: c.Total, BudgetConsumed: c.BudgetConsumed, Unit: "events",
		CountedFrom: c.CountedFrom.UTC(), CountedTo: c.CountedTo.UTC()}
	if sp, ok := s.b.engine.Spec(name); ok {
		switch sp.Kind {
		case slo.KindProbe:
			im.Unit, im.Probe = "runs", sp.Probe
		case slo.KindRUM:
			im.Unit = "page views"
		}
	}
	return im, nil
}

// probeRunPages bounds the pages of runs read per probe for one impact.
const probeRunPages = 20

// lateProbeRuns counts runs of the probes an incident concerns: those an
// alert names (label probe) and those carrying all the incident's labels.
type lateProbeRuns struct{ c *components }

// ProbeRuns implements postmortem.ProbeSource.
func (l lateProbeRuns) ProbeRuns(ctx context.Context, inc *incidents.Incident, from, to time.Time) ([]postmortem.ProbeRuns, error) {
	svc := l.c.probes
	if svc == nil {
		return nil, nil
	}
	list, err := svc.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []postmortem.ProbeRuns
	for _, st := range incidentProbes(inc, list) {
		pr := postmortem.ProbeRuns{Name: st.Name}
		before := ""
	pages:
		for range probeRunPages {
			runs, err := svc.Results(ctx, st.Name, probes.MaxResultsLimit, before)
			if err != nil {
				return out, err
			}
			for _, r := range runs {
				if r.At.Before(from) {
					break pages
				}
				if r.At.After(to) {
					continue
				}
				pr.Runs++
				if !r.Success {
					pr.Failed++
				}
			}
			if len(runs) < probes.MaxResultsLimit {
				break
			}
			before = runs[len(runs)-1].ID
		}
		out = append(out, pr)
	}
	return out, nil
}

// incidentProbes are the probes an incident concerns: those its alerts
// name (label probe) and those carrying all of its labels.
func incidentProbes(inc *incidents.Incident, list []probes.Status) []probes.Status {
	named := map[string]bool{}
	for _, a := range inc.Alerts {
		if p := a.Labels["probe"]; p != "" {
			named[p] = true
		}
	}
	var out []probes.Status
	for _, st := range list {
		if named[st.Name] || (len(inc.Labels) > 0 && containsLabels(st.Labels, inc.Labels)) {
			out = append(out, st)
		}
	}
	return out
}

// onsetLookback bounds how far before an incident its first bad minute is
// looked for.
const onsetLookback = 3 * time.Hour

// lateOnsets finds the first bad event behind an incident: the first
// failed run of the failing streak (the runs before the incident opened,
// back to the last passing one) of each probe it concerns; without one,
// the first of the minutes right before it in which an affected SLO lost
// more events than its objective allows (back to a minute that did not,
// at most onsetLookback).
type lateOnsets struct{ c *components }

// Onset implements postmortem.OnsetSource.
func (l lateOnsets) Onset(ctx context.Context, inc *incidents.Incident) (postmortem.Onset, bool, error) {
	var best postmortem.Onset
	found := false
	if svc := l.c.probes; svc != nil {
		list, err := svc.List(ctx)
		if err != nil {
			return best, false, err
		}
		for _, st := range incidentProbes(inc, list) {
			r, ok, err := firstFailedRun(ctx, svc, st.Name, inc.CreatedAt)
			if err != nil {
				return best, false, err
			}
			if ok && (!found || r.At.Before(best.At)) {
				what := "the first failed run of probe " + st.Name
				if r.FailedStep != "" {
					what += fmt.Sprintf(" (step %s: %s)", r.FailedStep, r.Error)
				} else if r.Error != "" {
					what += " (" + r.Error + ")"
				}
				best, found = postmortem.Onset{At: r.At, What: what}, true
			}
		}
	}
	if found || l.c.slo == nil {
		return best, found, nil
	}
	names := inc.SLONames
	if len(names) == 0 {
		names = sloBudgets{engine: l.c.slo}.SLOsForLabels(inc.Labels)
	}
	for _, name := range names {
		sp, ok := l.c.slo.Spec(name)
		if !ok || !sp.Counted() {
			continue
		}
		var first time.Time
		for m := inc.CreatedAt.Truncate(time.Minute); inc.CreatedAt.Sub(m) <= onsetLookback; m = m.Add(-time.Minute) {
			c, err := l.c.slo.Consumed(ctx, name, m, m.Add(time.Minute))
			if err != nil {
				return best, false, err
			}
			if c.Total == 0 {
				continue // no events: neither good nor bad
			}
			if float64(c.Total-c.Good) <= sp.Budget*float64(c.Total) {
				break
			}
			first = m
		}
		if !first.IsZero() && (!found || first.Before(best.At)) {
			best, found = postmortem.Onset{At: first, What: fmt.Sprintf("the first minute in which SLO %s lost more events than its %s%% objective allows", name,
				strconv.FormatFloat(sp.Objective, 'f', -1, 64))}, true
		}
	}
	return best, found, nil
}

// firstFailedRun walks a probe's runs back from before: the earliest failed
// run of the streak of failures that ends at before (false when the run
// right before it passed).
func firstFailedRun(ctx context.Context, svc *probes.Service, name string, before time.Time) (probes.Result, bool, error) {
	var first probes.Result
	found := false
	cursor := ""
	for range probeRunPages {
		runs, err := svc.Results(ctx, name, probes.MaxResultsLimit, cursor)
		if err != nil {
			return first, false, err
		}
		for _, r := range runs {
			if r.At.After(before) {
				continue
			}
			if r.Success {
				return first, found, nil
			}
			first, found = r, true
		}
		if len(runs) < probes.MaxResultsLimit {
			break
		}
		cursor = runs[len(runs)-1].ID
	}
	return first, found, nil
}

// lateProbeRunner runs a probe once for a runbook diagnostic.
type lateProbeRunner struct{ c *components }

// RunProbe implements runbooks.ProbeRunner.
func (l lateProbeRunner) RunProbe(ctx context.Context, name string) (runbooks.ProbeOutcome, error) {
	if l.c.probes == nil {
		return runbooks.ProbeOutcome{}, errors.New("probes are not running")
	}
	res, err := l.c.probes.RunOnce(ctx, name)
	if err != nil {
		return runbooks.ProbeOutcome{}, err
	}
	out := runbooks.ProbeOutcome{Success: res.Success, Summary: "passed"}
	if !res.Success {
		var parts []string
		if res.FailedStep != "" {
			parts = append(parts, "step "+res.FailedStep)
		}
		if res.Error != "" {
			parts = append(parts, res.Error)
		}
		out.Summary = strings.Join(parts, ": ")
	}
	out.Summary += fmt.Sprintf(" (%s)", res.Duration)
	return out, nil
}

// lateRUM sums the RUM page views and JS errors of a window.
type lateRUM struct{ c *components }

// Traffic implements postmortem.RUMSource.
func (l lateRUM) Traffic(ctx context.Context, from, to time.Time, route string) (postmortem.RUMTraffic, error) {
	if l.c.rum == nil {
		return postmortem.RUMTraffic{}, nil
	}
	rep, err := l.c.rum.Service().Vitals(ctx, from, to)
	if err != nil {
		return postmortem.RUMTraffic{}, err
	}
	tr := postmortem.RUMTraffic{PageViews: rep.Overall.PageViews, JSErrors: rep.Overall.JSErrors, From: rep.From, To: rep.To, Route: route}
	if route != "" {
		tr.PageViews, tr.JSErrors = 0, 0 // none seen on it: none counted
		for _, r := range rep.Routes {
			if r.Route == route {
				tr.PageViews, tr.JSErrors = r.PageViews, r.JSErrors
			}
		}
	}
	return tr, nil
}
