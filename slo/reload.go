package slo

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/model"
)

// table is the set of SLOs in force: immutable once stored, so the hot
// path (RecordOutcome) reads it without a lock, and a config reload swaps
// in a whole new one.
type table struct {
	specs   []*Spec
	entries map[string]*entry
	byKey   map[routeKey][]*entry
	// retention is how long counts are kept (see retentionOf).
	retention time.Duration
	// retired are entries a reload dropped whose last counts still wait
	// for a flush.
	retired []*entry
}

// newTable builds the table for specs. An SLO in prev whose counting is
// unchanged (countKey) keeps its entry's counts; the others get new
// series, which Prepare fills from the store.
func (e *Engine) newTable(specs []*Spec, prev *table) *table {
	t := &table{specs: specs, entries: map[string]*entry{}, byKey: map[routeKey][]*entry{}}
	for _, sp := range specs {
		t.retention = max(t.retention, retentionOf(sp))
		if !sp.Counted() {
			continue
		}
		var en *entry
		if prev != nil {
			if old := prev.entries[sp.Name]; old != nil && countKey(old.spec) == countKey(sp) {
				// Same counts, new spec (objective, labels, description
				// may differ): share the series and metric children.
				en = &entry{spec: sp, s: old.s, good: old.good, bad: old.bad, remaining: old.remaining, sli: old.sli, burn: old.burn}
			}
		}
		if en == nil {
			en = e.newEntry(sp)
		}
		t.entries[sp.Name] = en
		var k routeKey
		switch sp.Kind {
		case KindProbe:
			k = routeKey{model.SourceProbe, sp.Probe}
		case KindRUM:
			k = routeKey{model.SourceRUM, sp.RUMMetric}
		case KindEvents:
			k = routeKey{model.SourceEvents, sp.Name}
		}
		t.byKey[k] = append(t.byKey[k], en)
	}
	return t
}

// newEntry makes an empty entry for sp with its metric children.
func (e *Engine) newEntry(sp *Spec) *entry {
	m := e.m
	en := &entry{
		spec: sp, s: newSeries(retentionOf(sp), slicingOf(sp)),
		good:      m.events.WithLabelValues(sp.Name, "good"),
		bad:       m.events.WithLabelValues(sp.Name, "bad"),
		remaining: m.remaining.WithLabelValues(sp.Name),
		sli:       m.sli.WithLabelValues(sp.Name),
		burn:      map[string]prometheus.Gauge{"window": m.burn.WithLabelValues(sp.Name, "window")},
	}
	for _, bw := range BurnWindows {
		en.burn[bw.Name] = m.burn.WithLabelValues(sp.Name, bw.Name)
	}
	return en
}

// countKey is what decides an SLO's counts: two specs with the same key
// count the same events into the same series (which also classifies time
// slices, so their length and target are part of it).
func countKey(sp *Spec) string {
	return fmt.Sprintf("%s|%v|%s|%s|%g|%t|%s|%s|%s|%d|%s|%d|%g", sp.Name, sp.Kind, sp.Probe, sp.RUMMetric, sp.Threshold, sp.JSErrorFree,
		sp.RouteFilter, sp.SiteFilter, sp.DeviceFilter, retentionOf(sp), sp.Budgeting, sp.Slice, sp.SliceTarget)
}

// Prepare builds the engine's next set of SLOs from specs (compiled by
// Compile) and returns the commit that swaps it in, which cannot fail.
// SLOs whose counting is unchanged (same SLI, filters and window) keep
// their counts; new or changed ones start from what the store holds for
// their name, read here (as a restart would read it). Dropped SLOs stop
// counting; their last unflushed counts are still written.
func (e *Engine) Prepare(ctx context.Context, specs []*Spec) (commit func(), err error) {
	cur := e.tab.Load()
	next := e.newTable(specs, cur)
	if e.opts.Store != nil && e.loaded.Load() {
		for _, en := range next.entries {
			if old := cur.entries[en.spec.Name]; old != nil && old.s == en.s {
				continue
			}
			if err := e.loadEntry(ctx, en, e.now()); err != nil {
				return nil, err
			}
		}
	}
	return func() {
		e.flushMu.Lock()
		defer e.flushMu.Unlock()
		cur := e.tab.Load()
		for name, old := range cur.entries {
			if en := next.entries[name]; en == nil || en.s != old.s {
				next.retired = append(next.retired, old)
				if en == nil {
					e.m.forget(name)
				}
			}
		}
		next.retired = append(next.retired, cur.retired...)
		e.tab.Store(next)
		// Drop the states of SLOs that are gone; the next evaluation
		// (asked for now) fills in the new ones.
		if p := e.states.Load(); p != nil {
			var kept []model.SLOState
			for _, st := range *p {
				if en := next.entries[st.Name]; en != nil {
					kept = append(kept, st)
				}
			}
			e.states.Store(&kept)
		}
		select {
		case e.kick <- struct{}{}:
		default:
		}
	}, nil
}

// flushable are the entries whose dirty counts a flush writes: those in
// force and those a reload retired (kept until a flush has written them,
// see flushed). flushMu is held.
func (t *table) flushable() []*entry {
	out := make([]*entry, 0, len(t.entries)+len(t.retired))
	for _, en := range t.entries {
		out = append(out, en)
	}
	return append(out, t.retired...)
}

// flushed forgets the retired entries of t once their counts are written.
// flushMu is held.
func (e *Engine) flushed(t *table) {
	if len(t.retired) > 0 {
		rest := *t
		rest.retired = nil
		e.tab.CompareAndSwap(t, &rest)
	}
}

// forget deletes the metric children of an SLO that is gone.
func (m *metrics) forget(name string) {
	m.events.DeleteLabelValues(name, "good")
	m.events.DeleteLabelValues(name, "bad")
	m.remaining.DeleteLabelValues(name)
	m.sli.DeleteLabelValues(name)
	m.burn.DeleteLabelValues(name, "window")
	for _, bw := range BurnWindows {
		m.burn.DeleteLabelValues(name, bw.Name)
	}
}
