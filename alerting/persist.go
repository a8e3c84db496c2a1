package alerting

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Loading, saving and pruning the alert state, in the store or in memory.

// loadLocked reads the stored state once; with a shared store, every
// time (see reloadLocked).
func (s *Service) loadLocked(ctx context.Context) error {
	if s.loaded {
		return nil
	}
	if s.lock != nil {
		return s.reloadLocked(ctx)
	}
	st, err := s.readStored(ctx)
	if err != nil {
		return err
	}
	s.applyStoredLocked(st)
	s.loaded = true
	return nil
}

func (s *Service) readStored(ctx context.Context) (storedState, error) {
	var st storedState
	var err error
	if st.snap, err = s.store.LoadAlertState(ctx); err != nil {
		return st, fmt.Errorf("load alert state: %w", err)
	}
	if st.sils, err = s.store.Silences(ctx); err != nil {
		return st, fmt.Errorf("load silences: %w", err)
	}
	if st.beats, err = s.store.Heartbeats(ctx); err != nil {
		return st, fmt.Errorf("load heartbeats: %w", err)
	}
	return st, nil
}

// applyStoredLocked adds the stored state to what is held in memory.
func (s *Service) applyStoredLocked(st storedState) {
	for i := range st.snap.Alerts {
		r := st.snap.Alerts[i]
		s.addLocked(&r)
		s.touched[r.Alert.GroupKey] = true
	}
	for i := range st.snap.Groups {
		g := st.snap.Groups[i]
		s.groups[g.Key] = &g
		s.touched[g.Key] = true
	}
	for i := range st.sils {
		sl := st.sils[i]
		s.silences[sl.ID] = &sl
	}
	for k, v := range st.beats {
		s.beats[k] = v
		if _, ok := s.hbByName[k]; ok {
			// The last beat as stored, whichever process received it.
			s.m.heartbeat.WithLabelValues(k).Set(float64(v.Unix()))
		}
	}
}

// reloadLocked replaces the state held in memory with the state in the
// shared store (other replicas change it), probe states included.
// Announcements not yet delivered are kept.
func (s *Service) reloadLocked(ctx context.Context) error {
	st, err := s.readStored(ctx)
	if err != nil {
		return err
	}
	pss, err := s.pstates.ProbeStates(ctx)
	if err != nil {
		return fmt.Errorf("load probe states: %w", err)
	}
	s.alerts, s.groups, s.members = map[string]*Record{}, map[string]*GroupState{}, map[string]map[string]*Record{}
	s.inhibitValid = false
	s.silences, s.beats, s.probes = map[string]*Silence{}, map[string]time.Time{}, map[string]model.ProbeState{}
	clear(s.dirty)
	clear(s.dirtyGroups)
	clear(s.dirtySilence)
	clear(s.touched)
	s.applyStoredLocked(st)
	for _, ps := range pss {
		s.probes[ps.Probe+"|"+ps.Location] = ps
	}
	s.loaded = true
	return nil
}

// freshLocked re-reads the shared state for a read when the store is
// shared, unless a change of this process holds the lock (its state in
// memory is then the latest).
func (s *Service) freshLocked(ctx context.Context) error {
	if s.lock != nil && s.fence == nil {
		s.loaded = false
	}
	return s.loadLocked(ctx)
}

// gcLocked forgets alerts that no longer matter: pending alerts that went
// back to inactive at once, resolved ones once reported and past the
// retention (kept that long so late duplicate deliveries stay harmless).
func (s *Service) gcLocked(now time.Time) {
	ret := s.cfg.ResolvedRetention.Std()
	for _, r := range s.alerts {
		switch {
		case r.Alert.State == model.AlertInactive:
		case r.Alert.State == model.AlertResolved && r.ResolvedReported && now.Sub(r.Alert.EndsAt) > ret:
		default:
			continue
		}
		s.removeLocked(r)
	}
}

// saveLocked writes what changed since the last save. On failure the
// changes stay marked and are retried with the next save.
func (s *Service) saveLocked(ctx context.Context) error {
	var c Change
	for k, put := range s.dirty {
		if r, ok := s.alerts[k]; put && ok {
			c.PutAlerts = append(c.PutAlerts, *r)
		} else {
			c.DeleteAlerts = append(c.DeleteAlerts, k)
		}
	}
	for k := range s.dirtyGroups {
		if g, ok := s.groups[k]; ok {
			c.PutGroups = append(c.PutGroups, *g)
		} else {
			c.DeleteGroups = append(c.DeleteGroups, k)
		}
	}
	var errs []error
	if !c.Empty() {
		if err := s.store.SaveAlertState(ctx, c); err != nil {
			errs = append(errs, fmt.Errorf("save alert state: %w", err))
		} else {
			clear(s.dirty)
			clear(s.dirtyGroups)
		}
	}
	for id := range s.dirtySilence {
		var err error
		if sl, ok := s.silences[id]; ok {
			err = s.store.PutSilence(ctx, *sl)
		} else {
			err = s.store.DeleteSilence(ctx, id)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("save silence %s: %w", id, err))
			continue
		}
		delete(s.dirtySilence, id)
	}
	if err := errors.Join(errs...); err != nil {
		s.log.Error("alert state not saved; will retry", "err", err)
		return err
	}
	return nil
}

// addLocked tracks a new record.
func (s *Service) addLocked(r *Record) {
	s.noteInhibitSourceLocked(r)
	s.alerts[r.Key] = r
	m := s.members[r.Alert.GroupKey]
	if m == nil {
		m = map[string]*Record{}
		s.members[r.Alert.GroupKey] = m
	}
	m[r.Key] = r
}

// removeLocked forgets a record and marks it for deletion from the store.
func (s *Service) removeLocked(r *Record) {
	s.noteInhibitSourceLocked(r)
	delete(s.alerts, r.Key)
	if m := s.members[r.Alert.GroupKey]; m != nil {
		delete(m, r.Key)
		if len(m) == 0 {
			delete(s.members, r.Alert.GroupKey)
		}
	}
	s.dirty[r.Key] = false
}

// markLocked marks a changed record for saving and its group for hand-over.
func (s *Service) markLocked(r *Record) {
	s.noteInhibitSourceLocked(r)
	s.dirty[r.Key] = true
	s.touched[r.Alert.GroupKey] = true
}
