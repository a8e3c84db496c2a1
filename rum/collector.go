package rum

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Sink receives what RUM measures as model outcomes: per page view one
// outcome per measured vital (Name lcp, inp, cls, fcp, ttfb; Value in
// seconds, CLS unitless), one page_view outcome (Good=Total when the view had
// no JS error) and one js_error outcome per error report (Total = the number
// of errors). Total is the sample weight (a view sampled at 0.1 has Total
// 10). Labels are route, site and device. Whoever owns a threshold
// classifies Value. RecordOutcome is called on the request path and must not
// block for long; outcomes share Labels maps (one per site, route and
// device, for the collector's lifetime), which the sink must not modify.
type Sink interface {
	RecordOutcome(ctx context.Context, o model.Outcome)
}

// BatchSink is a Sink that can also take all of one beacon's outcomes in
// one call (a fan-out then takes its lock once per beacon, not once per
// outcome). The slice is reused afterwards: it must not be kept.
type BatchSink interface {
	Sink
	RecordOutcomes(ctx context.Context, os []model.Outcome)
}

// Options are the collector's collaborators; zero values are usable except
// where noted.
type Options struct {
	// Registerer receives the sentinel_rum_* metrics; nil means none are
	// registered.
	Registerer prometheus.Registerer
	// Logger logs store failures; nil discards.
	Logger *slog.Logger
	// ErrorLog, when set, receives each scrubbed JS error report (at most 20
	// a second), for shipping to Loki.
	ErrorLog *slog.Logger
	// Sink receives outcomes; nil drops them.
	Sink Sink
	// Counts keeps per-minute summaries; nil means an in-memory store
	// keeping 7 days.
	Counts CountStore
	// Writer names this process among the writers of Counts (default
	// "local"); replicas sharing a store need distinct writers.
	Writer string
	// Errors keeps JS error groups; nil means an in-memory store of 1000.
	Errors ErrorStore
	// ClientIP returns the client address of a beacon request (the web
	// layer's trusted-proxy logic); nil means the peer address.
	ClientIP func(*http.Request) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Collector takes beacons, scrubs and folds them, and aggregates them into
// metrics, outcomes, per-minute summaries and error groups. Its handlers
// do their own size capping, CORS and rate limiting. Create one with New,
// run Run for the periodic store writes, and serve ScriptHandler and
// BeaconHandler. Safe for concurrent use.
type Collector struct {
	set      atomic.Pointer[settings] // the rum: section in force (Prepare)
	log      *slog.Logger
	errLog   *slog.Logger
	errLogLm *rate.Limiter
	// errLines carries error log lines to Run's goroutine while running is
	// set (logError).
	errLines chan errorLine
	running  atomic.Bool
	sink     Sink
	counts   CountStore
	writer   string
	errs     ErrorStore
	clientIP func(*http.Request) string
	now      func() time.Time
	m        *metrics
	service  *Service

	bufs    sync.Pool // *bytes.Buffer for bodies
	gzips   sync.Pool // *gzip.Reader
	beacons sync.Pool // *Beacon, decoded into

	mu sync.Mutex
	// own holds this writer's whole summaries of the recent minutes (what
	// a flush stores as absolute values); dirty marks those changed since
	// the last flush. loaded is set once own has been seeded with what
	// this writer stored before a restart; nothing is flushed before.
	own        map[minuteKey]*MinuteRow
	dirty      map[minuteKey]bool
	loaded     bool
	pendingErr map[string]*ErrorGroup

	// scrubbed and uas cache scrubbed error reports and parsed
	// User-Agents, each with its own lock, so working one out never holds
	// up other beacons' aggregation.
	scrubbed *boundedCache[scrubKey, scrubbedError]
	uas      *boundedCache[string, userAgent]

	// series caches each (site, route, device)'s metrics and outcome
	// labels ([3]string to *series); bounded by the configured sites and
	// routes and the three device classes.
	series sync.Map
	// scratch holds *ingestScratch buffers between beacons.
	scratch sync.Pool
}

// Bounds on what waits in memory between store writes.
const (
	maxPendingRows   = 100_000
	maxPendingGroups = 1000
	// ownKeep is how long a flushed minute's row stays in memory: beacons
	// are counted in the minute they arrive, so only the newest minutes
	// still change.
	ownKeep = 3 * time.Minute
)

// New builds a collector from the rum: section. externalURL is
// server.external_url; the beacon endpoint pages are told to use is
// externalURL + /rum/v1/beacons.
func New(cfg config.RUM, externalURL string, opts Options) (*Collector, error) {
	if ps := cfg.Validate("rum"); len(ps) > 0 {
		return nil, ps
	}
	reg := opts.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("register rum metrics: %w", err)
	}
	c := &Collector{
		log:        opts.Logger,
		errLog:     opts.ErrorLog,
		errLogLm:   rate.NewLimiter(20, 20),
		errLines:   make(chan errorLine, 20),
		sink:       opts.Sink,
		counts:     opts.Counts,
		writer:     opts.Writer,
		errs:       opts.Errors,
		clientIP:   opts.ClientIP,
		now:        opts.Now,
		m:          m,
		own:        map[minuteKey]*MinuteRow{},
		dirty:      map[minuteKey]bool{},
		pendingErr: map[string]*ErrorGroup{},
		scrubbed:   newBoundedCache[scrubKey, scrubbedError](maxScrubCache),
		uas:        newBoundedCache[string, userAgent](maxUserAgents),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.counts == nil || c.errs == nil {
		mem := NewMemoryStore(7*24*time.Hour, 1000)
		if c.counts == nil {
			c.counts = mem
		}
		if c.errs == nil {
			c.errs = mem
		}
	}
	if c.clientIP == nil {
		c.clientIP = peerIP
	}
	if c.writer == "" {
		c.writer = "local"
	}
	if c.now == nil {
		c.now = time.Now
	}
	st, err := newSettings(cfg, externalURL, nil)
	if err != nil {
		return nil, err
	}
	c.set.Store(st)
	c.service = &Service{counts: c.counts, errs: c.errs, now: c.now}
	return c, nil
}

// BeaconPath is where the beacon handler is mounted.
const BeaconPath = "/rum/v1/beacons"

// ScriptPath is where the script handler is mounted.
const ScriptPath = "/rum.js"

// Service returns the read side: vitals and error groups for the API.
func (c *Collector) Service() *Service { return c.service }

// Routes lists every route label the collector can produce.
func (c *Collector) Routes() []string { return c.set.Load().router.Routes() }

func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// originAllowed reports whether a browser origin may send beacons.
func (c *Collector) originAllowed(origin string) bool {
	if origin == "" || origin == "null" {
		return false
	}
	st := c.set.Load()
	return st.anyOrig || st.origins[origin]
}

// weight decides whether a beacon counts and with what weight: a beacon
// sampled by the client at a higher rate than the server's is subsampled
// (by session, so a session is in or out as a whole) down to the server's
// rate.
func (c *Collector) weight(b *Beacon) (float64, bool) {
	server := c.set.Load().cfg.SampleRate
	if server <= 0 {
		return 0, false
	}
	if b.SampleRate <= server {
		return 1 / b.SampleRate, true
	}
	keep := server / b.SampleRate
	h := fnv.New64a()
	h.Write([]byte(b.Session))
	if float64(h.Sum64()>>11)/(1<<53) >= keep {
		return 0, false
	}
	return 1 / server, true
}

// outcomeTotal turns a weight into an outcome count (at least 1).
func outcomeTotal(w float64) int64 {
	return max(1, int64(math.Round(w)))
}

// blankDigits replaces each run of digits with one 0.
func blankDigits(s string) string {
	var b strings.Builder
	prevDigit := false
	for _, r := range s {
		d := r >= '0' && r <= '9'
		if d && prevDigit {
			continue
		}
		if d {
			b.WriteByte('0')
		} else {
			b.WriteRune(r)
		}
		prevDigit = d
	}
	return b.String()
}

// Load seeds this writer's rows of the recent minutes with what it stored
// before (a restart within a minute continues that minute's row instead of
// overwriting it); rows counted before Load are added to. Flush stores no
// rows until Load has succeeded.
func (c *Collector) Load(ctx context.Context) error {
	c.mu.Lock()
	done := c.loaded
	c.mu.Unlock()
	if done {
		return nil
	}
	now := c.now()
	rows, err := c.counts.WriterMinutes(ctx, c.writer, now.Add(-ownKeep), now.Add(time.Hour))
	if err != nil {
		return fmt.Errorf("load rum minutes of writer %s: %w", c.writer, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded {
		return nil
	}
	for _, r := range rows {
		k := minuteKey{floorMinute(r.Minute), r.Site, r.Route}
		if cur, ok := c.own[k]; ok {
			cur.Merge(r)
			c.dirty[k] = true
		} else if len(c.own) < maxPendingRows {
			cp := r.Clone()
			c.own[k] = &cp
		}
	}
	c.loaded = true
	return nil
}

// Flush writes what changed since the last flush to the stores: this
// writer's rows as absolute values (so a retried flush never counts twice)
// and the error groups. On failure the data waits for the next flush
// (within the memory bounds).
func (c *Collector) Flush(ctx context.Context) error {
	var errs []error
	if err := c.Load(ctx); err != nil {
		errs = append(errs, err)
	}
	c.mu.Lock()
	var list []MinuteRow
	var keys []minuteKey
	if c.loaded {
		list = make([]MinuteRow, 0, len(c.dirty))
		keys = make([]minuteKey, 0, len(c.dirty))
		for k := range c.dirty {
			list = append(list, c.own[k].Clone())
			keys = append(keys, k)
		}
		clear(c.dirty)
	}
	groups := c.pendingErr
	c.pendingErr = map[string]*ErrorGroup{}
	c.mu.Unlock()
	if len(list) > 0 {
		err := c.counts.SaveMinutes(ctx, c.writer, list)
		c.mu.Lock()
		if err != nil {
			errs = append(errs, fmt.Errorf("store rum minutes: %w", err))
			for _, k := range keys {
				c.dirty[k] = true
			}
		} else {
			cut := floorMinute(c.now().Add(-ownKeep))
			for k := range c.own {
				if k.minute < cut && !c.dirty[k] {
					delete(c.own, k)
				}
			}
		}
		c.mu.Unlock()
	}
	if len(groups) > 0 {
		list := make([]ErrorGroup, 0, len(groups))
		for _, g := range groups {
			list = append(list, *g)
		}
		if err := c.errs.AddErrors(ctx, list); err != nil {
			errs = append(errs, fmt.Errorf("store rum error groups: %w", err))
			c.mu.Lock()
			for _, g := range list {
				c.requeueErrorLocked(g)
			}
			c.mu.Unlock()
		}
	}
	err := errors.Join(errs...)
	if err != nil {
		c.m.flushErrs.Inc()
	}
	return err
}

// FlushInterval is how often Run writes to the stores.
const FlushInterval = time.Second

// Run writes pending summaries to the stores every FlushInterval until ctx
// ends, then flushes once more (bounded by 5 seconds).
func (c *Collector) Run(ctx context.Context) error {
	if err := c.Load(ctx); err != nil && ctx.Err() == nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "rum load failed; retrying with the next flush", slog.Any("err", err))
	}
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	c.running.Store(true)
	defer func() {
		c.running.Store(false)
		for {
			select {
			case l := <-c.errLines:
				c.writeErrorLine(context.WithoutCancel(ctx), l)
			default:
				return
			}
		}
	}()
	for {
		select {
		case l := <-c.errLines:
			c.writeErrorLine(ctx, l)
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := c.Flush(fctx); err != nil {
				c.log.LogAttrs(fctx, slog.LevelError, "rum final flush failed", slog.Any("err", err))
			}
			return nil
		case <-t.C:
			if err := c.Flush(ctx); err != nil {
				c.log.LogAttrs(ctx, slog.LevelWarn, "rum flush failed", slog.Any("err", err))
			}
		}
	}
}
