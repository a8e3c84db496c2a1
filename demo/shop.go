// Package demo is the demo storefront that `sentinel demo` runs on its own
// listener: product, cart and checkout pages carrying the RUM snippet, JSON
// APIs for cart and checkout, and a fault panel that makes the shop slow or
// broken on demand, so every Sentinel signal can be seen firing for real.
//
// It imports nothing from the module: Sentinel watches it from outside, the
// way it watches any shop.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Defaults for the zero values of Options, chosen so that `sentinel demo`
// works without flags next to a Sentinel on its default address.
const (
	// DefaultListen is the shop's address: a different origin from
	// Sentinel's 127.0.0.1:8080, so the RUM beacons' CORS path is real.
	DefaultListen = "127.0.0.1:8081"
	// DefaultSentinelURL is where the pages load rum.js from.
	DefaultSentinelURL = "http://127.0.0.1:8080"
	// DefaultSite is the RUM site name the pages report under.
	DefaultSite = "demo-shop"
	// DefaultMaxCarts bounds the carts kept in memory; the oldest is
	// evicted beyond it, so nobody can grow the demo without bound.
	DefaultMaxCarts = 10000
	// DefaultShutdownTimeout bounds how long Run waits for requests in
	// flight once its context is done.
	DefaultShutdownTimeout = 5 * time.Second
)

// maxBodyBytes caps every request body the shop reads.
const maxBodyBytes = 64 << 10

// Options configures a Shop; every zero value has a working default.
type Options struct {
	// Listen is the TCP address Listen binds ("127.0.0.1:0" picks a free port).
	Listen string
	// SentinelURL is the base URL of the Sentinel that serves /rum.js.
	SentinelURL string
	// Site is the RUM site name put on the snippet's data-site attribute.
	Site string
	// Logger receives the shop's logs; nil discards them.
	Logger *slog.Logger
	// MaxCarts bounds the carts held in memory (default DefaultMaxCarts).
	MaxCarts int
	// ShutdownTimeout bounds Run's graceful shutdown (default DefaultShutdownTimeout).
	ShutdownTimeout time.Duration

	// Now is the clock (default time.Now); tests fix it.
	Now func() time.Time
	// Rand returns a number in [0, 1) for the checkout error roll (default
	// math/rand/v2); it must be safe for concurrent use. Tests seed it.
	Rand func() float64
	// Sleep waits d or until ctx is done, for the latency fault (default a
	// context-aware timer); tests record the durations instead of sleeping.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Shop is the demo storefront: an http.Handler plus an optional listener
// of its own. It is safe for concurrent use; carts and faults live in memory.
type Shop struct {
	opts    Options
	log     *slog.Logger
	handler http.Handler
	pages   pageSet
	catalog catalog
	carts   *cartStore

	faultsMu sync.RWMutex
	faults   Faults

	lnMu    sync.Mutex
	ln      net.Listener
	running bool
}

// New builds a Shop from opts, filling in defaults. It does not listen.
func New(opts Options) *Shop {
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	if opts.SentinelURL == "" {
		opts.SentinelURL = DefaultSentinelURL
	}
	opts.SentinelURL = strings.TrimRight(opts.SentinelURL, "/")
	if opts.Site == "" {
		opts.Site = DefaultSite
	}
	if opts.MaxCarts <= 0 {
		opts.MaxCarts = DefaultMaxCarts
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = mrand.Float64
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepContext
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Shop{
		opts:    opts,
		log:     logger.With("component", "demo"),
		pages:   mustParsePages(),
		catalog: newCatalog(),
		carts:   newCartStore(opts.MaxCarts),
	}
	s.handler = s.routes()
	return s
}

// Handler returns the shop's routes (pages, APIs, fault panel), for tests
// and for callers that serve it themselves.
func (s *Shop) Handler() http.Handler { return s.handler }

// Faults returns the faults currently injected.
func (s *Shop) Faults() Faults {
	s.faultsMu.RLock()
	defer s.faultsMu.RUnlock()
	return s.faults
}

// SetFaults replaces the injected faults after validating them; the zero
// Faults clears everything.
func (s *Shop) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.faultsMu.Lock()
	s.faults = f
	s.faultsMu.Unlock()
	s.logFaults(f)
	return nil
}

// updateFaults applies a partial update atomically and returns the result.
func (s *Shop) updateFaults(p faultsPatch) (Faults, error) {
	s.faultsMu.Lock()
	f := p.apply(s.faults)
	if err := f.Validate(); err != nil {
		s.faultsMu.Unlock()
		return Faults{}, err
	}
	s.faults = f
	s.faultsMu.Unlock()
	s.logFaults(f)
	return f, nil
}

// logFaults records a fault change, so the demo's story shows in the logs.
func (s *Shop) logFaults(f Faults) {
	s.log.Info("demo faults set", "checkout_error_rate", f.CheckoutErrorRate,
		"latency", f.Latency.String(), "product_js_error", f.ProductJSError)
}

// Listen binds the configured address, so Addr and URL are known before
// Run serves. The Shop owns the returned listener and closes it when Run
// returns; callers only read its address. Calling Listen again returns the
// same listener.
func (s *Shop) Listen() (net.Listener, error) {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.ln != nil {
		return s.ln, nil
	}
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("demo shop: listen on %s: %w", s.opts.Listen, err)
	}
	s.ln = ln
	return ln, nil
}

// Addr returns the bound address ("127.0.0.1:8081"), or the configured one
// before Listen.
func (s *Shop) Addr() string {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.ln != nil {
		return s.ln.Addr().String()
	}
	return s.opts.Listen
}

// URL returns the shop's base URL, such as "http://127.0.0.1:8081".
func (s *Shop) URL() string { return "http://" + s.Addr() }

// Run serves the shop on its listener (calling Listen if needed) until ctx
// is done, then shuts down gracefully within Options.ShutdownTimeout:
// requests waiting out injected latency are released at once. It returns
// nil after a clean shutdown. A Shop runs at most once.
func (s *Shop) Run(ctx context.Context) error {
	ln, err := s.Listen()
	if err != nil {
		return err
	}
	s.lnMu.Lock()
	if s.running {
		s.lnMu.Unlock()
		return errors.New("demo shop: already running")
	}
	s.running = true
	s.lnMu.Unlock()

	// Requests see a context that ends when shutdown starts, so a handler
	// sleeping out the latency fault does not hold the shutdown up.
	baseCtx, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      MaxLatency + 30*time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("demo shop listening", "url", s.URL())

	select {
	case err := <-errc:
		return fmt.Errorf("demo shop: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	cancelBase()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		_ = srv.Close()
		<-errc
		return fmt.Errorf("demo shop: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("demo shop: serve on %s: %w", ln.Addr(), err)
	}
	s.log.Info("demo shop stopped")
	return nil
}

// sleepContext waits d, or until ctx is done (returning its error).
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newID returns a random identifier with a prefix, such as "cart_k3j...".
func newID(prefix string) string {
	return prefix + strings.ToLower(rand.Text()[:20])
}
