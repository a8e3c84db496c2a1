package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Sessions for the web pages. The API stays bearer-only; people's browsers
// exchange a token once (POST /login) for a session cookie that names a
// session kept in the store, so that every replica sees it and a restart
// keeps it. The cookie holds only a random ID (256 bits); the store keeps
// the SHA-256 of it, so a copy of the store cannot be replayed as cookies.
// A session remembers which token signed it in (by the token's hash), and
// every request looks that token up again: a token removed or re-roled by
// a config reload ends or changes its sessions at once.

// SessionCookie is the name of the UI's session cookie.
const SessionCookie = "sentinel_session"

// DefaultSessionTTL is how long a session lasts when ui.session_ttl is unset.
const DefaultSessionTTL = 12 * time.Hour

// DefaultMaxSessionsPerOwner bounds the sessions one owner (a token's
// name) keeps; past it the owner's oldest session ends.
const DefaultMaxSessionsPerOwner = 1000

// SessionOptions configure the UI's sessions.
type SessionOptions struct {
	// TTL is a session's absolute lifetime; 0 means DefaultSessionTTL.
	TTL time.Duration
	// Secure marks the cookie Secure even when this server speaks plain
	// HTTP (TLS ends at a proxy: external_url is https). A TLS server
	// always sets it.
	Secure bool
	// MaxPerOwner bounds each owner's sessions; 0 means
	// DefaultMaxSessionsPerOwner. Signing in again and again ends only
	// that owner's oldest sessions, never anyone else's.
	MaxPerOwner int
	// Store keeps the sessions; nil keeps them in this process
	// (NewMemorySessions), where a restart ends them.
	Store SessionStore
}

// SessionStore keeps the UI's sessions (store.Sessions on the configured
// store; MemorySessions in memory). Implementations are safe for
// concurrent use.
type SessionStore interface {
	// CreateSession stores s and, in the same transaction, ends s.Owner's
	// expired sessions and then its oldest ones until at most
	// maxPerOwner remain, s included.
	CreateSession(ctx context.Context, s model.Session, maxPerOwner int, now time.Time) error
	// Session returns the session with the given ID (expired or not);
	// false when there is none.
	Session(ctx context.Context, id string) (model.Session, bool, error)
	// DeleteSession ends a session; a missing one is not an error.
	DeleteSession(ctx context.Context, id string) error
	// PruneSessions deletes the sessions expired at now and returns how
	// many it deleted.
	PruneSessions(ctx context.Context, now time.Time) (int, error)
}

// Sessions is the UI's session middleware over a SessionStore. Safe for
// concurrent use.
type Sessions struct {
	srv   *Server
	store SessionStore
	// opts holds the TTL, Secure flag and per-owner cap in force
	// (Configure).
	opts atomic.Pointer[SessionOptions]
	// sso is single sign-on, off until ConfigureSSO turns it on; peopleFn
	// lists who may sign in with it.
	sso      sso
	peopleFn atomic.Pointer[func() []Person]
}

// SessionInfo is the signed-in person on a UI request.
type SessionInfo struct {
	Principal Principal
	// CSRF is the session's anti-forgery token; every form carries it in a
	// hidden field named csrf.
	CSRF string
	// Person is true when single sign-on started the session: Principal
	// names a person of people:, not a token.
	Person bool
}

// Sessions creates the session middleware for the UI routes.
func (r *Routes) Sessions(opts SessionOptions) *Sessions {
	s := &Sessions{srv: r.srv, store: opts.Store}
	if s.store == nil {
		s.store = NewMemorySessions()
	}
	s.Configure(opts)
	return s
}

// Configure applies a reloaded ui: section: new sessions last the new TTL
// and count against the new per-owner cap; sessions already signed in keep
// theirs. The store stays the one the sessions were made with.
func (s *Sessions) Configure(opts SessionOptions) {
	if opts.TTL <= 0 {
		opts.TTL = DefaultSessionTTL
	}
	if opts.MaxPerOwner <= 0 {
		opts.MaxPerOwner = DefaultMaxSessionsPerOwner
	}
	opts.Store = s.store
	s.opts.Store(&opts)
}

// ttl, maxPerOwner and secure are the settings in force; a TLS listener
// always marks the cookie Secure.
func (s *Sessions) ttl() time.Duration { return s.opts.Load().TTL }
func (s *Sessions) maxPerOwner() int   { return s.opts.Load().MaxPerOwner }
func (s *Sessions) secure() bool {
	return s.opts.Load().Secure || (s.srv != nil && s.srv.TLS())
}

// Store is where the sessions are kept.
func (s *Sessions) Store() SessionStore { return s.store }

func randomText() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// sessionID is the stored ID of a cookie value.
func sessionID(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
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
// returns the principal, or false with the reason to show; err is set
// when the session could not be stored.
func (s *Sessions) SignIn(c *gin.Context, token string) (p Principal, why string, ok bool, err error) {
	if len(token) == 0 || len(token) > maxAuthorizationLen {
		return Principal{}, "That token is not valid.", false, nil
	}
	p, ok = lookup(s.tokens(), token)
	if !ok {
		return Principal{}, "That token is not valid.", false, nil
	}
	if !classViewer.allows(p.Role) {
		return Principal{}, "This token's role (" + string(p.Role) + ") cannot sign in to the dashboards.", false, nil
	}
	tok := sha256.Sum256([]byte(token))
	if err := s.start(c, p, hex.EncodeToString(tok[:])); err != nil {
		return Principal{}, "", false, err
	}
	return p, "", true, nil
}

// start stores a new session for p, signed in by credential (a token's
// hash, or personCredential and a person's name), and sets its cookie.
func (s *Sessions) start(c *gin.Context, p Principal, credential string) error {
	cookie := randomText()
	now := s.now()
	se := model.Session{
		ID: sessionID(cookie), Owner: p.Name, Role: string(p.Role), Credential: credential,
		CSRF: randomText(), Created: now, Expires: now.Add(s.ttl()),
	}
	if err := s.store.CreateSession(c.Request.Context(), se, s.maxPerOwner(), now); err != nil {
		return fmt.Errorf("store the session: %w", err)
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: SessionCookie, Value: cookie, Path: "/", MaxAge: int(s.ttl() / time.Second),
		HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// SignOut ends the request's session, if any, and clears the cookie.
func (s *Sessions) SignOut(c *gin.Context) error {
	var err error
	if ck, cerr := c.Request.Cookie(SessionCookie); cerr == nil && validCookie(ck.Value) {
		err = s.store.DeleteSession(c.Request.Context(), sessionID(ck.Value))
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
	return err
}

// validCookie bounds what is looked up: IDs are 43 characters.
func validCookie(v string) bool { return len(v) > 0 && len(v) <= 128 }

// current returns the request's live session and its principal as the
// token list says now; err is set when the store could not be read.
func (s *Sessions) current(r *http.Request) (SessionInfo, bool, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || !validCookie(ck.Value) {
		return SessionInfo{}, false, nil
	}
	se, ok, err := s.store.Session(r.Context(), sessionID(ck.Value))
	if err != nil || !ok || !se.Live(s.now()) {
		return SessionInfo{}, false, err
	}
	if name, ok := strings.CutPrefix(se.Credential, personCredential); ok {
		p, ok := s.personPrincipal(name)
		if !ok || !classViewer.allows(p.Role) {
			return SessionInfo{}, false, nil
		}
		return SessionInfo{Principal: p, CSRF: se.CSRF, Person: true}, true, nil
	}
	if values, ok := strings.CutPrefix(se.Credential, roleCredential); ok {
		p, ok := s.rolePrincipal(se.Owner, values)
		if !ok || !classViewer.allows(p.Role) {
			return SessionInfo{}, false, nil
		}
		return SessionInfo{Principal: p, CSRF: se.CSRF}, true, nil
	}
	var tok [sha256.Size]byte
	raw, err := hex.DecodeString(se.Credential)
	if err != nil || len(raw) != len(tok) {
		return SessionInfo{}, false, nil
	}
	copy(tok[:], raw)
	p, ok := lookupHash(s.tokens(), tok)
	if !ok || !classViewer.allows(p.Role) {
		return SessionInfo{}, false, nil
	}
	return SessionInfo{Principal: p, CSRF: se.CSRF}, true, nil
}

// Require is the middleware of the UI pages: it loads the session, puts the
// principal in the request context (so Actor works) and the session on the
// gin context; without a live session it calls onMissing, which answers,
// and when the store cannot be read, onError.
func (s *Sessions) Require(onMissing gin.HandlerFunc, onError func(*gin.Context, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		info, ok, err := s.current(c.Request)
		if err != nil {
			onError(c, err)
			c.Abort()
			return
		}
		if !ok {
			onMissing(c)
			c.Abort()
			return
		}
		c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), principalKey{}, info.Principal))
		setActor(c, model.Actor{Name: info.Principal.Name, Role: string(info.Principal.Role), Channel: model.ChannelUI, Person: info.Person})
		c.Set(ginSessionKey, info)
		c.Next()
	}
}

// Peek reports the request's session without requiring one (the sign-in
// page sends a signed-in person on).
func (s *Sessions) Peek(c *gin.Context) (SessionInfo, bool, error) { return s.current(c.Request) }

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
