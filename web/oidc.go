package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/dashboards"
	"github.com/sentinel-oss/sentinel/model"
)

// Single sign-on for the dashboards: OpenID Connect's authorization code
// flow with PKCE. GET /login/oidc sends the browser to the provider with a
// random state, nonce and PKCE challenge, and keeps the three (and where
// to go afterwards) in a short-lived HttpOnly cookie scoped to
// /login/oidc; the callback checks the state against that cookie, trades
// the code (with the PKCE verifier) for tokens, verifies the ID token's
// signature, issuer, audience, expiry and nonce, and signs in the person
// of people: the token names. Nobody else is signed in.

// Person is someone of people: who may sign in with single sign-on, with
// the role they hold now.
type Person struct {
	Name        string
	Email       string
	OIDCSubject string
	Role        config.Role
}

// ssoCallbackPath is config.OIDCCallbackPath, where the provider sends
// the browser back.
const ssoCallbackPath = config.OIDCCallbackPath

// oidcFlowCookie carries one sign-in's state, nonce and PKCE verifier
// between GET /login/oidc and the callback.
const oidcFlowCookie = "sentinel_oidc"

// oidcFlowTTL bounds how long a person may spend at the provider.
const oidcFlowTTL = 10 * time.Minute

// oidcTimeout bounds each call to the provider (discovery, keys, token).
const oidcTimeout = 10 * time.Second

// personCredential marks a session signed in by single sign-on: it names
// the person, looked up again on every request like a token is.
const personCredential = "person:"

// roleCredential marks a session single sign-on started for someone not
// in people: under a role auth.oidc.roles maps; it holds the claim values
// that mapped, mapped again on every request so a changed mapping applies
// at once.
const roleCredential = "oidc-role:"

// OIDCOptions configure single sign-on; the zero value turns it off.
type OIDCOptions struct {
	Config config.OIDC
	// RedirectURL is server.external_url + config.OIDCCallbackPath.
	RedirectURL string
	// Client makes the calls to the provider; nil uses a client with a
	// timeout of oidcTimeout.
	Client *http.Client
}

// ssoProvider is the provider discovered for one configuration; it is
// discovered on first use (so a provider that is down at start does not
// stop Sentinel) and again after a failure.
type ssoProvider struct {
	opts OIDCOptions
	mu   sync.Mutex
	prov *oidc.Provider
}

type sso struct {
	cur atomic.Pointer[ssoProvider]
}

// configure applies a (reloaded) auth.oidc section.
func (s *sso) configure(o OIDCOptions) {
	if !o.Config.Enabled() {
		s.cur.Store(nil)
		return
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: oidcTimeout}
	}
	s.cur.Store(&ssoProvider{opts: o})
}

func (s *sso) enabled() bool { return s.cur.Load() != nil }

func (p *ssoProvider) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, p.opts.Client)
}

// provider returns the discovered provider, discovering it now if needed.
func (p *ssoProvider) provider(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.prov != nil {
		return p.prov, nil
	}
	ctx, cancel := context.WithTimeout(p.ctx(ctx), oidcTimeout)
	defer cancel()
	prov, err := oidc.NewProvider(ctx, p.opts.Config.Issuer)
	if err != nil {
		return nil, err
	}
	p.prov = prov
	return prov, nil
}

func (p *ssoProvider) oauth(prov *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.opts.Config.ClientID,
		ClientSecret: p.opts.Config.ClientSecret.Reveal(),
		RedirectURL:  p.opts.RedirectURL,
		Endpoint:     prov.Endpoint(),
		Scopes:       append([]string{oidc.ScopeOpenID}, p.opts.Config.Scopes...),
	}
}

// flow is what the flow cookie holds: one sign-in's secrets, where to go
// afterwards, and when it lapses.
type flow struct {
	state, nonce, verifier, next string
	expires                      time.Time
}

// flowKey is the key the flow cookie is signed with: derived from the
// client secret, so every replica shares it and nobody without the
// secret can make or alter a cookie.
func (p *ssoProvider) flowKey() []byte {
	m := hmac.New(sha256.New, []byte(p.opts.Config.ClientSecret.Reveal()))
	m.Write([]byte("sentinel oidc flow cookie v1"))
	return m.Sum(nil)
}

// encode signs f with key: base64(fields) "." base64(HMAC-SHA256).
func (f flow) encode(key []byte) string {
	v := url.Values{"s": {f.state}, "n": {f.nonce}, "v": {f.verifier}, "next": {f.next}, "e": {strconv.FormatInt(f.expires.Unix(), 10)}}
	body := base64.RawURLEncoding.EncodeToString([]byte(v.Encode()))
	return body + "." + base64.RawURLEncoding.EncodeToString(flowMAC(key, body))
}

func flowMAC(key []byte, body string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// Why a flow cookie is refused.
var (
	errFlowForged  = errors.New("the sign-in cookie was altered or was not made by this Sentinel")
	errFlowExpired = errors.New("the sign-in took too long")
)

// decodeFlow checks the cookie's signature before reading anything in
// it, then its expiry.
func decodeFlow(key []byte, s string, now time.Time) (flow, error) {
	if len(s) > 4096 {
		return flow{}, errFlowForged
	}
	body, sig, ok := strings.Cut(s, ".")
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(mac, flowMAC(key, body)) {
		return flow{}, errFlowForged
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return flow{}, errFlowForged
	}
	v, err := url.ParseQuery(string(raw))
	if err != nil {
		return flow{}, errFlowForged
	}
	exp, err := strconv.ParseInt(v.Get("e"), 10, 64)
	f := flow{state: v.Get("s"), nonce: v.Get("n"), verifier: v.Get("v"), next: safeNext(v.Get("next")), expires: time.Unix(exp, 0)}
	if err != nil || f.state == "" || f.nonce == "" || f.verifier == "" {
		return flow{}, errFlowForged
	}
	if !now.Before(f.expires) {
		return flow{}, errFlowExpired
	}
	return f, nil
}

func (u *ui) setFlowCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: oidcFlowCookie, Value: value, Path: "/login/oidc", MaxAge: maxAge,
		HttpOnly: true, Secure: u.ses.secure(), SameSite: http.SameSiteLaxMode,
	})
}

// ssoFailed answers a sign-in that did not work with the sign-in page and
// the reason, logged without any secret.
func (u *ui) ssoFailed(c *gin.Context, status int, why string, err error) {
	setActor(c, model.Actor{Name: "single sign-on", Channel: model.ChannelUI})
	attrs := []any{"reason", why, "client_ip", c.ClientIP()}
	if err != nil {
		attrs = append(attrs, "err", err.Error())
	}
	loggerFrom(c).Warn("single sign-on refused", attrs...)
	u.write(c, status, func(w io.Writer) error {
		return u.d.Login(w, dashboards.LoginForm{Next: "/", Error: why, SSO: u.ses.sso.enabled()})
	})
}

// ssoStart is GET /login/oidc: off to the provider.
func (u *ui) ssoStart(c *gin.Context) {
	p := u.ses.sso.cur.Load()
	if p == nil {
		u.errorPage(c, http.StatusNotFound, "Single sign-on is not configured.")
		return
	}
	prov, err := p.provider(c.Request.Context())
	if err != nil {
		u.ssoFailed(c, http.StatusBadGateway, "The sign-on provider cannot be reached right now; try again in a moment, or sign in with a token.", err)
		return
	}
	f := flow{state: randomText(), nonce: randomText(), verifier: oauth2.GenerateVerifier(), next: safeNext(c.Query("next")), expires: u.ses.now().Add(oidcFlowTTL)}
	u.setFlowCookie(c, f.encode(p.flowKey()), int(oidcFlowTTL/time.Second))
	c.Redirect(http.StatusFound, p.oauth(prov).AuthCodeURL(f.state, oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier)))
}

// ssoCallback is GET /login/oidc/callback: the provider sends the browser
// back with a code, or with an error.
func (u *ui) ssoCallback(c *gin.Context) {
	p := u.ses.sso.cur.Load()
	if p == nil {
		u.errorPage(c, http.StatusNotFound, "Single sign-on is not configured.")
		return
	}
	th, source := u.ses.srv.throttle, c.ClientIP()
	if d := th.wait(throttleLogin, source); d > 0 {
		retryAfter(c, d)
		u.ssoFailed(c, http.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-ins from your address. Try again in %s.", model.SpokenDuration(d.Round(time.Second))), nil)
		return
	}
	fail := func(status int, why string, err error) {
		th.fail(throttleLogin, source)
		u.ssoFailed(c, status, why, err)
	}
	ck, err := c.Request.Cookie(oidcFlowCookie)
	u.setFlowCookie(c, "", -1) // one use
	if err != nil {
		fail(http.StatusBadRequest, "This sign-in has expired or was started in another browser; sign in again.", nil)
		return
	}
	f, err := decodeFlow(p.flowKey(), ck.Value, u.ses.now())
	switch {
	case errors.Is(err, errFlowExpired):
		fail(http.StatusBadRequest, "This sign-in has expired; sign in again.", nil)
		return
	case err != nil:
		fail(http.StatusBadRequest, "This sign-in's cookie was altered or was not made by this Sentinel; sign in again.", err)
		return
	}
	q := c.Request.URL.Query()
	if len(q.Get("state")) != len(f.state) || q.Get("state") != f.state {
		fail(http.StatusBadRequest, "This sign-in's state does not match the one Sentinel started; sign in again.", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		fail(http.StatusUnauthorized, "The sign-on provider refused the sign-in ("+truncate(e, 64)+").", nil)
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 {
		fail(http.StatusBadRequest, "The sign-on provider sent no code back; sign in again.", nil)
		return
	}
	prov, err := p.provider(c.Request.Context())
	if err != nil {
		u.ssoFailed(c, http.StatusBadGateway, "The sign-on provider cannot be reached right now; try again in a moment, or sign in with a token.", err)
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx(c.Request.Context()), oidcTimeout)
	defer cancel()
	tok, err := p.oauth(prov).Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			fail(http.StatusUnauthorized, "The sign-on provider did not accept this sign-in; sign in again.", fmt.Errorf("token endpoint answered %d", re.Response.StatusCode))
			return
		}
		u.ssoFailed(c, http.StatusBadGateway, "The sign-on provider cannot be reached right now; try again in a moment, or sign in with a token.", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		fail(http.StatusUnauthorized, "The sign-on provider sent no ID token.", nil)
		return
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: p.opts.Config.ClientID, Now: u.ses.now}).Verify(ctx, raw)
	if err != nil {
		fail(http.StatusUnauthorized, "The sign-on provider's ID token could not be verified (expired, or not meant for Sentinel); sign in again.", err)
		return
	}
	if idt.Nonce != f.nonce {
		fail(http.StatusUnauthorized, "The ID token's nonce does not match this sign-in; sign in again.", nil)
		return
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
	}
	var all map[string]json.RawMessage
	if err := idt.Claims(&claims); err != nil || idt.Claims(&all) != nil {
		fail(http.StatusUnauthorized, "The ID token's claims could not be read.", err)
		return
	}
	cfg := p.opts.Config
	// From here the provider has vouched for an account: failures count
	// against it as well as the address.
	account := "oidc:" + truncate(idt.Subject, 256)
	if d := th.wait(throttleAccount, account); d > 0 {
		retryAfter(c, d)
		u.ssoFailed(c, http.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-ins for this account. Try again in %s.", model.SpokenDuration(d.Round(time.Second))), nil)
		return
	}
	fail = func(status int, why string, err error) {
		th.fail(throttleLogin, source)
		th.fail(throttleAccount, account)
		u.ssoFailed(c, status, why, err)
	}
	// signedIn finishes a sign-in whose session start returned err.
	signedIn := func(err error, a model.Actor, msg string, attrs ...any) {
		if err != nil {
			u.sessionUnreadable(c, err)
			return
		}
		th.succeed(throttleLogin, source)
		th.succeed(throttleAccount, account)
		setActor(c, a)
		loggerFrom(c).Info(msg, append(attrs, "role", a.Role)...)
		c.Redirect(http.StatusSeeOther, f.next)
	}
	person, who, ok := u.matchPerson(cfg.PersonClaim, idt.Subject, claims.Email, claims.EmailVerified)
	if ok {
		signedIn(u.ses.signInPerson(c, person), model.Actor{Name: person.Name, Role: string(person.Role), Channel: model.ChannelUI, Person: true},
			"signed in to the dashboards with single sign-on", "person", person.Name)
		return
	}
	if cfg.RoleClaim == "" {
		fail(http.StatusForbidden, "Sign-in refused: no person matches and no role maps. "+who, nil)
		return
	}
	values := mappedValues(cfg, claimStrings(all[cfg.RoleClaim]))
	role, mapped := cfg.MappedRole(values)
	if !mapped {
		fail(http.StatusForbidden, "Sign-in refused: no person matches and no role maps. "+who+
			" None of your "+truncate(cfg.RoleClaim, 64)+" values is mapped to a role in auth.oidc.roles.", nil)
		return
	}
	name := identityName(cfg.PersonClaim, idt.Subject, claims.Email, claims.EmailVerified)
	signedIn(u.ses.start(c, Principal{Name: name, Role: role}, roleCredential+url.Values{"v": values}.Encode()),
		model.Actor{Name: name, Role: string(role), Channel: model.ChannelUI},
		"signed in to the dashboards with single sign-on under a mapped role", "identity", name, "claim", cfg.RoleClaim)
}

// identityName is who a session under a mapped role acts as: the address
// when person_claim is email and the provider did not call it unverified,
// else the subject.
func identityName(claim, subject, email string, verified *bool) string {
	if claim != config.OIDCClaimSubject && email != "" && (verified == nil || *verified) {
		return truncate(email, 128)
	}
	return truncate(subject, 128)
}

// Bounds on the role claim read from an ID token.
const (
	maxClaimValues   = 256
	maxClaimValueLen = 256
)

// claimStrings reads a claim that is a string or a list of strings (such
// as groups); anything else gives no values.
func claimStrings(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if len(one) > maxClaimValueLen {
			return nil
		}
		return []string{one}
	}
	var many []any
	if json.Unmarshal(raw, &many) != nil {
		return nil
	}
	out := make([]string, 0, min(len(many), maxClaimValues))
	for _, v := range many {
		if s, ok := v.(string); ok && len(s) <= maxClaimValueLen && len(out) < maxClaimValues {
			out = append(out, s)
		}
	}
	return out
}

// mappedValues keeps the claim values auth.oidc.roles names, so what the
// session stores is bounded by the configuration.
func mappedValues(cfg config.OIDC, values []string) []string {
	var out []string
	for _, v := range values {
		if _, ok := cfg.Roles[v]; ok && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// rolePrincipal is the principal of a session started under a mapped
// role: its claim values mapped by auth.oidc as configured now (no
// mapping left means signed out).
func (s *Sessions) rolePrincipal(owner, encoded string) (Principal, bool) {
	p := s.sso.cur.Load()
	v, err := url.ParseQuery(encoded)
	if p == nil || err != nil {
		return Principal{}, false
	}
	role, ok := p.opts.Config.MappedRole(v["v"])
	return Principal{Name: owner, Role: role}, ok
}

// matchPerson finds the person of people: the ID token names; otherwise
// it returns the sentence to show.
func (u *ui) matchPerson(claim, subject, email string, verified *bool) (Person, string, bool) {
	people := u.ses.people()
	switch claim {
	case config.OIDCClaimSubject:
		for _, p := range people {
			if p.OIDCSubject != "" && p.OIDCSubject == subject {
				return p, "", true
			}
		}
		return Person{}, "You signed in at the provider, but no one in Sentinel's people list has the subject " + truncate(subject, 128) + ". Ask an admin to add it as oidc_subject.", false
	default:
		if email == "" {
			return Person{}, "The sign-on provider did not send an email address; ask an admin to add the email scope.", false
		}
		if verified != nil && !*verified {
			return Person{}, "The sign-on provider says the address " + truncate(email, 128) + " is not verified.", false
		}
		for _, p := range people {
			if p.Email != "" && strings.EqualFold(p.Email, email) {
				return p, "", true
			}
		}
		return Person{}, "You signed in at the provider as " + truncate(email, 128) + ", but no one in Sentinel's people list has that address. Ask an admin to add you.", false
	}
}

// signInPerson starts a session for a person of people:, owned by their
// name (so the per-owner cap and the audit log name them).
func (s *Sessions) signInPerson(c *gin.Context, p Person) error {
	return s.start(c, Principal{Name: p.Name, Role: p.Role}, personCredential+p.Name)
}

// people lists who may sign in with single sign-on now.
func (s *Sessions) people() []Person {
	if f := s.peopleFn.Load(); f != nil {
		return (*f)()
	}
	return nil
}

// personPrincipal is the principal of a session single sign-on started:
// the person as people: says now (removed means signed out).
func (s *Sessions) personPrincipal(name string) (Principal, bool) {
	for _, p := range s.people() {
		if p.Name == name {
			return Principal{Name: p.Name, Role: p.Role}, true
		}
	}
	return Principal{}, false
}

// ConfigureSSO applies a (reloaded) auth.oidc section and people: list:
// new sign-ins use them; sessions already signed in by single sign-on
// follow the people list at once.
func (s *Sessions) ConfigureSSO(o OIDCOptions, people func() []Person) {
	s.sso.configure(o)
	if people != nil {
		s.peopleFn.Store(&people)
	}
}
