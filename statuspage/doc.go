// Package statuspage decides what the public status page says about each
// component: its status in Atlassian Statuspage's words, derived from the
// probe, SLO or service it follows, from maintenance windows and from a
// responder's manual override, and the minute-by-minute history behind the
// uptime bars.
//
// It reads signals through small interfaces it declares (probe states, SLO
// states, maintenance windows), keeps overrides and history in a Store the
// store package implements, and knows nothing of HTTP or HTML: dashboards
// renders the page and web serves it. Nothing here is meant to leave
// Sentinel except a component's name, description, status and uptime; the
// reasons, labels and override notes are for the authenticated API.
package statuspage
