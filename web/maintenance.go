package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/model"
)

// Maintenance windows: one-off ones made, listed, edited and ended like
// silences; recurring ones (alerting.maintenance) listed with their next
// occurrence.

// recurringHorizon is how far ahead the next occurrence of a recurring
// window is looked for.
const recurringHorizon = 35 * 24 * time.Hour

// mountMaintenance adds the maintenance endpoints.
func mountMaintenance(r *Routes, h *alertingHandlers) {
	r.Viewer().GET("/api/v1/maintenance", h.maintenanceList)
	r.Viewer().GET("/api/v1/maintenance/:id", h.maintenanceGet)
	r.Responder().POST("/api/v1/maintenance", BodyLimit(64<<10), h.maintenanceCreate)
	r.Responder().PUT("/api/v1/maintenance/:id", BodyLimit(64<<10), h.maintenanceUpdate)
	r.Responder().DELETE("/api/v1/maintenance/:id", h.maintenanceEnd)
}

// windowDTO is one maintenance window in the API.
type windowDTO struct {
	ID        string    `json:"id"`
	Matchers  []string  `json:"matchers"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Status    string    `json:"status"`
	Comment   string    `json:"comment"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// Recurring names the alerting.maintenance entry this is an occurrence of.
	Recurring string `json:"recurring,omitempty"`
	EndedBy   string `json:"ended_by,omitempty"`
}

func toWindowDTO(w alerting.Silence, now time.Time) windowDTO {
	return windowDTO{ID: w.ID, Matchers: w.Matchers.Texts(), StartsAt: w.StartsAt, EndsAt: w.EndsAt, Status: w.WindowState(now),
		Comment: w.Comment, CreatedBy: w.CreatedBy, CreatedAt: w.CreatedAt, Recurring: w.Recurring, EndedBy: w.ExpiredBy}
}

// recurringDTO is one alerting.maintenance entry in the API.
type recurringDTO struct {
	Name          string     `json:"name"`
	TimeIntervals []string   `json:"time_intervals"`
	Matchers      []string   `json:"matchers"`
	Comment       string     `json:"comment,omitempty"`
	Active        bool       `json:"active"`
	CurrentEnd    *time.Time `json:"current_end,omitempty"`
	NextStart     *time.Time `json:"next_start"`
	NextEnd       *time.Time `json:"next_end"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (h *alertingHandlers) maintenanceList(c *gin.Context) {
	want := c.Query("status")
	if want != "" && want != "pending" && want != "active" && want != "ended" {
		Error(c, fmt.Errorf("%w: status must be pending, active or ended", ErrInvalid))
		return
	}
	ws, err := h.svc.MaintenanceWindows(c.Request.Context())
	if err != nil {
		Error(c, err)
		return
	}
	now := h.svc.Now()
	windows := make([]windowDTO, 0, len(ws))
	for _, w := range ws {
		if d := toWindowDTO(w, now); want == "" || d.Status == want {
			windows = append(windows, d)
		}
	}
	recurring := []recurringDTO{}
	for _, r := range h.svc.RecurringMaintenanceAt(now, recurringHorizon) {
		recurring = append(recurring, recurringDTO{Name: r.Name, TimeIntervals: r.TimeIntervals, Matchers: r.Matchers.Texts(), Comment: r.Comment,
			Active: r.Active, CurrentEnd: timePtr(r.CurrentEnd), NextStart: timePtr(r.NextStart), NextEnd: timePtr(r.NextEnd)})
	}
	c.JSON(http.StatusOK, gin.H{"windows": windows, "recurring": recurring})
}

func (h *alertingHandlers) maintenanceGet(c *gin.Context) {
	w, err := h.svc.MaintenanceWindow(c.Request.Context(), c.Param("id"))
	if err != nil {
		Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toWindowDTO(w, h.svc.Now()))
}

// maintenanceRequest is the body of POST and PUT /api/v1/maintenance:
// matchers as for silences, and the window's span.
type maintenanceRequest struct {
	Matchers []alerting.MatcherInput `json:"matchers"`
	StartsAt *time.Time              `json:"starts_at"`
	EndsAt   *time.Time              `json:"ends_at"`
	Duration *model.Duration         `json:"duration"`
	Comment  string                  `json:"comment"`
}

func (h *alertingHandlers) bindMaintenance(c *gin.Context) (alerting.NewSilence, bool) {
	var req maintenanceRequest
	if err := BindJSON(c, &req, 0); err != nil {
		return alerting.NewSilence{}, false
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
	return n, true
}

func (h *alertingHandlers) maintenanceCreate(c *gin.Context) {
	n, ok := h.bindMaintenance(c)
	if !ok {
		return
	}
	w, err := h.svc.CreateMaintenance(c.Request.Context(), n)
	if err != nil {
		Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, toWindowDTO(w, h.svc.Now()))
}

func (h *alertingHandlers) maintenanceUpdate(c *gin.Context) {
	n, ok := h.bindMaintenance(c)
	if !ok {
		return
	}
	w, err := h.svc.UpdateMaintenance(c.Request.Context(), c.Param("id"), n)
	if err != nil {
		Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toWindowDTO(w, h.svc.Now()))
}

func (h *alertingHandlers) maintenanceEnd(c *gin.Context) {
	w, err := h.svc.EndMaintenance(c.Request.Context(), c.Param("id"), Actor(c))
	if err != nil {
		Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toWindowDTO(w, h.svc.Now()))
}
