package store

import (
	"context"
	"fmt"
	"time"

	"github.com/sentinel-oss/sentinel/statuspage"
)

// Buckets of the status page: overrides by component ID, their audit log
// by (time, sequence), and the per-minute history by (component ID, UTC
// day) holding one byte per minute behind the version byte.
const (
	bucketStatusOverrides   = "status_overrides"
	bucketStatusOverrideLog = "status_override_log"
	bucketStatusHistory     = "status_history"
	statusOverrideVersion   = 1
	statusHistoryVersion    = 1
)

// StatusPage implements statuspage.Store on an Engine.
type StatusPage struct{ e Engine }

var _ statuspage.Store = (*StatusPage)(nil)

// NewStatusPage returns the status page store over e.
func NewStatusPage(e Engine) *StatusPage { return &StatusPage{e: e} }

// Overrides returns every stored override by component ID.
func (s *StatusPage) Overrides(ctx context.Context) (map[string]statuspage.Override, error) {
	out := map[string]statuspage.Override{}
	err := s.e.View(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketStatusOverrides)
		if err != nil {
			return err
		}
		return b.Scan(nil, nil, false, func(k, v []byte) (bool, error) {
			id, err := readStringKey(k)
			if err != nil {
				return false, err
			}
			var o statuspage.Override
			if _, err := DecodeJSON(v, statusOverrideVersion, &o); err != nil {
				return false, fmt.Errorf("decode status override of %s: %w", id, err)
			}
			out[id] = o
			return true, nil
		})
	})
	return out, err
}

func readStringKey(k []byte) (string, error) {
	r := ReadKey(k)
	s, _ := r.String()
	return s, r.Done()
}

// SetOverride stores or deletes component's override and logs ev.
func (s *StatusPage) SetOverride(ctx context.Context, component string, o *statuspage.Override, ev statuspage.OverrideEvent) error {
	logVal, err := EncodeJSON(statusOverrideVersion, ev)
	if err != nil {
		return err
	}
	var val []byte
	if o != nil {
		if val, err = EncodeJSON(statusOverrideVersion, o); err != nil {
			return err
		}
	}
	return s.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketStatusOverrides)
		if err != nil {
			return err
		}
		key := Key{}.String(component)
		if val == nil {
			err = b.Delete(key)
		} else {
			err = b.Put(key, val)
		}
		if err != nil {
			return err
		}
		lg, err := tx.Bucket(bucketStatusOverrideLog)
		if err != nil {
			return err
		}
		seq, err := lg.NextSequence()
		if err != nil {
			return err
		}
		return lg.Put(Key{}.Time(ev.At).Uint64(seq), logVal)
	})
}

// OverrideLog returns up to limit log lines, newest first.
func (s *StatusPage) OverrideLog(ctx context.Context, limit int) ([]statuspage.OverrideEvent, error) {
	var out []statuspage.OverrideEvent
	err := s.e.View(ctx, func(tx Tx) error {
		lg, err := tx.Bucket(bucketStatusOverrideLog)
		if err != nil {
			return err
		}
		return lg.Scan(nil, nil, true, func(_, v []byte) (bool, error) {
			var ev statuspage.OverrideEvent
			if _, err := DecodeJSON(v, statusOverrideVersion, &ev); err != nil {
				return false, fmt.Errorf("decode status override log: %w", err)
			}
			out = append(out, ev)
			return len(out) < limit, nil
		})
	})
	return out, err
}

// dayNumber counts UTC days since 1970-01-01.
func dayNumber(t time.Time) uint64 { return uint64(t.UTC().Unix() / 86400) }

// RecordMinute sets the minute holding at for each component.
func (s *StatusPage) RecordMinute(ctx context.Context, at time.Time, codes map[string]byte) error {
	at = at.UTC()
	day, minute := dayNumber(at), at.Hour()*60+at.Minute()
	return s.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketStatusHistory)
		if err != nil {
			return err
		}
		for id, code := range codes {
			key := Key{}.String(id).Uint64(day)
			old, err := b.Get(key)
			if err != nil {
				return err
			}
			val := make([]byte, 1+statuspage.MinutesPerDay)
			val[0] = statusHistoryVersion
			if old != nil {
				_, body, err := SplitVersion(old, statusHistoryVersion)
				if err != nil {
					return fmt.Errorf("status history of %s: %w", id, err)
				}
				copy(val[1:], body)
			}
			val[1+minute] = code
			if err := b.Put(key, val); err != nil {
				return err
			}
		}
		return nil
	})
}

// Days returns component's stored days in [from, to), oldest first.
func (s *StatusPage) Days(ctx context.Context, component string, from, to time.Time) ([]statuspage.DayMinutes, error) {
	var out []statuspage.DayMinutes
	err := s.e.View(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketStatusHistory)
		if err != nil {
			return err
		}
		start, end := Key{}.String(component).Uint64(dayNumber(from)), Key{}.String(component).Uint64(dayNumber(to))
		return b.Scan(start, end, false, func(k, v []byte) (bool, error) {
			r := ReadKey(k)
			_, _ = r.String()
			n, _ := r.Uint64()
			if err := r.Done(); err != nil {
				return false, err
			}
			_, body, err := SplitVersion(v, statusHistoryVersion)
			if err != nil {
				return false, fmt.Errorf("status history of %s: %w", component, err)
			}
			mins := make([]byte, statuspage.MinutesPerDay)
			copy(mins, body)
			out = append(out, statuspage.DayMinutes{Day: time.Unix(int64(n)*86400, 0).UTC(), Minutes: mins})
			return true, nil
		})
	})
	return out, err
}

// Prune deletes days before historyBefore (of every component) and log
// lines before logBefore, in chunks.
func (s *StatusPage) Prune(ctx context.Context, historyBefore, logBefore time.Time) error {
	cut := dayNumber(historyBefore)
	for {
		var keys [][]byte
		err := s.e.View(ctx, func(tx Tx) error {
			b, err := tx.Bucket(bucketStatusHistory)
			if err != nil {
				return err
			}
			return b.Scan(nil, nil, false, func(k, _ []byte) (bool, error) {
				r := ReadKey(k)
				_, _ = r.String()
				if n, err := r.Uint64(); err == nil && n < cut {
					keys = append(keys, append([]byte(nil), k...))
				}
				return len(keys) < 5000, nil
			})
		})
		if err != nil {
			return err
		}
		if err := deleteKeys(ctx, s.e, bucketStatusHistory, keys); err != nil {
			return err
		}
		if len(keys) < 5000 {
			break
		}
	}
	var keys [][]byte
	err := s.e.View(ctx, func(tx Tx) error {
		lg, err := tx.Bucket(bucketStatusOverrideLog)
		if err != nil {
			return err
		}
		return lg.Scan(nil, Key{}.Time(logBefore), false, func(k, _ []byte) (bool, error) {
			keys = append(keys, append([]byte(nil), k...))
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	return deleteKeys(ctx, s.e, bucketStatusOverrideLog, keys)
}

func deleteKeys(ctx context.Context, e Engine, bucket string, keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	return e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucket)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
