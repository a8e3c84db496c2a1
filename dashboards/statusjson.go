package dashboards

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"time"
)

// The public JSON follows Atlassian Statuspage's public API v2
// (/api/v2/summary.json and its siblings) field for field, so the
// aggregators, chat integrations and scripts that read a Statuspage page
// read Sentinel's too. Fields Statuspage has and Sentinel cannot fill
// (tweets, groups) carry Statuspage's empty values: null or false.

// spPage is the "page" object.
type spPage struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	TimeZone  string    `json:"time_zone"`
	UpdatedAt time.Time `json:"updated_at"`
}

// spStatus is the "status" object: indicator none, minor, major,
// critical or maintenance, and Statuspage's description of it.
type spStatus struct {
	Indicator   string `json:"indicator"`
	Description string `json:"description"`
}

// spComponent is a component object.
type spComponent struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	Status             string    `json:"status"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	Position           int       `json:"position"`
	Description        *string   `json:"description"`
	Showcase           bool      `json:"showcase"`
	StartDate          *string   `json:"start_date"`
	GroupID            *string   `json:"group_id"`
	PageID             string    `json:"page_id"`
	Group              bool      `json:"group"`
	OnlyShowIfDegraded bool      `json:"only_show_if_degraded"`
}

// spIncidentUpdate is one entry of an incident's incident_updates.
type spIncidentUpdate struct {
	ID                   string                `json:"id"`
	Status               string                `json:"status"`
	Body                 string                `json:"body"`
	IncidentID           string                `json:"incident_id"`
	CreatedAt            time.Time             `json:"created_at"`
	UpdatedAt            time.Time             `json:"updated_at"`
	DisplayAt            time.Time             `json:"display_at"`
	AffectedComponents   []spAffectedComponent `json:"affected_components"`
	DeliverNotifications bool                  `json:"deliver_notifications"`
	CustomTweet          *string               `json:"custom_tweet"`
	TweetID              *string               `json:"tweet_id"`
}

// spAffectedComponent is a component an update names, with its status
// before and after.
type spAffectedComponent struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

// spIncident is an incident or, with ScheduledFor and ScheduledUntil set,
// a scheduled maintenance.
type spIncident struct {
	ID              string             `json:"id"`
	Name            string             `json:"name"`
	Status          string             `json:"status"`
	CreatedAt       time.Time          `json:"created_at"`
	UpdatedAt       time.Time          `json:"updated_at"`
	MonitoringAt    *time.Time         `json:"monitoring_at"`
	ResolvedAt      *time.Time         `json:"resolved_at"`
	Impact          string             `json:"impact"`
	Shortlink       string             `json:"shortlink"`
	StartedAt       time.Time          `json:"started_at"`
	PageID          string             `json:"page_id"`
	IncidentUpdates []spIncidentUpdate `json:"incident_updates"`
	Components      []spComponent      `json:"components"`
	// ScheduledFor and ScheduledUntil are set on scheduled maintenances
	// only.
	ScheduledFor   *time.Time `json:"scheduled_for,omitempty"`
	ScheduledUntil *time.Time `json:"scheduled_until,omitempty"`
}

// spSummary is /api/v2/summary.json.
type spSummary struct {
	Page                  spPage        `json:"page"`
	Status                spStatus      `json:"status"`
	Components            []spComponent `json:"components"`
	Incidents             []spIncident  `json:"incidents"`
	ScheduledMaintenances []spIncident  `json:"scheduled_maintenances"`
}

// spStatusDoc is /api/v2/status.json.
type spStatusDoc struct {
	Page   spPage   `json:"page"`
	Status spStatus `json:"status"`
}

// spComponentsDoc is /api/v2/components.json.
type spComponentsDoc struct {
	Page       spPage        `json:"page"`
	Components []spComponent `json:"components"`
}

// spIncidentsDoc is /api/v2/incidents.json and incidents/unresolved.json.
type spIncidentsDoc struct {
	Page      spPage       `json:"page"`
	Incidents []spIncident `json:"incidents"`
}

// spMaintenancesDoc is /api/v2/scheduled-maintenances.json and its
// upcoming and active views.
type spMaintenancesDoc struct {
	Page                  spPage       `json:"page"`
	ScheduledMaintenances []spIncident `json:"scheduled_maintenances"`
}

// pageID is a stable 12-character identifier for the page, in
// Statuspage's alphabet (lower-case letters and digits), derived from its
// URL so replicas agree.
func pageID(url string) string {
	sum := sha256.Sum256([]byte("sentinel status page " + url))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))[:12]
}

// msTime rounds t to the millisecond in UTC, as Statuspage writes times.
func msTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func msTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := msTime(*t)
	return &v
}
