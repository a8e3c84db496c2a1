package logship

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/grafana/loki-client-go/loki"
	"github.com/prometheus/common/model"
)

// Level buckets used as the Loki level label.
const (
	levelDebug = iota
	levelInfo
	levelWarn
	levelError
	numLevels
)

var levelNames = [numLevels]string{"debug", "info", "warn", "error"}

// entry is one formatted line waiting in the buffer.
type entry struct {
	at    time.Time
	level uint8
	line  string
}

// shipper owns the bounded buffer between the logging calls and the
// loki-client-go client. offer is called by any goroutine and never blocks;
// run's pump goroutine is the only reader of buf and the only caller of the
// client.
type shipper struct {
	cfg          loki.Config
	labels       [numLevels]model.LabelSet
	json         bool
	buf          chan entry
	closed       atomic.Bool
	flushTimeout time.Duration
	now          func() time.Time
	kit          kitLogger
	m            *metrics
}

func newShipper(cfg loki.Config, labels [numLevels]model.LabelSet, size int, json bool, o options, kit kitLogger, m *metrics) *shipper {
	return &shipper{
		cfg:          cfg,
		labels:       labels,
		json:         json,
		buf:          make(chan entry, size),
		flushTimeout: o.flushTimeout,
		now:          o.now,
		kit:          kit,
		m:            m,
	}
}

// offer queues one formatted line (as a slog handler wrote it) without
// blocking; when the buffer is full the line is dropped and counted.
func (s *shipper) offer(p []byte) {
	if s.closed.Load() {
		return
	}
	if len(s.buf) == cap(s.buf) { // full: drop without copying the line
		s.m.bufferDrops.Add(1)
		return
	}
	e := entry{
		at:    s.now(),
		level: lineLevel(p, s.json),
		line:  string(bytes.TrimSuffix(p, []byte("\n"))),
	}
	select {
	case s.buf <- e:
	default:
		s.m.bufferDrops.Add(1)
	}
}

// run starts the client and pumps the buffer into it until ctx ends or stop
// closes; then it drains the buffer, stops the client (which pushes its last
// batches) and waits for that at most flushTimeout.
func (s *shipper) run(ctx context.Context, stop, retire <-chan struct{}) error {
	client, err := loki.NewWithLogger(s.cfg, s.kit)
	if err != nil {
		return fmt.Errorf("start loki client for %s: %w", s.cfg.URL.Host, err)
	}
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.pump(client, quit)
	}()

	select {
	case <-ctx.Done():
	case <-stop:
	case <-retire:
	}
	s.closed.Store(true)
	close(quit)
	t := time.NewTimer(s.flushTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		// The pump is stuck in the client (Loki hanging or being retried);
		// it finishes on its own once the client's timeouts and retries run
		// out. Say so on stderr only.
		s.kit.log.Warn("gave up flushing logs to loki",
			"flush_timeout", s.flushTimeout.String(), "lines_left", len(s.buf))
	}
	return nil
}

// pump is the only goroutine that may block on the client.
func (s *shipper) pump(client *loki.Client, quit <-chan struct{}) {
	handle := func(e entry) {
		// Handle only errors on a closed client, which cannot happen here:
		// the client is stopped below, after the last Handle.
		_ = client.Handle(s.labels[e.level], e.at, e.line)
	}
	for {
		select {
		case e := <-s.buf:
			handle(e)
		case <-quit:
			deadline := s.now().Add(s.flushTimeout)
		drain:
			for s.now().Before(deadline) {
				select {
				case e := <-s.buf:
					handle(e)
				default:
					break drain
				}
			}
			client.Stop()
			return
		}
	}
}

// lineLevel finds the level bucket of a line written by slog's text or JSON
// handler, which put the level before the message and every attribute (and
// after only the time, which cannot contain the marker).
func lineLevel(p []byte, json bool) uint8 {
	marker := []byte("level=")
	if json {
		marker = []byte(`"level":"`)
	}
	i := bytes.Index(p, marker)
	if i < 0 {
		return levelInfo
	}
	v := p[i+len(marker):]
	switch {
	case bytes.HasPrefix(v, []byte("DEBUG")):
		return levelDebug
	case bytes.HasPrefix(v, []byte("WARN")):
		return levelWarn
	case bytes.HasPrefix(v, []byte("ERROR")):
		return levelError
	}
	return levelInfo
}

// teeWriter is what the Loki-enabled slog handler writes to: each Write is
// one whole record (slog's handlers guarantee a single Write per record),
// which goes to stderr and is offered to the shipper.
type teeWriter struct {
	out  io.Writer
	ship *shipper
}

func (w *teeWriter) Write(p []byte) (int, error) {
	n, err := w.out.Write(p)
	w.ship.offer(p)
	return n, err
}

// kitLogger adapts slog to go-kit's log.Logger (Log(keyvals ...any) error),
// the interface loki-client-go logs through.
type kitLogger struct{ log *slog.Logger }

// Log turns go-kit key/value pairs into one slog record: "level" picks the
// level, "msg" the message, "error" becomes err.
func (k kitLogger) Log(keyvals ...any) error {
	lvl := slog.LevelInfo
	msg := ""
	attrs := make([]slog.Attr, 0, len(keyvals)/2)
	for i := 0; i < len(keyvals); i += 2 {
		key := fmt.Sprint(keyvals[i])
		var val any = "(MISSING)"
		if i+1 < len(keyvals) {
			val = keyvals[i+1]
		}
		switch key {
		case "level":
			lvl = kitLevel(fmt.Sprint(val))
		case "msg":
			msg = fmt.Sprint(val)
		case "component": // ours is logship; the client calls itself "client"
		case "error", "err":
			attrs = append(attrs, slog.Any("err", val))
		default:
			attrs = append(attrs, slog.Any(key, val))
		}
	}
	k.log.LogAttrs(context.Background(), lvl, msg, attrs...)
	return nil
}

func kitLevel(s string) slog.Level {
	switch s {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
