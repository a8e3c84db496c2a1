package web

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// Sign-in throttling, as Grafana does it: a source (client IP) may get a
// token wrong a few times; past that, each further attempt must wait
// twice as long as the one before, up to a lockout of several minutes,
// and is answered 429 with Retry-After without the token being looked
// at. A success from the source clears its count; failures are forgotten
// some time after the last one. Tokens name no account, so the source is
// the key: the dashboards' sign-in form and bearer tokens are counted
// apart.
const (
	// throttleFree is how many failures a source gets before waiting.
	throttleFree = 10
	// throttleBase is the first wait; each failure after it doubles.
	throttleBase = time.Second
	// throttleMax is the longest wait: the lockout.
	throttleMax = 5 * time.Minute
	// throttleForget clears a source this long after its last failure.
	throttleForget = 15 * time.Minute
	// throttleKeys bounds the table; past it the least-failed sources
	// are dropped first.
	throttleKeys = 50000
)

// Kinds of sign-in the throttle counts. throttleAccount keys on the
// account a failed sign-in named (the identity a single sign-on provider
// vouched for but Sentinel refused), beside its address: many addresses
// failing for one account are slowed too. A wrong token names no
// account, so token sign-ins count per address only.
const (
	throttleLogin   = "login"
	throttleBearer  = "bearer"
	throttleAccount = "account"
)

type strikes struct {
	n    int
	last time.Time
}

// throttle counts sign-in failures per key. Safe for concurrent use.
type throttle struct {
	now       func() time.Time
	failures  *prometheus.CounterVec
	throttled *prometheus.CounterVec

	mu sync.Mutex
	m  map[string]*strikes
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, m: map[string]*strikes{},
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_auth_failures_total",
			Help: "Failed sign-in attempts, by kind (login: the dashboards' form and single sign-on, per address; bearer: the API; account: per account named).",
		}, []string{"kind"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_auth_throttled_total",
			Help: "Sign-in attempts refused with 429 because their address or account failed too often, by kind.",
		}, []string{"kind"}),
	}
}

// delay is how long after its last failure a source with n failures must
// wait before trying again.
func delay(n int) time.Duration {
	if n < throttleFree {
		return 0
	}
	shift := n - throttleFree
	if shift > 20 {
		return throttleMax
	}
	return min(throttleBase<<shift, throttleMax)
}

// wait returns how long the source must still wait; 0 lets it try.
func (t *throttle) wait(kind, source string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[kind+"|"+source]
	if s == nil {
		return 0
	}
	if now.Sub(s.last) >= throttleForget {
		delete(t.m, kind+"|"+source)
		return 0
	}
	if left := s.last.Add(delay(s.n)).Sub(now); left > 0 {
		t.throttled.WithLabelValues(kind).Inc()
		return left
	}
	return 0
}

// fail counts a failure and returns the source's failures so far and the
// wait it now faces.
func (t *throttle) fail(kind, source string) (int, time.Duration) {
	now := t.now()
	t.failures.WithLabelValues(kind).Inc()
	key := kind + "|" + source
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[key]
	if s == nil || now.Sub(s.last) >= throttleForget {
		if len(t.m) >= throttleKeys {
			t.evictLocked(now)
		}
		s = &strikes{}
		t.m[key] = s
	}
	s.n++
	s.last = now
	return s.n, delay(s.n)
}

// succeed clears the source's failures.
func (t *throttle) succeed(kind, source string) {
	t.mu.Lock()
	delete(t.m, kind+"|"+source)
	t.mu.Unlock()
}

// evictLocked drops forgotten sources, and when none is, the one with
// the fewest failures, so a flood of new sources cannot free a locked one.
func (t *throttle) evictLocked(now time.Time) {
	fewest, key := math.MaxInt, ""
	for k, s := range t.m {
		if now.Sub(s.last) >= throttleForget {
			delete(t.m, k)
			continue
		}
		if s.n < fewest {
			fewest, key = s.n, k
		}
	}
	if len(t.m) >= throttleKeys && key != "" {
		delete(t.m, key)
	}
}

// retryAfter sets Retry-After to the wait in whole seconds, rounded up.
func retryAfter(c *gin.Context, d time.Duration) {
	c.Header("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
}

// tooManyAttempts answers an API request from a throttled source.
func tooManyAttempts(c *gin.Context, d time.Duration) {
	retryAfter(c, d)
	abortJSON(c, http.StatusTooManyRequests, "too many failed sign-in attempts from this address; try again after "+strconv.Itoa(int(math.Ceil(d.Seconds())))+"s")
}
