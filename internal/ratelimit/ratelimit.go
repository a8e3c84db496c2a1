// Package ratelimit holds a bounded set of token buckets keyed by a string
// (a client IP), shared by the HTTP paths that limit each client: RUM
// beacons and the public status page.
package ratelimit

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Keyed is a bounded set of token buckets keyed by a string. When full,
// the least recently used bucket is forgotten, so a million distinct keys
// cost no more memory than max buckets; a forgotten client starts again
// with a full bucket. It is safe for concurrent use.
type Keyed struct {
	mu    sync.Mutex
	limit rate.Limit
	burst int
	max   int
	items map[string]*list.Element
	order *list.List // front = most recently used
}

type entry struct {
	key string
	lim *rate.Limiter
}

// NewKeyed returns buckets refilled at perSecond up to burst, at most max
// of them.
func NewKeyed(perSecond float64, burst, max int) *Keyed {
	return &Keyed{
		limit: rate.Limit(perSecond),
		burst: burst,
		max:   max,
		items: make(map[string]*list.Element, min(max, 1024)),
		order: list.New(),
	}
}

// Allow takes a token from key's bucket at now, creating the bucket (and
// evicting the least recently used one) when needed.
func (s *Keyed) Allow(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[key]; ok {
		s.order.MoveToFront(el)
		return el.Value.(*entry).lim.AllowN(now, 1)
	}
	var ent *entry
	if s.order.Len() >= s.max {
		el := s.order.Back()
		ent = el.Value.(*entry)
		delete(s.items, ent.key)
		s.order.Remove(el)
		ent.key = key
		ent.lim = rate.NewLimiter(s.limit, s.burst)
	} else {
		ent = &entry{key: key, lim: rate.NewLimiter(s.limit, s.burst)}
	}
	s.items[key] = s.order.PushFront(ent)
	return ent.lim.AllowN(now, 1)
}

// Len returns how many buckets are held.
func (s *Keyed) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len()
}
