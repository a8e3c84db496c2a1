package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"sort"
	"strings"

	"github.com/sentinel-oss/sentinel/model"
)

// validate checks the sections config owns outright; components check the
// rest of their own sections when internal/app builds them.
func (c *Config) validate() Problems {
	var ps Problems
	c.Server.validate(&ps, "server")
	c.Storage.validate(&ps, "storage")
	c.Auth.validate(&ps, "auth")
	c.Logging.validate(&ps, "logging")
	ps = append(ps, c.RUM.Validate("rum")...)
	// Only a written value gets here above the server limit (capRUMBody
	// lowers the default), so the problem points at the operator's key.
	if c.written("rum.max_body_bytes") && c.Server.MaxBodyBytes > 0 && c.RUM.MaxBodyBytes > c.Server.MaxBodyBytes {
		ps.Add("rum.max_body_bytes", "%d is more than server.max_body_bytes (%d), which caps every request; raise that too, or lower this",
			c.RUM.MaxBodyBytes, c.Server.MaxBodyBytes)
	}
	ps = append(ps, c.StatusPage.Validate("status_page")...)
	ps = append(ps, c.Audit.Validate("audit")...)
	return ps
}

func (s Server) validate(ps *Problems, path string) {
	if _, _, err := net.SplitHostPort(s.Listen); err != nil {
		ps.Add(JoinPath(path, "listen"), "must be host:port, such as 127.0.0.1:8080 (%v)", unwrapAddrErr(err))
	}
	if s.ExternalURL != "" {
		CheckURL(ps, JoinPath(path, "external_url"), s.ExternalURL, "http", "https")
	}
	if s.TLS.CertFile != "" && s.TLS.KeyFile == "" {
		ps.Add(JoinPath(path, "tls.key_file"), "required when tls.cert_file is set")
	}
	if s.TLS.KeyFile != "" && s.TLS.CertFile == "" {
		ps.Add(JoinPath(path, "tls.cert_file"), "required when tls.key_file is set")
	}
	for i, p := range s.TrustedProxies {
		if _, err := ParseProxy(p); err != nil {
			ps.Add(fmt.Sprintf("%s.trusted_proxies[%d]", path, i), "%v", err)
		}
	}
	if s.MaxBodyBytes <= 0 {
		ps.Add(JoinPath(path, "max_body_bytes"), "must be greater than 0")
	}
	if s.ShutdownTimeout <= 0 {
		ps.Add(JoinPath(path, "shutdown_timeout"), "must be greater than 0")
	}
	for _, d := range []struct {
		key string
		v   model.Duration
	}{{"read_header_timeout", s.ReadHeaderTimeout}, {"read_timeout", s.ReadTimeout}, {"idle_timeout", s.IdleTimeout}} {
		if d.v <= 0 {
			ps.Add(JoinPath(path, d.key), "must be greater than 0 (a connection without a deadline can be held open forever)")
		}
	}
	if s.MaxHeaderBytes < 4096 || s.MaxHeaderBytes > 16<<20 {
		ps.Add(JoinPath(path, "max_header_bytes"), "must be between 4096 and 16777216, got %d", s.MaxHeaderBytes)
	}
}

func unwrapAddrErr(err error) string {
	if ae, ok := err.(*net.AddrError); ok {
		return ae.Err
	}
	return err.Error()
}

// ParseProxy reads a trusted proxy entry: an IP address or a CIDR prefix.
func ParseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("not an IP address or CIDR: %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not an IP address or CIDR: %q", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// CheckURL adds a problem unless raw is an absolute URL with one of the
// schemes and a host.
func CheckURL(ps *Problems, path, raw string, schemes ...string) {
	if raw == "" {
		ps.Add(path, "missing URL")
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		ps.Add(path, "invalid URL %q", raw)
		return
	}
	if u.Scheme == "" {
		ps.Add(path, "missing scheme in %q (want %s://...)", raw, schemes[0])
		return
	}
	ok := false
	for _, s := range schemes {
		if u.Scheme == s {
			ok = true
		}
	}
	if !ok {
		ps.Add(path, "unsupported scheme %q (want %s)", u.Scheme, strings.Join(schemes, " or "))
		return
	}
	if u.Host == "" {
		ps.Add(path, "missing host in %q", raw)
	}
}

func (s Storage) validate(ps *Problems, path string) {
	switch s.Driver {
	case DriverBolt, "":
		if strings.TrimSpace(s.Path) == "" {
			ps.Add(JoinPath(path, "path"), "must not be empty")
		}
	case DriverPostgres:
		if strings.TrimSpace(s.DSN.Reveal()) == "" && s.DSNFile == "" {
			ps.Add(JoinPath(path, "dsn"), "must be set when driver is postgres (or use dsn_file)")
		}
	default:
		ps.Add(JoinPath(path, "driver"), "unknown driver %q (want %s or %s)", s.Driver, DriverBolt, DriverPostgres)
	}
	if len(s.ReplicaID) > 64 {
		ps.Add(JoinPath(path, "replica_id"), "longer than 64 characters")
	}
	if s.OpenTimeout <= 0 {
		ps.Add(JoinPath(path, "open_timeout"), "must be greater than 0")
	}
}

func (a Auth) validate(ps *Problems, path string) {
	names := map[string]bool{}
	values := map[string]string{}
	for i, t := range a.Tokens {
		p := fmt.Sprintf("%s.tokens[%d]", path, i)
		if t.Name == "" {
			ps.Add(JoinPath(p, "name"), "missing name")
		} else if names[t.Name] {
			ps.Add(JoinPath(p, "name"), "duplicate token name %q", t.Name)
		}
		names[t.Name] = true
		switch {
		case !t.Token.IsSet():
			ps.Add(JoinPath(p, "token"), "missing token (set token or token_file)")
		case len(t.Token.Reveal()) < 16:
			ps.Add(JoinPath(p, "token"), "too short: use at least 16 characters")
		default:
			if other, dup := values[t.Token.Reveal()]; dup {
				ps.Add(JoinPath(p, "token"), "same value as token %q; each token must be unique", other)
			}
			values[t.Token.Reveal()] = t.Name
		}
		if !t.Role.Valid() {
			ps.Add(JoinPath(p, "role"), "unknown role %q (want viewer, responder, admin or ingest)", t.Role)
		}
	}
	a.OIDC.validate(ps, JoinPath(path, "oidc"))
}

func (o OIDC) validate(ps *Problems, path string) {
	if !o.Enabled() {
		if o.ClientID != "" || o.ClientSecret.IsSet() || o.RoleClaim != "" || len(o.Roles) > 0 {
			ps.Add(JoinPath(path, "issuer"), "missing issuer (other auth.oidc keys are set): set issuer or remove the oidc section")
		}
		return
	}
	CheckURL(ps, JoinPath(path, "issuer"), o.Issuer, "http", "https")
	if o.ClientID == "" {
		ps.Add(JoinPath(path, "client_id"), "missing client_id")
	}
	if !o.ClientSecret.IsSet() {
		ps.Add(JoinPath(path, "client_secret"), "missing client secret (set client_secret or client_secret_file)")
	}
	switch o.PersonClaim {
	case OIDCClaimEmail, OIDCClaimSubject:
	default:
		ps.Add(JoinPath(path, "person_claim"), "unknown person_claim %q (want email or subject)", o.PersonClaim)
	}
	for i, s := range o.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			ps.Add(fmt.Sprintf("%s.scopes[%d]", path, i), "a scope is one word: %q", s)
		}
	}
	o.validateRoles(ps, path)
}

// validateRoles checks role_claim and roles: both or neither, and every
// mapped role one a person can hold.
func (o OIDC) validateRoles(ps *Problems, path string) {
	switch {
	case o.RoleClaim != "" && len(o.Roles) == 0:
		ps.Add(JoinPath(path, "roles"), "role_claim %q is set but roles maps no value to a role: add roles (claim value: viewer, responder or admin) or remove role_claim", o.RoleClaim)
	case o.RoleClaim == "" && len(o.Roles) > 0:
		ps.Add(JoinPath(path, "role_claim"), "roles is set but role_claim is not: name the ID token claim whose values roles maps (e.g. groups)")
	}
	if o.RoleClaim != "" && (len(o.RoleClaim) > 128 || strings.ContainsAny(o.RoleClaim, " \t\r\n")) {
		ps.Add(JoinPath(path, "role_claim"), "a claim name is one word: %q", o.RoleClaim)
	}
	keys := make([]string, 0, len(o.Roles))
	for k := range o.Roles {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := fmt.Sprintf("%s.roles[%q]", path, k)
		switch r := o.Roles[k]; {
		case k == "":
			ps.Add(p, "an empty claim value cannot map to a role")
		case !r.Person():
			ps.Add(p, "unknown role %q for claim value %q (want viewer, responder or admin)", r, k)
		}
	}
}

func (l Logging) validate(ps *Problems, path string) {
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		ps.Add(JoinPath(path, "level"), "unknown level %q (want debug, info, warn or error)", l.Level)
	}
	switch l.Format {
	case "text", "json":
	default:
		ps.Add(JoinPath(path, "format"), "unknown format %q (want text or json)", l.Format)
	}
	if l.Loki.URL != "" {
		CheckURL(ps, JoinPath(path, "loki.url"), l.Loki.URL, "http", "https")
		if l.Loki.BufferEntries <= 0 {
			ps.Add(JoinPath(path, "loki.buffer_entries"), "must be greater than 0")
		}
		if l.Loki.BatchWait <= 0 {
			ps.Add(JoinPath(path, "loki.batch_wait"), "must be greater than 0")
		}
		if l.Loki.BatchBytes <= 0 {
			ps.Add(JoinPath(path, "loki.batch_bytes"), "must be greater than 0")
		}
		if l.Loki.Timeout <= 0 {
			ps.Add(JoinPath(path, "loki.timeout"), "must be greater than 0")
		}
	}
}
