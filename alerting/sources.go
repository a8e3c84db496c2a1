package alerting

import (
	"context"

	"github.com/sentinel-oss/sentinel/model"
)

// Signals arriving from other components: probe states and RUM outcomes.

// RecordProbeState takes a probe's flap-suppressed state and evaluates the
// rules on that probe at once.
func (s *Service) RecordProbeState(ctx context.Context, st model.ProbeState) {
	if s.lock == nil {
		s.recordProbeState(ctx, st, false)
		return
	}
	// Shared: keep the state for whichever replica evaluates, and act on
	// a change of Failing at once under the lock.
	if err := s.pstates.PutProbeState(ctx, st); err != nil {
		s.log.Error("probe state not stored", "probe", st.Probe, "err", err)
		return
	}
	s.mu.Lock()
	prev, had := s.probes[st.Probe+"|"+st.Location]
	s.mu.Unlock()
	if had && prev.Failing == st.Failing {
		return
	}
	if err := s.exclusive(ctx, func(ctx context.Context) error {
		s.recordProbeState(ctx, st, true)
		return nil
	}); err != nil {
		s.log.Warn("probe state stored; evaluated with the next cycle", "probe", st.Probe, "err", err)
	}
}

// recordProbeState evaluates the probe's rules when Failing changed (or
// always, with force: the shared state read already holds st).
func (s *Service) recordProbeState(ctx context.Context, st model.ProbeState, force bool) {
	now := s.now()
	s.mu.Lock()
	if err := s.loadLocked(ctx); err != nil {
		s.mu.Unlock()
		s.log.Error("probe state not evaluated", "probe", st.Probe, "err", err)
		return
	}
	key := st.Probe + "|" + st.Location
	prev, had := s.probes[key]
	s.probes[key] = st
	if had && prev.Failing == st.Failing && !force {
		s.mu.Unlock()
		return // only changes of Failing matter; `for` advances on the ticker
	}
	keys := s.probeKeysLocked()[st.Probe]
	for _, r := range s.rules {
		if r.Kind == KindProbe && r.Probe == st.Probe {
			s.evalProbeRuleLocked(r, keys, now)
		}
	}
	s.refreshMutesLocked(now)
	_ = s.saveLocked(ctx)
	s.mu.Unlock()
	_ = s.flush(ctx, now)
}

// RecordOutcome takes RUM outcomes for the RUM rules; other outcomes are ignored.
func (s *Service) RecordOutcome(_ context.Context, o model.Outcome) { s.rum.add(o) }
