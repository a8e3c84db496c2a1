package model

import "time"

// Session is one signed-in browser session of the dashboards, as the
// store keeps it. The browser's cookie holds a random value that is never
// stored: ID is its SHA-256, so a copy of the store cannot be replayed as
// cookies.
type Session struct {
	// ID is the hex SHA-256 of the cookie's value.
	ID string `json:"id"`
	// Owner is who signed in (the token's name); the per-owner cap on
	// sessions counts by it.
	Owner string `json:"owner"`
	// Role is the role granted at sign-in.
	Role string `json:"role"`
	// Credential names what signed in (the hex SHA-256 of the token), so
	// that every request checks it is still valid with the role it has
	// now: a token removed or re-roled by a reload ends or changes its
	// sessions at once.
	Credential string `json:"credential"`
	// CSRF is the anti-forgery token every form of the session carries.
	CSRF    string    `json:"csrf"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// Live reports whether the session has not expired at now.
func (s Session) Live(now time.Time) bool { return now.Before(s.Expires) }
