package rum

import (
	"context"
	"sync"
	"time"
)

// CountStore keeps per-minute RUM summaries (page views, JS errors and vitals
// histograms per site and route) so any window can be asked about later. The
// collector writes batched deltas at most once a second.
type CountStore interface {
	// AddMinutes merges each row (see MinuteRow.Merge) into what is stored
	// for its minute, site and route.
	AddMinutes(ctx context.Context, rows []MinuteRow) error
	// Minutes returns the rows with from <= Minute < to, in any order; rows
	// for the same key may come back separately and are merged by the caller.
	Minutes(ctx context.Context, from, to time.Time) ([]MinuteRow, error)
}

// ErrorStore keeps JS error groups by fingerprint.
type ErrorStore interface {
	// AddErrors merges each group into the stored group with its
	// fingerprint by MergeErrorGroup.
	AddErrors(ctx context.Context, groups []ErrorGroup) error
	// ErrorGroups returns the groups last seen at or after since, at most
	// limit of them (the most frequent first when there are more).
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
	minutes   map[minuteKey]*MinuteRow
	newest    time.Time
	groups    map[string]*ErrorGroup
}

type minuteKey struct {
	minute      int64 // Unix minutes
	site, route string
}

// NewMemoryStore returns an empty store keeping retention of minutes and at
// most maxGroups error groups.
func NewMemoryStore(retention time.Duration, maxGroups int) *MemoryStore {
	return &MemoryStore{
		retention: retention,
		maxGroups: maxGroups,
		minutes:   map[minuteKey]*MinuteRow{},
		groups:    map[string]*ErrorGroup{},
	}
}

// AddMinutes implements CountStore.
func (m *MemoryStore) AddMinutes(ctx context.Context, rows []MinuteRow) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rows {
		k := minuteKey{r.Minute.Unix() / 60, r.Site, r.Route}
		if cur, ok := m.minutes[k]; ok {
			cur.Merge(r)
		} else {
			c := r.Clone()
			c.Minute = time.Unix(k.minute*60, 0).UTC()
			m.minutes[k] = &c
		}
		if r.Minute.After(m.newest) {
			m.newest = r.Minute
		}
	}
	cut := m.newest.Add(-m.retention).Unix() / 60
	for k := range m.minutes {
		if k.minute < cut {
			delete(m.minutes, k)
		}
	}
	return nil
}

// Minutes implements CountStore.
func (m *MemoryStore) Minutes(ctx context.Context, from, to time.Time) ([]MinuteRow, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []MinuteRow
	for _, r := range m.minutes {
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
			c := *g
			c.Routes = append([]string(nil), g.Routes...)
			c.Sites = append([]string(nil), g.Sites...)
			out = append(out, c)
		}
	}
	m.mu.Unlock()
	sortGroups(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
