package rum

import (
	"time"

	"github.com/sentinel-oss/sentinel/internal/ratelimit"
)

// limiterSet is the per-IP (or per-site) set of token buckets: a bounded
// LRU of buckets, so a million distinct IPs cost no more memory than max
// buckets; a forgotten client starts again with a full bucket, which the
// per-site bucket still bounds. It is safe for concurrent use.
type limiterSet struct{ k *ratelimit.Keyed }

func newLimiterSet(perSecond float64, burst, max int) *limiterSet {
	return &limiterSet{k: ratelimit.NewKeyed(perSecond, burst, max)}
}

// allow takes a token from key's bucket at now.
func (s *limiterSet) allow(key string, now time.Time) bool { return s.k.Allow(key, now) }

// len returns how many buckets are held.
func (s *limiterSet) len() int { return s.k.Len() }
