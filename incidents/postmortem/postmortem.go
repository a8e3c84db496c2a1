// Package postmortem drafts a postmortem the moment an incident resolves
// and keeps it while people finish it: the impact Sentinel measured (error
// budget per SLO, failed probe runs, real users' page views and JS errors
// in the incident's window), the incident's timeline with every action's
// author, the response times, the sections people write, and action items.
// It also reminds people of drafts left too long and of overdue action
// items, and reports on incidents over a period.
//
// The package declares the store it needs (Store; the store package
// implements it on bbolt) and the sources of impact figures (SLOSource,
// ProbeSource, RUMSource; internal/app adapts the slo, probes and rum
// packages), so it imports none of them.
package postmortem

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
)

// Status is where a postmortem is in its review, in the contract's words.
type Status string

// The contract's three statuses, in the order a postmortem moves through
// them.
const (
	StatusDraft     Status = "draft"
	StatusInReview  Status = "in_review"
	StatusPublished Status = "published"
)

func (s Status) rank() int {
	switch s {
	case StatusDraft:
		return 1
	case StatusInReview:
		return 2
	case StatusPublished:
		return 3
	}
	return 0
}

// Valid reports whether s is one of the three statuses.
func (s Status) Valid() bool { return s.rank() > 0 }

// Postmortem is one incident's postmortem. Impact, Timeline and Times are
// derived from the incident and the signals; they are recomputed on every
// read until the postmortem is published, when they are frozen. The rest
// is what people write.
type Postmortem struct {
	IncidentID int64          `json:"incident_id"`
	Title      string         `json:"title"`
	Severity   model.Severity `json:"severity,omitempty"`
	Status     Status         `json:"status"`
	// Commander is who led the response, as the incident names them.
	Commander string `json:"commander,omitempty"`
	// Version counts saved changes; a PUT may send the version it edited to
	// be refused (409) when someone else saved in between.
	Version int `json:"version"`

	Summary  string                    `json:"summary"`
	Impact   Impact                    `json:"impact"`
	Timeline []incidents.TimelineEntry `json:"timeline"`
	Times    Times                     `json:"times"`
	// Changes are the changes to the incident's services in the two hours
	// before it started; ChangesError says why they could not be read.
	Changes      []incidents.RecentChange `json:"changes"`
	ChangesError string                   `json:"changes_error,omitempty"`

	RootCause           string       `json:"root_cause"`
	ContributingFactors string       `json:"contributing_factors"`
	WentWell            string       `json:"what_went_well"`
	Lessons             string       `json:"lessons"`
	ActionItems         []ActionItem `json:"action_items"`

	// ResolvedAt is when the incident resolved (the draft reminder counts
	// from it); nil while it is open again after a reopen.
	ResolvedAt *time.Time `json:"resolved_at"`
	// IncidentStatus is the incident's status as the postmortem is read,
	// and ReopenedAt when it last reopened after resolving (nil if it
	// never did): a postmortem drafted at the first resolution tells
	// whether that resolution still stands. Never frozen.
	IncidentStatus incidents.Status `json:"incident_status"`
	ReopenedAt     *time.Time       `json:"reopened_at"`
	CreatedAt      time.Time        `json:"created_at"`
	UpdatedAt      time.Time        `json:"updated_at"`
	UpdatedBy      string           `json:"updated_by,omitempty"`
	PublishedAt    *time.Time       `json:"published_at"`
	// Reminded records when each reminder (by key) was last sent.
	Reminded map[string]time.Time `json:"reminded,omitempty"`
}

// Impact is what the incident cost, over [From, To): the incident's
// creation to its resolution.
type Impact struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Duration is To - From in seconds.
	Duration float64     `json:"duration"`
	SLOs     []SLOImpact `json:"slos"`
	Probes   []ProbeRuns `json:"probes"`
	RUM      *RUMTraffic `json:"rum"`
	Errors   []string    `json:"errors,omitempty"`
	Computed time.Time   `json:"computed_at"`
	// Ongoing is true while the incident is open (again): To is then the
	// time of reading and the figures grow until it resolves.
	Ongoing bool `json:"ongoing"`
}

// Reopened reports whether the incident reopened after its postmortem
// was drafted and is open again now.
func (pm *Postmortem) Reopened() bool {
	return pm.ReopenedAt != nil && pm.IncidentStatus.Open()
}

// noteIncident fills what the postmortem says about its incident now:
// its status and when it last reopened.
func noteIncident(pm *Postmortem, inc *incidents.Incident) {
	pm.IncidentStatus, pm.ReopenedAt = inc.Status, nil
	for i := len(inc.Timeline) - 1; i >= 0; i-- {
		if inc.Timeline[i].Kind == incidents.KindReopened {
			at := inc.Timeline[i].At
			pm.ReopenedAt = &at
			break
		}
	}
}

// SLOImpact is one SLO's events and budget consumed during the incident:
// the same figures GET /api/v1/slos/{name}?from=&to= reports for the window.
type SLOImpact struct {
	Name           string  `json:"name"`
	Good           int64   `json:"good"`
	Total          int64   `json:"total"`
	BudgetConsumed float64 `json:"budget_consumed"`
	// Unit is what Good and Total count: "runs" (a probe SLI), "page
	// views" (RUM) or "events".
	Unit string `json:"unit,omitempty"`
	// Probe names the probe whose runs a probe SLI counts; that probe is
	// then not listed again under Impact.Probes, so each figure has one
	// source.
	Probe string `json:"probe,omitempty"`
	// CountedFrom and CountedTo are the whole minutes the figures cover:
	// SLO counts are kept per minute, so every minute the impact window
	// touches counts (up to the time of reading). Zero in postmortems
	// stored before they were recorded.
	CountedFrom time.Time `json:"counted_from,omitzero"`
	CountedTo   time.Time `json:"counted_to,omitzero"`
}

// Minutes says which minutes the figures cover: "counted over the whole
// minutes 2026-12-06 03:22 to 03:26 UTC"; empty when not recorded.
func (s SLOImpact) Minutes() string {
	return model.CountedMinutes(s.CountedFrom, s.CountedTo)
}

// Counted says what Good and Total mean, with the unit: "13 of 18 runs
// failed", "5 of 1,200 events bad".
func (s SLOImpact) Counted() string {
	unit, bad := s.Unit, "bad"
	switch unit {
	case "":
		unit = "events"
	case "runs":
		bad = "failed"
	}
	if s.Total == 1 {
		unit = strings.TrimSuffix(unit, "s") // "1 of 1 run failed"
	}
	return fmt.Sprintf("%s of %s %s %s", grouped(s.Total-s.Good), grouped(s.Total), unit, bad)
}

// plural is "1 run", "2 runs", "2.5 page views".
func plural(n float64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return num(n) + " " + many
}

// grouped writes a count with thousands separators: 1,200.
func grouped(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + grouped(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ProbeRuns counts a probe's runs and failed runs during the incident.
type ProbeRuns struct {
	Name   string `json:"name"`
	Runs   int    `json:"runs"`
	Failed int    `json:"failed"`
}

// RUMTraffic is what real users' browsers reported during the incident.
// RUM counts are kept per minute, so they cover the whole minutes From to
// To that the impact window touches; on Route when the incident is about
// one route (its alerts' route label), else on the whole site.
type RUMTraffic struct {
	PageViews float64   `json:"page_views"`
	JSErrors  float64   `json:"js_errors"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Route     string    `json:"route,omitempty"`
}

// Scope says what the figures count: "on /checkout" or "on the whole
// site", and over which whole minutes ("14:02 to 14:10 UTC, whole
// minutes").
func (r RUMTraffic) Scope() string {
	where := "on the whole site"
	if r.Route != "" {
		where = "on " + r.Route
	}
	if r.From.IsZero() || r.To.IsZero() {
		return where
	}
	return fmt.Sprintf("%s, %s (whole minutes)", where, model.MinuteSpan(r.From, r.To))
}

// Times are the response times in seconds; nil when not applicable (no
// alert to detect from, never acknowledged).
type Times struct {
	// Detect is from the first bad event (DetectedFrom: the first failed
	// probe run, the first bad minute) to the incident opening; without one,
	// from the first alert's start.
	Detect *float64 `json:"time_to_detect"`
	// DetectedFrom is the first bad event Detect counts from.
	DetectedFrom *Onset `json:"detected_from,omitempty"`
	// Acknowledge is from the incident opening to its acknowledgement.
	Acknowledge *float64 `json:"time_to_acknowledge"`
	// Resolve is from the incident opening to its resolution.
	Resolve *float64 `json:"time_to_resolve"`
}

// Onset is the first bad event behind an incident.
type Onset struct {
	At time.Time `json:"at"`
	// What it was, for people: "the first failed run of probe checkout
	// (step pay: expected status 200, got 503)".
	What string `json:"what"`
}

// Action item statuses.
const (
	ItemOpen       = "open"
	ItemInProgress = "in_progress"
	ItemDone       = "done"
	ItemWontDo     = "wont_do"
)

// ActionItem is a piece of follow-up work.
type ActionItem struct {
	// ID is assigned when the item is first saved (A1, A2, ...).
	ID    string `json:"id"`
	Title string `json:"title"`
	// Owner is a person's name (people:) or any name.
	Owner string `json:"owner"`
	// Due is a date, YYYY-MM-DD; the item is overdue after that day (UTC).
	Due    string `json:"due"`
	Status string `json:"status"`
	Link   string `json:"link"`
}

// Finished reports whether nothing more is expected of the item.
func (a ActionItem) Finished() bool { return a.Status == ItemDone || a.Status == ItemWontDo }

// DueAt is the end of the due day (UTC), false when there is no due date.
func (a ActionItem) DueAt() (time.Time, bool) {
	d, err := time.Parse(time.DateOnly, a.Due)
	if err != nil {
		return time.Time{}, false
	}
	return d.Add(24 * time.Hour), true
}

// Clone returns a copy that shares nothing mutable with p.
func (p *Postmortem) Clone() *Postmortem {
	c := *p
	c.Timeline = append([]incidents.TimelineEntry(nil), p.Timeline...)
	c.ActionItems = append([]ActionItem(nil), p.ActionItems...)
	c.Impact.SLOs = append([]SLOImpact(nil), p.Impact.SLOs...)
	if p.Times.DetectedFrom != nil {
		o := *p.Times.DetectedFrom
		c.Times.DetectedFrom = &o
	}
	c.Impact.Probes = append([]ProbeRuns(nil), p.Impact.Probes...)
	c.Impact.Errors = append([]string(nil), p.Impact.Errors...)
	if p.Impact.RUM != nil {
		r := *p.Impact.RUM
		c.Impact.RUM = &r
	}
	if p.Reminded != nil {
		c.Reminded = make(map[string]time.Time, len(p.Reminded))
		for k, v := range p.Reminded {
			c.Reminded[k] = v
		}
	}
	return &c
}

// Errors of this package; web maps them to statuses through their
// NotFound, Conflict and Invalid methods.
var (
	// ErrNotFound: no such postmortem (or incident): 404.
	ErrNotFound = model.NewKindError(model.KindNotFound, "postmortem not found")
	// ErrConflict: the change clashes with the postmortem's state (a
	// status skipped, a stale version, an incident still open): 409.
	ErrConflict = model.NewKindError(model.KindConflict, "postmortem conflict")
	// ErrInvalid: the edit must change (a missing title, a bad date): 400.
	ErrInvalid = model.NewKindError(model.KindInvalid, "invalid postmortem")
)

func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))
}

// IsNotFound reports whether err is (or wraps) ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
