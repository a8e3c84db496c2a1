package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/config"
)

// Readiness says whether Sentinel can do its work; nil means ready, and the
// error's text says why not (shown in /readyz).
type Readiness interface {
	Ready(ctx context.Context) error
}

// Reloader re-reads and applies the configuration for POST /-/reload. An
// operator's mistake (an invalid file) should come back as config.Problems
// or wrap ErrInvalid, so it is answered 400 with the problems.
type Reloader interface {
	Reload(ctx context.Context) error
}

// BackupSource writes a consistent copy of the store to w and returns the
// number of bytes written; it must stop when ctx is done.
type BackupSource interface {
	Backup(ctx context.Context, w io.Writer) (int64, error)
}

// Options is what New needs; only Server is required to be meaningful,
// zero values elsewhere fall back to safe defaults.
type Options struct {
	// Server is the listener section (listen, tls, trusted_proxies, limits).
	Server config.Server
	// Auth lists the bearer tokens and their roles.
	Auth config.Auth
	// Logger receives access logs and errors; nil discards.
	Logger *slog.Logger
	// Gatherer is served on /metrics (the app's registry); nil serves an
	// empty one.
	Gatherer prometheus.Gatherer
	// Registerer takes this package's own metrics; nil leaves them
	// unregistered.
	Registerer prometheus.Registerer
	// Readiness backs /readyz; nil means always ready.
	Readiness Readiness
	// Reloader backs POST /-/reload; nil answers 503.
	Reloader Reloader
	// Backup backs GET /api/v1/backup; nil answers 503.
	Backup BackupSource
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Listener, when set, is served instead of binding server.listen (the
	// caller bound it earlier to learn the address).
	Listener net.Listener
}

// Server is Sentinel's one HTTP listener. Routes are added through Routes
// before Run; gin's router is not safe to change while serving.
type Server struct {
	log       *slog.Logger
	now       func() time.Time
	engine    *gin.Engine
	routes    *Routes
	tokens    atomic.Pointer[[]tokenEntry]
	trusted   []netip.Prefix
	maxBody   int64
	listen    string
	shutdown  time.Duration
	tlsConfig *tls.Config
	srv       *http.Server

	readiness Readiness
	reloader  Reloader
	backup    BackupSource

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	panics   prometheus.Counter

	mu      sync.Mutex
	ln      net.Listener
	running bool
}

// Routes hands out router groups by who may call them, so a new endpoint is
// one line: s.Routes().Viewer().GET("/api/v1/probes", h).
type Routes struct {
	public, viewer, responder, admin, ingest *gin.RouterGroup
	// srv gives the UI's session routes (session.go) the token list.
	srv *Server
}

// Public is for endpoints without a token (health, metrics, rum.js,
// beacons, Slack callbacks that check their own signatures).
func (r *Routes) Public() *gin.RouterGroup { return r.public }

// Viewer is for reads: tokens with role viewer, responder or admin.
func (r *Routes) Viewer() *gin.RouterGroup { return r.viewer }

// Responder is for incident actions, silences and overrides: responder or
// admin.
func (r *Routes) Responder() *gin.RouterGroup { return r.responder }

// Admin is for operating Sentinel itself (reload, backup): admin only.
func (r *Routes) Admin() *gin.RouterGroup { return r.admin }

// Ingest is for machines feeding data in (webhooks, heartbeats, events):
// ingest or admin; an ingest token can use nothing else.
func (r *Routes) Ingest() *gin.RouterGroup { return r.ingest }

// PublicHandler mounts a plain http.Handler without a token, for adapters
// that authenticate requests themselves (Slack checks its signature) and
// may not import gin.
func (r *Routes) PublicHandler(method, path string, h http.Handler) {
	r.public.Handle(method, path, gin.WrapH(h))
}

// New builds the server and its routes without listening. It fails on a
// bad trusted proxy, an unreadable TLS certificate or a metric that cannot
// be registered.
func New(opts Options) (*Server, error) {
	// gin's mode is process-wide (an atomic store, so concurrent calls are
	// safe); release mode stops its debug printing to stdout. Setting the
	// same value again is harmless, so no sync.Once is needed. We never use
	// gin's logger, so its console colour setting (a plain global write
	// that would race between servers built concurrently) is left alone.
	if gin.Mode() != gin.ReleaseMode {
		gin.SetMode(gin.ReleaseMode)
	}
	def := config.Default().Server
	sc := opts.Server
	if sc.Listen == "" {
		sc.Listen = def.Listen
	}
	if sc.MaxBodyBytes <= 0 {
		sc.MaxBodyBytes = def.MaxBodyBytes
	}
	if sc.ShutdownTimeout <= 0 {
		sc.ShutdownTimeout = def.ShutdownTimeout
	}
	if sc.ReadHeaderTimeout <= 0 {
		sc.ReadHeaderTimeout = def.ReadHeaderTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		log:       log.With("component", "web"),
		now:       opts.Now,
		maxBody:   sc.MaxBodyBytes,
		listen:    sc.Listen,
		shutdown:  sc.ShutdownTimeout.Std(),
		readiness: opts.Readiness,
		reloader:  opts.Reloader,
		backup:    opts.Backup,
	}
	if s.now == nil {
		s.now = time.Now
	}
	for i, p := range sc.TrustedProxies {
		pfx, err := config.ParseProxy(p)
		if err != nil {
			return nil, fmt.Errorf("server.trusted_proxies[%d]: %w", i, err)
		}
		s.trusted = append(s.trusted, pfx)
	}
	if sc.TLS.Enabled() {
		if sc.TLS.CertFile == "" || sc.TLS.KeyFile == "" {
			return nil, errors.New("server.tls: cert_file and key_file must both be set")
		}
		cert, err := tls.LoadX509KeyPair(sc.TLS.CertFile, sc.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("server.tls: load certificate: %w", err)
		}
		s.tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if err := s.initMetrics(opts.Registerer); err != nil {
		return nil, err
	}

	e := gin.New()
	e.HandleMethodNotAllowed = true
	// A trailing-slash redirect would build its Location from the client's
	// X-Forwarded-Prefix; a wrong path is simply a 404.
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.ContextWithFallback = true
	// Client IPs come from our own parser (clientip.go) via this header,
	// which clientIPMiddleware always overwrites; gin's own forwarding
	// logic is off and trusts no one.
	e.ForwardedByClientIP = false
	if err := e.SetTrustedProxies(nil); err != nil {
		return nil, fmt.Errorf("configure gin: %w", err)
	}
	e.TrustedPlatform = clientIPHeader
	e.Use(s.requestID, securityHeaders, s.clientIPMiddleware, s.accessLog, s.recovery, s.bodyLimit)
	e.NoRoute(noRoute)
	e.NoMethod(noMethod)
	s.engine = e

	root := &e.RouterGroup
	s.routes = &Routes{
		public:    root.Group("/"),
		viewer:    root.Group("/", s.requireClass(classViewer)),
		responder: root.Group("/", s.requireClass(classResponder)),
		admin:     root.Group("/", s.requireClass(classAdmin)),
		ingest:    root.Group("/", s.requireClass(classIngest)),
		srv:       s,
	}
	s.mountOps(opts.Gatherer, opts.Registerer)

	s.srv = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: sc.ReadHeaderTimeout.Std(),
		// No ReadTimeout or WriteTimeout: bodies are size-limited, and a
		// read deadline would cancel long streaming answers (backups).
		IdleTimeout: 2 * time.Minute,
		TLSConfig:   s.tlsConfig,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.SetAuth(opts.Auth)
	s.ln = opts.Listener
	return s, nil
}

func (s *Server) initMetrics(reg prometheus.Registerer) error {
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sentinel_http_requests_total",
		Help: "HTTP requests answered, by route template, method and status code.",
	}, []string{"route", "method", "code"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sentinel_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by route template and method.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method"})
	s.panics = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sentinel_http_panics_total",
		Help: "Handler panics caught by the recovery middleware; any increase is a bug.",
	})
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{s.requests, s.duration, s.panics} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register web metrics: %w", err)
		}
	}
	return nil
}

// Handler returns the router, for httptest and for embedding.
func (s *Server) Handler() http.Handler { return s.engine }

// Routes returns the role-grouped router for adding endpoints before Run.
func (s *Server) Routes() *Routes { return s.routes }

// Route is one mounted endpoint: its method and path template.
type Route struct{ Method, Path string }

// RouteList names every mounted route, so tests can visit them all.
func (s *Server) RouteList() []Route {
	var out []Route
	for _, r := range s.engine.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path})
	}
	return out
}

// SetAuth replaces the accepted tokens; a config reload calls it while
// serving, so the list is swapped atomically.
func (s *Server) SetAuth(a config.Auth) {
	tokens := newTokens(a)
	s.tokens.Store(&tokens)
}

// TLS reports whether the server serves HTTPS.
func (s *Server) TLS() bool { return s.tlsConfig != nil }

// Listen binds server.listen (which may be 127.0.0.1:0) without serving
// yet, so the caller learns the address first; Run uses this listener.
// Calling it again returns the same listener.
func (s *Server) Listen() (net.Listener, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln, nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", s.listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.listen, err)
	}
	s.ln = ln
	return ln, nil
}

// Addr is the bound address, or nil before Listen.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Run serves until ctx is done, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish within server.shutdown_timeout,
// and then closes what is left (logged, not an error: the stop was asked
// for). It listens first if Listen was not called. It runs once.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("web server already running")
	}
	s.running = true
	s.mu.Unlock()

	ln, err := s.Listen()
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() {
		if s.tlsConfig != nil {
			errc <- s.srv.ServeTLS(ln, "", "")
		} else {
			errc <- s.srv.Serve(ln)
		}
	}()
	scheme := "http"
	if s.tlsConfig != nil {
		scheme = "https"
	}
	s.log.Info("http server listening", "addr", ln.Addr().String(), "scheme", scheme)

	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.shutdown)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.log.Warn("http shutdown timed out; closing remaining connections", "timeout", s.shutdown, "err", err)
		_ = s.srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	s.log.Info("http server stopped")
	return nil
}
