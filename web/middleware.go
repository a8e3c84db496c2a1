package web

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// clientIPHeader carries the client IP computed by our own parser to gin's
// c.ClientIP() (through Engine.TrustedPlatform), so handlers calling either
// get the same answer. The middleware always overwrites it: a client cannot
// set it.
const clientIPHeader = "X-Sentinel-Client-Ip"

// requestIDHeader is read from clients and echoed on every answer, in
// net/http's canonical form (X-Request-ID on the wire reads the same), so
// neither reading nor writing it allocates.
const requestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// requestInfo is what the requestID middleware leaves in the request's
// context: the ID, and the server's logger to which loggerFrom adds it
// when a handler logs (most requests never do, so no logger is built for
// them).
type requestInfo struct {
	id  string
	log *slog.Logger
}

func requestInfoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestIDKey{}).(*requestInfo)
	return ri
}

// requestContext is the request's context with its requestInfo: one
// allocation where context.WithValue and the value would be two.
type requestContext struct {
	context.Context
	info requestInfo
	// gin is the request's gin context, which NoteAuditChange reaches
	// through changeSlotKey.
	gin *gin.Context
	// idHeader and peerHeader back the X-Request-Id answer header and
	// the client IP request header, so the context and the headers'
	// value slices are one allocation per request.
	idHeader, peerHeader [1]string
}

func (c *requestContext) Value(key any) any {
	switch key.(type) {
	case requestIDKey:
		return &c.info
	case changeSlotKey:
		return changeSlot{c: c.gin}
	}
	return c.Context.Value(key)
}

// requestIDs makes the IDs of requests that come without a usable one: a
// random prefix drawn when the server is built and a counter, encoded like
// crypto/rand.Text (26 characters of base32), so they are unique within
// and across processes without reading the system's randomness for every
// request. They are not secrets.
type requestIDs struct {
	prefix [10]byte
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	ids := &requestIDs{}
	_, _ = rand.Read(ids.prefix[:]) // never fails on a supported platform
	return ids
}

var requestIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func (ids *requestIDs) next() string {
	var raw [16]byte
	copy(raw[:], ids.prefix[:])
	n := ids.n.Add(1)
	for i := 15; i >= 10; i-- {
		raw[i] = byte(n)
		n >>= 8
	}
	var text [26]byte
	requestIDEncoding.Encode(text[:], raw[:])
	return string(text[:])
}

// RequestID returns the request's ID (the client's X-Request-ID when it was
// sane, else one we generated); "" outside a Server.
func RequestID(c *gin.Context) string {
	if c.Request == nil {
		return ""
	}
	return RequestIDFrom(c.Request.Context())
}

// RequestIDFrom returns the request ID stored in a request context, for
// code that has the context but not the gin.Context.
func RequestIDFrom(ctx context.Context) string {
	if ri := requestInfoFrom(ctx); ri != nil {
		return ri.id
	}
	return ""
}

// validRequestID accepts 1 to 64 characters of letters, digits and -_.:
// so an incoming ID can go into logs and headers as it is.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '-', b == '_', b == '.', b == ':':
		default:
			return false
		}
	}
	return true
}

// requestID is the first middleware: it settles the request ID, echoes it,
// and gives the request a logger that carries it.
func (s *Server) requestID(c *gin.Context) {
	rc := &requestContext{gin: c}
	c.Request = s.startRequest(rc, c.Writer.Header(), c.Request)
	c.Next()
}

// startRequest settles r's ID (the client's X-Request-ID when sane, else a
// new one) into rc, echoes it in the answer's headers h, and returns r with
// rc as its context.
func (s *Server) startRequest(rc *requestContext, h http.Header, r *http.Request) *http.Request {
	id := r.Header.Get(requestIDHeader)
	if !validRequestID(id) {
		id = s.ids.next()
	}
	rc.Context = r.Context()
	rc.info = requestInfo{id: id, log: s.log}
	rc.idHeader[0] = id
	h[requestIDHeader] = rc.idHeader[:]
	return r.WithContext(rc)
}

// The security headers' values, shared by every answer: net/http only
// reads them, and replacing a header (Set) swaps the slice, never writes
// into it.
var (
	headerNosniff    = []string{"nosniff"}
	headerDeny       = []string{"DENY"}
	headerNoReferrer = []string{"no-referrer"}
)

// securityHeaders sets headers every answer should carry; a handler serving
// HTML or scripts may replace them before writing.
func securityHeaders(c *gin.Context) {
	setSecurityHeaders(c.Writer.Header())
	c.Next()
}

func setSecurityHeaders(h http.Header) {
	h["X-Content-Type-Options"] = headerNosniff
	h["X-Frame-Options"] = headerDeny
	h["Referrer-Policy"] = headerNoReferrer
}

// clientIP resolves the client address once (see the clientIP function)
// and hands it to gin, overwriting anything a client sent in our header.
func (s *Server) clientIPMiddleware(c *gin.Context) {
	s.setClientIP(c.Request)
	c.Next()
}

// setClientIP puts the client address into r's clientIPHeader, where gin's
// c.ClientIP() and clientIPOf find it, or removes whatever a client sent
// there when there is no valid address.
func (s *Server) setClientIP(r *http.Request) {
	ip := clientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), r.Header.Get("X-Real-Ip"), s.set.Load().trusted)
	if !ip.IsValid() {
		delete(r.Header, clientIPHeader)
		return
	}
	peer := peerString(r.RemoteAddr, ip)
	if rc, ok := r.Context().(*requestContext); ok {
		rc.peerHeader[0] = peer
		r.Header[clientIPHeader] = rc.peerHeader[:]
	} else {
		r.Header[clientIPHeader] = []string{peer}
	}
}

// clientIPOf is what gin's c.ClientIP() answers behind setClientIP, for
// requests served without gin.
func clientIPOf(r *http.Request) string {
	if v := r.Header[clientIPHeader]; len(v) > 0 && v[0] != "" {
		return v[0]
	}
	if host, _, err := net.SplitHostPort(strings.TrimSpace(r.RemoteAddr)); err == nil {
		return host
	}
	return ""
}

// peerString is ip as text, reusing the peer's own host text when ip is
// the peer (the usual case), which spares formatting it on every request.
func peerString(remote string, ip netip.Addr) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		if a, err := netip.ParseAddr(host); err == nil && a == ip && a.Zone() == "" {
			return host
		}
	}
	return ip.String()
}

// ClientIP returns the client's address as Sentinel trusts it: the peer,
// or what trusted proxies forwarded. gin's c.ClientIP() returns the same.
func ClientIP(c *gin.Context) string { return c.ClientIP() }

// quietRoutes are polled by machines every few seconds, or hit by every
// storefront page view (rum.js, beacons); their access log lines go to
// debug so they do not drown everything else (errors are still logged).
var quietRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/rum.js": true, "/rum/v1/beacons": true}

// knownMethods bounds the method label of the HTTP metrics.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// accessLog logs one line per request and records the HTTP metrics. It
// sits outside recovery so a panicking request is logged with the 500 it
// got.
func (s *Server) accessLog(c *gin.Context) {
	start := s.now()
	aborted := true
	defer func() {
		rec := recover()
		if rec == nil {
			aborted = false
		}
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		s.logRequest(c.Request, route, c.Writer.Status(), c.Writer.Size(), start, aborted)
		if rec != nil {
			panic(rec)
		}
	}()
	c.Next()
}

// logRequest records one answered request in the HTTP metrics and the
// access log. It logs the path without the query string, which may hold
// secrets; aborted means the handler panicked.
func (s *Server) logRequest(r *http.Request, route string, status, size int, start time.Time, aborted bool) {
	method := r.Method
	if !knownMethods[method] {
		method = "other"
	}
	elapsed := s.now().Sub(start)
	m := s.routeMetrics(route, method, status)
	m.requests.Inc()
	m.duration.Observe(elapsed.Seconds())

	level := slog.LevelInfo
	switch {
	case status >= 500 || aborted:
		level = slog.LevelError
	case quietRoutes[route] && status < 400:
		level = slog.LevelDebug
	}
	ctx := r.Context()
	if !aborted && !s.log.Enabled(ctx, level) {
		return // the line would be dropped: skip building it
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("route", route),
		slog.String("path", truncate(r.URL.Path, 256)),
		slog.Int("status", status),
		slog.Duration("duration", elapsed),
		slog.String("client_ip", clientIPOf(r)),
		slog.String("request_id", RequestIDFrom(ctx)),
		slog.Int("bytes", max(size, 0)),
	}
	if p, ok := PrincipalFrom(ctx); ok {
		attrs = append(attrs, slog.String("actor", p.Name))
	}
	if aborted {
		attrs = append(attrs, slog.Bool("aborted", true))
	}
	s.log.LogAttrs(ctx, level, "http request", attrs...)
}

// routeMetricKey names one series pair of the HTTP metrics.
type routeMetricKey struct {
	route, method string
	status        int
}

// routeMetric is a route's request counter and duration histogram,
// looked up in the vectors once and then kept (s.metricCache): the
// vectors' own lookup hashes every label value on every request. Routes
// are templates and methods and codes a bounded set, so the cache is too.
type routeMetric struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

func (s *Server) routeMetrics(route, method string, status int) routeMetric {
	k := routeMetricKey{route, method, status}
	if m, ok := s.metricCache.Load(k); ok {
		return m.(routeMetric)
	}
	m := routeMetric{
		requests: s.requests.WithLabelValues(route, method, strconv.Itoa(status)),
		duration: s.duration.WithLabelValues(route, method),
	}
	s.metricCache.Store(k, m)
	return m
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// recovery is the last resort: a panic in a handler is logged with its
// stack and answered 500 in JSON, and the server keeps serving. No input
// should ever get here. http.ErrAbortHandler passes through: it is how a
// handler asks net/http to cut a response it cannot finish (a backup that
// failed half-way), so the client sees a broken transfer, not a short file.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		rec := recover()
		if rec == nil {
			return
		}
		if rec == http.ErrAbortHandler { // net/http compares it by identity too
			panic(rec)
		}
		s.logPanic(loggerFrom(c), rec, c.Request.Method, c.FullPath())
		if c.Writer.Written() {
			// Headers are out; the only honest thing left is to cut it.
			panic(http.ErrAbortHandler)
		}
		abortJSON(c, http.StatusInternalServerError, "internal error")
	}()
	c.Next()
}

// logPanic counts and logs, with its stack, a panic caught while serving.
func (s *Server) logPanic(log *slog.Logger, rec any, method, route string) {
	s.panics.Inc()
	log.Error("panic serving request",
		"panic", fmt.Sprint(rec),
		"method", method,
		"route", route,
		"stack", string(debug.Stack()))
}

// bodyLimit caps every request body at the server's max_body_bytes before
// anything reads it: a declared Content-Length over the limit is refused
// 413 at once, and a chunked body is cut at the limit (reads then fail with
// *http.MaxBytesError, which BindJSON and Error answer 413). The body must
// also arrive within server.read_timeout (see readDeadline).
func (s *Server) bodyLimit(c *gin.Context) {
	st := s.set.Load()
	if !applyLimit(c, st.maxBody) {
		return
	}
	readDeadline(c, st.readTimeout)
	c.Next()
}

// readDeadline bounds reading the request body: the connection's read
// deadline is set to now + d, and lifted once the body has been read to
// its end, so a long answer (a backup) is not cut by it. A client that
// stalls mid-body gets an i/o timeout in the handler (answered 408), and
// net/http then closes the connection; a body left unread is discarded
// under the same deadline after the handler returns.
func readDeadline(c *gin.Context, d time.Duration) {
	c.Request.Body = withReadDeadline(c.Writer, c.Request.Body, d)
}

// withReadDeadline sets the read deadline for body (see readDeadline) and
// returns the body to read in its place.
func withReadDeadline(w http.ResponseWriter, body io.ReadCloser, d time.Duration) io.ReadCloser {
	if d <= 0 || body == nil || body == http.NoBody {
		return body
	}
	conn := readDeadliner(w)
	if conn == nil || conn.SetReadDeadline(time.Now().Add(d)) != nil {
		return body // not a real connection (httptest recorder)
	}
	return &deadlineBody{ReadCloser: body, rc: conn}
}

// deadliner is what net/http's response writer offers for the connection's
// read deadline (what http.ResponseController calls).
type deadliner interface {
	SetReadDeadline(time.Time) error
}

// readDeadliner finds the deadline setter under the writer's wrappers the
// way http.ResponseController does, without allocating a controller per
// request (the beacon path counts every allocation).
func readDeadliner(w http.ResponseWriter) deadliner {
	for {
		if d, ok := w.(deadliner); ok {
			return d
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

// deadlineBody lifts the read deadline when the body is read to its end.
type deadlineBody struct {
	io.ReadCloser
	rc   deadliner
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// BodyLimit lowers the body limit for one route:
// r.Ingest().POST("/api/v1/x", web.BodyLimit(64<<10), h). The server's
// max_body_bytes stays the ceiling for every body, so the operator's cap
// always holds; a larger n has no effect.
func BodyLimit(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !applyLimit(c, n) {
			return
		}
		c.Next()
	}
}

// applyLimit refuses a declared oversize body and wraps the body so reads
// stop at n. Wrapping an already wrapped body keeps the smaller limit.
func applyLimit(c *gin.Context, n int64) bool {
	if c.Request.ContentLength > n {
		msg := fmt.Sprintf("request body too large: the limit is %d bytes", n)
		if isAlertmanagerAPI(c) {
			amBodyFail(c, http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge, msg)
			return false
		}
		abortJSON(c, http.StatusRequestEntityTooLarge, msg)
		return false
	}
	if c.Request.Body != nil && c.Request.Body != http.NoBody {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
	}
	return true
}

// noRoute answers unknown paths: in JSON, or with an HTML page to a
// browser asking for one.
func (s *Server) noRoute(c *gin.Context) {
	if s.wantsPage(c) {
		s.pageError(c, http.StatusNotFound, "There is no page at "+truncate(c.Request.URL.Path, 256)+".")
		return
	}
	abortJSON(c, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", c.Request.Method, truncate(c.Request.URL.Path, 256)))
}

// wantsPage reports whether c is a browser loading a page (a GET whose
// Accept names text/html, outside the API) and an HTML page can answer it.
func (s *Server) wantsPage(c *gin.Context) bool {
	r := c.Request
	return s.pageError != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		!strings.HasPrefix(r.URL.Path, "/api/") && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// noMethod answers a known path asked with the wrong method; gin has
// already set the Allow header.
func noMethod(c *gin.Context) {
	allow := c.Writer.Header().Get("Allow")
	abortJSON(c, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s (allowed: %s)",
		truncate(c.Request.Method, 32), truncate(c.Request.URL.Path, 256), strings.TrimSpace(allow)))
}
