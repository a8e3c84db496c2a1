package web

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/model"
)

// AlertingLimits bound the alerting endpoints' inputs.
type AlertingLimits struct {
	// WebhookMaxBytes caps an Alertmanager delivery (alerting.webhook.max_body_bytes).
	WebhookMaxBytes int64
	// WebhookMaxAlerts caps the alerts in one delivery (alerting.webhook.max_alerts).
	WebhookMaxAlerts int
}

// heartbeatMaxBytes caps what a heartbeat may carry (it is ignored).
const heartbeatMaxBytes = 4 << 10

// MountAlerting adds the alerts, silences, Alertmanager webhook and
// heartbeat endpoints for svc.
func MountAlerting(r *Routes, svc *alerting.Service, lim AlertingLimits) {
	h := &alertingHandlers{svc: svc, lim: lim}
	r.Viewer().GET("/api/v1/alerts", h.alerts)
	r.Viewer().GET("/api/v1/silences", h.silences)
	r.Responder().POST("/api/v1/silences", BodyLimit(64<<10), h.createSilence)
	r.Responder().DELETE("/api/v1/silences", h.expireSilence)
	r.Responder().DELETE("/api/v1/silences/:id", h.expireSilence)
	r.Ingest().POST("/api/v1/alertmanager", BodyLimit(lim.WebhookMaxBytes), h.webhook)
	r.Ingest().POST("/api/v1/heartbeats/:name", BodyLimit(heartbeatMaxBytes), h.heartbeat)
	mountMaintenance(r, h)
}

type alertingHandlers struct {
	svc *alerting.Service
	lim AlertingLimits
}

// alertDTO is one alert in GET /api/v1/alerts.
type alertDTO struct {
	Name        string         `json:"name"`
	State       string         `json:"state"`
	Severity    model.Severity `json:"severity"`
	Labels      model.Labels   `json:"labels"`
	Annotations model.Labels   `json:"annotations"`
	GroupKey    string         `json:"group_key"`
	Silenced    bool           `json:"silenced"`
	SilencedBy  []string       `json:"silenced_by"`
	Inhibited   bool           `json:"inhibited"`
	InhibitedBy string         `json:"inhibited_by,omitempty"`
	// MaintenanceBy lists the maintenance windows the alert falls in.
	MaintenanceBy []string   `json:"maintenance_by"`
	Since         time.Time  `json:"since"`
	FiredAt       *time.Time `json:"fired_at"`
	Source        string     `json:"source"`
	Runbook       string     `json:"runbook,omitempty"`
	Fingerprint   string     `json:"fingerprint"`
	GeneratorURL  string     `json:"generator_url,omitempty"`
}

func (h *alertingHandlers) alerts(c *gin.Context) {
	as, err := h.svc.Alerts(c.Request.Context())
	if err != nil {
		Error(c, err)
		return
	}
	out := make([]alertDTO, 0, len(as))
	for _, a := range as {
		d := alertDTO{
			Name: a.Name, State: string(a.State), Severity: a.Severity, Labels: nonNil(a.Labels), Annotations: nonNil(a.Annotations),
			GroupKey: a.GroupKey, Silenced: a.Silenced, SilencedBy: a.SilencedBy, Inhibited: a.InhibitedBy != "", InhibitedBy: a.InhibitedBy,
			Since: a.StartsAt, Source: a.Source, Runbook: a.Runbook, Fingerprint: a.Fingerprint, GeneratorURL: a.GeneratorURL,
		}
		if d.SilencedBy == nil {
			d.SilencedBy = []string{}
		}
		d.MaintenanceBy = nonNilStrings(a.MaintenanceBy)
		if !a.FiredAt.IsZero() {
			t := a.FiredAt
			d.FiredAt = &t
		}
		out = append(out, d)
	}
	c.JSON(http.StatusOK, gin.H{"alerts": out})
}

func nonNil(l model.Labels) model.Labels {
	if l == nil {
		return model.Labels{}
	}
	return l
}

// silenceDTO is one silence in the API.
type silenceDTO struct {
	ID        string     `json:"id"`
	Matchers  []string   `json:"matchers"`
	StartsAt  time.Time  `json:"starts_at"`
	EndsAt    time.Time  `json:"ends_at"`
	Status    string     `json:"status"`
	CreatedBy string     `json:"created_by"`
	Comment   string     `json:"comment"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiredBy string     `json:"expired_by,omitempty"`
	WarnedAt  *time.Time `json:"expiry_warned_at,omitempty"`
	// Actor is the token that created it, when the author named another
	// (Alertmanager clients send their user name as the author).
	Actor string `json:"actor,omitempty"`
}

func toSilenceDTO(s alerting.Silence, now time.Time) silenceDTO {
	d := silenceDTO{ID: s.ID, StartsAt: s.StartsAt, EndsAt: s.EndsAt, Status: string(s.Status(now)), CreatedBy: s.CreatedBy,
		Comment: s.Comment, CreatedAt: s.CreatedAt, ExpiredBy: s.ExpiredBy, Actor: s.Actor, Matchers: make([]string, len(s.Matchers))}
	for i, m := range s.Matchers {
		d.Matchers[i] = m.String()
	}
	if !s.WarnedAt.IsZero() {
		t := s.WarnedAt
		d.WarnedAt = &t
	}
	return d
}

func (h *alertingHandlers) silences(c *gin.Context) {
	sils, err := h.svc.Silences(c.Request.Context())
	if err != nil {
		Error(c, err)
		return
	}
	now := h.svc.Now()
	want := c.Query("status")
	if want != "" && want != "active" && want != "pending" && want != "expired" {
		Error(c, fmt.Errorf("%w: status must be active, pending or expired", ErrInvalid))
		return
	}
	out := make([]silenceDTO, 0, len(sils))
	for _, s := range sils {
		d := toSilenceDTO(s, now)
		if want == "" || d.Status == want {
			out = append(out, d)
		}
	}
	c.JSON(http.StatusOK, gin.H{"silences": out})
}

// createSilenceRequest is the body of POST /api/v1/silences: each matcher
// is text in Alertmanager's syntax (a comma list is several matchers) or
// Alertmanager's matcher object.
type createSilenceRequest struct {
	Matchers []alerting.MatcherInput `json:"matchers"`
	StartsAt *time.Time              `json:"starts_at"`
	EndsAt   *time.Time              `json:"ends_at"`
	Duration *model.Duration         `json:"duration"`
	Comment  string                  `json:"comment"`
}

func (h *alertingHandlers) createSilence(c *gin.Context) {
	var req createSilenceRequest
	if err := BindJSON(c, &req, 0); err != nil {
		return
	}
	n := alerting.NewSilence{Matchers: req.Matchers, Comment: req.Comment, Author: Actor(c)}
	if req.StartsAt != nil {
		n.StartsAt = *req.StartsAt
	}
	if req.EndsAt != nil {
		n.EndsAt = *req.EndsAt
	}
	if req.Duration != nil {
		n.Duration = req.Duration.Std()
	}
	s, err := h.svc.CreateSilence(c.Request.Context(), n)
	if err != nil {
		Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, toSilenceDTO(s, h.svc.Now()))
}

func (h *alertingHandlers) expireSilence(c *gin.Context) {
	id := c.Param("id")
	if id == "" {
		id = c.Query("id")
	}
	if id == "" {
		Error(c, fmt.Errorf("%w: name the silence: DELETE /api/v1/silences/{id} or ?id=", ErrInvalid))
		return
	}
	old, oldErr := h.svc.Silence(c.Request.Context(), id)
	s, err := h.svc.ExpireSilence(c.Request.Context(), id, Actor(c))
	if err != nil {
		Error(c, err)
		return
	}
	if oldErr == nil {
		before, after := fieldChanges("ends_at", old.EndsAt.UTC().Format(time.RFC3339), s.EndsAt.UTC().Format(time.RFC3339))
		setChange(c, before, after)
	}
	c.JSON(http.StatusOK, toSilenceDTO(s, h.svc.Now()))
}

func (h *alertingHandlers) webhook(c *gin.Context) {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			abortJSON(c, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type must be application/json, got %.100q", ct))
			return
		}
	}
	w, err := alerting.DecodeWebhook(c.Request.Body, h.lim.WebhookMaxAlerts, h.svc.Matchers())
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			Error(c, mbe)
			return
		}
		Error(c, err)
		return
	}
	res, err := h.svc.IngestWebhook(c.Request.Context(), w)
	if err != nil {
		Error(c, fmt.Errorf("%w: %v", ErrUnavailable, err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "new": res.New, "resolved": res.Resolved, "unchanged": res.Unchanged, "heartbeats": res.Heartbeats})
}

func (h *alertingHandlers) heartbeat(c *gin.Context) {
	name := c.Param("name")
	at, err := h.svc.Heartbeat(c.Request.Context(), name)
	if err != nil {
		Error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "heartbeat": name, "at": at.UTC()})
}
