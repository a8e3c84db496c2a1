package app

import (
	"context"
	"sync/atomic"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/dashboards"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/probes"
	"github.com/sentinel-oss/sentinel/statuspage"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// wireStatusPage builds the public status page: the statuspage service
// over the probes, the SLO engine and the store (its runner records every
// component's status once a minute), the renderer over it and the
// incident service, and the routes under /status (always mounted; they
// answer 404 while status_page.enabled is false). A reload compiles the
// new section in prepare and swaps it in at commit.
//
// Maintenance windows are not wired yet: until alerting lists them, no
// component shows under_maintenance by itself (a responder's override
// still can).
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
