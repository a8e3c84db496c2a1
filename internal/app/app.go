package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/logship"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// ErrStoreInUse reports that another process holds the store file.
var ErrStoreInUse = store.ErrInUse

// logFlushTimeout bounds the last push of logs to Loki at shutdown; with
// server.shutdown_timeout (3s) it keeps SIGTERM-to-exit under 5 s.
const logFlushTimeout = time.Second

// storePingInterval is how often readiness re-checks that the store can write.
const storePingInterval = 5 * time.Second

// Options are what New needs besides the config.
type Options struct {
	// Config is the loaded configuration.
	Config *config.Config
	// LoadConfig re-reads the configuration on reload; nil disables reload.
	LoadConfig func() (*config.Config, error)
	// Stderr receives the process log.
	Stderr io.Writer
	// Build identifies the binary in sentinel_build_info.
	Build BuildInfo
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Engine replaces the bbolt store (tests inject a memory or faulty one).
	Engine store.Engine
	// Listener, when set, is used instead of binding server.listen.
	Listener net.Listener
}

// App is one running Sentinel.
type App struct {
	opts     Options
	log      *slog.Logger
	logging  *logship.Logging
	registry *prometheus.Registry
	metrics  *appMetrics
	engine   store.Engine
	web      *web.Server
	listener net.Listener
	comps    *components

	mu  sync.Mutex // guards cfg during reload
	cfg *config.Config

	storeErr atomic.Pointer[error]
	started  atomic.Bool

	// extra are further long-lived parts run beside the components (the
	// demo shop); they stop when HTTP has drained.
	extra []func(context.Context) error
}

// Check builds every component from cfg without starting any, so probe
// templates, JSON paths and rule references are checked too. Problems come
// back with positions in the config file.
func Check(ctx context.Context, cfg *config.Config) error {
	_ = ctx
	reg := prometheus.NewRegistry()
	// What New opens before the components: the store's DSN, the logger
	// (format, Loki), the HTTP server (TLS key pair, trusted proxies).
	ps := store.CheckDSN(cfg.Storage)
	if _, err := logship.New(cfg.Logging, io.Discard, prometheus.NewRegistry()); err != nil {
		ps = append(ps, asProblems("logging", err)...)
	}
	if _, err := web.New(web.Options{Server: cfg.Server, Auth: cfg.Auth}); err != nil {
		ps = append(ps, asProblems("server", err)...)
	}
	_, cps := buildComponents(cfg, componentDeps{
		log:         slog.New(slog.DiscardHandler),
		registry:    reg,
		engine:      store.NewMemory(),
		now:         time.Now,
		externalURL: cfg.Server.ExternalURL,
	})
	ps = append(ps, cps...)
	if len(ps) > 0 {
		return cfg.Locate(ps)
	}
	return nil
}

// asProblems turns err into problems, under path when it carries none.
func asProblems(path string, err error) config.Problems {
	var ps config.Problems
	if errors.As(err, &ps) {
		return ps
	}
	return config.Problems{{Path: path, Message: err.Error()}}
}

// CheckConnections tries what the config points at outside Sentinel, for
// `check config --connect`: today the PostgreSQL database of
// storage.driver postgres (connect and ping, changing nothing). It returns
// one problem per target that failed.
func CheckConnections(ctx context.Context, cfg *config.Config) error {
	if cfg.Storage.Driver != config.DriverPostgres {
		return nil
	}
	if err := store.ConnectPostgres(ctx, cfg.Storage); err != nil {
		return cfg.Locate(asProblems("storage.dsn", err))
	}
	return nil
}

// New builds Sentinel from opts: logging, metrics, the store, every
// component and the HTTP listener (bound, so Addr is known, but not yet
// serving). Run starts it.
func New(ctx context.Context, opts Options) (a *App, err error) {
	if opts.Config == nil {
		return nil, errors.New("no config")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	cfg := opts.Config
	registry, metrics := newRegistry(opts.Build)
	logging, err := logship.New(cfg.Logging, opts.Stderr, registry, logship.WithFlushTimeout(logFlushTimeout))
	if err != nil {
		return nil, fmt.Errorf("logging: %w", err)
	}
	built := &App{opts: opts, cfg: cfg, logging: logging, log: logging.Logger(), registry: registry, metrics: metrics}
	defer func() {
		if err != nil {
			built.closeResources()
		}
	}()
	a = built

	a.engine = opts.Engine
	if a.engine == nil {
		engine, err := openEngine(ctx, cfg.Storage, a.log, registry)
		if err != nil {
			return nil, err
		}
		a.engine = engine
	}
	comps, ps := buildComponents(cfg, componentDeps{log: a.log, registry: registry, engine: a.engine, now: opts.Now, externalURL: cfg.Server.ExternalURL, build: opts.Build, started: opts.Now()})
	if len(ps) > 0 {
		return nil, cfg.Locate(ps)
	}
	a.comps = comps
	a.web, err = web.New(web.Options{
		Server:     cfg.Server,
		Auth:       cfg.Auth,
		Logger:     a.log,
		Gatherer:   registry,
		Registerer: registry,
		Readiness:  a,
		Reloader:   a,
		Backup:     a.engine,
		Now:        opts.Now,
		Listener:   opts.Listener,
	})
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	for _, mount := range comps.mounts {
		mount(a.web.Routes())
	}
	if a.listener, err = a.web.Listen(); err != nil {
		return nil, err
	}
	metrics.reloadOK.Set(1)
	metrics.reloadTime.Set(float64(opts.Now().Unix()))
	a.warnDeadEnds(cfg)
	return a, nil
}

// Addr is the bound HTTP address (useful with 127.0.0.1:0).
func (a *App) Addr() net.Addr { return a.listener.Addr() }

// URL is the base URL of the bound listener.
func (a *App) URL() string {
	scheme := "http"
	if a.cfg.Server.TLS.Enabled() {
		scheme = "https"
	}
	return scheme + "://" + a.Addr().String()
}

// Logger is the process logger.
func (a *App) Logger() *slog.Logger { return a.log }

// Routes lists every HTTP route Sentinel serves, for tests that visit them all.
func (a *App) Routes() []web.Route { return a.web.RouteList() }

// Registry is the registry /metrics serves.
func (a *App) Registry() *prometheus.Registry { return a.registry }

// Ready reports nil once the store is open and writable and the config is
// loaded; otherwise why not.
func (a *App) Ready(context.Context) error {
	if !a.started.Load() {
		return errors.New("starting")
	}
	if p := a.storeErr.Load(); p != nil && *p != nil {
		return fmt.Errorf("store cannot write: %w", *p)
	}
	return nil
}

// Run serves until ctx ends, then drains HTTP, stops components and closes
// the store, in that order. It returns nil on a clean shutdown.
func (a *App) Run(ctx context.Context) error {
	defer a.closeResources()
	compCtx, stopComponents := context.WithCancel(context.WithoutCancel(ctx))
	defer stopComponents()

	g, gctx := errgroup.WithContext(compCtx)
	g.Go(func() error { return a.logging.Run(gctx) })
	g.Go(func() error { a.watchStore(gctx); return nil })
	for _, r := range a.comps.runners {
		g.Go(func() error {
			if err := r.run(gctx); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			return nil
		})
	}
	for _, run := range a.extra {
		g.Go(func() error { return run(gctx) })
	}

	a.checkStore(ctx)
	a.started.Store(true)
	a.updateReady()
	a.log.Info("sentinel ready", "addr", a.Addr().String(), "version", a.opts.Build.Version)

	webErr := a.web.Run(ctx)
	// HTTP is drained: now stop the engines and wait for them.
	stopComponents()
	err := g.Wait()
	if webErr != nil {
		return webErr
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	a.log.Info("sentinel stopped")
	return nil
}

func (a *App) watchStore(ctx context.Context) {
	t := time.NewTicker(storePingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.checkStore(ctx)
		}
	}
}

func (a *App) checkStore(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := a.engine.Ping(pctx)
	prev := a.storeErr.Swap(&err)
	switch {
	case err != nil && (prev == nil || *prev == nil):
		a.log.Error("store cannot write; not ready", "err", err)
	case err == nil && prev != nil && *prev != nil:
		a.log.Info("store writable again; ready")
	}
	a.updateReady()
}

func (a *App) updateReady() {
	if a.Ready(context.Background()) == nil {
		a.metrics.ready.Set(1)
	} else {
		a.metrics.ready.Set(0)
	}
}

func (a *App) closeResources() {
	if a.listener != nil {
		_ = a.listener.Close()
	}
	if a.engine != nil && a.opts.Engine == nil {
		if err := a.engine.Close(); err != nil {
			a.log.Error("close store", "err", err)
		}
		a.engine = nil
	}
	if a.logging != nil {
		a.logging.Close()
	}
}

// BackupFile copies the store named by cfg to out when no Sentinel holds
// it; ErrStoreInUse means one does (then ask it over HTTP).
func BackupFile(ctx context.Context, cfg *config.Config, out string) (int64, error) {
	if cfg.Storage.Driver == config.DriverPostgres {
		return backupPostgres(ctx, cfg.Storage, out)
	}
	if _, err := os.Stat(cfg.Storage.Path); err != nil {
		return 0, fmt.Errorf("no store to back up at %s: %w", cfg.Storage.Path, err)
	}
	bolt, err := store.OpenBolt(ctx, cfg.Storage, slog.New(slog.DiscardHandler), store.ReadOnly())
	if err != nil {
		return 0, err
	}
	defer bolt.Close()
	if err := store.BackupFile(ctx, bolt, out); err != nil {
		return 0, err
	}
	st, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
