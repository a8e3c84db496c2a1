// Package incidents turns alert groups into incidents and incidents into
// pages: the lifecycle (triggered, acknowledged, resolved, reopened within
// a window), dedupe by key, the timeline, escalation through on-call
// schedules and policies with durable timers, and delivery to pagers
// through a durable outbox so that a restart neither loses nor repeats a
// page.
//
// The package declares the store it needs (Store) and the pagers it feeds
// (Pager); the store package implements the first on bbolt, and console,
// webhook and email pagers live here (Slack's lives in the slack package).
package incidents

import (
	"errors"
	"fmt"
	"time"

	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

// Status is where an incident is in its lifecycle.
type Status string

// The contract's three statuses; "open" in queries means triggered or
// acknowledged.
const (
	StatusTriggered    Status = "triggered"
	StatusAcknowledged Status = "acknowledged"
	StatusResolved     Status = "resolved"
)

// Open reports whether the incident still needs someone.
func (s Status) Open() bool { return s == StatusTriggered || s == StatusAcknowledged }

// Timeline entry kinds.
const (
	KindTriggered     = "triggered"
	KindDeclared      = "declared"
	KindAlertFiring   = "alert_firing"
	KindAlertResolved = "alert_resolved"
	KindSeverity      = "severity_changed"
	KindUrgency       = "urgency_changed"
	KindPaged         = "paged"
	KindEscalated     = "escalated"
	KindAcknowledged  = "acknowledged"
	KindAckTimeout    = "ack_timeout"
	KindResolved      = "resolved"
	KindReopened      = "reopened"
	KindDeliveryError = "delivery_failed"
)

// Sources of incidents.
const (
	SourceSentinel     = "sentinel"
	SourceAlertmanager = "alertmanager"
	SourceDeclared     = "declared"
)

// ActorSentinel is the actor of what Sentinel does by itself.
const ActorSentinel = "sentinel"

// Incident is one incident as stored: the contract's fields plus the
// escalation state that drives the durable timer.
type Incident struct {
	ID             int64          `json:"id"`
	Title          string         `json:"title"`
	Severity       model.Severity `json:"severity"`
	Status         Status         `json:"status"`
	Summary        string         `json:"summary"`
	Labels         model.Labels   `json:"labels"`
	DedupKey       string         `json:"dedup_key"`
	Source         string         `json:"source"`
	CreatedAt      time.Time      `json:"created_at"`
	AcknowledgedAt *time.Time     `json:"acknowledged_at"`
	ResolvedAt     *time.Time     `json:"resolved_at"`
	// AcknowledgedBy and ResolvedBy name who did it last (sentinel for an
	// incident resolved because its alerts cleared).
	AcknowledgedBy string          `json:"acknowledged_by,omitempty"`
	ResolvedBy     string          `json:"resolved_by,omitempty"`
	Alerts         []Alert         `json:"alerts"`
	Timeline       []TimelineEntry `json:"timeline"`
	Runbook        string          `json:"runbook"`
	// SLONames are the SLOs the incident's labels and alerts point at.
	SLONames []string `json:"slo_names,omitempty"`
	// Responders are the people paged so far, for updates.
	Responders []string `json:"responders,omitempty"`
	// Urgency is high (pages, escalates and repeats) or low (its policy's
	// first step is notified once); its policy's urgency key sets it from
	// the severity. Empty in incidents stored before urgencies existed:
	// read it with UrgencyNow.
	Urgency oncall.Urgency `json:"urgency,omitempty"`
	// Escalation is the state of the escalation policy run.
	Escalation Escalation `json:"escalation"`
	// Revision counts the stored changes of the incident; a pager's copy
	// of an older revision is stale.
	Revision int `json:"revision"`
	// TitleEdited is set once a person chose the title; alerts then leave
	// it alone (otherwise it follows the lead alert's title annotation).
	TitleEdited bool `json:"title_edited,omitempty"`
	// Commander is the person of people: who leads the response; "" when
	// nobody was named.
	Commander string `json:"commander,omitempty"`
	// Updates are what responders told stakeholders, oldest first; the
	// public ones are shown on the status page.
	Updates []Update `json:"updates,omitempty"`

	// published is how much of Timeline this transaction already handed
	// to the pagers (see publish), and publishedView the viewKey they were
	// handed then; neither is stored.
	published     int
	publishedView string
}

// Escalation is where an incident is in its policy. Epoch counts
// (re)triggers so that idempotency keys of a new run never collide with an
// earlier one.
type Escalation struct {
	Policy string `json:"policy"`
	Epoch  int    `json:"epoch"`
	Pass   int    `json:"pass"`
	// Step is the last step fired; -1 before the first.
	Step int `json:"step"`
	// NextAt is when the next step fires; nil when none is due (exhausted,
	// acknowledged or resolved).
	NextAt *time.Time `json:"next_at,omitempty"`
	// AckTimeoutAt is when an acknowledgement lapses.
	AckTimeoutAt *time.Time `json:"ack_timeout_at,omitempty"`
	// StillFiringAt is when alerts that were still firing as a person
	// resolved the incident open a new one if they fire yet
	// (incidents.repeat_interval after the resolution).
	StillFiringAt *time.Time `json:"still_firing_at,omitempty"`
}

// TimerAt is when the incident's durable timer fires (the earliest of the
// next step, the acknowledgement timeout and the still-firing check), or
// nil.
func (inc *Incident) TimerAt() *time.Time {
	e := inc.Escalation
	var at *time.Time
	for _, t := range []*time.Time{e.NextAt, e.AckTimeoutAt, e.StillFiringAt} {
		if t != nil && (at == nil || t.Before(*at)) {
			at = t
		}
	}
	return at
}

// Alert is one alert attached to an incident.
type Alert struct {
	Name         string           `json:"name"`
	Fingerprint  string           `json:"fingerprint"`
	State        model.AlertState `json:"state"`
	Severity     model.Severity   `json:"severity,omitempty"`
	Labels       model.Labels     `json:"labels"`
	Annotations  model.Labels     `json:"annotations"`
	Source       string           `json:"source"`
	StartsAt     time.Time        `json:"starts_at"`
	EndsAt       *time.Time       `json:"ends_at"`
	GeneratorURL string           `json:"generator_url,omitempty"`
	// Silenced is true while a silence, an inhibition or a maintenance
	// window mutes the alert.
	Silenced bool `json:"silenced,omitempty"`
}

// TimelineEntry is one event in an incident's life.
type TimelineEntry struct {
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"`
	Actor string    `json:"actor"`
	Text  string    `json:"text"`
	// Via is where a person wrote the entry when it is already on view
	// there: ViaSlackThread for a reply in the incident's Slack thread,
	// which the Slack pager does not post back. Empty for the rest.
	Via string `json:"via,omitempty"`
}

// ViaSlackThread marks a note taken from a reply in the incident's Slack
// thread.
const ViaSlackThread = "slack_thread"

// Update is a stakeholder update on an incident: what the people outside
// the response are told ("a fix is rolling out"). A public update is shown
// on the public status page, with its time and text only; the author stays
// inside.
type Update struct {
	At     time.Time `json:"at"`
	Text   string    `json:"text"`
	Public bool      `json:"public"`
	Author string    `json:"author"`
}

// HasPublicUpdate reports whether any update of the incident is public,
// which is what puts it on the status page.
func (inc *Incident) HasPublicUpdate() bool {
	for _, u := range inc.Updates {
		if u.Public {
			return true
		}
	}
	return false
}

// SLOImpact is an SLO the incident burns and how much of its error budget
// (a fraction of the whole) was consumed since the incident started; and,
// when the budget source knows it, the budget now: the objective and
// window, the fraction left and how long it lasts at the current rate
// (seconds).
type SLOImpact struct {
	Name            string   `json:"name"`
	BudgetConsumed  float64  `json:"budget_consumed"`
	Objective       float64  `json:"objective,omitempty"`
	Window          float64  `json:"window,omitempty"`
	BudgetRemaining *float64 `json:"budget_remaining,omitempty"`
	// BudgetProjected is true when the budget left is of an allowance
	// projected from the traffic seen so far (event SLIs early in their
	// window).
	BudgetProjected  bool     `json:"budget_projected,omitempty"`
	TimeToExhaustion *float64 `json:"time_to_exhaustion,omitempty"`
	// CountedFrom and CountedTo are the whole minutes BudgetConsumed
	// counts: SLO counts are kept per minute, so every minute from the
	// incident's start to its resolution (or now) touches counts.
	CountedFrom time.Time `json:"counted_from,omitzero"`
	CountedTo   time.Time `json:"counted_to,omitzero"`
}

// Words says the impact as every pager shows it: "this incident spent
// 1.2% of the budget (counted over the whole minutes 2026-12-06 10:00 to
// 10:12:31 UTC); 87% left, which lasts 7.8 h at the current rate". The
// minutes counted are those the incident page and the API name.
func (s SLOImpact) Words() string {
	text := "this incident spent " + model.SpokenPercent(s.BudgetConsumed) + " of the budget"
	if m := model.CountedMinutes(s.CountedFrom, s.CountedTo); m != "" {
		text += " (" + m + ")"
	}
	// A projected allowance moves with traffic: the figure says so.
	proj, inParens := "", ""
	if s.BudgetProjected {
		proj, inParens = " (projected)", ", projected"
	}
	switch {
	case s.BudgetRemaining == nil:
	case *s.BudgetRemaining <= 0:
		text += fmt.Sprintf("; the budget is spent (%s left%s)", model.SpokenPercent(*s.BudgetRemaining), inParens)
	case s.TimeToExhaustion != nil:
		text += fmt.Sprintf("; %s left%s, which lasts %s at the current rate", model.SpokenPercent(*s.BudgetRemaining), proj,
			model.SpokenDuration(time.Duration(*s.TimeToExhaustion*float64(time.Second))))
	default:
		text += fmt.Sprintf("; %s left%s, not burning now", model.SpokenPercent(*s.BudgetRemaining), proj)
	}
	return text
}

// MTTA is the time to acknowledge, or false when never acknowledged.
func (inc *Incident) MTTA() (time.Duration, bool) {
	if inc.AcknowledgedAt == nil {
		return 0, false
	}
	return inc.AcknowledgedAt.Sub(inc.CreatedAt), true
}

// MTTR is the time to resolve, or false while open.
func (inc *Incident) MTTR() (time.Duration, bool) {
	if inc.ResolvedAt == nil {
		return 0, false
	}
	return inc.ResolvedAt.Sub(inc.CreatedAt), true
}

func (inc *Incident) note(at time.Time, kind, actor, format string, args ...any) {
	inc.Timeline = append(inc.Timeline, TimelineEntry{At: at, Kind: kind, Actor: actor, Text: fmt.Sprintf(format, args...)})
}

// UrgencyNow is the incident's urgency; incidents stored before urgencies
// existed were all high urgency.
func (inc *Incident) UrgencyNow() oncall.Urgency {
	if inc.Urgency == oncall.UrgencyLow {
		return oncall.UrgencyLow
	}
	return oncall.UrgencyHigh
}

// severitySetBy is the person who last set the severity by hand (PATCH,
// Slack), or "" when only alerts have set it.
func (inc *Incident) severitySetBy() string {
	for i := len(inc.Timeline) - 1; i >= 0; i-- {
		if e := inc.Timeline[i]; e.Kind == KindSeverity && e.Actor != ActorSentinel {
			return e.Actor
		}
	}
	return ""
}

// Clone returns a deep enough copy for a store to hand out.
func (inc *Incident) Clone() *Incident {
	c := *inc
	c.published, c.publishedView = 0, "" // one transaction's bookkeeping
	c.Labels = inc.Labels.Clone()
	c.Alerts = append([]Alert(nil), inc.Alerts...)
	c.Timeline = append([]TimelineEntry(nil), inc.Timeline...)
	c.SLONames = append([]string(nil), inc.SLONames...)
	c.Responders = append([]string(nil), inc.Responders...)
	c.Updates = append([]Update(nil), inc.Updates...)
	return &c
}

// Errors of the incident service; web maps them to HTTP statuses through
// their NotFound, Conflict and Invalid methods.
var (
	// ErrNotFound names an incident that does not exist: 404.
	ErrNotFound = model.NewKindError(model.KindNotFound, "incident not found")
	// ErrInvalidTransition is a state change the incident's status does not
	// allow, such as acknowledging a resolved incident: 409.
	ErrInvalidTransition = model.NewKindError(model.KindConflict, "invalid incident transition")
	// ErrInvalid is a request that must change (a missing title): 400.
	ErrInvalid = model.NewKindError(model.KindInvalid, "invalid request")
)

// errorf wraps a kind with a message that names what is wrong.
func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))
}

// missing is something other than an incident that does not exist (an
// override, a calendar feed): ErrNotFound for errors.Is and the HTTP
// status, without "incident not found" in front of what is missing.
type missing struct{ msg string }

func (e missing) Error() string { return e.msg }
func (e missing) Unwrap() error { return ErrNotFound }

func missingf(format string, args ...any) error { return missing{fmt.Sprintf(format, args...)} }

// IsNotFound reports whether err is (or wraps) ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// Target aliases the on-call target for callers of this package.
type Target = oncall.Target
