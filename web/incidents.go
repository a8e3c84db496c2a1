package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

// incidentBodyLimit caps the bodies of the incident and override endpoints.
const incidentBodyLimit = 64 << 10

// IncidentDTO is the contract's incident JSON.
type IncidentDTO struct {
	ID       int64          `json:"id"`
	Title    string         `json:"title"`
	Severity model.Severity `json:"severity"`
	// Urgency is high (pages, escalates, repeats) or low (its policy's
	// first step notified once).
	Urgency        oncall.Urgency            `json:"urgency"`
	Status         incidents.Status          `json:"status"`
	Summary        string                    `json:"summary"`
	Labels         model.Labels              `json:"labels"`
	DedupKey       *string                   `json:"dedup_key"`
	CreatedAt      time.Time                 `json:"created_at"`
	AcknowledgedAt *time.Time                `json:"acknowledged_at"`
	ResolvedAt     *time.Time                `json:"resolved_at"`
	Alerts         []incidents.Alert         `json:"alerts"`
	Timeline       []incidents.TimelineEntry `json:"timeline"`
	Runbook        *string                   `json:"runbook"`
	SLOs           []incidents.SLOImpact     `json:"slos"`
	Source         string                    `json:"source"`
	MTTA           *float64                  `json:"mtta_seconds"`
	MTTR           *float64                  `json:"mttr_seconds"`
	// Commander is who leads the response (a person of people:), or null.
	Commander *string `json:"commander"`
	// Updates are the stakeholder updates, oldest first.
	Updates []incidents.Update `json:"updates"`
	// Changes are the changes to its services in the two hours before it
	// started (filled on GET of one incident).
	Changes []incidents.RecentChange `json:"changes"`
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// NewIncidentDTO converts an incident; slos may be nil (then []).
func NewIncidentDTO(inc *incidents.Incident, slos []incidents.SLOImpact) IncidentDTO {
	d := IncidentDTO{
		ID: inc.ID, Title: inc.Title, Severity: inc.Severity, Urgency: inc.UrgencyNow(), Status: inc.Status, Summary: inc.Summary,
		Labels: inc.Labels, DedupKey: strOrNil(inc.DedupKey), CreatedAt: inc.CreatedAt,
		AcknowledgedAt: inc.AcknowledgedAt, ResolvedAt: inc.ResolvedAt, Alerts: inc.Alerts, Timeline: inc.Timeline,
		Runbook: strOrNil(inc.Runbook), SLOs: slos, Source: inc.Source,
		Commander: strOrNil(inc.Commander), Updates: inc.Updates,
	}
	if d.Updates == nil {
		d.Updates = []incidents.Update{}
	}
	d.Changes = []incidents.RecentChange{}
	if d.Labels == nil {
		d.Labels = model.Labels{}
	}
	if d.Alerts == nil {
		d.Alerts = []incidents.Alert{}
	}
	if d.Timeline == nil {
		d.Timeline = []incidents.TimelineEntry{}
	}
	if d.SLOs == nil {
		d.SLOs = []incidents.SLOImpact{}
	}
	if v, ok := inc.MTTA(); ok {
		s := v.Seconds()
		d.MTTA = &s
	}
	if v, ok := inc.MTTR(); ok {
		s := v.Seconds()
		d.MTTR = &s
	}
	return d
}

// IncidentList is GET /api/v1/incidents: a page of incidents and the
// cursor for the next one (next_before, absent on the last page).
type IncidentList struct {
	Incidents  []IncidentDTO `json:"incidents"`
	NextBefore *int64        `json:"next_before,omitempty"`
}

// overrideRequest is POST /api/v1/oncall/overrides.
type overrideRequest struct {
	Schedule string    `json:"schedule"`
	User     string    `json:"user"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
}

// OnCallDTO is GET /api/v1/oncall.
type OnCallDTO struct {
	Schedules []incidents.ScheduleOnCall `json:"schedules"`
	// Overrides are those in force or planned: the file's and the stored.
	Overrides []oncall.Override `json:"overrides"`
}

// MountIncidents adds the incident and on-call endpoints.
func MountIncidents(r *Routes, svc *incidents.Service) {
	h := incidentHandlers{svc: svc}
	r.Viewer().GET("/api/v1/incidents", h.list)
	r.Viewer().GET("/api/v1/incidents/stats", h.stats)
	r.Viewer().GET("/api/v1/incidents/:id", h.get)
	r.Responder().POST("/api/v1/incidents", h.declare)
	r.Responder().POST("/api/v1/incidents/:id/acknowledge", h.action(svc.Acknowledge))
	r.Responder().POST("/api/v1/incidents/:id/resolve", h.action(svc.Resolve))
	r.Responder().POST("/api/v1/incidents/:id/escalate", h.action(svc.Escalate))
	r.Responder().PATCH("/api/v1/incidents/:id", h.edit)
	r.Responder().POST("/api/v1/incidents/:id/notes", h.note)
	r.Responder().POST("/api/v1/incidents/:id/updates", h.addUpdate)
	r.Viewer().GET("/api/v1/oncall", h.oncall)
	r.Responder().POST("/api/v1/oncall/overrides", h.addOverride)
	r.Responder().DELETE("/api/v1/oncall/overrides/:override", h.removeOverride)
	r.Viewer().GET("/api/v1/oncall/calendars", h.calendars)
	r.Responder().POST("/api/v1/oncall/calendars", h.addCalendar)
	r.Responder().DELETE("/api/v1/oncall/calendars/:cal", h.revokeCalendar)
	// The feed's secret address is its only credential: calendar apps
	// cannot send a token.
	r.Public().GET("/oncall/calendars/:file", h.calendarFeed)
}

type incidentHandlers struct{ svc *incidents.Service }

// parseID reads a positive incident ID from the path ("42" or "#42" is
// not accepted; only digits).
func parseID(c *gin.Context) (int64, bool) {
	raw := c.Param("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		Error(c, fmt.Errorf("%w: incident id must be a positive integer, got %.40q", ErrInvalid, raw))
		return 0, false
	}
	return id, true
}

func (h incidentHandlers) list(c *gin.Context) {
	q := incidents.ListQuery{Status: c.Query("status"), Limit: 50}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > incidents.MaxListLimit {
			Error(c, fmt.Errorf("%w: limit must be an integer between 1 and %d", ErrInvalid, incidents.MaxListLimit))
			return
		}
		q.Limit = n
	}
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			Error(c, fmt.Errorf("%w: before must be a positive incident id", ErrInvalid))
			return
		}
		q.Before = n
	}
	list, err := h.svc.List(c.Request.Context(), q)
	if err != nil {
		Error(c, err)
		return
	}
	out := IncidentList{Incidents: make([]IncidentDTO, 0, len(list))}
	for _, inc := range list {
		out.Incidents = append(out.Incidents, NewIncidentDTO(inc, h.svc.SLOConsumption(c.Request.Context(), inc)))
	}
	if len(list) == q.Limit && len(list) > 0 {
		next := list[len(list)-1].ID
		out.NextBefore = &next
	}
	c.JSON(http.StatusOK, out)
}

func (h incidentHandlers) get(c *gin.Context) {
	id, ok := parseID(c)
	if !ok {
		return
	}
	inc, err := h.svc.Get(c.Request.Context(), id)
	if err != nil {
		Error(c, err)
		return
	}
	d := NewIncidentDTO(inc, h.svc.SLOImpact(c.Request.Context(), inc))
	d.Changes = h.svc.RecentChanges(c.Request.Context(), inc)
	c.JSON(http.StatusOK, d)
}

func (h incidentHandlers) declare(c *gin.Context) {
	var req incidents.DeclareRequest
	if err := BindJSON(c, &req, incidentBodyLimit); err != nil {
		return
	}
	inc, err := h.svc.Declare(c.Request.Context(), req, Actor(c))
	if err != nil {
		Error(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("/api/v1/incidents/%d", inc.ID))
	c.JSON(http.StatusCreated, NewIncidentDTO(inc, nil))
}

func (h incidentHandlers) action(fn func(ctx context.Context, id int64, actor string) (*incidents.Incident, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := parseID(c)
		if !ok {
			return
		}
		inc, err := fn(c.Request.Context(), id, Actor(c))
		if err != nil {
			Error(c, err)
			return
		}
		c.JSON(http.StatusOK, NewIncidentDTO(inc, nil))
	}
}

// edit is PATCH /api/v1/incidents/{id}: title, severity and commander;
// absent or null fields stay as they are.
func (h incidentHandlers) edit(c *gin.Context) {
	id, ok := parseID(c)
	if !ok {
		return
	}
	var req incidents.Edit
	if err := BindJSON(c, &req, incidentBodyLimit); err != nil {
		return
	}
	old, oldErr := h.svc.Get(c.Request.Context(), id)
	inc, err := h.svc.EditIncident(c.Request.Context(), id, req, Actor(c))
	if err != nil {
		Error(c, err)
		return
	}
	if oldErr == nil {
		before, after := fieldChanges("title", old.Title, inc.Title, "severity", string(old.Severity), string(inc.Severity), "commander", old.Commander, inc.Commander)
		setChange(c, before, after)
	}
	c.JSON(http.StatusOK, NewIncidentDTO(inc, nil))
}

// noteRequest is POST /api/v1/incidents/{id}/notes.
type noteRequest struct {
	Text string `json:"text"`
}

func (h incidentHandlers) note(c *gin.Context) {
	id, ok := parseID(c)
	if !ok {
		return
	}
	var req noteRequest
	if err := BindJSON(c, &req, incidentBodyLimit); err != nil {
		return
	}
	inc, err := h.svc.AddPersonNote(c.Request.Context(), id, req.Text, Actor(c))
	if err != nil {
		Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, NewIncidentDTO(inc, nil))
}

// UpdateCreated is the answer to POST /api/v1/incidents/{id}/updates: the
// update as stored and the incident with it.
type UpdateCreated struct {
	Update   incidents.Update `json:"update"`
	Incident IncidentDTO      `json:"incident"`
}

func (h incidentHandlers) addUpdate(c *gin.Context) {
	id, ok := parseID(c)
	if !ok {
		return
	}
	var req incidents.NewUpdate
	if err := BindJSON(c, &req, incidentBodyLimit); err != nil {
		return
	}
	inc, u, err := h.svc.AddUpdate(c.Request.Context(), id, req, Actor(c))
	if err != nil {
		Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, UpdateCreated{Update: u, Incident: NewIncidentDTO(inc, nil)})
}

func (h incidentHandlers) stats(c *gin.Context) {
	from, err1 := time.Parse(time.RFC3339, c.Query("from"))
	to, err2 := time.Parse(time.RFC3339, c.Query("to"))
	if err1 != nil || err2 != nil {
		Error(c, fmt.Errorf("%w: from and to must be RFC 3339 times", ErrInvalid))
		return
	}
	st, err := h.svc.Stats(c.Request.Context(), from, to)
	if err != nil {
		Error(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

func (h incidentHandlers) oncall(c *gin.Context) {
	sc, err := h.svc.OnCall(c.Request.Context())
	if err != nil {
		Error(c, err)
		return
	}
	ovs, err := h.svc.UpcomingOverrides(c.Request.Context())
	if err != nil {
		Error(c, err)
		return
	}
	if ovs == nil {
		ovs = []oncall.Override{}
	}
	c.JSON(http.StatusOK, OnCallDTO{Schedules: sc, Overrides: ovs})
}

func (h incidentHandlers) addOverride(c *gin.Context) {
	var req overrideRequest
	if err := BindJSON(c, &req, incidentBodyLimit); err != nil {
		return
	}
	o, err := h.svc.AddOverride(c.Request.Context(), oncall.Override{Schedule: req.Schedule, User: req.User, Start: req.Start, End: req.End}, Actor(c))
	if err != nil {
		Error(c, err)
		return
	}
	setChange(c, "", overrideFields(o))
	c.JSON(http.StatusCreated, o)
}

// removeOverride answers DELETE /api/v1/oncall/overrides/{id} with the
// override it removed.
func (h incidentHandlers) removeOverride(c *gin.Context) {
	o, err := h.svc.RemoveOverride(c.Request.Context(), c.Param("override"), Actor(c))
	if err != nil {
		Error(c, err)
		return
	}
	setChange(c, overrideFields(o), "")
	c.JSON(http.StatusOK, o)
}

// overrideFields is an override as the audit log's name="value" pairs.
func overrideFields(o oncall.Override) string {
	_, fields := fieldChanges("schedule", "", o.Schedule, "user", "", o.User,
		"start", "", o.Start.UTC().Format(time.RFC3339), "end", "", o.End.UTC().Format(time.RFC3339))
	return fields
}

// calendarRequest is POST /api/v1/oncall/calendars.
type calendarRequest struct {
	Schedule string `json:"schedule"`
	Person   string `json:"person"`
}

// CalendarCreated is a new feed with its secret address, shown only now.
type CalendarCreated struct {
	incidents.CalendarFeed
	URL string `json:"url"`
}

func (h incidentHandlers) addCalendar(c *gin.Context) {
	var req calendarRequest
	if err := BindJSON(c, &req, incidentBodyLimit); err != nil {
		return
	}
	f, token, err := h.svc.AddCalendar(c.Request.Context(), req.Schedule, req.Person, Actor(c))
	if err != nil {
		Error(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, CalendarCreated{CalendarFeed: f, URL: h.svc.CalendarURL(token)})
}

func (h incidentHandlers) calendars(c *gin.Context) {
	list, err := h.svc.Calendars(c.Request.Context())
	if err != nil {
		Error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"calendars": list})
}

func (h incidentHandlers) revokeCalendar(c *gin.Context) {
	if err := h.svc.RevokeCalendar(c.Request.Context(), c.Param("cal"), Actor(c)); err != nil {
		Error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// calendarFeed serves GET /oncall/calendars/{token}.ics as text/calendar.
func (h incidentHandlers) calendarFeed(c *gin.Context) {
	token, ok := strings.CutSuffix(c.Param("file"), ".ics")
	if !ok || token == "" || len(token) > 100 {
		Error(c, fmt.Errorf("%w: no such calendar feed", ErrNotFound))
		return
	}
	ics, err := h.svc.CalendarICS(c.Request.Context(), token)
	if err != nil {
		Error(c, err)
		return
	}
	c.Header("Cache-Control", "private, max-age=300")
	c.Header("Content-Disposition", `inline; filename="oncall.ics"`)
	c.Data(http.StatusOK, "text/calendar; charset=utf-8", ics)
}
