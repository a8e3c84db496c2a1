package postmortem

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Store keeps postmortems, one per incident. The store package implements
// it on bbolt; MemoryStore is the in-memory implementation. Implementations
// must be safe for concurrent use and hand out copies.
type Store interface {
	// Get returns the incident's postmortem or an error wrapping
	// ErrNotFound.
	Get(ctx context.Context, incidentID int64) (*Postmortem, error)
	// Create stores pm unless its incident already has one; it reports
	// whether it stored it.
	Create(ctx context.Context, pm *Postmortem) (bool, error)
	// Update reads the postmortem, calls fn with it and stores what fn
	// returns, in one transaction; an error from fn (returned unchanged)
	// stores nothing. A missing postmortem is an error wrapping ErrNotFound.
	Update(ctx context.Context, incidentID int64, fn func(*Postmortem) (*Postmortem, error)) error
	// Each calls fn with every postmortem in incident order until fn
	// returns false.
	Each(ctx context.Context, fn func(*Postmortem) bool) error
}

// MemoryStore is a Store in memory, for tests and as the reference the
// bbolt store is checked against.
type MemoryStore struct {
	mu sync.Mutex
	m  map[int64]*Postmortem
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: map[int64]*Postmortem{}} }

// Get implements Store.
func (s *MemoryStore) Get(ctx context.Context, id int64) (*Postmortem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pm, ok := s.m[id]
	if !ok {
		return nil, fmt.Errorf("postmortem #%d: %w", id, ErrNotFound)
	}
	return pm.Clone(), nil
}

// Create implements Store.
func (s *MemoryStore) Create(ctx context.Context, pm *Postmortem) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[pm.IncidentID]; ok {
		return false, nil
	}
	s.m[pm.IncidentID] = pm.Clone()
	return true, nil
}

// Update implements Store.
func (s *MemoryStore) Update(ctx context.Context, id int64, fn func(*Postmortem) (*Postmortem, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pm, ok := s.m[id]
	if !ok {
		return fmt.Errorf("postmortem #%d: %w", id, ErrNotFound)
	}
	next, err := fn(pm.Clone())
	if err != nil {
		return err
	}
	next = next.Clone()
	next.IncidentID = id
	s.m[id] = next
	return nil
}

// Each implements Store.
func (s *MemoryStore) Each(ctx context.Context, fn func(*Postmortem) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	ids := make([]int64, 0, len(s.m))
	for id := range s.m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	list := make([]*Postmortem, len(ids))
	for i, id := range ids {
		list[i] = s.m[id].Clone()
	}
	s.mu.Unlock()
	for _, pm := range list {
		if !fn(pm) {
			break
		}
	}
	return nil
}
