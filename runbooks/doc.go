// Package runbooks is Sentinel's runbook catalogue: Markdown files under
// runbooks.dir, each with a YAML front matter (title, owners, the alerts or
// labels it applies to, severity). It loads and validates them, watches the
// directory for changes, and matches runbooks to alerts, so rules can name a
// runbook that `sentinel check config` proves exists and every page can
// carry the right one. It renders runbooks to safe HTML (render.go) and runs
// the diagnostics a runbook's front matter asks for (diagnostics.go).
package runbooks
