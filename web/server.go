package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
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
// before Run; gin's router is not safe to change while serving. What the
// server section configures can change while serving (see Prepare): the
// per-request settings are swapped atomically, and a change of the
// connection settings starts a new http.Server on the same listener while
// the old one drains.
type Server struct {
	log    *slog.Logger
	now    func() time.Time
	engine *gin.Engine
	// pageError, when the dashboards are mounted (MountUI), answers a
	// browser's page request with an HTML error page instead of JSON.
	pageError func(c *gin.Context, status int, msg string)
	// direct are the routes served without gin (Routes.Direct); written
	// only while building.
	direct       map[string]http.Handler
	directRoutes []Route
	routes       *Routes
	tokens       atomic.Pointer[[]tokenEntry]
	set          atomic.Pointer[settings]
	cert         atomic.Pointer[tls.Certificate]
	listen       string
	errLog       *log.Logger
	drained      sync.WaitGroup // generations shutting down after a swap

	readiness Readiness
	reloader  Reloader
	backup    BackupSource

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	panics   prometheus.Counter
	// metricCache holds a routeMetric per routeMetricKey.
	metricCache sync.Map
	ids         *requestIDs
	// throttle slows sources that get tokens wrong (throttle.go).
	throttle *throttle
	// audit records changes (audit.go); empty until SetAudit.
	audit atomic.Pointer[auditSlot]

	mu      sync.Mutex
	ln      net.Listener
	running bool
	conn    connSettings // what the next generation is built with
	gen     *generation  // serving; nil before Run
}

// settings are the server section's per-request values.
type settings struct {
	trusted     []netip.Prefix
	maxBody     int64
	readTimeout time.Duration
	shutdown    time.Duration
}

// connSettings are the http.Server's own, fixed for its lifetime.
type connSettings struct {
	readHeader time.Duration
	idle       time.Duration
	maxHeader  int
	tls        bool
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
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		log:       log.With("component", "web"),
		now:       opts.Now,
		readiness: opts.Readiness,
		reloader:  opts.Reloader,
		backup:    opts.Backup,
		ids:       newRequestIDs(),
	}
	s.errLog = slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)
	if s.now == nil {
		s.now = time.Now
	}
	sc := withServerDefaults(opts.Server)
	s.listen = sc.Listen
	commit, err := s.Prepare(sc, opts.Auth)
	if err != nil {
		return nil, err
	}
	commit()
	s.throttle = newThrottle(func() time.Time { return s.now() })
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
	e.Use(s.requestID, securityHeaders, s.clientIPMiddleware, s.accessLog, s.recovery, s.bodyLimit, s.auditMiddleware)
	e.NoRoute(s.noRoute)
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
	for _, c := range []prometheus.Collector{s.requests, s.duration, s.panics, s.throttle.failures, s.throttle.throttled} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register web metrics: %w", err)
		}
	}
	return nil
}

// Handler returns the router, for httptest and for embedding.
func (s *Server) Handler() http.Handler { return s }

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
	out = append(out, s.directRoutes...)
	return out
}

// SetAuth replaces the accepted tokens; a config reload calls it while
// serving, so the list is swapped atomically.
func (s *Server) SetAuth(a config.Auth) {
	tokens := newTokens(a)
	s.tokens.Store(&tokens)
}

// withServerDefaults fills the zero values of sc from the defaults, for
// callers (tests) that build a section by hand.
func withServerDefaults(sc config.Server) config.Server {
	def := config.Default().Server
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
	if sc.ReadTimeout <= 0 {
		sc.ReadTimeout = def.ReadTimeout
	}
	if sc.IdleTimeout <= 0 {
		sc.IdleTimeout = def.IdleTimeout
	}
	if sc.MaxHeaderBytes <= 0 {
		sc.MaxHeaderBytes = def.MaxHeaderBytes
	}
	return sc
}

// Prepare checks a server section and token list (trusted proxies, the
// TLS key pair, read from disk now so a renewed certificate is picked up)
// and returns the commit that applies them, which cannot fail. Everything
// but listen applies: per-request settings at once, and when timeouts,
// header limits or TLS on/off change, new connections go to a new
// http.Server while the old one finishes its requests (bounded by
// shutdown_timeout). listen is fixed at New.
func (s *Server) Prepare(sc config.Server, auth config.Auth) (commit func(), err error) {
	sc = withServerDefaults(sc)
	st := &settings{
		maxBody:     sc.MaxBodyBytes,
		readTimeout: sc.ReadTimeout.Std(),
		shutdown:    sc.ShutdownTimeout.Std(),
	}
	for i, p := range sc.TrustedProxies {
		pfx, err := config.ParseProxy(p)
		if err != nil {
			return nil, config.Problems{{Path: fmt.Sprintf("server.trusted_proxies[%d]", i), Message: err.Error()}}
		}
		st.trusted = append(st.trusted, pfx)
	}
	var cert *tls.Certificate
	if sc.TLS.Enabled() {
		if sc.TLS.CertFile == "" || sc.TLS.KeyFile == "" {
			return nil, config.Problems{{Path: "server.tls", Message: "cert_file and key_file must both be set"}}
		}
		c, err := tls.LoadX509KeyPair(sc.TLS.CertFile, sc.TLS.KeyFile)
		if err != nil {
			return nil, config.Problems{{Path: "server.tls", Message: fmt.Sprintf("load certificate: %v", err)}}
		}
		cert = &c
	}
	cs := connSettings{
		readHeader: min(sc.ReadHeaderTimeout.Std(), sc.ReadTimeout.Std()),
		idle:       sc.IdleTimeout.Std(),
		maxHeader:  sc.MaxHeaderBytes,
		tls:        cert != nil,
	}
	tokens := newTokens(auth)
	return func() {
		s.set.Store(st)
		s.tokens.Store(&tokens)
		if cert != nil {
			s.cert.Store(cert)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if cs == s.conn {
			return
		}
		s.conn = cs
		if s.gen != nil {
			s.swapGeneration()
		}
	}, nil
}

// TLS reports whether the server serves HTTPS.
func (s *Server) TLS() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn.tls
}

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
	s.mu.Lock()
	s.swapGeneration()
	scheme := "http"
	if s.conn.tls {
		scheme = "https"
	}
	s.mu.Unlock()
	s.log.Info("http server listening", "addr", ln.Addr().String(), "scheme", scheme)

	acceptErr := make(chan error, 1)
	go func() { acceptErr <- s.accept(ln) }()
	select {
	case err = <-acceptErr:
	case <-ctx.Done():
		_ = ln.Close()
		<-acceptErr
	}
	s.mu.Lock()
	g := s.gen
	s.gen = nil
	s.mu.Unlock()
	s.shutdownGeneration(context.WithoutCancel(ctx), g)
	s.drained.Wait()
	if err != nil {
		return fmt.Errorf("serve http: %w", err)
	}
	s.log.Info("http server stopped")
	return nil
}

// generation is one http.Server with fixed connection settings, fed the
// connections the accept loop hands it.
type generation struct {
	srv  *http.Server
	ln   *handoffListener
	done chan struct{} // closed when Serve has returned
}

// swapGeneration starts an http.Server with s.conn and makes it the one new
// connections go to; the previous one drains in the background. s.mu is
// held.
func (s *Server) swapGeneration() {
	g := &generation{
		srv: &http.Server{
			Handler:           s,
			ReadHeaderTimeout: s.conn.readHeader,
			// No ReadTimeout: the body deadline is set per request (see
			// readDeadline), so a long answer such as a backup is not
			// cancelled by a deadline meant for reading.
			IdleTimeout:    s.conn.idle,
			MaxHeaderBytes: s.conn.maxHeader,
			ErrorLog:       s.errLog,
		},
		ln:   newHandoffListener(s.ln.Addr()),
		done: make(chan struct{}),
	}
	if s.conn.tls {
		g.srv.TLSConfig = &tls.Config{
			MinVersion: tls.VersionTLS12,
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
				return s.cert.Load(), nil
			},
		}
	}
	go func() {
		defer close(g.done)
		var err error
		if g.srv.TLSConfig != nil {
			err = g.srv.ServeTLS(g.ln, "", "")
		} else {
			err = g.srv.Serve(g.ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server generation stopped", "err", err)
		}
	}()
	old := s.gen
	s.gen = g
	if old != nil {
		s.drained.Add(1)
		go func() {
			defer s.drained.Done()
			s.shutdownGeneration(context.Background(), old)
		}()
	}
}

// shutdownGeneration stops g accepting and waits for its requests to finish
// within shutdown_timeout, then closes what is left.
func (s *Server) shutdownGeneration(ctx context.Context, g *generation) {
	if g == nil {
		return
	}
	timeout := s.set.Load().shutdown
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := g.srv.Shutdown(sctx); err != nil {
		s.log.Warn("http shutdown timed out; closing remaining connections", "timeout", timeout, "err", err)
		_ = g.srv.Close()
	}
	<-g.done
}

// accept hands every connection of ln to the serving generation until ln
// is closed. Temporary errors (out of file descriptors) back off as
// net/http does.
func (s *Server) accept(ln net.Listener) error {
	var wait time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				wait = min(max(2*wait, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "wait", wait)
				time.Sleep(wait)
				continue
			}
			return err
		}
		wait = 0
		s.handoff(c)
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

// handoff gives c to the serving generation, retrying with the next one if
// that one is closing.
func (s *Server) handoff(c net.Conn) {
	for {
		s.mu.Lock()
		g := s.gen
		s.mu.Unlock()
		if g == nil {
			_ = c.Close()
			return
		}
		if g.ln.deliver(c) {
			return
		}
	}
}

// handoffListener is a net.Listener fed by the accept loop, so several
// http.Servers can take turns on one socket.
type handoffListener struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

// deliver passes c to Accept; false when the listener is closed (c is
// then still the caller's).
func (l *handoffListener) deliver(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.closed:
		return false
	}
}

// Accept implements net.Listener.
func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener; the socket itself stays open.
func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr implements net.Listener.
func (l *handoffListener) Addr() net.Addr { return l.addr }
