// Package logship builds Sentinel's process logger: slog records written as
// text or JSON to stderr and, when logging.loki.url is set, also pushed to
// Loki through loki-client-go, without ever blocking the caller.
//
// Shipping goes through a bounded buffer that the logging call fills with a
// non-blocking send; when it is full the line is dropped and counted in
// sentinel_log_shipping_dropped_total{reason="buffer_full"}. Only the pump
// goroutine started by Run talks to the loki-client-go client, whose Handle
// blocks while a batch is being sent or retried, so a slow, failing or hung
// Loki costs lines, never latency.
//
// loki-client-go is fenced in here: it registers promtail_* metrics in the
// global Prometheus registry when imported and logs through go-kit. Its
// logger is bridged to slog (stderr only, so its own complaints about Loki
// are never shipped to Loki), and the counts that matter are re-exported on
// the Registerer given to New.
package logship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grafana/loki-client-go/loki"
	"github.com/grafana/loki-client-go/pkg/backoff"
	"github.com/grafana/loki-client-go/pkg/urlutil"
	"github.com/prometheus/client_golang/prometheus"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/sentinel-oss/sentinel/config"
)

// Backoff defaults for retrying a failed push: shorter than promtail's
// (5 minutes at most) because a logger should catch up soon after Loki
// returns; lines arriving meanwhile are dropped and counted anyway.
const (
	defaultMinBackoff = 500 * time.Millisecond
	defaultMaxBackoff = 30 * time.Second
	defaultRetries    = 10
)

// Option adjusts New for callers with needs the config file does not cover.
type Option func(*options)

type options struct {
	flushTimeout time.Duration
	backoff      backoff.BackoffConfig
	now          func() time.Time
}

// WithFlushTimeout bounds how long Run spends, once its context ends,
// handing buffered lines to Loki and waiting for the last push; the default
// is logging.loki.timeout. Lines still unsent after it are lost.
func WithFlushTimeout(d time.Duration) Option {
	return func(o *options) { o.flushTimeout = d }
}

// WithBackoff sets how a failed push is retried: waits growing from min to
// max, at most retries times before the batch is dropped and counted.
func WithBackoff(minWait, maxWait time.Duration, retries int) Option {
	return func(o *options) {
		o.backoff = backoff.BackoffConfig{MinBackoff: minWait, MaxBackoff: maxWait, MaxRetries: retries}
	}
}

// Logging owns the process logger and, when Loki is configured, the shipper
// that feeds it to Loki. Logger and Level are safe for concurrent use; Run
// is called once. A reload may change the level, the format and the Loki
// settings (Prepare): the logger everyone holds writes through whichever
// pipeline is in force.
type Logging struct {
	logger *slog.Logger
	level  *slog.LevelVar
	pipe   atomic.Pointer[pipeline]
	out    *lockedWriter
	opts   []Option
	m      *metrics

	stop     chan struct{}
	stopOnce sync.Once

	mu      sync.Mutex
	started bool
	runDone chan struct{} // closed when Run returns; nil before Run
}

// New builds the logger from cfg. Output goes to stderr (guarded by a mutex,
// so stderr need not be safe for concurrent writes). When cfg.Loki.URL is
// set, each formatted line is also queued for Loki; nothing is sent until
// Run. Metrics are registered on reg.
func New(cfg config.Logging, stderr io.Writer, reg prometheus.Registerer, opts ...Option) (*Logging, error) {
	l := &Logging{level: new(slog.LevelVar), stop: make(chan struct{}), out: &lockedWriter{w: stderr}, opts: opts, m: newMetrics()}
	commit, err := l.Prepare(cfg)
	if err != nil {
		return nil, err
	}
	commit()
	l.m.current = l.shipping
	l.logger = slog.New(&swapHandler{l: l})
	if err := reg.Register(l.m); err != nil {
		return nil, fmt.Errorf("register log shipping metrics: %w", err)
	}
	return l, nil
}

// pipeline is one format and Loki setting: the handler records are
// formatted by and the shipper (nil without Loki) it feeds.
type pipeline struct {
	cfg     config.Logging
	handler slog.Handler
	ship    *shipper
	retired chan struct{} // closed when a reload replaces the pipeline
}

// newPipeline builds the pipeline of cfg.
func (l *Logging) newPipeline(cfg config.Logging) (*pipeline, error) {
	var json bool
	switch cfg.Format {
	case "text", "":
	case "json":
		json = true
	default:
		return nil, config.Problems{{Path: "logging.format", Message: fmt.Sprintf("unknown format %q (want text or json)", cfg.Format)}}
	}
	o := options{
		flushTimeout: time.Duration(cfg.Loki.Timeout),
		backoff:      backoff.BackoffConfig{MinBackoff: defaultMinBackoff, MaxBackoff: defaultMaxBackoff, MaxRetries: defaultRetries},
		now:          time.Now,
	}
	for _, opt := range l.opts {
		opt(&o)
	}
	hopts := &slog.HandlerOptions{Level: l.level}
	newHandler := func(w io.Writer) slog.Handler {
		if json {
			return slog.NewJSONHandler(w, hopts)
		}
		return slog.NewTextHandler(w, hopts)
	}
	p := &pipeline{cfg: cfg, retired: make(chan struct{})}
	if cfg.Loki.URL == "" {
		p.handler = newHandler(l.out)
		return p, nil
	}
	lcfg, labels, err := clientConfig(cfg.Loki, o)
	if err != nil {
		return nil, err
	}
	// The client's own log lines go to stderr only: shipping "Loki is
	// down" to Loki would only feed the outage.
	kit := kitLogger{log: slog.New(newHandler(l.out)).With("component", "logship")}
	p.ship = newShipper(lcfg, labels, cfg.Loki.BufferEntries, json, o, kit, l.m)
	p.handler = newHandler(&teeWriter{out: l.out, ship: p.ship})
	return p, nil
}

// shipping is the Loki host and the lines waiting for it ("" and 0 when
// shipping is off), for the metrics.
func (l *Logging) shipping() (host string, queued int) {
	p := l.pipe.Load()
	if p == nil || p.ship == nil {
		return "", 0
	}
	return p.ship.cfg.URL.Host, len(p.ship.buf)
}

// Prepare checks a logging section and returns the commit that applies it:
// the level at once; a new format or Loki setting starts a new pipeline for
// the next line while the old shipper flushes what it holds (bounded by its
// flush timeout). The commit cannot fail.
func (l *Logging) Prepare(cfg config.Logging) (commit func(), err error) {
	lvl, err := ParseLevel(cfg.Level)
	if err != nil {
		return nil, config.Problems{{Path: "logging.level", Message: err.Error()}}
	}
	var next *pipeline
	if cur := l.pipe.Load(); cur == nil || !samePipeline(cur.cfg, cfg) {
		if next, err = l.newPipeline(cfg); err != nil {
			return nil, err
		}
	}
	return func() {
		l.level.Set(lvl)
		if next != nil {
			if old := l.pipe.Swap(next); old != nil {
				close(old.retired)
			}
		}
	}, nil
}

// samePipeline reports whether two sections format and ship alike (they may
// differ in level).
func samePipeline(a, b config.Logging) bool {
	a.Level, b.Level = "", ""
	return a.Format == b.Format && a.Loki.Password.Reveal() == b.Loki.Password.Reveal() &&
		reflect.DeepEqual(withoutSecret(a.Loki), withoutSecret(b.Loki))
}

func withoutSecret(c config.Loki) config.Loki {
	c.Password = config.Secret{}
	return c
}

// Logger returns the process logger; derive component loggers from it with
// With("component", name).
func (l *Logging) Logger() *slog.Logger { return l.logger }

// Level is the minimum level logged, shared by stderr and Loki; a config
// reload may Set it while logging continues.
func (l *Logging) Level() *slog.LevelVar { return l.level }

// SetLevel changes the minimum level from its config spelling (debug, info,
// warn, error).
func (l *Logging) SetLevel(s string) error {
	lvl, err := ParseLevel(s)
	if err != nil {
		return err
	}
	l.level.Set(lvl)
	return nil
}

// Run ships queued lines to Loki until ctx ends or Close is called, then
// hands over what is still buffered and waits for the final push, for at
// most the flush timeout; it returns nil then even if Loki never answered.
// A reload's new pipeline takes over after the old one has flushed.
// Without Loki it just waits. It may be called only once.
func (l *Logging) Run(ctx context.Context) error {
	l.mu.Lock()
	if l.started {
		l.mu.Unlock()
		return errors.New("logship: Run called twice")
	}
	l.started = true
	l.runDone = make(chan struct{})
	l.mu.Unlock()
	defer close(l.runDone)

	for {
		p := l.pipe.Load()
		if p.ship == nil {
			select {
			case <-ctx.Done():
			case <-l.stop:
			case <-p.retired:
			}
		} else if err := p.ship.run(ctx, l.stop, p.retired); err != nil {
			// Loki's client could not start (a bad URL slipped through):
			// keep logging to stderr and wait for the next pipeline.
			p.ship.kit.log.Error("log shipping to loki stopped", "err", err)
			p.ship.closed.Store(true)
			select {
			case <-ctx.Done():
			case <-l.stop:
			case <-p.retired:
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.stop:
			return nil
		default:
		}
	}
}

// Close stops shipping: lines logged afterwards go to stderr only. If Run is
// running, Close waits for it to flush and return (bounded by the flush
// timeout). It is safe to call more than once.
func (l *Logging) Close() {
	l.stopOnce.Do(func() { close(l.stop) })
	if p := l.pipe.Load(); p != nil && p.ship != nil {
		p.ship.closed.Store(true)
	}
	l.mu.Lock()
	done := l.runDone
	l.mu.Unlock()
	if done != nil {
		<-done
	}
}

// ParseLevel reads a level as the config spells it: debug, info, warn or
// error.
func ParseLevel(s string) (slog.Level, error) {
	switch s {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown level %q (want debug, info, warn or error)", s)
}

// labelName is the label syntax Loki accepts (Prometheus's legacy one).
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// clientConfig translates the config section into loki-client-go's config
// and the label set of each level. The password is revealed only here.
func clientConfig(c config.Loki, o options) (loki.Config, [numLevels]model.LabelSet, error) {
	var labels [numLevels]model.LabelSet
	var ps config.Problems
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		ps.Add("logging.loki.url", "must be an http or https URL such as http://loki:3100/loki/api/v1/push")
	}
	if c.BufferEntries <= 0 {
		ps.Add("logging.loki.buffer_entries", "must be greater than 0")
	}
	if c.BatchWait <= 0 {
		ps.Add("logging.loki.batch_wait", "must be greater than 0")
	}
	if c.BatchBytes <= 0 {
		ps.Add("logging.loki.batch_bytes", "must be greater than 0")
	}
	if c.Timeout <= 0 {
		ps.Add("logging.loki.timeout", "must be greater than 0")
	}
	if c.Password.IsSet() && c.Username == "" {
		ps.Add("logging.loki.username", "required when a password is set")
	}
	base := model.LabelSet{}
	names := make([]string, 0, len(c.Labels))
	for k := range c.Labels {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		path := "logging.loki.labels." + k
		switch {
		case !labelName.MatchString(k):
			ps.Add(path, "invalid label name (letters, digits and _, not starting with a digit)")
		case strings.HasPrefix(k, "__"):
			ps.Add(path, "label names starting with __ are reserved")
		case k == "level":
			ps.Add(path, "the level label is set from each line's level")
		default:
			base[model.LabelName(k)] = model.LabelValue(c.Labels[k])
		}
	}
	if err := ps.Err(); err != nil {
		return loki.Config{}, labels, err
	}
	for i, name := range levelNames {
		ls := base.Clone()
		ls["level"] = model.LabelValue(name)
		labels[i] = ls
	}

	lc := loki.Config{
		URL:           urlutil.URLValue{URL: u},
		BatchWait:     time.Duration(c.BatchWait),
		BatchSize:     c.BatchBytes,
		Timeout:       time.Duration(c.Timeout),
		TenantID:      c.TenantID,
		BackoffConfig: o.backoff,
	}
	if c.Username != "" {
		lc.Client.BasicAuth = &promconfig.BasicAuth{
			Username: c.Username,
			Password: promconfig.Secret(c.Password.Reveal()),
		}
	}
	if err := lc.Client.Validate(); err != nil {
		return loki.Config{}, labels, fmt.Errorf("logging.loki: %w", err)
	}
	return lc, labels, nil
}

// lockedWriter serialises writes from the process logger and the bridged
// loki-client-go logger, which are separate handlers on one stderr.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
