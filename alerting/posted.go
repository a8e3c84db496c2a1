package alerting

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Alerts posted to Alertmanager's API v2 (POST /api/v2/alerts): a source
// like the webhook, but the senders are Prometheus-like clients (Prometheus
// itself, amtool alert add, vmalert) that resend firing alerts with an end
// a few intervals ahead and let them resolve when that end passes.

// SourceAPI marks alerts posted to the API v2.
const SourceAPI = "api"

// PostedAlert is one alert of a POST /api/v2/alerts body.
type PostedAlert struct {
	Labels       model.Labels
	Annotations  model.Labels
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
}

// IngestAlerts applies posted alerts as Alertmanager does: empty label
// values are dropped; a missing start is now (or the end, when only that is
// given); a missing end is now plus alerting.resolve_timeout, and the alert
// resolves when its end passes without a repost. Alerts group by
// incidents.group_by, as Sentinel's own do. Valid alerts are applied even
// when others are refused; the refusals come back joined, each wrapping
// ErrInvalid and naming its index.
func (s *Service) IngestAlerts(ctx context.Context, alerts []PostedAlert) (IngestResult, error) {
	now := s.now()
	s.mu.Lock()
	p, timeout := s.parser, s.cfg.ResolveTimeout.Std()
	s.mu.Unlock()
	var invalid []error
	valid := make([]PostedAlert, 0, len(alerts))
	for i, a := range alerts {
		a, err := normalisePosted(a, now, p, timeout)
		if err != nil {
			invalid = append(invalid, invalidf("alerts[%d]: %v", i, err))
			continue
		}
		valid = append(valid, a)
	}
	var res IngestResult
	if len(valid) > 0 {
		err := s.exclusive(ctx, func(ctx context.Context) error {
			var err error
			res, err = s.ingestPosted(ctx, valid, now)
			return err
		})
		if err != nil {
			return res, err
		}
	}
	return res, errors.Join(invalid...)
}

// normalisePosted checks one alert as Alertmanager's alert.Validate does
// (label names valid in p's syntax) and fills its times; a missing end is
// now plus timeout.
func normalisePosted(a PostedAlert, now time.Time, p MatcherParser, timeout time.Duration) (PostedAlert, error) {
	l := model.Labels{}
	for k, v := range a.Labels {
		if v != "" {
			l[k] = v
		}
	}
	if err := checkAlertLabels("labels", l, p.ready().validName); err != nil {
		return a, err
	}
	ann := model.Labels{}
	for k, v := range a.Annotations {
		if len(v) > maxLabelValueLen {
			return a, invalidf("annotations.%s: value longer than %d bytes", truncate(k, 64), maxLabelValueLen)
		}
		ann[k] = v
	}
	if len(ann) > maxLabelsPerAlert {
		return a, invalidf("annotations: more than %d", maxLabelsPerAlert)
	}
	if len(a.GeneratorURL) > maxLabelValueLen {
		return a, invalidf("generatorURL: longer than %d bytes", maxLabelValueLen)
	}
	a.Labels, a.Annotations = l, ann
	if a.StartsAt.IsZero() {
		a.StartsAt = now
		if !a.EndsAt.IsZero() {
			a.StartsAt = a.EndsAt
		}
	}
	if a.EndsAt.IsZero() {
		a.EndsAt = now.Add(timeout)
	}
	if a.EndsAt.Before(a.StartsAt) {
		return a, invalidf("endsAt %s is before startsAt %s", a.EndsAt.UTC().Format(time.RFC3339), a.StartsAt.UTC().Format(time.RFC3339))
	}
	return a, nil
}

func (s *Service) ingestPosted(ctx context.Context, alerts []PostedAlert, now time.Time) (IngestResult, error) {
	var res IngestResult
	s.mu.Lock()
	if err := s.loadLocked(ctx); err != nil {
		s.mu.Unlock()
		return res, err
	}
	var changed []*Record
	for _, pa := range alerts {
		fp := Fingerprint(pa.Labels)
		key := SourceAPI + "|" + fp
		rec := s.alerts[key]
		firing := pa.EndsAt.After(now)
		switch {
		case firing && rec != nil && rec.Alert.State == model.AlertFiring:
			// A repost (Prometheus sends every firing alert each minute):
			// it moves the end, saved with the next evaluation, so a
			// stream of reposts costs no store write each (with a shared
			// store, at once); changed annotations are saved at once.
			rec.ExpiresAt = pa.EndsAt
			switch {
			case !maps.Equal(rec.Alert.Annotations, pa.Annotations) || rec.Alert.GeneratorURL != pa.GeneratorURL:
				rec.Alert.Annotations, rec.Alert.GeneratorURL = pa.Annotations, pa.GeneratorURL
				s.dirty[rec.Key] = true
			case s.lock != nil:
				s.dirty[rec.Key] = true // replicas read the state from the store
			default:
				s.reposted[rec.Key] = true
			}
			res.Unchanged++
		case firing && rec != nil && rec.Alert.State == model.AlertResolved && rec.Alert.StartsAt.Equal(pa.StartsAt) && !rec.TimedOut:
			res.Unchanged++ // a late repost of an alert its sender already resolved
		case firing:
			if rec != nil {
				s.removeLocked(rec)
			}
			rec = &Record{Key: key, Rule: pa.Labels["alertname"], ExpiresAt: pa.EndsAt, Alert: model.Alert{
				Name: pa.Labels["alertname"], Fingerprint: fp, Labels: pa.Labels, Annotations: pa.Annotations,
				State: model.AlertFiring, Severity: severityOf(pa.Labels), Source: SourceAPI,
				GroupKey: GroupKey(s.groupBy, pa.Labels), StartsAt: pa.StartsAt, FiredAt: now, GeneratorURL: pa.GeneratorURL,
			}}
			if s.runbooks != nil {
				if rb, ok := s.runbooks.Match(rec.Alert.Name, pa.Labels); ok {
					rec.Alert.Runbook = rb.Name
				}
			}
			if rb := pa.Labels["runbook"]; rb != "" && rec.Alert.Runbook == "" {
				rec.Alert.Runbook = rb
			}
			s.addLocked(rec)
			s.markLocked(rec)
			changed = append(changed, rec)
			res.New++
		case rec != nil && rec.Alert.State == model.AlertFiring:
			rec.Alert.State, rec.Alert.EndsAt, rec.ResolvedReported = model.AlertResolved, pa.EndsAt, false
			rec.ExpiresAt = pa.EndsAt
			s.markLocked(rec)
			changed = append(changed, rec)
			res.Resolved++
		default:
			res.Unchanged++
		}
	}
	s.muteNewLocked(changed, now)
	err := s.saveLocked(ctx)
	s.mu.Unlock()
	res.count(s.m.postedAlerts, false)
	if err != nil {
		return res, fmt.Errorf("store posted alerts: %w", err)
	}
	if res.New > 0 || res.Resolved > 0 {
		_ = s.flush(ctx, now) // failures are retried by the evaluation loop
	}
	return res, nil
}

// expirePostedLocked resolves posted alerts whose end passed without a
// repost, as Alertmanager resolves them, and marks the reposted ones for
// saving (their new end).
func (s *Service) expirePostedLocked(now time.Time) {
	for k := range s.reposted {
		if _, ok := s.alerts[k]; ok {
			s.dirty[k] = true
		}
	}
	clear(s.reposted)
	for _, r := range s.alerts {
		if r.Alert.Source != SourceAPI || r.Alert.State != model.AlertFiring || r.ExpiresAt.After(now) {
			continue
		}
		r.Alert.State, r.Alert.EndsAt, r.ResolvedReported, r.TimedOut = model.AlertResolved, r.ExpiresAt, false, true
		s.markLocked(r)
	}
}
