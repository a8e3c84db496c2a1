package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/config"
)

// Sessions for the web pages. The API stays bearer-only; people's browsers
// exchange a token once (POST /login) for a session cookie that names a
// server-side session. The cookie holds only a random ID (256 bits); the
// server keeps the SHA-256 of it, so a copy of the session table (a heap
// dump) cannot be replayed as cookies. A session remembers which token
// signed it in (by the token's hash), and every request looks that token
// up again: a token removed or re-roled by a config reload ends or changes
// its sessions at once.

// SessionCookie is the name of the UI's session cookie.
const SessionCookie = "sentinel_session"

// DefaultSessionTTL is how long a session lasts when ui.session_ttl is unset.
const DefaultSessionTTL = 12 * time.Hour

// defaultMaxSessions bounds the session table; past it, expired sessions
// are swept and then the oldest is dropped.
const defaultMaxSessions = 10000

// SessionOptions configure the UI's sessions.
type SessionOptions struct {
	// TTL is a session's absolute lifetime; 0 means DefaultSessionTTL.
	TTL time.Duration
	// Secure marks the cookie Secure even when this server speaks plain
	// HTTP (TLS ends at a proxy: external_url is https). A TLS server
	// always sets it.
	Secure bool
	// MaxSessions bounds the table; 0 means 10,000.
	MaxSessions int
}

// Sessions is the UI's in-memory session store and the middleware that
// reads it. Sessions do not survive a restart: people sign in again.
// Safe for concurrent use.
type Sessions struct {
	srv *Server
	max int
	// opts holds the TTL and Secure flag in force (Configure).
	opts atomic.Pointer[SessionOptions]

	mu sync.Mutex
	m  map[[sha256.Size]byte]*session
}

type session struct {
	token   [sha256.Size]byte // hash of the token that signed in
	csrf    string
	created time.Time
	expires time.Time
}

// SessionInfo is the signed-in person on a UI request.
type SessionInfo struct {
	Principal Principal
	// CSRF is the session's anti-forgery token; every form carries it in a
	// hidden field named csrf.
	CSRF string
}

type sessionKey struct{}

// Sessions creates the session store for the UI routes.
func (r *Routes) Sessions(opts SessionOptions) *Sessions {
	s := &Sessions{srv: r.srv, max: opts.MaxSessions, m: map[[sha256.Size]byte]*session{}}
	if s.max <= 0 {
		s.max = defaultMaxSessions
	}
	s.Configure(opts)
	return s
}

// Configure applies a reloaded ui: section: new sessions last the new
// TTL; sessions already signed in keep theirs.
func (s *Sessions) Configure(opts SessionOptions) {
	if opts.TTL <= 0 {
		opts.TTL = DefaultSessionTTL
	}
	s.opts.Store(&opts)
}

// ttl and secure are the settings in force; a TLS listener always marks
// the cookie Secure.
func (s *Sessions) ttl() time.Duration { return s.opts.Load().TTL }
func (s *Sessions) secure() bool {
	return s.opts.Load().Secure || (s.srv != nil && s.srv.TLS())
}

func randomText() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Sessions) now() time.Time {
	if s.srv != nil {
		return s.srv.now()
	}
	return time.Now()
}

func (s *Sessions) tokens() []tokenEntry {
	if s.srv == nil {
		return nil
	}
	return *s.srv.tokens.Load()
}

// lookupHash finds the principal of the token whose hash is h, comparing
// against every token like lookup does.
func lookupHash(tokens []tokenEntry, h [sha256.Size]byte) (Principal, bool) {
	match := -1
	for i := range tokens {
		if subtle.ConstantTimeCompare(h[:], tokens[i].hash[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return Principal{}, false
	}
	return tokens[match].principal, true
}

// SignIn checks token and, when it is a person's token (viewer, responder
// or admin; never ingest), starts a session and sets its cookie. It
// returns the principal, or false with the reason to show.
func (s *Sessions) SignIn(c *gin.Context, token string) (Principal, string, bool) {
	if len(token) == 0 || len(token) > maxAuthorizationLen {
		return Principal{}, "That token is not valid.", false
	}
	p, ok := lookup(s.tokens(), token)
	if !ok {
		return Principal{}, "That token is not valid.", false
	}
	if !classViewer.allows(p.Role) {
		return Principal{}, "This token's role (" + string(p.Role) + ") cannot sign in to the dashboards.", false
	}
	id := randomText()
	now := s.now()
	se := &session{token: sha256.Sum256([]byte(token)), csrf: randomText(), created: now, expires: now.Add(s.ttl())}
	s.mu.Lock()
	if len(s.m) >= s.max {
		s.sweepLocked(now)
	}
	s.m[sha256.Sum256([]byte(id))] = se
	s.mu.Unlock()
	http.SetCookie(c.Writer, &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/", MaxAge: int(s.ttl() / time.Second),
		HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode,
	})
	return p, "", true
}

// sweepLocked drops expired sessions and, if the table is still full, the
// oldest one.
func (s *Sessions) sweepLocked(now time.Time) {
	var oldestKey [sha256.Size]byte
	var oldest *session
	for k, se := range s.m {
		if !now.Before(se.expires) {
			delete(s.m, k)
			continue
		}
		if oldest == nil || se.created.Before(oldest.created) {
			oldest, oldestKey = se, k
		}
	}
	if len(s.m) >= s.max && oldest != nil {
		delete(s.m, oldestKey)
	}
}

// Len is the number of sessions held (expired ones included until swept).
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// SignOut ends the request's session, if any, and clears the cookie.
func (s *Sessions) SignOut(c *gin.Context) {
	if ck, err := c.Request.Cookie(SessionCookie); err == nil {
		s.mu.Lock()
		delete(s.m, sha256.Sum256([]byte(ck.Value)))
		s.mu.Unlock()
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
}

// current returns the request's live session and its principal as the
// token list says now.
func (s *Sessions) current(r *http.Request) (SessionInfo, bool) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || len(ck.Value) == 0 || len(ck.Value) > 128 {
		return SessionInfo{}, false
	}
	key := sha256.Sum256([]byte(ck.Value))
	now := s.now()
	s.mu.Lock()
	se := s.m[key]
	if se != nil && !now.Before(se.expires) {
		delete(s.m, key)
		se = nil
	}
	var tok [sha256.Size]byte
	var csrf string
	if se != nil {
		tok, csrf = se.token, se.csrf
	}
	s.mu.Unlock()
	if se == nil {
		return SessionInfo{}, false
	}
	p, ok := lookupHash(s.tokens(), tok)
	if !ok || !classViewer.allows(p.Role) {
		return SessionInfo{}, false
	}
	return SessionInfo{Principal: p, CSRF: csrf}, true
}

// Require is the middleware of the UI pages: it loads the session, puts the
// principal in the request context (so Actor works) and the session on the
// gin context; without a live session it calls onMissing, which answers.
func (s *Sessions) Require(onMissing gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		info, ok := s.current(c.Request)
		if !ok {
			onMissing(c)
			c.Abort()
			return
		}
		c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), principalKey{}, info.Principal))
		c.Set(ginSessionKey, info)
		c.Next()
	}
}

// Peek reports the request's session without requiring one (the sign-in
// page sends a signed-in person on).
func (s *Sessions) Peek(c *gin.Context) (SessionInfo, bool) { return s.current(c.Request) }

const ginSessionKey = "sentinel.session"

// SessionFrom returns the session Require found for this request.
func SessionFrom(c *gin.Context) (SessionInfo, bool) {
	v, ok := c.Get(ginSessionKey)
	if !ok {
		return SessionInfo{}, false
	}
	info, ok := v.(SessionInfo)
	return info, ok
}

// CheckCSRF reports whether a form POST carries the session's CSRF token
// in its csrf field and, when the browser says where it comes from, comes
// from this same origin. Both checks are needed on every state change.
func CheckCSRF(c *gin.Context) bool {
	info, ok := SessionFrom(c)
	if !ok || info.CSRF == "" {
		return false
	}
	if !SameOrigin(c.Request) {
		return false
	}
	got := c.PostForm("csrf")
	return subtle.ConstantTimeCompare([]byte(got), []byte(info.CSRF)) == 1
}

// SameOrigin reports whether the request's Origin (or, without one, its
// Referer) names this host; a request carrying neither passes, as old
// browsers and tools send none (the CSRF token still guards it).
func SameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	if src == "" {
		return true
	}
	if src == "null" {
		return false
	}
	u, err := url.Parse(src)
	if err != nil {
		return false
	}
	return u.Host == r.Host
}

// RoleAllowsResponding reports whether role may take incident actions, by
// the same policy as the responder API endpoints.
func RoleAllowsResponding(role config.Role) bool { return classResponder.allows(role) }
