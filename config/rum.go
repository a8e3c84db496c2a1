package config

import (
	"fmt"
	"net/url"
	"strings"
)

// RUM is the real-user monitoring section (rum:): who may send beacons,
// how many, and how page URLs fold into a bounded set of routes.
type RUM struct {
	// AllowedOrigins are the exact origins (scheme://host[:port]) whose pages
	// may send beacons; "*" admits any origin and must be written out on
	// purpose. Empty means no browser may send beacons.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// Site is the site name GET /rum.js tells pages to report (data-site
	// overrides it per page).
	Site string `yaml:"site"`
	// Sites are further site names accepted in beacons besides Site; any
	// other is refused, so the site label stays bounded.
	Sites []string `yaml:"sites"`
	// SampleRate is the share of sessions measured, from 0 to 1. Beacons that
	// were sampled at a higher rate are subsampled on the server.
	SampleRate float64 `yaml:"sample_rate"`
	// Routes are path templates (/product/:id, /docs/*) URL paths fold into;
	// "/" is always a route, anything unmatched is "other".
	Routes []string `yaml:"routes"`
	// AllowedQueryParams are the query parameters kept in reported URLs;
	// every other parameter is dropped.
	AllowedQueryParams []string `yaml:"allowed_query_params"`
	// MaxBodyBytes caps a beacon body, both as sent and after gzip
	// decompression.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// RateLimit bounds beacons per client IP and per site.
	RateLimit RUMRateLimit `yaml:"rate_limit"`
}

// RUMRateLimit is a pair of token buckets: one per client IP and one per
// site, each refilled at a per-second rate up to a burst.
type RUMRateLimit struct {
	// PerIP is beacons per second per client IP.
	PerIP float64 `yaml:"per_ip"`
	// PerIPBurst is how many beacons one IP may send at once.
	PerIPBurst int `yaml:"per_ip_burst"`
	// PerSite is beacons per second per site.
	PerSite float64 `yaml:"per_site"`
	// PerSiteBurst is how many beacons one site may take at once.
	PerSiteBurst int `yaml:"per_site_burst"`
	// TrackedIPs bounds the number of per-IP buckets kept; the least
	// recently used are forgotten first.
	TrackedIPs int `yaml:"tracked_ips"`
}

// DefaultRUM is the rum: section's defaults.
func DefaultRUM() RUM {
	return RUM{
		Site:         "default",
		SampleRate:   1,
		MaxBodyBytes: 64 << 10,
		RateLimit: RUMRateLimit{
			PerIP:        10,
			PerIPBurst:   20,
			PerSite:      1000,
			PerSiteBurst: 2000,
			TrackedIPs:   65536,
		},
	}
}

// minRUMBodyBytes is the smallest rum.max_body_bytes accepted.
const minRUMBodyBytes = 1024

// maxRUMRoutes bounds the route label's cardinality.
const maxRUMRoutes = 500

// Validate reports every problem in the section, with paths under path
// (normally "rum").
func (r RUM) Validate(path string) Problems {
	var ps Problems
	for i, o := range r.AllowedOrigins {
		if o == "*" {
			continue
		}
		if msg := checkOrigin(o); msg != "" {
			ps.Add(fmt.Sprintf("%s.allowed_origins[%d]", path, i), "%s", msg)
		}
	}
	sites := map[string]bool{}
	for i, s := range append([]string{r.Site}, r.Sites...) {
		p := JoinPath(path, "site")
		if i > 0 {
			p = fmt.Sprintf("%s.sites[%d]", path, i-1)
		}
		if msg := CheckRUMSite(s); msg != "" {
			ps.Add(p, "%s", msg)
		} else if sites[s] && i > 0 {
			ps.Add(p, "duplicate site %q", s)
		}
		sites[s] = true
	}
	if !(r.SampleRate >= 0 && r.SampleRate <= 1) {
		ps.Add(JoinPath(path, "sample_rate"), "must be between 0 and 1, got %v", r.SampleRate)
	}
	if len(r.Routes) > maxRUMRoutes {
		ps.Add(JoinPath(path, "routes"), "at most %d routes (got %d); use :param and * segments", maxRUMRoutes, len(r.Routes))
	}
	seen := map[string]int{}
	for i, rt := range r.Routes {
		p := fmt.Sprintf("%s.routes[%d]", path, i)
		if msg := checkRoute(rt); msg != "" {
			ps.Add(p, "%s", msg)
			continue
		}
		if j, dup := seen[rt]; dup {
			ps.Add(p, "duplicate route %q (also routes[%d])", rt, j)
		}
		seen[rt] = i
	}
	for i, q := range r.AllowedQueryParams {
		if q == "" || strings.ContainsAny(q, "&=#? ") {
			ps.Add(fmt.Sprintf("%s.allowed_query_params[%d]", path, i), "invalid parameter name %q", q)
		}
	}
	if r.MaxBodyBytes < minRUMBodyBytes || r.MaxBodyBytes > 1<<20 {
		ps.Add(JoinPath(path, "max_body_bytes"), "must be between %d and 1048576, got %d", minRUMBodyBytes, r.MaxBodyBytes)
	}
	rl, rp := r.RateLimit, JoinPath(path, "rate_limit")
	checkBucket(&ps, rp, "per_ip", rl.PerIP, rl.PerIPBurst, rl.TrackedIPs)
	checkBucket(&ps, rp, "per_site", rl.PerSite, rl.PerSiteBurst, 1)
	return ps
}

// CheckRUMSite returns why s is not a usable site name, or "" when it is:
// 1 to 64 characters of letters, digits, '.', '_' and '-'.
func CheckRUMSite(s string) string {
	if s == "" || len(s) > 64 {
		return fmt.Sprintf("site name %q must be 1 to 64 characters", s)
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Sprintf("site name %q may hold only letters, digits, '.', '_' and '-'", s)
		}
	}
	return ""
}

func checkOrigin(o string) string {
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Sprintf("origin %q must look like https://shop.example.com", o)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Sprintf("origin %q: scheme must be http or https", o)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Sprintf("origin %q must be scheme://host[:port] only, without path, query or user", o)
	}
	if u.Path == "/" {
		return fmt.Sprintf("origin %q must not end with '/' (browsers send %s)", o, strings.TrimSuffix(o, "/"))
	}
	if strings.ToLower(o) != o {
		return fmt.Sprintf("origin %q must be lower case, as browsers send it", o)
	}
	return ""
}

func checkRoute(rt string) string {
	if !strings.HasPrefix(rt, "/") {
		return fmt.Sprintf("route %q must start with '/'", rt)
	}
	if len(rt) > 200 {
		return fmt.Sprintf("route %q is longer than 200 characters", rt)
	}
	if strings.ContainsAny(rt, "?#") {
		return fmt.Sprintf("route %q must be a path without query or fragment", rt)
	}
	if rt == "/" {
		return ""
	}
	segs := strings.Split(strings.TrimSuffix(rt[1:], "/"), "/")
	for i, s := range segs {
		switch {
		case s == "":
			return fmt.Sprintf("route %q has an empty segment", rt)
		case s == "*" && i != len(segs)-1:
			return fmt.Sprintf("route %q: '*' may only be the last segment", rt)
		case s == ":":
			return fmt.Sprintf("route %q: ':' needs a name (:id)", rt)
		case strings.Contains(s, "*") && s != "*":
			return fmt.Sprintf("route %q: '*' must be a whole segment", rt)
		}
	}
	return ""
}

// checkBucket reports a token bucket whose rate (path.key) is not above 0,
// whose burst (path.key_burst) is under 1, or, for per-IP buckets, whose
// tracked_ips is under 1.
func checkBucket(ps *Problems, path, key string, rate float64, burst, tracked int) {
	if !(rate > 0) {
		ps.Add(JoinPath(path, key), "must be greater than 0")
	}
	if burst < 1 {
		ps.Add(JoinPath(path, key+"_burst"), "must be at least 1")
	}
	if tracked < 1 {
		ps.Add(JoinPath(path, "tracked_ips"), "must be at least 1")
	}
}
