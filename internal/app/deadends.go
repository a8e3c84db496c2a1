package app

import (
	"github.com/sentinel-oss/sentinel/config"
)

// signInWays names the ways a person can sign in with cfg (to the
// dashboards and the API): today API tokens of a person's role. A new way
// (auth.oidc) adds its key here when it is configured.
func signInWays(cfg *config.Config) []string {
	var ways []string
	for _, t := range cfg.Auth.Tokens {
		if t.Token.IsSet() && t.Role != config.RoleIngest {
			ways = append(ways, "auth.tokens")
			break
		}
	}
	return ways
}

// Warnings are dead ends in a config that is valid but leaves something
// unusable: it runs, yet nobody can sign in. `serve` logs them at start and
// after a reload; `check config` prints them without failing.
func Warnings(cfg *config.Config) []string {
	var out []string
	if len(signInWays(cfg)) == 0 {
		out = append(out, "nobody can sign in to the dashboards or call the API: set auth.tokens with at least one token "+
			"of role viewer, responder or admin (an ingest token only feeds data in)")
	}
	return out
}

// warnDeadEnds logs Warnings(cfg).
func (a *App) warnDeadEnds(cfg *config.Config) {
	for _, w := range Warnings(cfg) {
		a.log.Warn(w, "file", cfg.SourceName())
	}
}
