package config

import "github.com/sentinel-oss/sentinel/model"

// Server is the HTTP listener.
type Server struct {
	// Listen is the host:port of the one listener.
	Listen string `yaml:"listen"`
	// ExternalURL is how people and Slack reach Sentinel; used in links.
	ExternalURL string `yaml:"external_url"`
	TLS         TLS    `yaml:"tls"`
	// TrustedProxies are the addresses or CIDRs whose X-Forwarded-For and
	// X-Real-IP headers are believed; from anyone else they are ignored.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// MaxBodyBytes caps every request body unless an endpoint sets less.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ShutdownTimeout bounds draining HTTP and stopping components.
	ShutdownTimeout model.Duration `yaml:"shutdown_timeout"`
	// ReadHeaderTimeout guards against slow-header clients.
	ReadHeaderTimeout model.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading one whole request, headers and body: a
	// client that stalls mid-body has its connection closed.
	ReadTimeout model.Duration `yaml:"read_timeout"`
	// IdleTimeout closes keep-alive connections idle this long.
	IdleTimeout model.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes caps the request line and headers; more gets 431.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
}

// TLS turns on HTTPS when both files are set.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Enabled reports whether TLS is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Storage is where Sentinel keeps its state: the embedded bbolt file (the
// default) or a PostgreSQL database shared by several replicas.
type Storage struct {
	// Driver is "bolt" (the embedded file at Path) or "postgres" (DSN).
	Driver string `yaml:"driver"`
	// Path of the bbolt file; its directory is created if missing.
	Path string `yaml:"path"`
	// OpenTimeout is how long to wait for the file lock (bolt) or the
	// first connection (postgres) before giving up.
	OpenTimeout model.Duration `yaml:"open_timeout"`
	// DSN is the PostgreSQL connection string (URL or key=value form).
	DSN     Secret `yaml:"dsn"`
	DSNFile string `yaml:"dsn_file"`
	// ReplicaID names this process among the replicas sharing a database,
	// as the writer of its per-minute counts; empty means a random ID
	// chosen at each start.
	ReplicaID string `yaml:"replica_id"`
}

// Storage drivers.
const (
	DriverBolt     = "bolt"
	DriverPostgres = "postgres"
)

// Role is what a token may do.
type Role string

// The contract's four roles.
const (
	RoleViewer    Role = "viewer"
	RoleResponder Role = "responder"
	RoleAdmin     Role = "admin"
	RoleIngest    Role = "ingest"
)

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	switch r {
	case RoleViewer, RoleResponder, RoleAdmin, RoleIngest:
		return true
	}
	return false
}

// Person reports whether r is a role a person can hold (ingest is for
// machines feeding data in).
func (r Role) Person() bool {
	return r == RoleViewer || r == RoleResponder || r == RoleAdmin
}

// Rank orders the roles a person can hold: viewer < responder < admin;
// any other role is 0.
func (r Role) Rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleResponder:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Auth lists the API tokens and the dashboards' single sign-on.
type Auth struct {
	Tokens []Token `yaml:"tokens"`
	// OIDC turns on "Sign in with SSO" on the dashboards when Issuer is set.
	OIDC OIDC `yaml:"oidc"`
}

// OIDC is an OpenID Connect provider the dashboards sign people in with
// (authorization code flow with PKCE). The redirect URL registered at the
// provider is server.external_url + OIDCCallbackPath.
type OIDC struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer + /.well-known/openid-configuration.
	Issuer           string `yaml:"issuer"`
	ClientID         string `yaml:"client_id"`
	ClientSecret     Secret `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// Scopes asked for besides openid; default email and profile.
	Scopes []string `yaml:"scopes"`
	// PersonClaim names the person: "email" (the ID token's email claim,
	// matched to people[].email; the provider must mark it verified) or
	// "subject" (the sub claim, matched to people[].oidc_subject).
	PersonClaim string `yaml:"person_claim"`
	// RoleClaim names an ID token claim (a string or a list of strings,
	// such as groups) whose values Roles maps to a role, for someone who
	// is not in people:. Empty: only people: may sign in.
	RoleClaim string `yaml:"role_claim"`
	// Roles maps a value of RoleClaim to viewer, responder or admin; of
	// several values that map, the highest role wins.
	Roles map[string]Role `yaml:"roles"`
}

// MappedRole is the highest role Roles gives the claim values; false
// when none maps (or no role_claim is set).
func (o OIDC) MappedRole(values []string) (Role, bool) {
	best, ok := Role(""), false
	for _, v := range values {
		r, found := o.Roles[v]
		if !found || !r.Person() {
			continue
		}
		if !ok || r.Rank() > best.Rank() {
			best, ok = r, true
		}
	}
	return best, ok && o.RoleClaim != ""
}

// OIDCCallbackPath is where the provider sends the browser back.
const OIDCCallbackPath = "/login/oidc/callback"

// The values of auth.oidc.person_claim.
const (
	OIDCClaimEmail   = "email"
	OIDCClaimSubject = "subject"
)

// Enabled reports whether single sign-on is configured.
func (o OIDC) Enabled() bool { return o.Issuer != "" }

// Token is one bearer token and the role it grants.
type Token struct {
	Name      string `yaml:"name"`
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	Role      Role   `yaml:"role"`
}

// Logging is the process log.
type Logging struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
	Loki   Loki   `yaml:"loki"`
}

// Loki ships logs to a Loki push endpoint when URL is set.
type Loki struct {
	URL      string            `yaml:"url"`
	Labels   map[string]string `yaml:"labels"`
	TenantID string            `yaml:"tenant_id"`
	// Username and Password are sent as HTTP basic auth when set.
	Username     string `yaml:"username"`
	Password     Secret `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	// BufferEntries bounds the lines waiting to ship; past it lines are
	// dropped and counted, never blocking the caller.
	BufferEntries int `yaml:"buffer_entries"`
	// BatchWait and BatchBytes decide when a batch is pushed.
	BatchWait  model.Duration `yaml:"batch_wait"`
	BatchBytes int            `yaml:"batch_bytes"`
	// Timeout bounds each push.
	Timeout model.Duration `yaml:"timeout"`
}
