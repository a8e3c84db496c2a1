package rum

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiterSet is a bounded set of token buckets keyed by a string (a client
// IP). When full, the least recently used bucket is forgotten, so a million
// distinct IPs cost no more memory than max buckets; a forgotten client
// starts again with a full bucket, which the per-site bucket still bounds.
// It is safe for concurrent use.
type limiterSet struct {
	mu    sync.Mutex
	limit rate.Limit
	burst int
	max   int
	items map[string]*list.Element
	order *list.List // front = most recently used
}

type limiterEntry struct {
	key string
	lim *rate.Limiter
}

func newLimiterSet(perSecond float64, burst, max int) *limiterSet {
	return &limiterSet{
		limit: rate.Limit(perSecond),
		burst: burst,
		max:   max,
		items: make(map[string]*list.Element, min(max, 1024)),
		order: list.New(),
	}
}

// allow takes a token from key's bucket at now, creating the bucket (and
// evicting the least recently used one) when needed.
func (s *limiterSet) allow(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[key]; ok {
		s.order.MoveToFront(el)
		return el.Value.(*limiterEntry).lim.AllowN(now, 1)
	}
	var ent *limiterEntry
	if s.order.Len() >= s.max {
		el := s.order.Back()
		ent = el.Value.(*limiterEntry)
		delete(s.items, ent.key)
		s.order.Remove(el)
		ent.key = key
		ent.lim = rate.NewLimiter(s.limit, s.burst)
	} else {
		ent = &limiterEntry{key: key, lim: rate.NewLimiter(s.limit, s.burst)}
	}
	s.items[key] = s.order.PushFront(ent)
	return ent.lim.AllowN(now, 1)
}

// len returns how many buckets are held.
func (s *limiterSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len()
}
