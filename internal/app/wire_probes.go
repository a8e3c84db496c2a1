package app

import (
	"context"
	"io"
	"log/slog"
	"time"

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
	if claims == nil {
		// One process serves: probe runs are not claimed, but Slack
		// deliveries and hand-offs still are, in the same bucket, and the
		// probes service prunes it only when it claims runs.
		pc := store.NewProbeClaims(c.deps.engine)
		log := c.deps.log.With("component", "claims")
		c.runners = append(c.runners, runner{name: "claims_prune", run: func(ctx context.Context) error {
			return pruneClaims(ctx, pc, c.deps.now, log)
		}})
	}
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

// claimsKept is how long a claim outlives the time it is kept under: Slack
// redelivers within minutes, and a day keeps any clock skew between
// replicas far inside it (the probes service prunes with the same day).
const claimsKept = 24 * time.Hour

// pruneClaims deletes claims older than claimsKept now and every hour
// until ctx ends.
func pruneClaims(ctx context.Context, pc *store.ProbeClaims, now func() time.Time, log *slog.Logger) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := pc.PruneClaims(ctx, now().Add(-claimsKept)); err != nil && ctx.Err() == nil {
			log.Warn("prune claims", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
