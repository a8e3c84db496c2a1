package rum

import (
	"context"
	"sync"
	"time"
)

// MinuteReader reads per-minute RUM summaries; the read side (Service)
// needs nothing more.
type MinuteReader interface {
	// Minutes returns the rows with from <= Minute < to, in any order; rows
	// for the same key may come back separately (one per writer) and are
	// merged by the caller.
	Minutes(ctx context.Context, from, to time.Time) ([]MinuteRow, error)
}

// CountStore keeps per-minute RUM summaries (page views, JS errors and vitals
// histograms per site and route) so any window can be asked about later.
// Each writer (a Sentinel process) stores absolute values for its own rows
// and reads sum over writers, so several replicas can share a store and a
// retried write never counts twice. The collector writes at most once a
// second.
type CountStore interface {
	MinuteReader
	// SaveMinutes stores each row as writer's whole summary of its minute,
	// site and route, replacing what writer stored for that key before.
	// Rows of one call with the same key are merged first.
	SaveMinutes(ctx context.Context, writer string, rows []MinuteRow) error
	// WriterMinutes returns writer's own rows with from <= Minute < to, so
	// a restarted writer continues from what it stored.
	WriterMinutes(ctx context.Context, writer string, from, to time.Time) ([]MinuteRow, error)
}

// ErrorStore keeps JS error groups by fingerprint.
type ErrorStore interface {
	// AddErrors merges each group into the stored group with its
	// fingerprint by MergeErrorGroup.
	AddErrors(ctx context.Context, groups []ErrorGroup) error
	// ErrorGroups returns the groups last seen at or after since, at most
	// limit of them, in SortErrorGroups' order for since; since selects
	// groups, it does not cut their counts.
	ErrorGroups(ctx context.Context, since time.Time, limit int) ([]ErrorGroup, error)
}

// MemoryStore is an in-memory CountStore and ErrorStore, for tests and for
// running without a database. Minutes older than the retention are dropped as
// new ones arrive, and at most maxGroups error groups are kept (the least
// recently seen go first). Safe for concurrent use.
type MemoryStore struct {
	mu        sync.Mutex
	retention time.Duration
	maxGroups int
	minutes   map[writerKey]*MinuteRow
	newest    time.Time
	groups    map[string]*ErrorGroup
}

type minuteKey struct {
	minute      int64 // Unix minutes
	site, route string
}

// writerKey is a stored row's key: one row per writer and minute key.
type writerKey struct {
	minuteKey
	writer string
}

// NewMemoryStore returns an empty store keeping retention of minutes and at
// most maxGroups error groups.
func NewMemoryStore(retention time.Duration, maxGroups int) *MemoryStore {
	return &MemoryStore{
		retention: retention,
		maxGroups: maxGroups,
		minutes:   map[writerKey]*MinuteRow{},
		groups:    map[string]*ErrorGroup{},
	}
}

// SaveMinutes implements CountStore.
func (m *MemoryStore) SaveMinutes(ctx context.Context, writer string, rows []MinuteRow) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[writerKey]bool{}
	for _, r := range rows {
		k := writerKey{minuteKey{floorMinute(r.Minute), r.Site, r.Route}, writer}
		if cur, ok := m.minutes[k]; ok && seen[k] {
			cur.Merge(r)
		} else {
			c := r.Clone()
			c.Minute = time.Unix(k.minute*60, 0).UTC()
			m.minutes[k] = &c
		}
		seen[k] = true
		if r.Minute.After(m.newest) {
			m.newest = r.Minute
		}
	}
	cut := floorMinute(m.newest.Add(-m.retention))
	for k := range m.minutes {
		if k.minute < cut {
			delete(m.minutes, k)
		}
	}
	return nil
}

// floorMinute is t in Unix minutes, rounded down.
func floorMinute(t time.Time) int64 { return t.Truncate(time.Minute).Unix() / 60 }

// Minutes implements CountStore.
func (m *MemoryStore) Minutes(ctx context.Context, from, to time.Time) ([]MinuteRow, error) {
	return m.minutesOf(ctx, nil, from, to)
}

// WriterMinutes implements CountStore.
func (m *MemoryStore) WriterMinutes(ctx context.Context, writer string, from, to time.Time) ([]MinuteRow, error) {
	return m.minutesOf(ctx, &writer, from, to)
}

func (m *MemoryStore) minutesOf(ctx context.Context, writer *string, from, to time.Time) ([]MinuteRow, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []MinuteRow
	for k, r := range m.minutes {
		if writer != nil && k.writer != *writer {
			continue
		}
		if !r.Minute.Before(from) && r.Minute.Before(to) {
			out = append(out, r.Clone())
		}
	}
	return out, nil
}

// AddErrors implements ErrorStore.
func (m *MemoryStore) AddErrors(ctx context.Context, groups []ErrorGroup) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, g := range groups {
		cur, ok := m.groups[g.Fingerprint]
		if !ok {
			if len(m.groups) >= m.maxGroups {
				m.evictOldestGroup()
			}
			cur = &ErrorGroup{}
			m.groups[g.Fingerprint] = cur
		}
		MergeErrorGroup(cur, g)
	}
	return nil
}

func (m *MemoryStore) evictOldestGroup() {
	var oldest string
	var at time.Time
	for fp, g := range m.groups {
		if oldest == "" || g.LastSeen.Before(at) {
			oldest, at = fp, g.LastSeen
		}
	}
	delete(m.groups, oldest)
}

// ErrorGroups implements ErrorStore.
func (m *MemoryStore) ErrorGroups(ctx context.Context, since time.Time, limit int) ([]ErrorGroup, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := make([]ErrorGroup, 0, len(m.groups))
	for _, g := range m.groups {
		if !g.LastSeen.Before(since) {
			var c ErrorGroup
			MergeErrorGroup(&c, *g) // a deep copy
			out = append(out, c)
		}
	}
	m.mu.Unlock()
	SortErrorGroups(out, since)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
