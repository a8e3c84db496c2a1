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
}

// DefaultUI is the ui: section's defaults: sessions last 12 hours.
func DefaultUI() UI { return UI{SessionTTL: model.Duration(12 * time.Hour)} }

// Validate reports a session TTL that is not between a minute and 30 days.
func (u UI) Validate(path string) Problems {
	var ps Problems
	if d := u.SessionTTL.Std(); d < time.Minute || d > 30*24*time.Hour {
		ps.Add(JoinPath(path, "session_ttl"), "must be between 1m and 30d, got %s", u.SessionTTL)
	}
	return ps
}
