package app

import (
	"context"
	"fmt"
	"time"

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
		Exclusions: maintenanceExclusions{c},
	})
	if err != nil {
		return config.Problems{{Path: "slos", Message: err.Error()}}
	}
	c.slo = eng
	c.outcomes.add(eng)
	c.runners = append(c.runners, runner{name: "slo", run: eng.Run})
	c.mounts = append(c.mounts, func(r *web.Routes) { web.MountSLOs(r, eng, durableEvents{eng}) })
	c.onReload("slos", func(ctx context.Context, p *reloadPlan) (func(), error) {
		specs, ps := slo.Compile(p.next.SLOs, slo.ProbeRefs(p.next.Probes))
		if len(ps) > 0 {
			return nil, ps
		}
		return eng.Prepare(ctx, specs)
	})
	return nil
}

// durableEvents answers the events API only once the counts are stored:
// it flushes after counting, so a 202 survives kill -9 of the process.
// Concurrent requests share a flush (the engine writes everything changed
// in one transaction, one at a time), so the cost is one commit per
// burst, not per request.
type durableEvents struct{ e *slo.Engine }

// RecordEvents counts the events and stores them before returning.
func (d durableEvents) RecordEvents(ctx context.Context, name string, good, total int64, at time.Time) error {
	if !d.e.Loaded() {
		return fmt.Errorf("%w: the stored SLO counts are still loading; send the events again in a moment", web.ErrUnavailable)
	}
	if err := d.e.RecordEvents(ctx, name, good, total, at); err != nil {
		return err
	}
	if err := d.e.Flush(ctx); err != nil {
		// Counted in memory and stored by a later flush; the caller was
		// not told so and may send them again.
		return fmt.Errorf("%w: the events are counted but could not be stored yet (%w); a later flush stores them, so sending them again may count them twice", web.ErrUnavailable, err)
	}
	return nil
}

// maintenanceExclusions leaves alerting's maintenance windows out of the
// budgets of SLOs with exclude_maintenance. It asks alerting on each call
// (windows held in memory), so windows added, ended or reloaded count at
// the next evaluation.
type maintenanceExclusions struct{ c *components }

func (m maintenanceExclusions) Excluded(sp *slo.Spec, from, to time.Time) []slo.Interval {
	if !sp.ExcludeMaintenance || m.c.alerting == nil {
		return nil
	}
	spans := m.c.alerting.MaintenanceSpans(sp.MatchLabels(), from, to)
	out := make([]slo.Interval, len(spans))
	for i, w := range spans {
		out[i] = slo.Interval{From: w.From, To: w.To}
	}
	return out
}
