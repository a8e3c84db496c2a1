package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sentinel-oss/sentinel/rum"
)

// Buckets of RUM data: per-minute summaries by (minute, site, route,
// writer), each writer's absolute values (rows stored before writers
// existed have no writer part and are read the same way); error
// groups by fingerprint, and an index of them by (last seen, fingerprint) so
// that "seen since" reads and evicting the least recently seen touch only
// what they need.
const (
	bucketRUMMinutes     = "rum_minutes"
	bucketRUMErrors      = "rum_error_groups"
	bucketRUMErrorsBySee = "rum_error_groups_by_seen"
	// rumMinuteVersion 2 keeps each vital as a rum.Sketch; version 1
	// values (log-bucket histograms) are converted when read.
	rumMinuteVersion = 2
	rumErrorVersion  = 1
)

// Defaults for RUMOptions.
const (
	// DefaultRUMRetention keeps a day more than the longest window the RUM
	// API answers for, so a full rum.MaxWindow ending now is always whole.
	DefaultRUMRetention = rum.MaxWindow + 24*time.Hour
	// DefaultRUMErrorGroups bounds the JS error groups kept.
	DefaultRUMErrorGroups = 1000
)

// rumPruneChunk bounds how many old minutes one AddMinutes deletes, so no
// single transaction grows large after a long pause; the rest go on the
// next calls.
const rumPruneChunk = 10000

// RUMOptions tune a RUM store; zero values take the defaults.
type RUMOptions struct {
	// Retention is how long minutes are kept, counted back from the newest
	// minute written; keep it at least rum.MaxWindow.
	Retention time.Duration
	// MaxErrorGroups bounds the error groups kept; the least recently seen
	// are evicted first.
	MaxErrorGroups int
}

// RUM implements rum.CountStore and rum.ErrorStore on an Engine: one
// summary per (minute, site, route, writer), each an absolute value its
// writer replaces (so replicas sharing the store never overwrite each
// other and a retried write never counts twice), summed by the reader; and
// a bounded set of error groups merged with rum.MergeErrorGroup. Safe for
// concurrent use.
type RUM struct {
	e         Engine
	retention time.Duration
	maxGroups int

	mu     sync.Mutex
	newest time.Time // newest minute written since this value was made
}

var (
	_ rum.CountStore = (*RUM)(nil)
	_ rum.ErrorStore = (*RUM)(nil)
)

// NewRUM returns the RUM store over e.
func NewRUM(e Engine, opts RUMOptions) *RUM {
	if opts.Retention <= 0 {
		opts.Retention = DefaultRUMRetention
	}
	if opts.MaxErrorGroups <= 0 {
		opts.MaxErrorGroups = DefaultRUMErrorGroups
	}
	return &RUM{e: e, retention: opts.Retention, maxGroups: opts.MaxErrorGroups}
}

// rumMinuteKey is (minute, site, route, writer): keys sort by time first,
// so a window and the minutes to prune are each one range.
func rumMinuteKey(minute time.Time, site, route, writer string) Key {
	return Key{}.Time(minute).String(site).String(route).String(writer)
}

// SaveMinutes stores each row as writer's whole summary of its minute,
// site and route (rows of one call for the same key are merged first),
// and deletes minutes older than the retention before the newest minute
// seen.
func (s *RUM) SaveMinutes(ctx context.Context, writer string, rows []rum.MinuteRow) error {
	if writer == "" {
		return errors.New("save rum minutes: empty writer")
	}
	if len(rows) == 0 {
		return checkCtx(ctx)
	}
	s.mu.Lock()
	for _, r := range rows {
		if m := r.Minute.Truncate(time.Minute); m.After(s.newest) {
			s.newest = m
		}
	}
	cut := s.newest.Add(-s.retention)
	s.mu.Unlock()

	type entry struct {
		key Key
		row rum.MinuteRow
	}
	var entries []*entry
	byKey := map[string]*entry{}
	for _, r := range rows {
		minute := r.Minute.Truncate(time.Minute).UTC()
		if minute.Before(cut) {
			continue // already past retention: it would be pruned at once
		}
		key := rumMinuteKey(minute, r.Site, r.Route, writer)
		if e := byKey[string(key)]; e != nil {
			e.row.Merge(r)
			continue
		}
		e := &entry{key: key, row: rum.MinuteRow{Minute: minute, Site: r.Site, Route: r.Route}}
		e.row.Merge(r)
		byKey[string(key)] = e
		entries = append(entries, e)
	}
	vals := make([][]byte, len(entries))
	for i, e := range entries {
		v, err := EncodeJSON(rumMinuteVersion, e.row)
		if err != nil {
			return fmt.Errorf("encode rum minute: %w", err)
		}
		vals[i] = v
	}
	err := s.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketRUMMinutes)
		if err != nil {
			return err
		}
		for i, e := range entries {
			if err := b.Put(e.key, vals[i]); err != nil {
				return err
			}
		}
		return pruneBefore(b, Key{}.Time(cut), rumPruneChunk)
	})
	if err != nil {
		return fmt.Errorf("save rum minutes: %w", err)
	}
	return nil
}

// pruneBefore deletes up to limit keys below end.
func pruneBefore(b Bucket, end []byte, limit int) error {
	var keys [][]byte
	if err := b.Scan(nil, end, false, func(k, _ []byte) (bool, error) {
		keys = append(keys, clone(k))
		return len(keys) < limit, nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Minutes returns the stored rows with from <= Minute < to, ordered by
// minute, site and route, one row per writer (the caller sums them).
func (s *RUM) Minutes(ctx context.Context, from, to time.Time) ([]rum.MinuteRow, error) {
	return s.minutes(ctx, nil, from, to)
}

// WriterMinutes returns writer's own rows with from <= Minute < to.
func (s *RUM) WriterMinutes(ctx context.Context, writer string, from, to time.Time) ([]rum.MinuteRow, error) {
	return s.minutes(ctx, &writer, from, to)
}

func (s *RUM) minutes(ctx context.Context, writer *string, from, to time.Time) ([]rum.MinuteRow, error) {
	if !from.Before(to) {
		return nil, checkCtx(ctx)
	}
	var out []rum.MinuteRow
	err := s.e.View(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketRUMMinutes)
		if err != nil {
			return err
		}
		return b.Scan(Key{}.Time(from), Key{}.Time(to), false, func(k, v []byte) (bool, error) {
			if writer != nil {
				r := ReadKey(k)
				_, _ = r.Time()
				_, _ = r.String()
				_, _ = r.String()
				w, err := r.String()
				if err != nil || w != *writer {
					return true, nil // another writer's row, or one from before writers
				}
			}
			r, err := decodeRUMMinute(v)
			if err != nil {
				return false, err
			}
			out = append(out, r)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read rum minutes: %w", err)
	}
	return out, nil
}

// decodeRUMMinute reads a stored minute, converting a version 1 row's
// histograms to sketches (rum.SketchFromLegacy).
func decodeRUMMinute(v []byte) (rum.MinuteRow, error) {
	version, body, err := SplitVersion(v, rumMinuteVersion)
	if err != nil {
		return rum.MinuteRow{}, fmt.Errorf("decode rum minute: %w", err)
	}
	var r rum.MinuteRow
	if version >= 2 {
		if err := json.Unmarshal(body, &r); err != nil {
			return rum.MinuteRow{}, fmt.Errorf("decode rum minute (version %d): %w", version, err)
		}
		return r, nil
	}
	var old struct {
		Minute time.Time                  `json:"minute"`
		Site   string                     `json:"site"`
		Route  string                     `json:"route"`
		Views  float64                    `json:"views"`
		Errors float64                    `json:"errors"`
		Vitals map[string]map[int]float64 `json:"vitals"`
	}
	if err := json.Unmarshal(body, &old); err != nil {
		return rum.MinuteRow{}, fmt.Errorf("decode rum minute (version %d): %w", version, err)
	}
	r = rum.MinuteRow{Minute: old.Minute, Site: old.Site, Route: old.Route, Views: old.Views, Errors: old.Errors}
	for name, buckets := range old.Vitals {
		s, err := rum.SketchFromLegacy(name, buckets)
		if err != nil {
			return rum.MinuteRow{}, fmt.Errorf("decode rum minute (version %d): %w", version, err)
		}
		if r.Vitals == nil {
			r.Vitals = map[string]rum.Sketch{}
		}
		r.Vitals[name] = s
	}
	return r, nil
}

// rumErrorBuckets opens the error groups and their seen-since index.
func rumErrorBuckets(tx Tx) (byFP, bySeen Bucket, err error) {
	if byFP, err = tx.Bucket(bucketRUMErrors); err != nil {
		return nil, nil, err
	}
	if bySeen, err = tx.Bucket(bucketRUMErrorsBySee); err != nil {
		return nil, nil, err
	}
	return byFP, bySeen, nil
}

func rumSeenKey(g rum.ErrorGroup) Key {
	return Key{}.Time(g.LastSeen).String(g.Fingerprint)
}

// AddErrors merges each group into the stored group with its fingerprint;
// when a new group would exceed the bound, the least recently seen group
// is evicted first.
func (s *RUM) AddErrors(ctx context.Context, groups []rum.ErrorGroup) error {
	if len(groups) == 0 {
		return checkCtx(ctx)
	}
	for _, g := range groups {
		if g.Fingerprint == "" {
			return errors.New("add rum error groups: a group has no fingerprint")
		}
	}
	err := s.e.Update(ctx, func(tx Tx) error {
		byFP, bySeen, err := rumErrorBuckets(tx)
		if err != nil {
			return err
		}
		count := -1 // counted on the first new group
		for _, delta := range groups {
			key := Key{}.String(delta.Fingerprint)
			old, err := byFP.Get(key)
			if err != nil {
				return err
			}
			var cur rum.ErrorGroup
			if old != nil {
				if _, err := DecodeJSON(old, rumErrorVersion, &cur); err != nil {
					return fmt.Errorf("decode rum error group %s: %w", delta.Fingerprint, err)
				}
				if err := bySeen.Delete(rumSeenKey(cur)); err != nil {
					return err
				}
			} else {
				if count < 0 {
					if count, err = countKeys(bySeen); err != nil {
						return err
					}
				}
				for count >= s.maxGroups {
					if err := evictOldest(byFP, bySeen); err != nil {
						return err
					}
					count--
				}
				count++
			}
			rum.MergeErrorGroup(&cur, delta)
			cur.FirstSeen, cur.LastSeen = cur.FirstSeen.UTC(), cur.LastSeen.UTC()
			val, err := EncodeJSON(rumErrorVersion, cur)
			if err != nil {
				return fmt.Errorf("encode rum error group: %w", err)
			}
			if err := byFP.Put(key, val); err != nil {
				return err
			}
			if err := bySeen.Put(rumSeenKey(cur), []byte{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add rum error groups: %w", err)
	}
	return nil
}

// regroupRUMErrors (schema version 1 to 2) works out each stored error
// group's fingerprint again from its sample with the fingerprint that
// groups by normalised message and in-app frames and never by page URL,
// merges the groups that now share one, and rebuilds the index. Groups
// made before that kept no counts per route or browser; they start empty.
func regroupRUMErrors(tx Tx) error {
	byFP, bySeen, err := rumErrorBuckets(tx)
	if err != nil {
		return err
	}
	merged := map[string]*rum.ErrorGroup{}
	var order []string
	var oldKeys [][]byte
	if err := byFP.Scan(nil, nil, false, func(k, v []byte) (bool, error) {
		var g rum.ErrorGroup
		if _, err := DecodeJSON(v, rumErrorVersion, &g); err != nil {
			return false, fmt.Errorf("decode rum error group: %w", err)
		}
		oldKeys = append(oldKeys, clone(k))
		g = rum.Regroup(g)
		if cur, ok := merged[g.Fingerprint]; ok {
			rum.MergeErrorGroup(cur, g)
			return true, nil
		}
		merged[g.Fingerprint] = &g
		order = append(order, g.Fingerprint)
		return true, nil
	}); err != nil {
		return err
	}
	var seenKeys [][]byte
	if err := bySeen.Scan(nil, nil, false, func(k, _ []byte) (bool, error) {
		seenKeys = append(seenKeys, clone(k))
		return true, nil
	}); err != nil {
		return err
	}
	for _, k := range oldKeys {
		if err := byFP.Delete(k); err != nil {
			return err
		}
	}
	for _, k := range seenKeys {
		if err := bySeen.Delete(k); err != nil {
			return err
		}
	}
	for _, fp := range order {
		g := merged[fp]
		val, err := EncodeJSON(rumErrorVersion, g)
		if err != nil {
			return fmt.Errorf("encode rum error group: %w", err)
		}
		if err := byFP.Put(Key{}.String(fp), val); err != nil {
			return err
		}
		if err := bySeen.Put(rumSeenKey(*g), []byte{}); err != nil {
			return err
		}
	}
	return nil
}

func countKeys(b Bucket) (int, error) {
	n := 0
	err := b.Scan(nil, nil, false, func(_, _ []byte) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

// evictOldest deletes the least recently seen group.
func evictOldest(byFP, bySeen Bucket) error {
	var first []byte
	if err := bySeen.Scan(nil, nil, false, func(k, _ []byte) (bool, error) {
		first = clone(k)
		return false, nil
	}); err != nil || first == nil {
		return err
	}
	r := ReadKey(first)
	_, _ = r.Time()
	fp, _ := r.String()
	if err := r.Done(); err != nil {
		return fmt.Errorf("rum error index key: %w", err)
	}
	if err := byFP.Delete(Key{}.String(fp)); err != nil {
		return err
	}
	return bySeen.Delete(first)
}

// ErrorGroups returns the groups last seen at or after since, in
// rum.SortErrorGroups' order, at most limit of them (limit <= 0 means all).
func (s *RUM) ErrorGroups(ctx context.Context, since time.Time, limit int) ([]rum.ErrorGroup, error) {
	var out []rum.ErrorGroup
	err := s.e.View(ctx, func(tx Tx) error {
		byFP, bySeen, err := rumErrorBuckets(tx)
		if err != nil {
			return err
		}
		var fps []string
		if err := bySeen.Scan(Key{}.Time(since), nil, false, func(k, _ []byte) (bool, error) {
			r := ReadKey(k)
			_, _ = r.Time()
			fp, _ := r.String()
			if err := r.Done(); err != nil {
				return false, fmt.Errorf("rum error index key: %w", err)
			}
			fps = append(fps, fp)
			return true, nil
		}); err != nil {
			return err
		}
		for _, fp := range fps {
			v, err := byFP.Get(Key{}.String(fp))
			if err != nil {
				return err
			}
			if v == nil {
				continue
			}
			var g rum.ErrorGroup
			if _, err := DecodeJSON(v, rumErrorVersion, &g); err != nil {
				return fmt.Errorf("decode rum error group %s: %w", fp, err)
			}
			out = append(out, g)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read rum error groups: %w", err)
	}
	rum.SortErrorGroups(out, since)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
