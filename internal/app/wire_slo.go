package app

import (
	"context"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/slo"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// wireSLO compiles the slos: section against the configured probes, builds
// the SLO engine on the store, and makes it a consumer of every outcome.
// Its runner loads stored counts, evaluates every 10 s and flushes every
// second; its mounts serve /api/v1/slos and the events endpoint. Alerting
// reads the engine's States (or registers with AddSink).
func (c *components) wireSLO(cfg *config.Config) config.Problems {
	specs, ps := slo.Compile(cfg.SLOs, slo.ProbeRefs(cfg.Probes))
	if len(ps) > 0 {
		return ps
	}
	eng, err := slo.New(slo.Options{
		Specs:      specs,
		Store:      store.NewSLOCounts(c.deps.engine),
		Months:     store.NewSLOMonths(c.deps.engine),
		Writer:     store.WriterID(c.deps.engine),
		Registerer: c.deps.registry,
		Logger:     c.deps.log,
		Now:        c.deps.now,
	})
	if err != nil {
		return config.Problems{{Path: "slos", Message: err.Error()}}
	}
	c.slo = eng
	c.outcomes.add(eng)
	c.runners = append(c.runners, runner{name: "slo", run: eng.Run})
	c.mounts = append(c.mounts, func(r *web.Routes) { web.MountSLOs(r, eng, eng) })
	c.onReload("slos", func(ctx context.Context, p *reloadPlan) (func(), error) {
		specs, ps := slo.Compile(p.next.SLOs, slo.ProbeRefs(p.next.Probes))
		if len(ps) > 0 {
			return nil, ps
		}
		return eng.Prepare(ctx, specs)
	})
	return nil
}
