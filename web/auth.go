package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Principal is who made an authenticated request: the name of the token
// (never its value) and the role it grants. Handlers record Name as the
// actor of what they change.
type Principal struct {
	Name string
	Role config.Role
}

type principalKey struct{}

// PrincipalFrom returns the principal authenticated for the request whose
// context ctx is (a *gin.Context works too); false on public endpoints.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Actor returns the name to record for who did something: the token name,
// or "" on a public endpoint.
func Actor(c *gin.Context) string {
	p, _ := PrincipalFrom(c.Request.Context())
	return p.Name
}

// class is a family of endpoints with one access rule.
type class int

const (
	classViewer class = iota
	classResponder
	classAdmin
	classIngest
)

func (k class) String() string {
	switch k {
	case classViewer:
		return "viewer"
	case classResponder:
		return "responder"
	case classAdmin:
		return "admin"
	default:
		return "ingest"
	}
}

// allows is the whole role policy: viewer reads; responder reads and acts;
// admin does everything; ingest only feeds machine data in, and nobody but
// ingest and admin may feed it.
func (k class) allows(r config.Role) bool {
	switch k {
	case classViewer:
		return r == config.RoleViewer || r == config.RoleResponder || r == config.RoleAdmin
	case classResponder:
		return r == config.RoleResponder || r == config.RoleAdmin
	case classAdmin:
		return r == config.RoleAdmin
	case classIngest:
		return r == config.RoleIngest || r == config.RoleAdmin
	}
	return false
}

// tokenEntry is a configured token by the SHA-256 of its value, so every
// comparison has the same length and takes the same time.
type tokenEntry struct {
	hash      [sha256.Size]byte
	principal Principal
}

func newTokens(a config.Auth) []tokenEntry {
	out := make([]tokenEntry, 0, len(a.Tokens))
	for _, t := range a.Tokens {
		if !t.Token.IsSet() {
			continue
		}
		out = append(out, tokenEntry{
			hash:      sha256.Sum256([]byte(t.Token.Reveal())),
			principal: Principal{Name: t.Name, Role: t.Role},
		})
	}
	return out
}

// lookup finds the token's principal, comparing against every configured
// token without stopping early so timing reveals nothing about which (or
// how much of one) matched.
func lookup(tokens []tokenEntry, token string) (Principal, bool) {
	h := sha256.Sum256([]byte(token))
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

// maxAuthorizationLen bounds the header we look at; tokens are far shorter.
const maxAuthorizationLen = 4096

// parseBearer extracts the token from an Authorization header value of the
// form "Bearer TOKEN" (scheme case-insensitive, RFC 6750). The token is one
// run of visible ASCII characters; anything else is refused.
func parseBearer(h string) (string, bool) {
	if len(h) > maxAuthorizationLen {
		return "", false
	}
	h = strings.Trim(h, " \t")
	const scheme = "bearer"
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	rest := h[len(scheme):]
	if rest[0] != ' ' && rest[0] != '\t' {
		return "", false
	}
	tok := strings.TrimLeft(rest, " \t")
	if tok == "" {
		return "", false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] <= ' ' || tok[i] >= 0x7f {
			return "", false
		}
	}
	return tok, true
}

// requireClass authenticates the bearer token and checks its role against
// the endpoint class: 401 with WWW-Authenticate when the token is missing or
// unknown, 403 when its role may not use this class. The token value is
// never logged or echoed.
func (s *Server) requireClass(k class) gin.HandlerFunc {
	return func(c *gin.Context) {
		raw := c.GetHeader("Authorization")
		if raw == "" {
			c.Header("WWW-Authenticate", `Bearer realm="sentinel"`)
			abortJSON(c, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer TOKEN")
			return
		}
		source := c.ClientIP()
		if d := s.throttle.wait(throttleBearer, source); d > 0 {
			tooManyAttempts(c, d)
			return
		}
		tok, ok := parseBearer(raw)
		if !ok {
			s.bearerFailed(c, source, "malformed")
			c.Header("WWW-Authenticate", `Bearer realm="sentinel", error="invalid_request"`)
			abortJSON(c, http.StatusUnauthorized, "malformed Authorization header: want Bearer TOKEN")
			return
		}
		p, ok := lookup(*s.tokens.Load(), tok)
		if !ok {
			s.bearerFailed(c, source, "unknown token")
			c.Header("WWW-Authenticate", `Bearer realm="sentinel", error="invalid_token"`)
			abortJSON(c, http.StatusUnauthorized, "unknown token")
			return
		}
		s.throttle.succeed(throttleBearer, source)
		c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), principalKey{}, p))
		setActor(c, model.Actor{Name: p.Name, Role: string(p.Role), Channel: model.ChannelAPI})
		if k == classIngest {
			c.Set(ginIngestKey, true)
		}
		// Authenticated answers hold private data: keep them out of caches.
		c.Header("Cache-Control", "no-store")
		if !k.allows(p.Role) {
			abortJSON(c, http.StatusForbidden, fmt.Sprintf("token %q has role %s, which may not use %s endpoints", p.Name, p.Role, k))
			return
		}
		c.Next()
	}
}

// bearerFailed counts a wrong bearer token against its source and logs it
// (never the token).
func (s *Server) bearerFailed(c *gin.Context, source, reason string) {
	n, wait := s.throttle.fail(throttleBearer, source)
	loggerFrom(c).Warn("bearer token refused", "reason", reason, "client_ip", source, "failures", n, "wait", wait.String())
}
