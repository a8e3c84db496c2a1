package alerting

import (
	"context"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/model"
)

// IngestResult counts what one webhook delivery did.
type IngestResult struct {
	// New alerts started firing; Resolved alerts resolved; Unchanged were
	// already known in that state (repeats and HA duplicates); Heartbeats
	// were Watchdog-style alerts counted as beats.
	New, Resolved, Unchanged, Heartbeats int
}

// count adds the result to a counter by result (new, resolved, unchanged,
// and heartbeat when asked).
func (r IngestResult) count(c *prometheus.CounterVec, heartbeats bool) {
	c.WithLabelValues("new").Add(float64(r.New))
	c.WithLabelValues("resolved").Add(float64(r.Resolved))
	c.WithLabelValues("unchanged").Add(float64(r.Unchanged))
	if heartbeats {
		c.WithLabelValues("heartbeat").Add(float64(r.Heartbeats))
	}
}

// IngestWebhook applies one Alertmanager delivery: one group per groupKey,
// resolved alerts resolve, and a delivery that repeats what is known
// changes nothing (so duplicates from an HA pair are harmless). Alerts that
// Sentinel pushed (carrying GroupKeyLabel) join the group they came from.
// Alerts named by a heartbeat's alertmanager_alert count as beats.
func (s *Service) IngestWebhook(ctx context.Context, w Webhook) (IngestResult, error) {
	var res IngestResult
	err := s.exclusive(ctx, func(ctx context.Context) error {
		var err error
		res, err = s.ingestWebhook(ctx, w)
		return err
	})
	return res, err
}

func (s *Service) ingestWebhook(ctx context.Context, w Webhook) (IngestResult, error) {
	now := s.now()
	var res IngestResult
	if w.Data == nil {
		return res, nil
	}
	s.mu.Lock()
	if err := s.loadLocked(ctx); err != nil {
		s.mu.Unlock()
		return res, err
	}
	beats := map[string]bool{}
	var changed []*Record
	for _, wa := range w.Alerts {
		labels := model.Labels(wa.Labels).Clone()
		if hb, ok := s.watchdogs[labels["alertname"]]; ok {
			if wa.Status == "firing" {
				s.beats[hb] = now
				beats[hb] = true
			}
			res.Heartbeats++
			continue
		}
		groupKey := w.GroupKey
		fp := wa.Fingerprint
		if fp == "" {
			fp = Fingerprint(labels) // a delivery built in code, not decoded
		}
		if sk := labels[GroupKeyLabel]; sk != "" {
			// Our own alert, back from Alertmanager: it joins its group, and
			// is nothing new while we track it ourselves.
			delete(labels, GroupKeyLabel)
			fp = Fingerprint(labels)
			if s.trackedNativeLocked(fp) {
				res.Unchanged++
				continue
			}
			groupKey = sk
		}
		key := SourceAlertmanager + "|" + groupKey + "|" + fp
		rec := s.alerts[key]
		switch wa.Status {
		case "firing":
			if rec != nil && rec.Alert.State == model.AlertFiring {
				res.Unchanged++
				continue
			}
			if rec != nil && rec.Alert.State == model.AlertResolved && rec.Alert.StartsAt.Equal(wa.StartsAt) {
				res.Unchanged++ // a late duplicate of a notification already resolved
				continue
			}
			starts := wa.StartsAt
			if starts.IsZero() {
				starts = now
			}
			rec = &Record{Key: key, Rule: labels["alertname"], Alert: model.Alert{
				Name: labels["alertname"], Fingerprint: fp, Labels: labels, Annotations: model.Labels(wa.Annotations).Clone(),
				State: model.AlertFiring, Severity: severityOf(labels), Source: SourceAlertmanager,
				GroupKey: groupKey, StartsAt: starts, FiredAt: now, GeneratorURL: wa.GeneratorURL,
			}}
			if groupKey == w.GroupKey {
				rec.GroupSource, rec.GroupLabels = SourceAlertmanager, model.Labels(w.GroupLabels).Clone()
			}
			if s.runbooks != nil {
				if rb, ok := s.runbooks.Match(rec.Alert.Name, labels); ok {
					rec.Alert.Runbook = rb.Name
				}
			}
			if rb := labels["runbook"]; rb != "" && rec.Alert.Runbook == "" {
				rec.Alert.Runbook = rb
			}
			s.addLocked(rec)
			s.markLocked(rec)
			changed = append(changed, rec)
			res.New++
		case "resolved":
			if rec == nil || rec.Alert.State != model.AlertFiring {
				res.Unchanged++
				continue
			}
			ends := wa.EndsAt
			if ends.IsZero() || ends.After(now) {
				ends = now
			}
			rec.Alert.State, rec.Alert.EndsAt, rec.ResolvedReported = model.AlertResolved, ends, false
			s.markLocked(rec)
			changed = append(changed, rec)
			res.Resolved++
		}
	}
	var errs error
	for hb := range beats {
		if err := s.store.PutHeartbeat(ctx, hb, now); err != nil {
			errs = err
		}
		s.m.heartbeat.WithLabelValues(hb).Set(float64(now.Unix()))
	}
	if len(beats) > 0 {
		s.evalHeartbeatsLocked(now)
		s.refreshMutesLocked(now)
	} else {
		s.muteNewLocked(changed, now)
	}
	err := s.saveLocked(ctx)
	s.mu.Unlock()
	res.count(s.m.webhookAlerts, true)
	if err != nil {
		return res, err
	}
	if errs != nil {
		return res, errs
	}
	if res.New > 0 || res.Resolved > 0 || len(beats) > 0 {
		// Hand-over failures are retried by the evaluation loop; the
		// delivery itself is safely stored.
		_ = s.flush(ctx, now)
	}
	return res, nil
}

// trackedNativeLocked reports whether a Sentinel alert with fingerprint fp is tracked.
func (s *Service) trackedNativeLocked(fp string) bool {
	for _, src := range []string{SourceRule, SourceSLO, SourceHeartbeat} {
		if r := s.alerts[src+"|"+fp]; r != nil && r.Alert.State != model.AlertInactive {
			return true
		}
	}
	return false
}

func severityOf(l model.Labels) model.Severity {
	if sev, err := model.ParseSeverity(l["severity"]); err == nil {
		return sev
	}
	switch l["severity"] {
	case "page", "error", "high":
		return model.SeverityCritical
	case "ticket", "low":
		return model.SeverityWarning
	}
	return model.SeverityWarning
}

// Heartbeat records a beat of the named heartbeat (ErrNotFound when it is
// not configured) and returns the time recorded; a firing HeartbeatMissing
// alert for it resolves.
func (s *Service) Heartbeat(ctx context.Context, name string) (time.Time, error) {
	s.mu.Lock()
	_, ok := s.hbByName[name]
	s.mu.Unlock()
	if !ok {
		return time.Time{}, notFoundf("no heartbeat named %q is configured (alerting.heartbeats)", truncate(name, 128))
	}
	var at time.Time
	err := s.exclusive(ctx, func(ctx context.Context) error {
		var err error
		at, err = s.heartbeat(ctx, name)
		return err
	})
	return at, err
}

func (s *Service) heartbeat(ctx context.Context, name string) (time.Time, error) {
	now := s.now()
	s.mu.Lock()
	if err := s.loadLocked(ctx); err != nil {
		s.mu.Unlock()
		return time.Time{}, err
	}
	if err := s.store.PutHeartbeat(ctx, name, now); err != nil {
		s.mu.Unlock()
		return time.Time{}, err
	}
	s.beats[name] = now
	s.m.heartbeat.WithLabelValues(name).Set(float64(now.Unix()))
	s.evalHeartbeatsLocked(now)
	s.refreshMutesLocked(now)
	err := s.saveLocked(ctx)
	s.mu.Unlock()
	if err != nil {
		return time.Time{}, err
	}
	_ = s.flush(ctx, now)
	return now, nil
}

// ActiveAlert is a pending or firing alert as the API shows it.
type ActiveAlert struct {
	model.Alert
	// SilencedBy lists the silences muting it; InhibitedBy names the alert
	// (fingerprint) inhibiting it.
	SilencedBy  []string
	InhibitedBy string
	// MaintenanceBy names the maintenance windows it falls in.
	MaintenanceBy []string
	// GroupLabels are the labels of the group it belongs to (the
	// incidents.group_by values, or Alertmanager's groupLabels).
	GroupLabels model.Labels
	// ExpiresAt is when an alert posted to the API v2 resolves unless
	// posted again (zero for the other sources).
	ExpiresAt time.Time
}

// Alerts returns the pending and firing alerts, oldest first.
func (s *Service) Alerts(ctx context.Context) ([]ActiveAlert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.freshLocked(ctx); err != nil {
		return nil, err
	}
	var out []ActiveAlert
	for _, r := range s.alerts {
		if r.Alert.State == model.AlertFiring || r.Alert.State == model.AlertPending {
			out = append(out, ActiveAlert{Alert: copyAlert(r.Alert), SilencedBy: append([]string(nil), r.MutedBy...), InhibitedBy: r.InhibitedBy,
				MaintenanceBy: append([]string(nil), r.MaintenanceBy...), GroupLabels: s.metaLocked(r.Alert.GroupKey, []*Record{r}).Labels.Clone(), ExpiresAt: r.ExpiresAt})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].StartsAt.Equal(out[j].StartsAt) {
			return out[i].StartsAt.Before(out[j].StartsAt)
		}
		return out[i].Fingerprint < out[j].Fingerprint
	})
	return out, nil
}

// OutgoingAlerts returns Sentinel's own firing alerts, and those resolved
// within the retention, for pushing to Alertmanager.
func (s *Service) OutgoingAlerts(ctx context.Context) ([]model.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.freshLocked(ctx); err != nil {
		return nil, err
	}
	var out []model.Alert
	for _, r := range s.alerts {
		if r.Alert.Source == SourceAlertmanager {
			continue
		}
		if r.Alert.State == model.AlertFiring || r.Alert.State == model.AlertResolved {
			out = append(out, copyAlert(r.Alert))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Fingerprint < out[j].Fingerprint })
	return out, nil
}

// Now is the service's clock, for callers that show statuses.
func (s *Service) Now() time.Time { return s.now() }
