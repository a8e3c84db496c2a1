package incidents

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/sentinel-oss/sentinel/incidents/oncall"
)

// MemoryStore is a Store held in memory, for tests and for running without
// a file. Update works on a copy and swaps it in on success, so a failed
// transaction leaves nothing behind.
type MemoryStore struct {
	mu sync.RWMutex
	st memState
}

type memState struct {
	incidents map[int64]*Incident
	dedup     map[string]int64
	seq       int64
	overrides map[string]oncall.Override
	outbox    map[uint64]OutboxEntry
	keys      map[string]uint64
	outSeq    uint64
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{st: memState{
		incidents: map[int64]*Incident{}, dedup: map[string]int64{}, overrides: map[string]oncall.Override{},
		outbox: map[uint64]OutboxEntry{}, keys: map[string]uint64{},
	}}
}

func (s memState) clone() memState {
	c := s
	c.incidents = maps.Clone(s.incidents)
	c.dedup = maps.Clone(s.dedup)
	c.overrides = maps.Clone(s.overrides)
	c.outbox = maps.Clone(s.outbox)
	c.keys = maps.Clone(s.keys)
	return c
}

type memTx struct {
	st       *memState
	writable bool
}

// View runs fn over the current state.
func (m *MemoryStore) View(ctx context.Context, fn func(ReadTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	st := m.st
	return fn(&memTx{st: &st})
}

// Update runs fn on a copy and keeps it when fn succeeds.
func (m *MemoryStore) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.st.clone()
	if err := fn(&memTx{st: &st, writable: true}); err != nil {
		return err
	}
	m.st = st
	return nil
}

func (t *memTx) Get(id int64) (*Incident, error) {
	inc, ok := t.st.incidents[id]
	if !ok {
		return nil, errorf(ErrNotFound, "no incident #%d", id)
	}
	return inc.Clone(), nil
}

func (t *memTx) ByDedupKey(key string) (*Incident, error) {
	id, ok := t.st.dedup[key]
	if !ok || key == "" {
		return nil, nil
	}
	return t.Get(id)
}

func (t *memTx) List(q ListQuery) ([]*Incident, error) {
	ids := slices.Collect(maps.Keys(t.st.incidents))
	slices.Sort(ids)
	var out []*Incident
	for i := len(ids) - 1; i >= 0 && len(out) < max(q.Limit, 1); i-- {
		if q.Before > 0 && ids[i] >= q.Before {
			continue
		}
		inc := t.st.incidents[ids[i]]
		if q.Matches(inc) {
			out = append(out, inc.Clone())
		}
	}
	return out, nil
}

func (t *memTx) timers() []*Incident {
	var out []*Incident
	for _, inc := range t.st.incidents {
		if inc.TimerAt() != nil {
			out = append(out, inc)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := *out[i].TimerAt(), *out[j].TimerAt()
		if a.Equal(b) {
			return out[i].ID < out[j].ID
		}
		return a.Before(b)
	})
	return out
}

func (t *memTx) Due(now time.Time, limit int) ([]int64, error) {
	var ids []int64
	for _, inc := range t.timers() {
		if inc.TimerAt().After(now) || len(ids) >= limit {
			break
		}
		ids = append(ids, inc.ID)
	}
	return ids, nil
}

func (t *memTx) NextTimer() (time.Time, bool, error) {
	ts := t.timers()
	if len(ts) == 0 {
		return time.Time{}, false, nil
	}
	return *ts[0].TimerAt(), true, nil
}

func (t *memTx) Overrides(at time.Time) ([]oncall.Override, error) {
	var out []oncall.Override
	for _, o := range t.st.overrides {
		if o.End.After(at) {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

func (t *memTx) NextID() (int64, error) {
	if !t.writable {
		return 0, fmt.Errorf("incidents: write in a read-only transaction")
	}
	t.st.seq++
	return t.st.seq, nil
}

func (t *memTx) Put(inc *Incident) error {
	if !t.writable {
		return fmt.Errorf("incidents: write in a read-only transaction")
	}
	if inc.ID <= 0 {
		return fmt.Errorf("incidents: put incident with ID %d", inc.ID)
	}
	t.st.incidents[inc.ID] = inc.Clone()
	if inc.DedupKey != "" {
		if cur, ok := t.st.dedup[inc.DedupKey]; !ok || cur <= inc.ID {
			t.st.dedup[inc.DedupKey] = inc.ID
		}
	}
	return nil
}

func (t *memTx) Enqueue(e OutboxEntry) (bool, error) {
	if !t.writable {
		return false, fmt.Errorf("incidents: write in a read-only transaction")
	}
	if _, dup := t.st.keys[e.Key]; dup {
		return false, nil
	}
	t.st.outSeq++
	e.ID = t.st.outSeq
	e.State = EntryPending
	t.st.outbox[e.ID] = e
	t.st.keys[e.Key] = e.ID
	return true, nil
}

func (t *memTx) PutOverride(o oncall.Override) error {
	if !t.writable {
		return fmt.Errorf("incidents: write in a read-only transaction")
	}
	t.st.overrides[o.ID] = o
	return nil
}

func (t *memTx) DeleteOverride(id string) (oncall.Override, bool, error) {
	if !t.writable {
		return oncall.Override{}, false, fmt.Errorf("incidents: write in a read-only transaction")
	}
	o, ok := t.st.overrides[id]
	delete(t.st.overrides, id)
	return o, ok, nil
}

// Claim reserves due entries; see Outbox.
func (m *MemoryStore) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxEntry, error) {
	var out []OutboxEntry
	err := m.Update(ctx, func(tx Tx) error {
		st := tx.(*memTx).st
		type subject struct {
			pager    string
			incident int64
		}
		earlier := map[subject]bool{} // an unfinished entry was seen before
		for _, e := range sortedEntries(st.outbox) {
			if len(out) >= limit {
				break
			}
			if id := e.IncidentID(); id != 0 && !e.Finished() {
				k := subject{e.Pager, id}
				if earlier[k] {
					continue
				}
				earlier[k] = true
			}
			switch {
			case e.State == EntryPending && !e.DueAt.After(now):
				e.Reclaimed = false
			case e.State == EntryInFlight && !e.LeaseUntil.After(now):
				e.Reclaimed = true
			default:
				continue
			}
			e.State, e.Attempts, e.LeaseUntil = EntryInFlight, e.Attempts+1, now.Add(lease)
			st.outbox[e.ID] = e
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

func sortedEntries(m map[uint64]OutboxEntry) []OutboxEntry {
	out := slices.Collect(maps.Values(m))
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (m *MemoryStore) finish(ctx context.Context, c ClaimRef, fn func(e *OutboxEntry, tx Tx) error) error {
	return m.Update(ctx, func(tx Tx) error {
		st := tx.(*memTx).st
		e, ok := st.outbox[c.ID]
		if !ok {
			return errorf(ErrNotFound, "no outbox entry %d", c.ID)
		}
		if e.State != EntryInFlight || e.Attempts != c.Attempt {
			return ErrStaleClaim
		}
		if err := fn(&e, tx); err != nil {
			return err
		}
		st.outbox[c.ID] = e
		return nil
	})
}

// Complete marks an entry delivered.
func (m *MemoryStore) Complete(ctx context.Context, c ClaimRef, now time.Time) error {
	return m.finish(ctx, c, func(e *OutboxEntry, _ Tx) error {
		e.State, e.FinishedAt, e.LeaseUntil = EntryDone, now, time.Time{}
		return nil
	})
}

// Retry puts an entry back, due at at.
func (m *MemoryStore) Retry(ctx context.Context, c ClaimRef, at time.Time, lastErr string) error {
	return m.finish(ctx, c, func(e *OutboxEntry, _ Tx) error {
		e.State, e.DueAt, e.LastError, e.LeaseUntil = EntryPending, at, lastErr, time.Time{}
		return nil
	})
}

// Fail marks an entry failed and enqueues the fallback.
func (m *MemoryStore) Fail(ctx context.Context, c ClaimRef, now time.Time, lastErr string, fallback *OutboxEntry) error {
	return m.finish(ctx, c, func(e *OutboxEntry, tx Tx) error {
		e.State, e.LastError, e.FinishedAt, e.LeaseUntil = EntryFailed, lastErr, now, time.Time{}
		if fallback != nil {
			_, err := tx.Enqueue(*fallback)
			return err
		}
		return nil
	})
}

// NextDue is the earliest time an entry can be claimed.
func (m *MemoryStore) NextDue(ctx context.Context) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var best time.Time
	found := false
	for _, e := range m.st.outbox {
		var at time.Time
		switch e.State {
		case EntryPending:
			at = e.DueAt
		case EntryInFlight:
			at = e.LeaseUntil
		default:
			continue
		}
		if !found || at.Before(best) {
			best, found = at, true
		}
	}
	return best, found, nil
}

// Entries lists every entry, oldest first.
func (m *MemoryStore) Entries(ctx context.Context) ([]OutboxEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return sortedEntries(m.st.outbox), nil
}

// Prune deletes finished entries older than t.
func (m *MemoryStore) Prune(ctx context.Context, t time.Time) error {
	return m.Update(ctx, func(tx Tx) error {
		st := tx.(*memTx).st
		for id, e := range st.outbox {
			if (e.State == EntryDone || e.State == EntryFailed) && e.FinishedAt.Before(t) {
				delete(st.outbox, id)
				delete(st.keys, e.Key)
			}
		}
		return nil
	})
}
