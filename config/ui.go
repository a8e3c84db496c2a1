package config

import (
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// UI is the ui: section: settings of the web dashboards.
type UI struct {
	// SessionTTL is how long a sign-in lasts before the person signs in
	// again (absolute, not idle).
	SessionTTL model.Duration `yaml:"session_ttl"`
	// CookieSecure forces the Secure flag on the session cookie when TLS
	// ends at a proxy; a TLS listener or an https external_url sets it
	// anyway.
	CookieSecure bool `yaml:"cookie_secure"`
	// MaxSessionsPerOwner bounds the sessions one owner (a token's name)
	// keeps; signing in past it ends that owner's oldest session only.
	MaxSessionsPerOwner int `yaml:"max_sessions_per_owner"`
}

// DefaultMaxSessionsPerOwner is ui.max_sessions_per_owner's default.
const DefaultMaxSessionsPerOwner = 1000

// DefaultUI is the ui: section's defaults: sessions last 12 hours, at most
// 1,000 per owner.
func DefaultUI() UI {
	return UI{SessionTTL: model.Duration(12 * time.Hour), MaxSessionsPerOwner: DefaultMaxSessionsPerOwner}
}

// Validate reports a session TTL that is not between a minute and 30 days,
// and a per-owner cap outside 1 to 1,000,000.
func (u UI) Validate(path string) Problems {
	var ps Problems
	if d := u.SessionTTL.Std(); d < time.Minute || d > 30*24*time.Hour {
		ps.Add(JoinPath(path, "session_ttl"), "must be between 1m and 30d, got %s", u.SessionTTL)
	}
	if n := u.MaxSessionsPerOwner; n < 1 || n > 1_000_000 {
		ps.Add(JoinPath(path, "max_sessions_per_owner"), "must be between 1 and 1000000, got %d", n)
	}
	return ps
}
