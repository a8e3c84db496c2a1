package app

import (
	"context"
	"io"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/probes"
	"github.com/sentinel-oss/sentinel/rum"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// wireProbes compiles the journeys (so check config reports templates and
// JSON paths) and builds the scheduler, feeding every run's outcome and
// flap-suppressed state into the fan-outs.
func (c *components) wireProbes(cfg *config.Config) config.Problems {
	journeys, ps := probes.Compile(cfg.Probes)
	if len(ps) > 0 {
		return ps
	}
	var claims probes.RunClaimer
	var flaps probes.FlapStore
	if store.Shared(c.deps.engine) {
		// Replicas share the store: each run goes to one of them, and the
		// flap-suppressed state is kept where all see it.
		pc := store.NewProbeClaims(c.deps.engine)
		claims, flaps = pc, pc
	}
	svc, err := probes.New(probes.Options{
		Probes:     journeys,
		Settings:   cfg.ProbeSettings,
		Store:      store.NewProbeResults(c.deps.engine),
		Claims:     claims,
		Flaps:      flaps,
		Outcomes:   c.outcomes,
		States:     c.states,
		Registerer: c.deps.registry,
		Logger:     c.deps.log.With("component", "probes"),
		Now:        c.deps.now,
		// Browser journeys measure pages with RUM's own vitals code.
		VitalsScript: c.vitalsScript,
	})
	if err != nil {
		return config.Problems{{Path: "probes", Message: err.Error()}}
	}
	c.probes = svc
	c.runners = append(c.runners, runner{name: "probes", run: svc.Run})
	c.onReload("probes", func(_ context.Context, p *reloadPlan) (func(), error) {
		js, ps := probes.Compile(p.next.Probes)
		if len(ps) > 0 {
			return nil, ps
		}
		return svc.Prepare(js, p.next.ProbeSettings), nil
	})
	c.mounts = append(c.mounts, func(r *web.Routes) { web.MountProbes(r, svc) })
	return nil
}

// RunProbe runs one configured probe once, for `sentinel probe run`; it
// records nothing and starts nothing else.
func RunProbe(ctx context.Context, cfg *config.Config, name string) (probes.Result, error) {
	journeys, ps := probes.Compile(cfg.Probes)
	if len(ps) > 0 {
		return probes.Result{}, cfg.Locate(ps)
	}
	svc, err := probes.New(probes.Options{Probes: journeys, Settings: cfg.ProbeSettings, VitalsScript: rum.VitalsScript()})
	if err != nil {
		return probes.Result{}, err
	}
	return svc.RunOnce(ctx, name)
}

// ErrProbeNotFound is returned by RunProbe for a name not in the config.
var ErrProbeNotFound = probes.ErrNotFound

// FormatProbeRun prints a run as the readable table `sentinel probe run` shows.
func FormatProbeRun(w io.Writer, r probes.Result) error { return probes.Format(w, r) }
