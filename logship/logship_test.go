package logship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
)

const password = "hunter2-very-secret"

// lokiConfig is the default logging section pointed at url.
func lokiConfig(url, format string) config.Logging {
	c := config.Default().Logging
	c.Format = format
	c.Loki.URL = url
	c.Loki.Labels = map[string]string{"app": "sentinel", "env": "test"}
	c.Loki.BatchWait = model.Duration(20 * time.Millisecond)
	return c
}

// start runs l until the test ends (or the returned cancel is called); the
// returned channel is closed when Run has returned, and Run's error is
// checked.
func start(t *testing.T, l *Logging) (context.CancelFunc, <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := l.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return cancel, done
}

func waitRun(t *testing.T, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestStderr(t *testing.T) {
	secret := config.NewSecret(password)
	tests := []struct {
		format string
		want   []string
	}{
		{"text", []string{
			`level=INFO msg="request served" component=web req.route=/checkout req.status=200 token=<secret>`,
			`level=WARN msg=slow component=web`,
		}},
		{"json", []string{
			`"level":"INFO","msg":"request served","component":"web","req":{"route":"/checkout","status":200},"token":"<secret>"}`,
			`"level":"WARN","msg":"slow","component":"web"}`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var out testutil.LockedBuffer
			c := config.Default().Logging
			c.Format = tt.format
			l, err := New(c, &out, prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			log := l.Logger().With("component", "web")
			log.Info("request served", slog.Group("req", "route", "/checkout", "status", 200), "token", secret)
			log.Debug("hidden")
			log.Warn("slow")
			got := out.String()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %s\n%s", w, got)
				}
			}
			if strings.Contains(got, "hidden") || strings.Contains(got, password) {
				t.Errorf("debug line or secret printed:\n%s", got)
			}
			if err := l.SetLevel("debug"); err != nil {
				t.Fatal(err)
			}
			log.Debug("now shown")
			if !strings.Contains(out.String(), "now shown") {
				t.Error("SetLevel(debug) did not take effect")
			}
		})
	}
}

func TestShipsToLoki(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			rcv := newReceiver(t)
			c := lokiConfig(rcv.url(), format)
			c.Loki.TenantID = "shop"
			c.Loki.Username = "sentinel"
			c.Loki.Password = config.NewSecret(password)
			var out testutil.LockedBuffer
			reg := prometheus.NewRegistry()
			l, err := New(c, &out, reg)
			if err != nil {
				t.Fatal(err)
			}
			start(t, l)

			log := l.Logger().With("component", "probes").WithGroup("probe")
			log.Info("run finished", "name", "checkout", "success", true, "token", config.NewSecret(password))
			log.Debug("not at this level")
			log.Warn("slow step", "step", "pay")
			l.Logger().Error("push failed", "err", errors.New("boom"))

			eventually(t, "3 lines at the receiver", func() bool { return len(rcv.got()) >= 3 })
			rcv.check(t)
			got := rcv.got()
			if len(got) != 3 {
				t.Fatalf("got %d lines, want 3: %+v", len(got), got)
			}
			stderrLines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			wantLevels := []string{"info", "warn", "error"}
			for i, p := range got {
				if p.line != stderrLines[i] {
					t.Errorf("line %d = %q, want the stderr line %q", i, p.line, stderrLines[i])
				}
				want := map[string]string{"app": "sentinel", "env": "test", "level": wantLevels[i]}
				if fmt.Sprint(p.labels) != fmt.Sprint(want) {
					t.Errorf("line %d labels = %v, want %v", i, p.labels, want)
				}
				if p.at.IsZero() || time.Since(p.at) > time.Hour {
					t.Errorf("line %d timestamp %v", i, p.at)
				}
			}
			first := got[0].line
			for _, w := range []string{"run finished", "component", "probes", "checkout", "<secret>"} {
				if !strings.Contains(first, w) {
					t.Errorf("first line lacks %q: %s", w, first)
				}
			}
			if format == "text" && !strings.Contains(first, "probe.name=checkout") {
				t.Errorf("group lost in text line: %s", first)
			}
			if format == "json" && !strings.Contains(first, `"probe":{"name":"checkout"`) {
				t.Errorf("group lost in json line: %s", first)
			}
			rcv.mu.Lock()
			tenant, user, pass, bodies := rcv.tenant, rcv.user, rcv.pass, strings.Join(rcv.bodies, "")
			rcv.mu.Unlock()
			if tenant != "shop" || user != "sentinel" || pass != password {
				t.Errorf("tenant/basic auth = %q %q %q", tenant, user, pass)
			}
			if strings.Contains(bodies, password) || strings.Contains(out.String(), password) {
				t.Error("a secret attribute reached the output")
			}
			eventually(t, "sent_total to count 3", func() bool {
				return metricValue(t, reg, "sentinel_log_shipping_sent_total", "") >= 3
			})
			if d := metricValue(t, reg, "sentinel_log_shipping_dropped_total", "buffer_full"); d != 0 {
				t.Errorf("dropped %v lines with a healthy Loki", d)
			}
		})
	}
}

func TestCancelFlushes(t *testing.T) {
	rcv := newReceiver(t)
	c := lokiConfig(rcv.url(), "text")
	c.Loki.BatchWait = model.Duration(time.Hour) // only the flush sends
	c.Loki.BatchBytes = 1 << 30
	const n = 500
	c.Loki.BufferEntries = n
	l, err := New(c, io.Discard, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		l.Logger().Info("before run", "i", i)
	}
	cancel, done := start(t, l)
	cancel()
	waitRun(t, done)
	rcv.check(t)
	got := rcv.got()
	if len(got) != n {
		t.Fatalf("after Run returned the receiver has %d lines, want %d", len(got), n)
	}
	if !strings.Contains(got[n-1].line, fmt.Sprintf("i=%d", n-1)) {
		t.Errorf("lines out of order: last is %q", got[n-1].line)
	}
	// After shutdown, lines still reach stderr and are neither queued nor
	// counted as drops.
	l.Logger().Info("after run")
	if len(l.pipe.Load().ship.buf) != 0 {
		t.Error("a line was queued after Run returned")
	}
}

func TestCloseStopsRun(t *testing.T) {
	rcv := newReceiver(t)
	l, err := New(lokiConfig(rcv.url(), "json"), io.Discard, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	_, done := start(t, l)
	l.Logger().Info("last words")
	l.Close()
	waitRun(t, done)
	l.Close() // idempotent
	if got := rcv.got(); len(got) != 1 {
		t.Fatalf("got %d lines, want 1", len(got))
	}
}

// TestLokiDownNeverBlocks logs 100k lines while Loki hangs, fails or is
// absent: every call returns (the test would hang otherwise), the overflow is
// counted, and Run still returns once its context ends.
func TestLokiDownNeverBlocks(t *testing.T) {
	const (
		lines      = 100_000
		buffer     = 100
		batchBytes = 1024
	)
	tests := []struct {
		name       string
		handler    func(release <-chan struct{}) http.HandlerFunc
		refused    bool
		sendFailed bool
	}{
		{name: "hangs", handler: func(release <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}
		}},
		{name: "500", sendFailed: true, handler: func(<-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "ingester unavailable", http.StatusInternalServerError)
			}
		}},
		{name: "refused", refused: true, sendFailed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var url string
			release := make(chan struct{})
			if tt.refused {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				url = "http://" + ln.Addr().String() + "/loki/api/v1/push"
				_ = ln.Close()
			} else {
				srv := httptest.NewServer(tt.handler(release))
				t.Cleanup(srv.Close)
				t.Cleanup(func() { close(release) }) // runs before srv.Close
				url = srv.URL + "/loki/api/v1/push"
			}
			c := lokiConfig(url, "text")
			c.Loki.BufferEntries = buffer
			c.Loki.BatchBytes = batchBytes
			c.Loki.Timeout = model.Duration(time.Minute) // a hang outlasts the test
			var stderr testutil.LockedBuffer
			reg := prometheus.NewRegistry()
			l, err := New(c, &stderr, reg,
				WithFlushTimeout(50*time.Millisecond),
				WithBackoff(5*time.Millisecond, 10*time.Millisecond, 2))
			if err != nil {
				t.Fatal(err)
			}
			cancel, done := start(t, l)
			log := slog.New(l.Logger().Handler()) // same handler, as components get it
			for i := range lines {
				log.Info("x", "i", i)
			}
			dropped := metricValue(t, reg, "sentinel_log_shipping_dropped_total", "buffer_full")
			if dropped <= 0 {
				t.Fatal("no drops counted while Loki was down")
			}
			t.Logf("%d lines logged, %v dropped at the buffer", lines, dropped)
			// Accepted lines sit in our buffer, one in the pump's hand and at
			// most a batch in the client; "x i=N" lines are at least 8 bytes.
			if tt.name == "hangs" {
				if minDropped := float64(lines - buffer - batchBytes/8 - 2); dropped < minDropped {
					t.Errorf("dropped %v, want at least %v", dropped, minDropped)
				}
			}
			if tt.sendFailed {
				eventually(t, "send_failed drops", func() bool {
					return metricValue(t, reg, "sentinel_log_shipping_dropped_total", "send_failed") > 0
				})
			}
			cancel()
			waitRun(t, done)
			if tt.name == "hangs" && !strings.Contains(stderr.String(), "gave up flushing logs to loki") {
				t.Error("no warning about the abandoned flush")
			}
			if tt.sendFailed && !strings.Contains(stderr.String(), "component=logship") {
				t.Errorf("loki-client-go's complaints did not reach stderr through slog")
			}
		})
	}
}

func TestRunWithoutLoki(t *testing.T) {
	l, err := New(config.Default().Logging, io.Discard, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	cancel, done := start(t, l)
	cancel()
	waitRun(t, done)
	if err := l.Run(context.Background()); err == nil {
		t.Error("second Run succeeded")
	}
	l.Close()
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(*config.Logging)
		want string
	}{
		{"level", func(c *config.Logging) { c.Level = "loud" }, `logging.level: unknown level "loud"`},
		{"format", func(c *config.Logging) { c.Format = "xml" }, `logging.format: unknown format "xml"`},
		{"url", func(c *config.Logging) { c.Loki.URL = "loki:3100" }, "logging.loki.url: must be an http or https URL"},
		{"label name", func(c *config.Logging) { c.Loki.Labels = map[string]string{"my-app": "x"} }, "logging.loki.labels.my-app: invalid label name"},
		{"reserved label", func(c *config.Logging) { c.Loki.Labels = map[string]string{"__name__": "x"} }, "logging.loki.labels.__name__: label names starting with __ are reserved"},
		{"level label", func(c *config.Logging) { c.Loki.Labels = map[string]string{"level": "x"} }, "logging.loki.labels.level: the level label is set"},
		{"buffer", func(c *config.Logging) { c.Loki.BufferEntries = 0 }, "logging.loki.buffer_entries: must be greater than 0"},
		{"password alone", func(c *config.Logging) { c.Loki.Password = config.NewSecret(password) }, "logging.loki.username: required when a password is set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := lokiConfig("http://127.0.0.1:1/loki/api/v1/push", "text")
			tt.edit(&c)
			_, err := New(c, io.Discard, prometheus.NewRegistry())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), password) {
				t.Error("error shows the password")
			}
			if ps := config.AsProblems(err); len(ps) == 0 || ps[0].Path == "" {
				t.Errorf("error is not config.Problems with a path: %#v", err)
			}
		})
	}
}

func TestMetricsRegistered(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(config.Default().Logging, io.Discard, reg); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sentinel_log_shipping_sent_total", "sentinel_log_shipping_buffered_lines"} {
		if v := metricValue(t, reg, name, ""); v != 0 {
			t.Errorf("%s = %v before anything happened", name, v)
		}
	}
	for _, reason := range []string{"buffer_full", "send_failed"} {
		metricValue(t, reg, "sentinel_log_shipping_dropped_total", reason)
	}
	if _, err := New(config.Default().Logging, io.Discard, reg); err == nil {
		t.Error("registering twice on one registry succeeded")
	}
}

// kitLevel mimics go-kit's level.Value: a Stringer.
type kitLevelValue string

func (v kitLevelValue) String() string { return string(v) }

func TestKitLoggerBridge(t *testing.T) {
	var out testutil.LockedBuffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	k := kitLogger{log: log}
	_ = k.Log("level", kitLevelValue("warn"), "component", "client", "host", "loki:3100",
		"msg", "error sending batch, will retry", "status", 500, "error", errors.New("server returned HTTP status 500"))
	_ = k.Log("level", kitLevelValue("debug"), "msg", "dropped by level")
	_ = k.Log("odd")
	got := out.String()
	for _, w := range []string{`level=WARN`, `msg="error sending batch, will retry"`, `host=loki:3100`, `status=500`, `err="server returned HTTP status 500"`, `odd=(MISSING)`} {
		if !strings.Contains(got, w) {
			t.Errorf("bridged line lacks %s:\n%s", w, got)
		}
	}
	if strings.Contains(got, "component=client") || strings.Contains(got, "dropped by level") {
		t.Errorf("unexpected output:\n%s", got)
	}
}

// FuzzLineLevel checks that whatever a record carries, the line queued for
// Loki gets the level label of the record's level.
func FuzzLineLevel(f *testing.F) {
	f.Add("msg", "key", "value", int8(0))
	f.Add(`level=ERROR "level":"ERROR"`, "level", "DEBUG", int8(-4))
	f.Add("x", "time", "level=WARN", int8(9))
	loggers := map[bool]*Logging{}
	for _, json := range []bool{false, true} {
		format := "text"
		if json {
			format = "json"
		}
		c := lokiConfig("http://127.0.0.1:1/loki/api/v1/push", format)
		c.Loki.BufferEntries = 1
		l, err := New(c, io.Discard, prometheus.NewRegistry())
		if err != nil {
			f.Fatal(err)
		}
		l.Level().Set(slog.Level(-200))
		loggers[json] = l
	}
	f.Fuzz(func(t *testing.T, msg, key, value string, lvl int8) {
		level := slog.Level(lvl)
		want := levelInfo
		switch {
		case level < slog.LevelInfo:
			want = levelDebug
		case level >= slog.LevelError:
			want = levelError
		case level >= slog.LevelWarn:
			want = levelWarn
		}
		for json, l := range loggers {
			l.Logger().Log(context.Background(), level, msg, key, value)
			select {
			case e := <-l.pipe.Load().ship.buf:
				if e.level != uint8(want) {
					t.Fatalf("json=%v level %v: label %s, want %s; line %s", json, level, levelNames[e.level], levelNames[want], e.line)
				}
			default:
				t.Fatalf("json=%v: nothing queued", json)
			}
		}
	})
}
