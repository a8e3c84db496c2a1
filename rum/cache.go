package rum

import "sync"

// boundedCache keeps results that are cheap to work out again and usually
// repeat (parsed User-Agents, scrubbed error reports); it is emptied when it
// holds max entries, so its memory stays bounded whatever clients send.
// Safe for concurrent use.
type boundedCache[K comparable, V any] struct {
	mu  sync.RWMutex
	m   map[K]V
	max int
}

func newBoundedCache[K comparable, V any](max int) *boundedCache[K, V] {
	return &boundedCache[K, V]{m: map[K]V{}, max: max}
}

func (c *boundedCache[K, V]) get(k K) (V, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

func (c *boundedCache[K, V]) put(k K, v V) {
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = v
	c.mu.Unlock()
}

// reset empties the cache, for when what its entries were worked out from
// has changed.
func (c *boundedCache[K, V]) reset() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
