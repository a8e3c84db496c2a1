package incidents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

// NotificationKind says what a notification is about.
type NotificationKind string

// Notification kinds.
const (
	// KindPage asks the target to respond: a new incident, an escalation
	// step, a repeat, a reopen or an acknowledgement timeout.
	KindPage NotificationKind = "page"
	// KindUpdate tells what changed so a pager can update what it sent:
	// Events are the timeline entries people should hear of (an alert
	// joined or cleared, acknowledged, escalated, resolved, a note…); an
	// update without events is a refresh, sent when only what the incident
	// shows changed (its title, an alert's summary).
	KindUpdate NotificationKind = "update"
	// KindAnnouncement carries an announcement from alerting.
	KindAnnouncement NotificationKind = "announcement"
)

// Notification is what a pager delivers. It is stored in the outbox, so it
// carries a snapshot of the incident (without its timeline) as it was when
// the notification was made.
type Notification struct {
	// Key is the idempotency key of this delivery, stable across retries
	// and restarts; a pager that can attach it to what it sends should.
	Key  string           `json:"key"`
	Kind NotificationKind `json:"kind"`
	// Incident is the snapshot (nil for announcements).
	Incident *Incident `json:"incident,omitempty"`
	// Event is the timeline entry this notification is for: the last of
	// Events for updates.
	Event *TimelineEntry `json:"event,omitempty"`
	// Events are the timeline entries an update announces, oldest first.
	Events []TimelineEntry `json:"events,omitempty"`
	// SLOs are the affected SLOs and the budget consumed so far.
	SLOs []SLOImpact `json:"slos,omitempty"`
	// Changes are the changes to the incident's services before it
	// started, newest first.
	Changes []RecentChange `json:"changes,omitempty"`
	// Pass and Step of the escalation policy, for pages.
	Pass int `json:"pass"`
	Step int `json:"step"`
	// Target is what the step notifies; Recipients are the people it
	// reaches (the person on call for a schedule).
	Target     oncall.Target   `json:"target"`
	Recipients []oncall.Person `json:"recipients,omitempty"`
	// Responders are everyone paged for the incident so far (for updates).
	Responders []oncall.Person `json:"responders,omitempty"`
	// Announcement is set for KindAnnouncement.
	Announcement *model.Announcement `json:"announcement,omitempty"`
	// URL links to the incident in Sentinel's UI.
	URL string `json:"url,omitempty"`
	// Links are every place the notification points to: the incident,
	// the failed probe run, the SLO pages, the runbook, Grafana.
	Links []Link `json:"links,omitempty"`
	// Attempt counts deliveries of this entry, 1 for the first.
	Attempt int `json:"attempt"`
}

// LowUrgency reports whether n is about a low-urgency incident: a page
// that is a notice, sent once, to be phrased as not urgent.
func (n Notification) LowUrgency() bool {
	return n.Incident != nil && n.Incident.UrgencyNow() == oncall.UrgencyLow
}

// IsRefresh reports whether n is an update that announces no event: only
// what the incident shows changed. Pagers that keep a live view (Slack's
// message) redraw it; pagers that send messages (email, console) skip it.
func (n Notification) IsRefresh() bool {
	return n.Kind == KindUpdate && n.Event == nil && len(n.Events) == 0
}

// Pager delivers notifications. Deliver must honour ctx's deadline; a nil
// error means delivered. It may return a *RetryAfterError to ask for a
// specific wait (a rate limit) or an error wrapping ErrPermanent when
// retrying cannot help. Deliveries for one pager are made one at a time,
// in order.
type Pager interface {
	// Name identifies the pager in the outbox, logs and metrics.
	Name() string
	Deliver(ctx context.Context, n Notification) error
}

// Reconciler is implemented by pagers that can tell whether a delivery
// found in flight after a crash went out (for example by reading a Slack
// channel's history for the idempotency key). It is called before such an
// entry is sent again; alreadyDelivered true completes it without sending.
type Reconciler interface {
	Reconcile(ctx context.Context, n Notification) (alreadyDelivered bool, err error)
}

// RetryAfterError asks the outbox to wait After before the next attempt,
// as a rate-limited API does (Slack's 429 with Retry-After).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.After, e.Err)
}

// Unwrap returns the cause.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter wraps err with a requested wait.
func RetryAfter(after time.Duration, err error) error {
	return &RetryAfterError{After: after, Err: err}
}

// ErrPermanent marks a delivery error that retrying cannot fix (a 4xx
// answer, a rejected address): the entry goes to the fallback at once.
var ErrPermanent = errors.New("permanent delivery failure")
