package web

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/dashboards"
)

// testOP is a small OpenID provider on 127.0.0.1: discovery, a JWKS with
// one RSA key, an authorize endpoint that redirects straight back with a
// code, and a token endpoint that checks the client secret and the PKCE
// verifier and returns an ID token signed with the key.
type testOP struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	now    func() time.Time
	mu     sync.Mutex
	codes  map[string]opGrant
	email  string
	nonce  string // when set, sent instead of the one asked for
	expiry time.Duration
	issuer string         // when set, the iss claim instead of the real one
	extra  map[string]any // more claims in the ID token (such as groups)
	sub    string         // the sub claim
}

type opGrant struct{ nonce, challenge string }

func newTestOP(t *testing.T, now func() time.Time) *testOP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &testOP{key: key, now: now, codes: map[string]opGrant{}, email: "ana@example.com", sub: "sub-ana", expiry: time.Hour}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		u := op.srv.URL
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
			"jwks_uri": u + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("response_type") != "code" || q.Get("client_id") != "sentinel" || q.Get("code_challenge_method") != "S256" || !strings.Contains(q.Get("scope"), "openid") {
			http.Error(w, "bad authorize request: "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		code := randomText()
		op.mu.Lock()
		op.codes[code] = opGrant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge")}
		op.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		if id != "sentinel" || secret != "op-client-secret" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		_ = r.ParseForm()
		op.mu.Lock()
		g, ok := op.codes[r.PostForm.Get("code")]
		delete(op.codes, r.PostForm.Get("code"))
		op.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		nonce, iss := g.nonce, op.srv.URL
		if op.nonce != "" {
			nonce = op.nonce
		}
		if op.issuer != "" {
			iss = op.issuer
		}
		sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: op.key, KeyID: "k1"}}, nil)
		now := op.now()
		raw, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: iss, Subject: op.sub, Audience: jwt.Audience{"sentinel"},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(op.expiry))}).
			Claims(map[string]any{"nonce": nonce, "email": op.email, "email_verified": true}).Claims(op.extra).Serialize()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": raw})
	})
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

type ssoFixture struct {
	*uiFixture
	op *testOP
	// beforeCallback, when set, runs between the provider's redirect and
	// the callback and may change the flow cookie's value.
	beforeCallback func(cookie string) string
}

func newSSOFixture(t *testing.T, issuer string) *ssoFixture {
	t.Helper()
	return newSSOFixtureWith(t, issuer, nil)
}

// newSSOFixtureWith lets edit change the auth.oidc section first.
func newSSOFixtureWith(t *testing.T, issuer string, edit func(*config.OIDC)) *ssoFixture {
	t.Helper()
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	f := newFixture(t, func(o *Options) { o.Now = now; o.Server.MaxBodyBytes = 64 << 10 })
	op := newTestOP(t, now)
	if issuer == "" {
		issuer = op.srv.URL
	}
	d, err := dashboards.New(dashboards.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	people := func() []Person {
		return []Person{{Name: "ana", Email: "Ana@Example.com", OIDCSubject: "sub-ana", Role: config.RoleAdmin}, {Name: "bo", Email: "bo@example.com", Role: config.RoleViewer}}
	}
	oc := config.OIDC{Issuer: issuer, ClientID: "sentinel", ClientSecret: config.NewSecret("op-client-secret"), Scopes: []string{"email"}, PersonClaim: config.OIDCClaimEmail}
	if edit != nil {
		edit(&oc)
	}
	ses := MountUI(f.srv.Routes(), d, UIOptions{Sessions: SessionOptions{TTL: time.Hour, MaxPerOwner: 2}, People: people,
		OIDC: OIDCOptions{RedirectURL: "http://sentinel.test" + config.OIDCCallbackPath, Config: oc}})
	return &ssoFixture{uiFixture: &uiFixture{fixture: f, ses: ses, clock: &clock, mu: &mu}, op: op}
}

// run walks the flow as a browser would: /login/oidc, the provider's
// authorize redirect, then the callback with the flow cookie (edit may
// change the callback URL). It returns the callback's answer.
func (s *ssoFixture) run(t *testing.T, edit func(*url.URL)) *httptest.ResponseRecorder {
	t.Helper()
	start := s.get(t, "/login/oidc?next=/incidents", "")
	if start.Code != http.StatusFound {
		t.Fatalf("GET /login/oidc = %d: %s", start.Code, start.Body)
	}
	var flowCookie *http.Cookie
	for _, c := range start.Result().Cookies() {
		if c.Name == oidcFlowCookie {
			flowCookie = c
		}
	}
	if flowCookie == nil || !flowCookie.HttpOnly || flowCookie.Path != "/login/oidc" {
		t.Fatalf("flow cookie = %+v", flowCookie)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(start.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || back.Host != "sentinel.test" || back.Path != config.OIDCCallbackPath {
		t.Fatalf("authorize = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if edit != nil {
		edit(back)
	}
	value := flowCookie.Value
	if s.beforeCallback != nil {
		value = s.beforeCallback(value)
	}
	return s.do(t, http.MethodGet, back.RequestURI(), "", nil, "Cookie", oidcFlowCookie+"="+value)
}

func TestSSOSignsInThePerson(t *testing.T) {
	s := newSSOFixture(t, "")
	audited := &memRecorder{}
	s.srv.SetAudit(audited)
	login := s.get(t, "/login", "")
	if !strings.Contains(login.Body.String(), `href="/login/oidc?next=%2f"`) || !strings.Contains(login.Body.String(), "Sign in with SSO") {
		t.Fatalf("login page offers no SSO:\n%s", login.Body)
	}
	// SSO is the primary action; the token form's button steps back.
	if !strings.Contains(login.Body.String(), `<a class="button primary" id="sso"`) || !strings.Contains(login.Body.String(), `<button type="submit">Sign in</button>`) {
		t.Errorf("SSO is not the primary action:\n%s", login.Body)
	}
	if plain := newUIFixture(t).get(t, "/login", ""); !strings.Contains(plain.Body.String(), `<button type="submit" class="primary">Sign in</button>`) || strings.Contains(plain.Body.String(), "SSO") {
		t.Errorf("without SSO the token form is not the primary action:\n%s", plain.Body)
	}
	rec := s.run(t, nil)
	cookie := signedInCookie(t, rec)
	page := s.get(t, "/incidents", cookie)
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "ana") {
		t.Fatalf("signed-in page = %d:\n%s", page.Code, page.Body)
	}
	se, ok, err := s.ses.Store().Session(t.Context(), sessionID(cookie))
	if err != nil || !ok || se.Owner != "ana" || se.Role != "admin" {
		t.Fatalf("session = %+v %v %v, want owned by ana as admin", se, ok, err)
	}
	if got := strings.Join(audited.got, "\n"); got != "ana|admin|ui|GET /login/oidc/callback||303|192.0.2.1" {
		t.Fatalf("audit entries:\n%s", got)
	}
	if strings.Contains(s.logs.String(), "op-client-secret") {
		t.Fatal("the client secret reached the log")
	}
	// The per-owner cap counts the person: a third sign-in ends the first.
	for range 2 {
		s.mu.Lock()
		*s.clock = s.clock.Add(time.Second)
		s.mu.Unlock()
		s.run(t, nil)
	}
	if _, ok, _ := s.ses.Store().Session(t.Context(), sessionID(cookie)); ok {
		t.Fatal("ana's oldest session outlived the per-person cap of 2")
	}
}

func TestSSORefuses(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(*testOP)
		edit   func(*url.URL)
		status int
		want   string
	}{
		{"wrong state", nil, func(u *url.URL) { q := u.Query(); q.Set("state", "forged"); u.RawQuery = q.Encode() }, http.StatusBadRequest, "state does not match"},
		{"wrong nonce", func(op *testOP) { op.nonce = "replayed" }, nil, http.StatusUnauthorized, "nonce does not match"},
		{"expired token", func(op *testOP) { op.expiry = -time.Minute }, nil, http.StatusUnauthorized, "could not be verified"},
		{"wrong issuer", func(op *testOP) { op.issuer = "https://evil.example" }, nil, http.StatusUnauthorized, "could not be verified"},
		{"unknown email", func(op *testOP) { op.email = "mallory@example.com" }, nil, http.StatusForbidden, "no one in Sentinel&#39;s people list has that address"},
		{"provider error", nil, func(u *url.URL) {
			q := u.Query()
			q.Del("code")
			q.Set("error", "access_denied")
			u.RawQuery = q.Encode()
		}, http.StatusUnauthorized, "refused the sign-in (access_denied)"},
		{"wrong code", nil, func(u *url.URL) { q := u.Query(); q.Set("code", "nope"); u.RawQuery = q.Encode() }, http.StatusUnauthorized, "did not accept this sign-in"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSSOFixture(t, "")
			audited := &memRecorder{}
			s.srv.SetAudit(audited)
			if tc.setup != nil {
				tc.setup(s.op)
			}
			rec := s.run(t, tc.edit)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
				t.Fatalf("callback = %d, want %d with %q:\n%s", rec.Code, tc.status, tc.want, rec.Body)
			}
			for _, c := range rec.Result().Cookies() {
				if c.Name == SessionCookie && c.Value != "" {
					t.Fatal("a refused sign-in set a session cookie")
				}
			}
			if len(audited.got) != 1 || !strings.HasPrefix(audited.got[0], "single sign-on||ui|GET /login/oidc/callback||") {
				t.Fatalf("audit entries: %q", audited.got)
			}
		})
	}
}

func TestSSOProviderDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close()
	s := newSSOFixture(t, down)
	rec := s.get(t, "/login/oidc", "")
	if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), "cannot be reached right now") {
		t.Fatalf("GET /login/oidc with the provider down = %d:\n%s", rec.Code, rec.Body)
	}
	// A callback without the flow's cookie is refused plainly.
	rec = s.get(t, "/login/oidc/callback?code=x&state=y", "")
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "has expired") {
		t.Fatalf("callback without a flow = %d:\n%s", rec.Code, rec.Body)
	}
}

func FuzzDecodeFlow(f *testing.F) {
	key := []byte("k")
	now := time.Unix(1_700_000_000, 0)
	f.Add(flow{state: "s", nonce: "n", verifier: "v", next: "/x", expires: now.Add(time.Minute)}.encode(key))
	f.Add("%%%")
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, s string) {
		if fl, err := decodeFlow(key, s, now); err == nil && (fl.state == "" || !strings.HasPrefix(fl.next, "/") || !now.Before(fl.expires)) {
			t.Fatalf("decodeFlow(%q) = %+v", s, fl)
		}
	})
}

// TestFlowCookieSigned: the flow cookie is read only when its HMAC checks
// out with the key it was made with and it has not lapsed.
func TestFlowCookieSigned(t *testing.T) {
	key, now := []byte("key-1"), time.Unix(1_700_000_000, 0)
	good := flow{state: "s1", nonce: "n1", verifier: "v1", next: "/incidents", expires: now.Add(10 * time.Minute)}
	enc := good.encode(key)
	if f, err := decodeFlow(key, enc, now); err != nil || f.state != "s1" || f.nonce != "n1" || f.verifier != "v1" || f.next != "/incidents" || !f.expires.Equal(good.expires) {
		t.Fatalf("round trip = %+v, %v", f, err)
	}
	body, sig, _ := strings.Cut(enc, ".")
	forgedBody := flow{state: "s1", nonce: "n1", verifier: "v1", next: "/incidents", expires: now.Add(10 * time.Hour)}.encode([]byte("other"))
	fb, _, _ := strings.Cut(forgedBody, ".")
	for name, s := range map[string]string{
		"other key":       good.encode([]byte("key-2")),
		"body swapped":    fb + "." + sig,
		"no signature":    body,
		"signature bytes": body + "." + sig[:len(sig)-2] + "AA",
		"old unsigned":    body + ".",
	} {
		if _, err := decodeFlow(key, s, now); !errors.Is(err, errFlowForged) {
			t.Errorf("%s: err = %v, want errFlowForged", name, err)
		}
	}
	if _, err := decodeFlow(key, enc, good.expires); !errors.Is(err, errFlowExpired) {
		t.Errorf("at expiry: err = %v, want errFlowExpired", err)
	}
}

// TestSSORefusesBadFlowCookie: an altered or lapsed flow cookie gets the
// login page with a plain reason, never a session.
func TestSSORefusesBadFlowCookie(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(s *ssoFixture, cookie string) string
		want string
	}{
		"tampered": {func(_ *ssoFixture, c string) string {
			body, sig, _ := strings.Cut(c, ".")
			raw, _ := base64.RawURLEncoding.DecodeString(body)
			raw = []byte(strings.Replace(string(raw), "next=%2Fincidents", "next=%2Fsettings", 1))
			return base64.RawURLEncoding.EncodeToString(raw) + "." + sig
		}, "cookie was altered or was not made by this Sentinel"},
		"expired": {func(s *ssoFixture, c string) string {
			s.mu.Lock()
			*s.clock = s.clock.Add(oidcFlowTTL + time.Second)
			s.mu.Unlock()
			return c
		}, "This sign-in has expired; sign in again."},
	} {
		t.Run(name, func(t *testing.T) {
			s := newSSOFixture(t, "")
			s.beforeCallback = func(c string) string { return tc.edit(s, c) }
			rec := s.run(t, nil)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tc.want) || !strings.Contains(rec.Body.String(), "Sign in with SSO") {
				t.Fatalf("callback = %d, want 400 login page with %q:\n%s", rec.Code, tc.want, rec.Body)
			}
			for _, c := range rec.Result().Cookies() {
				if c.Name == SessionCookie && c.Value != "" {
					t.Fatal("a refused sign-in set a session cookie")
				}
			}
		})
	}
}

// TestSSOSessionFollowsPeople: person_claim subject matches oidc_subject,
// and the session follows people[]: a new role applies at once, a person
// removed is signed out.
func TestSSOSessionFollowsPeople(t *testing.T) {
	s := newSSOFixture(t, "")
	var mu sync.Mutex
	people := []Person{{Name: "ana", OIDCSubject: "sub-ana", Role: config.RoleViewer}}
	s.ses.ConfigureSSO(OIDCOptions{RedirectURL: "http://sentinel.test" + config.OIDCCallbackPath, Config: config.OIDC{
		Issuer: s.op.srv.URL, ClientID: "sentinel", ClientSecret: config.NewSecret("op-client-secret"), PersonClaim: config.OIDCClaimSubject}},
		func() []Person { mu.Lock(); defer mu.Unlock(); return append([]Person(nil), people...) })
	s.op.email = "" // the subject alone names the person
	rec := s.run(t, nil)
	var cookie string
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie {
			cookie = c.Value
		}
	}
	if rec.Code != http.StatusSeeOther || cookie == "" {
		t.Fatalf("callback = %d: %s", rec.Code, rec.Body)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: cookie})
	if info, ok, _ := s.ses.current(req); !ok || info.Principal != (Principal{Name: "ana", Role: config.RoleViewer}) || !info.Person {
		t.Fatalf("session = %+v %v", info, ok)
	}
	mu.Lock()
	people[0].Role = config.RoleResponder
	mu.Unlock()
	if info, ok, _ := s.ses.current(req); !ok || info.Principal.Role != config.RoleResponder {
		t.Fatalf("after a new role, session = %+v %v", info, ok)
	}
	mu.Lock()
	people = nil
	mu.Unlock()
	if _, ok, _ := s.ses.current(req); ok {
		t.Fatal("a person removed from people[] is still signed in")
	}
	if page := s.get(t, "/", cookie); page.Code != http.StatusSeeOther {
		t.Fatalf("page after removal = %d, want a redirect to sign in", page.Code)
	}
}

// TestSSOMapsRoles: someone not in people: signs in under the highest
// role their groups claim maps to, acting as their address; a change of
// the mapping applies to the session at once; unmapped groups are refused.
func TestSSOMapsRoles(t *testing.T) {
	roles := func(o *config.OIDC) {
		o.RoleClaim = "groups"
		o.Roles = map[string]config.Role{"eng": config.RoleViewer, "sre-admins": config.RoleAdmin, "oncall": config.RoleResponder}
	}
	s := newSSOFixtureWith(t, "", roles)
	audited := &memRecorder{}
	s.srv.SetAudit(audited)
	s.op.email = "cy@example.com"
	s.op.extra = map[string]any{"groups": []any{"eng", "sre-admins", 7, "oncall"}}
	rec := s.run(t, nil)
	cookie := signedInCookie(t, rec)
	se, ok, err := s.ses.Store().Session(t.Context(), sessionID(cookie))
	if err != nil || !ok || se.Owner != "cy@example.com" || se.Role != "admin" {
		t.Fatalf("session = %+v %v %v, want cy@example.com as admin", se, ok, err)
	}
	if got := strings.Join(audited.got, "\n"); got != "cy@example.com|admin|ui|GET /login/oidc/callback||303|192.0.2.1" {
		t.Fatalf("audit entries:\n%s", got)
	}
	if page := s.get(t, "/incidents", cookie); page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "cy@example.com") {
		t.Fatalf("signed-in page = %d:\n%s", page.Code, page.Body)
	}
	// sre-admins no longer maps: the session drops to responder at once;
	// no mapping left signs it out.
	o := s.ses.sso.cur.Load().opts
	o.Config.Roles = map[string]config.Role{"eng": config.RoleViewer, "oncall": config.RoleResponder}
	s.ses.ConfigureSSO(o, nil)
	if info, ok, err := s.ses.current(sessionRequest(cookie)); err != nil || !ok || info.Principal.Role != config.RoleResponder || info.Person {
		t.Fatalf("after the mapping changed: %+v %v %v, want responder", info, ok, err)
	}
	o.Config.Roles = map[string]config.Role{"other": config.RoleAdmin}
	s.ses.ConfigureSSO(o, nil)
	if _, ok, _ := s.ses.current(sessionRequest(cookie)); ok {
		t.Fatal("a session whose groups no longer map is still signed in")
	}

	// A single string claim maps too; a person of people: still wins.
	s = newSSOFixtureWith(t, "", roles)
	s.op.extra = map[string]any{"groups": "eng"}
	s.op.email = "dee@example.com"
	if rec := s.run(t, nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("string claim: callback = %d: %s", rec.Code, rec.Body)
	}
	s.op.email = "ana@example.com"
	rec = s.run(t, nil)
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie {
			if se, _, _ := s.ses.Store().Session(t.Context(), sessionID(c.Value)); se.Owner != "ana" || se.Role != "admin" {
				t.Fatalf("person session = %+v, want ana as admin", se)
			}
		}
	}

	// Unmapped groups, or no groups: refused on the login page.
	for name, extra := range map[string]map[string]any{"unmapped": {"groups": []any{"marketing"}}, "no claim": nil, "not strings": {"groups": map[string]any{"eng": true}}} {
		s := newSSOFixtureWith(t, "", roles)
		audited := &memRecorder{}
		s.srv.SetAudit(audited)
		s.op.email, s.op.extra = "eve@example.com", extra
		rec := s.run(t, nil)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "no person matches and no role maps") || !strings.Contains(rec.Body.String(), "Sign in with SSO") {
			t.Fatalf("%s: callback = %d:\n%s", name, rec.Code, rec.Body)
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == SessionCookie && c.Value != "" {
				t.Fatalf("%s: a refused sign-in set a session cookie", name)
			}
		}
		if len(audited.got) != 1 || !strings.HasPrefix(audited.got[0], "single sign-on||ui|GET /login/oidc/callback||403") {
			t.Fatalf("%s: audit entries: %q", name, audited.got)
		}
	}
}

func sessionRequest(cookie string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/incidents", nil)
	r.AddCookie(&http.Cookie{Name: SessionCookie, Value: cookie})
	return r
}

func TestClaimStrings(t *testing.T) {
	for raw, want := range map[string]string{`"a"`: "a", `["a","b",1,null]`: "a,b", `{"a":1}`: "", `7`: "", ``: "", `[` + strings.Repeat(`"x",`, 300) + `"y"]`: strings.TrimSuffix(strings.Repeat("x,", 256), ",")} {
		if got := strings.Join(claimStrings(json.RawMessage(raw)), ","); got != want {
			t.Errorf("claimStrings(%.40s) = %.40q, want %.40q", raw, got, want)
		}
	}
}

// TestSSOThrottlesTheAccount: an identity the provider vouches for but
// Sentinel refuses is slowed per account even when every attempt comes
// from a new address (the address count is cleared between attempts, as
// if each came from elsewhere); a different account is not held up.
func TestSSOThrottlesTheAccount(t *testing.T) {
	s := newSSOFixture(t, "")
	th := s.srv.throttle
	s.op.email, s.op.sub = "mallory@example.com", "sub-mallory"
	for i := range throttleFree {
		if rec := s.run(t, nil); rec.Code != http.StatusForbidden {
			t.Fatalf("attempt %d = %d, want 403", i+1, rec.Code)
		}
		th.succeed(throttleLogin, "192.0.2.1")
	}
	rec := s.run(t, nil)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), "Too many failed sign-ins for this account") {
		t.Fatalf("11th attempt = %d Retry-After %q:\n%s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if got := testutil.ToFloat64(th.throttled.WithLabelValues(throttleAccount)); got != 1 {
		t.Fatalf("throttled{kind=account} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(th.failures.WithLabelValues(throttleAccount)); got != throttleFree {
		t.Fatalf("failures{kind=account} = %v, want %d", got, throttleFree)
	}
	// The wait passes on the fake clock: the next attempt is looked at,
	// fails again, and the wait doubles.
	s.mu.Lock()
	*s.clock = s.clock.Add(time.Second)
	s.mu.Unlock()
	th.succeed(throttleLogin, "192.0.2.1")
	if rec := s.run(t, nil); rec.Code != http.StatusForbidden {
		t.Fatalf("after the wait = %d, want 403", rec.Code)
	}
	th.succeed(throttleLogin, "192.0.2.1")
	if rec := s.run(t, nil); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("after the 11th failure = %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	// Someone else signs in meanwhile; the account is forgotten 15 minutes
	// after its last failure.
	s.op.email, s.op.sub = "ana@example.com", "sub-ana"
	if rec := s.run(t, nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("another account = %d, want 303", rec.Code)
	}
	s.mu.Lock()
	*s.clock = s.clock.Add(throttleForget)
	s.mu.Unlock()
	s.op.email, s.op.sub = "mallory@example.com", "sub-mallory"
	if rec := s.run(t, nil); rec.Code != http.StatusForbidden {
		t.Fatalf("after 15 minutes = %d, want 403", rec.Code)
	}
}

// signedInCookie checks the callback sent the browser on to /incidents
// and returns the session cookie it set.
func signedInCookie(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/incidents" {
		t.Fatalf("callback = %d to %q: %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie {
			return c.Value
		}
	}
	t.Fatal("the callback set no session cookie")
	return ""
}

func FuzzClaimStrings(f *testing.F) {
	f.Add(`["a","b",1]`)
	f.Add(`"x"`)
	f.Fuzz(func(t *testing.T, raw string) {
		got := claimStrings(json.RawMessage(raw))
		if len(got) > maxClaimValues {
			t.Fatalf("%d values", len(got))
		}
		for _, v := range got {
			if len(v) > maxClaimValueLen {
				t.Fatalf("value of %d bytes kept", len(v))
			}
		}
	})
}
