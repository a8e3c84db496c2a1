package app

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/dashboards"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/probes"
	"github.com/sentinel-oss/sentinel/statuspage"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// wireStatusPage builds the public status page: the statuspage service
// over the probes, the SLO engine, alerting's maintenance windows and the
// store (its runner records every component's status once a minute), the
// renderer over it and the incident service, and the routes under /status
// (always mounted; they answer 404 while status_page.enabled is false). A
// reload compiles the new section in prepare and swaps it in at commit.
func (c *components) wireStatusPage(cfg *config.Config) config.Problems {
	page, ps := statuspage.Compile(cfg.StatusPage, cfg.Probes, cfg.SLOs)
	if len(ps) > 0 {
		return ps
	}
	log := c.deps.log.With("component", "statuspage")
	opts := statuspage.Options{Page: page, Store: store.NewStatusPage(c.deps.engine), Logger: c.deps.log, Now: c.deps.now}
	if c.probes != nil {
		opts.Probes = probeStates{c.probes}
	}
	if c.slo != nil {
		opts.SLOs = c.slo
	}
	if c.alerting != nil {
		opts.Maintenance = maintenanceWindows{c.alerting}
	}
	svc, err := statuspage.New(opts)
	if err != nil {
		return config.Problems{{Path: "status_page", Message: err.Error()}}
	}
	vopts := dashboards.StatusPageOptions{Status: svc, ExternalURL: cfg.Server.ExternalURL, Logger: log, Now: c.deps.now}
	if c.incidents != nil {
		vopts.Incidents = c.incidents
	}
	view, err := dashboards.NewStatusPage(vopts)
	if err != nil {
		return config.Problems{{Path: "status_page", Message: err.Error()}}
	}
	c.statusPage = svc
	c.runners = append(c.runners, runner{name: "statuspage", run: svc.Run})
	var routes atomic.Pointer[web.StatusPageRoutes]
	c.mounts = append(c.mounts, func(r *web.Routes) { routes.Store(web.MountStatusPage(r, view, svc, page.RateLimit)) })
	c.onReload("status_page", func(_ context.Context, p *reloadPlan) (func(), error) {
		next, ps := statuspage.Compile(p.next.StatusPage, p.next.Probes, p.next.SLOs)
		if len(ps) > 0 {
			return nil, ps
		}
		return func() {
			svc.Apply(next)
			view.SetExternalURL(p.next.Server.ExternalURL)
			if r := routes.Load(); r != nil {
				r.SetRateLimit(next.RateLimit)
			}
		}, nil
	})
	return nil
}

// probeStates gives the status page every probe's flap-suppressed state
// at its location.
type probeStates struct{ svc *probes.Service }

// ProbeStates lists the probes' states (LastRun zero before the first run).
func (p probeStates) ProbeStates(ctx context.Context) ([]model.ProbeState, error) {
	list, err := p.svc.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]model.ProbeState, 0, len(list))
	for _, s := range list {
		st := model.ProbeState{Probe: s.Name, Location: s.Location, Labels: s.Labels, Failing: s.Failing,
			Successes: s.Successes, Failures: s.Failures}
		if s.Since != nil {
			st.Since = *s.Since
		}
		if s.LastRun != nil {
			st.LastRun = s.LastRun.At
		}
		out = append(out, st)
	}
	return out, nil
}

// maintenanceWindows gives the status page alerting's maintenance windows:
// the one-off ones and the recorded occurrences of recurring ones (which
// alerting records as they begin), and each recurring window's next
// occurrence from its schedule.
type maintenanceWindows struct{ svc *alerting.Service }

// MaintenanceWindows lists the windows overlapping [from, to).
func (m maintenanceWindows) MaintenanceWindows(ctx context.Context, from, to time.Time) ([]statuspage.Window, error) {
	kept, err := m.svc.MaintenanceWindows(ctx)
	if err != nil {
		return nil, err
	}
	var out []statuspage.Window
	recorded := map[string]bool{}
	for _, w := range kept {
		if w.Recurring != "" {
			recorded[w.Recurring+"@"+w.StartsAt.UTC().Format(time.RFC3339)] = true
		}
		if !w.EndsAt.After(from) || !w.StartsAt.Before(to) {
			continue
		}
		out = append(out, statuspage.Window{ID: w.ID, Start: w.StartsAt, End: w.EndsAt, Matches: w.Matchers.Matches})
	}
	for _, r := range m.svc.RecurringMaintenanceAt(from, to.Sub(from)) {
		key := r.Name + "@" + r.NextStart.UTC().Format(time.RFC3339)
		if r.NextStart.IsZero() || recorded[key] {
			continue
		}
		out = append(out, statuspage.Window{ID: key, Start: r.NextStart, End: r.NextEnd, Matches: r.Matchers.Matches})
	}
	return out, nil
}
