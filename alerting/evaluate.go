package alerting

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Rule evaluation: probe, SLO burn, heartbeat and RUM rules step their alerts
// through pending and firing at an evaluation time.

// Evaluate runs every rule, the SLO burn tiers, heartbeats, silences and
// inhibition at the service's current time, saves what changed and hands
// changed groups to the sink.
func (s *Service) Evaluate(ctx context.Context) error {
	return s.EvaluateAt(ctx, s.now())
}

// EvaluateAt is Evaluate at a given time (tests, benchmarks). With a
// shared store it evaluates only when no other replica is evaluating
// (ErrCycleSkipped otherwise), on the state read fresh from the store.
func (s *Service) EvaluateAt(ctx context.Context, now time.Time) error {
	if s.lock == nil {
		return s.evaluateAt(ctx, now)
	}
	ran, err := s.underLock(ctx, false, func(ctx context.Context) error { return s.evaluateAt(ctx, now) })
	if err == nil && !ran {
		s.m.cycleSkips.Inc()
		s.refreshBeatGauges(ctx)
		return ErrCycleSkipped
	}
	return err
}

// refreshBeatGauges sets the heartbeat gauges from the store on a replica
// that skipped the cycle, so that every replica's /metrics shows the last
// beat, whichever replica received it. (The alert and silence gauges are
// the evaluating replica's.)
func (s *Service) refreshBeatGauges(ctx context.Context) {
	beats, err := s.store.Heartbeats(ctx)
	if err != nil {
		return // the next cycle tries again
	}
	for name, at := range beats {
		if _, ok := s.hbByName[name]; ok {
			s.m.heartbeat.WithLabelValues(name).Set(float64(at.Unix()))
		}
	}
}

func (s *Service) evaluateAt(ctx context.Context, now time.Time) error {
	var states []model.SLOState
	if s.slos != nil {
		states = s.slos.SLOStates()
	}
	if s.rumStore != nil {
		// The RUM rules count every replica's beacons; on a failed read
		// the figures of the last read stand in.
		if err := s.rumRefresh(ctx, now); err != nil {
			s.log.Warn("RUM rules evaluated on the last figures read", "err", err)
		}
	}
	start := time.Now()
	s.mu.Lock()
	if err := s.loadLocked(ctx); err != nil {
		s.mu.Unlock()
		return err
	}
	s.evaluateLocked(now, states)
	err := s.saveLocked(ctx)
	s.mu.Unlock()
	s.m.evalDuration.Observe(time.Since(start).Seconds())
	if ferr := s.flush(ctx, now); ferr != nil && err == nil {
		err = ferr
	}
	return err
}

func (s *Service) evaluateLocked(now time.Time, states []model.SLOState) {
	byName := make(map[string]model.SLOState, len(states))
	for _, st := range states {
		byName[st.Name] = st
	}
	probeKeys := s.probeKeysLocked()
	for _, r := range s.rules {
		switch r.Kind {
		case KindProbe:
			s.evalProbeRuleLocked(r, probeKeys[r.Probe], now)
		case KindRUM:
			v, known := s.rum.measure(r, now)
			if !known {
				continue
			}
			l := model.Labels{"rum": r.RUMMeasure}
			if r.Route != "" {
				l["route"] = r.Route
			}
			s.stepLocked(r, r.instanceLabels(l), v > r.Above, templateData{Value: v, RUM: rumFacts(r, v)}, now)
		case KindSLO:
			st, ok := byName[r.SLO]
			if !ok {
				continue
			}
			s.stepLocked(r, r.instanceLabels(sloLabels(st)), st.BudgetRemaining < r.BudgetBelow,
				templateData{Value: st.BudgetRemaining, SLO: sloFacts(r, st)}, now)
		}
	}
	if s.cfg.SLOBurn != config.SLOBurnOff {
		for _, st := range states {
			s.evalBurnLocked(st, now)
		}
	}
	s.evalHeartbeatsLocked(now)
	s.expirePostedLocked(now)
	s.resolveOrphansLocked(now)
	s.silencesLocked(now)
	s.refreshMutesLocked(now)
	s.gcLocked(now)
	s.updateGaugesLocked(now)
}

func sloLabels(st model.SLOState) model.Labels {
	l := st.Labels.Clone()
	l["slo"] = st.Name
	if st.Service != "" {
		l["service"] = st.Service
	}
	return l
}

// probeKeysLocked indexes the known probe states by probe name, sorted.
func (s *Service) probeKeysLocked() map[string][]string {
	out := map[string][]string{}
	for k, ps := range s.probes {
		out[ps.Probe] = append(out[ps.Probe], k)
	}
	for _, keys := range out {
		sort.Strings(keys)
	}
	return out
}

func (s *Service) evalProbeRuleLocked(r *Rule, keys []string, now time.Time) {
	for _, k := range keys {
		ps := s.probes[k]
		l := ps.Labels.Clone()
		l["probe"] = ps.Probe
		if ps.Location != "" {
			l["location"] = ps.Location
		}
		// A run that passed while the probe still counts as failing has no
		// failure to explain: the alert keeps its last failure's words.
		d := templateData{Probe: probeFacts(ps, s.externalURL), stale: ps.Step == "" && ps.Error == ""}
		s.stepLocked(r, r.instanceLabels(l), ps.Failing, d, now)
	}
}

// stepLocked advances the rule's alert instance with these labels; d
// holds the measured value and the facts its annotations explain.
func (s *Service) stepLocked(r *Rule, labels model.Labels, active bool, d templateData, now time.Time) {
	source := SourceRule
	if r.Kind == "" {
		source = r.Name // built-in pseudo rules carry their source as name
	}
	fp := Fingerprint(labels)
	key := source + "|" + fp
	rec := s.alerts[key]
	if rec == nil {
		if !active {
			return
		}
		rec = &Record{Key: key, Rule: r.Name, Alert: model.Alert{
			Name: labels["alertname"], Fingerprint: fp, Labels: labels, Severity: r.Severity,
			Source: source, GroupKey: GroupKey(s.groupBy, labels), Runbook: r.Runbook,
		}}
		if rec.Alert.Runbook == "" && s.runbooks != nil {
			if rb, ok := s.runbooks.Match(rec.Alert.Name, labels); ok {
				rec.Alert.Runbook = rb.Name
			}
		}
		s.addLocked(rec)
	}
	rec.Value = d.Value
	if (active || rec.Alert.State == model.AlertFiring) && !(d.stale && len(rec.Alert.Annotations) > 0) {
		d.ExternalURL = s.externalURL
		rec.Alert.Annotations = r.instanceAnnotations(labels, d)
	}
	if Advance(&rec.Alert, &rec.KeepFiringSince, active, now, r.For, r.KeepFiringFor) {
		if rec.Alert.State == model.AlertResolved {
			rec.ResolvedReported = false
		}
		s.markLocked(rec)
	}
}

// failedRunLocked is the latest run of probe, over its locations, when
// that run failed: what a burn alert of an SLO counting the probe's runs
// says broke, as the probe's own alert would (which may wait for its
// failure_threshold and "for" while the budget burns already).
func (s *Service) failedRunLocked(probe string) (ProbeFacts, bool) {
	var last model.ProbeState
	found := false
	for _, ps := range s.probes {
		if probe == "" || ps.Probe != probe || ps.Failures == 0 || (ps.Step == "" && ps.Error == "") {
			continue
		}
		if !found || ps.LastRun.After(last.LastRun) {
			last, found = ps, true
		}
	}
	if !found {
		return ProbeFacts{}, false
	}
	return probeFacts(last, s.externalURL), true
}

// evalBurnLocked raises the SLO's page and ticket alerts from its tiers.
func (s *Service) evalBurnLocked(st model.SLOState, now time.Time) {
	for _, tier := range []string{"page", "ticket"} {
		firing := false
		var rate float64
		sev := model.SeverityWarning
		if tier == "page" {
			sev = model.SeverityCritical
		}
		for _, t := range st.Tiers {
			if t.Name != tier {
				continue
			}
			if t.Severity != "" {
				sev = t.Severity
			}
			if t.Firing {
				firing = true
				rate = max(rate, t.LongRate)
			}
		}
		// slos[].alerting: a disabled tier raises nothing; the SLO's and
		// the tier's labels and annotations are added (Sentinel keeps its
		// own severity label, which incidents read).
		set := st.Alerting.Tier(tier)
		if set.Disabled {
			continue
		}
		l := sloLabels(st)
		for k, v := range st.Alerting.Labels.Merge(set.Labels) {
			l[k] = v
		}
		l["alertname"] = SLOBurnAlert
		if st.Alerting.Name != "" {
			l["alertname"] = st.Alerting.Name
		}
		l["tier"] = tier
		l["sloth_severity"] = tier
		l["severity"] = string(sev)
		pseudo := &Rule{Name: SourceSLO, Severity: sev}
		s.stepLocked(pseudo, l, firing, templateData{Value: rate}, now)
		if rec := s.alerts[SourceSLO+"|"+Fingerprint(l)]; rec != nil && firing {
			rec.Rule = "slo_burn"
			// Custom annotations (an imported Sloth summary) win.
			ann := burnAnnotations(st, tier)
			if f, ok := s.failedRunLocked(st.Probe); ok {
				addFailedRun(ann, f)
			}
			rec.Alert.Annotations = ann.Merge(st.Alerting.Annotations.Merge(set.Annotations))
		}
	}
}

func (s *Service) evalHeartbeatsLocked(now time.Time) {
	for _, h := range s.cfg.Heartbeats {
		last, ok := s.beats[h.Name]
		if !ok {
			last = s.started
		}
		missing := now.Sub(last) > h.Timeout.Std()
		l := h.Labels.Clone()
		l["alertname"] = HeartbeatAlert
		l["heartbeat"] = h.Name
		l["severity"] = string(h.Severity)
		pseudo := &Rule{Name: SourceHeartbeat, Severity: h.Severity, Runbook: h.Runbook}
		s.stepLocked(pseudo, l, missing, templateData{Value: now.Sub(last).Seconds()}, now)
		if rec := s.alerts[SourceHeartbeat+"|"+Fingerprint(l)]; rec != nil && missing {
			rec.Rule = "heartbeat"
			rec.Alert.Annotations = model.Labels{"summary": fmt.Sprintf("No heartbeat %q for %s (timeout %s); last seen %s",
				h.Name, now.Sub(last).Truncate(time.Second), h.Timeout, last.UTC().Format(time.RFC3339))}
		}
	}
}
