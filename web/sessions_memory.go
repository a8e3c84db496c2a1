package web

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// MemorySessions is a SessionStore held in this process (tests, and a
// server built without a store): a restart ends every session.
type MemorySessions struct {
	mu sync.Mutex
	m  map[string]model.Session
}

var _ SessionStore = (*MemorySessions)(nil)

// NewMemorySessions returns an empty session store.
func NewMemorySessions() *MemorySessions { return &MemorySessions{m: map[string]model.Session{}} }

// CreateSession stores s after ending the owner's sessions over the cap;
// see SessionStore.
func (m *MemorySessions) CreateSession(ctx context.Context, s model.Session, maxPerOwner int, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var mine []model.Session
	for id, o := range m.m {
		switch {
		case o.Owner != s.Owner:
		case !o.Live(now):
			delete(m.m, id)
		default:
			mine = append(mine, o)
		}
	}
	sort.Slice(mine, func(i, j int) bool {
		if !mine[i].Created.Equal(mine[j].Created) {
			return mine[i].Created.Before(mine[j].Created)
		}
		return mine[i].ID < mine[j].ID
	})
	for i := 0; i < len(mine)-max(maxPerOwner-1, 0); i++ {
		delete(m.m, mine[i].ID)
	}
	m.m[s.ID] = s
	return nil
}

// Session returns the session with id; see SessionStore.
func (m *MemorySessions) Session(ctx context.Context, id string) (model.Session, bool, error) {
	if err := ctx.Err(); err != nil {
		return model.Session{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.m[id]
	return s, ok, nil
}

// DeleteSession ends a session; see SessionStore.
func (m *MemorySessions) DeleteSession(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, id)
	return nil
}

// PruneSessions deletes expired sessions; see SessionStore.
func (m *MemorySessions) PruneSessions(ctx context.Context, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, s := range m.m {
		if !s.Live(now) {
			delete(m.m, id)
			n++
		}
	}
	return n, nil
}

// Len is the number of sessions held, expired ones included until pruned.
func (m *MemorySessions) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}
