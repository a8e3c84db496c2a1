package store

import (
	"context"
	"fmt"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
)

// Buckets of alerting state: alert records and group states (keyed by
// their own keys), silences by ID, heartbeats by name.
const (
	bucketAlerts        = "alerting_alerts"
	bucketAlertGroups   = "alerting_groups"
	bucketSilences      = "alerting_silences"
	bucketHeartbeats    = "alerting_heartbeats"
	alertingValueFormat = 1
)

// Alerting implements alerting.Store on an Engine, so alert state,
// silences and heartbeats survive a restart.
type Alerting struct{ e Engine }

var _ alerting.Store = (*Alerting)(nil)

// NewAlerting returns the alerting store over e.
func NewAlerting(e Engine) *Alerting { return &Alerting{e: e} }

// LoadAlertState reads every alert record and group state.
func (s *Alerting) LoadAlertState(ctx context.Context) (alerting.Snapshot, error) {
	var snap alerting.Snapshot
	err := s.e.View(ctx, func(tx Tx) error {
		if err := scanAlertingValues(tx, bucketAlerts, func(v []byte) error {
			var r alerting.Record
			if _, err := DecodeJSON(v, alertingValueFormat, &r); err != nil {
				return err
			}
			snap.Alerts = append(snap.Alerts, r)
			return nil
		}); err != nil {
			return err
		}
		return scanAlertingValues(tx, bucketAlertGroups, func(v []byte) error {
			var g alerting.GroupState
			if _, err := DecodeJSON(v, alertingValueFormat, &g); err != nil {
				return err
			}
			snap.Groups = append(snap.Groups, g)
			return nil
		})
	})
	if err != nil {
		return alerting.Snapshot{}, fmt.Errorf("load alert state: %w", err)
	}
	return snap, nil
}

// SaveAlertState applies c in one transaction.
func (s *Alerting) SaveAlertState(ctx context.Context, c alerting.Change) error {
	type kv struct{ k, v []byte }
	var alerts, groups []kv
	for _, r := range c.PutAlerts {
		v, err := EncodeJSON(alertingValueFormat, r)
		if err != nil {
			return fmt.Errorf("encode alert %s: %w", r.Key, err)
		}
		alerts = append(alerts, kv{Key{}.String(r.Key), v})
	}
	for _, g := range c.PutGroups {
		v, err := EncodeJSON(alertingValueFormat, g)
		if err != nil {
			return fmt.Errorf("encode alert group %s: %w", g.Key, err)
		}
		groups = append(groups, kv{Key{}.String(g.Key), v})
	}
	err := s.e.Update(ctx, func(tx Tx) error {
		ab, err := tx.Bucket(bucketAlerts)
		if err != nil {
			return err
		}
		gb, err := tx.Bucket(bucketAlertGroups)
		if err != nil {
			return err
		}
		for _, p := range alerts {
			if err := ab.Put(p.k, p.v); err != nil {
				return err
			}
		}
		for _, k := range c.DeleteAlerts {
			if err := ab.Delete(Key{}.String(k)); err != nil {
				return err
			}
		}
		for _, p := range groups {
			if err := gb.Put(p.k, p.v); err != nil {
				return err
			}
		}
		for _, k := range c.DeleteGroups {
			if err := gb.Delete(Key{}.String(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save alert state: %w", err)
	}
	return nil
}

// PutSilence stores sl, replacing one with the same ID.
func (s *Alerting) PutSilence(ctx context.Context, sl alerting.Silence) error {
	v, err := EncodeJSON(alertingValueFormat, sl)
	if err != nil {
		return fmt.Errorf("encode silence %s: %w", sl.ID, err)
	}
	return s.put(ctx, bucketSilences, sl.ID, v)
}

// DeleteSilence removes a silence; a missing one is not an error.
func (s *Alerting) DeleteSilence(ctx context.Context, id string) error {
	err := s.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketSilences)
		if err != nil {
			return err
		}
		return b.Delete(Key{}.String(id))
	})
	if err != nil {
		return fmt.Errorf("delete silence %s: %w", id, err)
	}
	return nil
}

// Silences returns every stored silence, by ID.
func (s *Alerting) Silences(ctx context.Context) ([]alerting.Silence, error) {
	var out []alerting.Silence
	err := s.e.View(ctx, func(tx Tx) error {
		return scanAlertingValues(tx, bucketSilences, func(v []byte) error {
			var sl alerting.Silence
			if _, err := DecodeJSON(v, alertingValueFormat, &sl); err != nil {
				return err
			}
			out = append(out, sl)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load silences: %w", err)
	}
	return out, nil
}

// PutHeartbeat records the last beat of name.
func (s *Alerting) PutHeartbeat(ctx context.Context, name string, at time.Time) error {
	v, err := EncodeJSON(alertingValueFormat, at.UTC())
	if err != nil {
		return err
	}
	return s.put(ctx, bucketHeartbeats, name, v)
}

// Heartbeats returns the last beat of every heartbeat seen.
func (s *Alerting) Heartbeats(ctx context.Context) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := s.e.View(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketHeartbeats)
		if err != nil {
			return err
		}
		return b.Scan(nil, nil, false, func(k, v []byte) (bool, error) {
			name, err := ReadKey(k).String()
			if err != nil {
				return false, err
			}
			var at time.Time
			if _, err := DecodeJSON(v, alertingValueFormat, &at); err != nil {
				return false, err
			}
			out[name] = at
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load heartbeats: %w", err)
	}
	return out, nil
}

func (s *Alerting) put(ctx context.Context, bucket, key string, v []byte) error {
	err := s.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucket)
		if err != nil {
			return err
		}
		return b.Put(Key{}.String(key), v)
	})
	if err != nil {
		return fmt.Errorf("store %s %s: %w", bucket, key, err)
	}
	return nil
}

// scanAlertingValues calls fn with every value of bucket.
func scanAlertingValues(tx Tx, bucket string, fn func(v []byte) error) error {
	b, err := tx.Bucket(bucket)
	if err != nil {
		return err
	}
	return b.Scan(nil, nil, false, func(_, v []byte) (bool, error) {
		return true, fn(v)
	})
}
