package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/incidents/postmortem"
)

// PostmortemService is what the postmortem and report endpoints need.
type PostmortemService interface {
	Get(ctx context.Context, id int64) (*postmortem.Postmortem, error)
	Put(ctx context.Context, id int64, e postmortem.Edit, actor string) (*postmortem.Postmortem, error)
	Report(ctx context.Context, from, to time.Time) (postmortem.Report, error)
}

// MountPostmortems adds GET and PUT /api/v1/incidents/{id}/postmortem,
// the Markdown export (GET /api/v1/incidents/{id}/postmortem.md, or the
// JSON path with ?format=markdown) and GET /api/v1/reports/incidents.
func MountPostmortems(r *Routes, svc PostmortemService) {
	h := postmortemHandlers{svc: svc}
	r.Viewer().GET("/api/v1/incidents/:id/postmortem", h.get)
	r.Viewer().GET("/api/v1/incidents/:id/postmortem.md", h.markdown)
	r.Responder().PUT("/api/v1/incidents/:id/postmortem", h.put)
	r.Viewer().GET("/api/v1/reports/incidents", h.report)
}

type postmortemHandlers struct{ svc PostmortemService }

func (h postmortemHandlers) get(c *gin.Context) {
	switch f := c.Query("format"); f {
	case "", "json":
	case "markdown", "md":
		h.markdown(c)
		return
	default:
		Error(c, fmt.Errorf("%w: format %.20q: want json or markdown", ErrInvalid, f))
		return
	}
	id, ok := parseID(c)
	if !ok {
		return
	}
	pm, err := h.svc.Get(c.Request.Context(), id)
	if err != nil {
		Error(c, err)
		return
	}
	c.JSON(http.StatusOK, pm)
}

func (h postmortemHandlers) markdown(c *gin.Context) {
	id, ok := parseID(c)
	if !ok {
		return
	}
	pm, err := h.svc.Get(c.Request.Context(), id)
	if err != nil {
		Error(c, err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="postmortem-%d.md"`, id))
	c.Data(http.StatusOK, "text/markdown; charset=utf-8", postmortem.Markdown(pm))
}

func (h postmortemHandlers) put(c *gin.Context) {
	id, ok := parseID(c)
	if !ok {
		return
	}
	var e postmortem.Edit
	if err := BindJSON(c, &e, postmortem.MaxEditBytes); err != nil {
		return
	}
	if err := e.Validate(); err != nil {
		Error(c, err)
		return
	}
	pm, err := h.svc.Put(c.Request.Context(), id, e, Actor(c))
	if err != nil {
		Error(c, err)
		return
	}
	c.JSON(http.StatusOK, pm)
}

// reportDefault is the span the incident report covers without from and
// to, as the report page's default does: the last 30 days.
const reportDefault = 30 * 24 * time.Hour

func (h postmortemHandlers) report(c *gin.Context) {
	if (c.Query("from") == "") != (c.Query("to") == "") {
		Error(c, fmt.Errorf("%w: from and to: give both (RFC 3339 times), or neither for the last 30 days", ErrInvalid))
		return
	}
	from, to, ranged, err := parseRange(c)
	if err != nil {
		Error(c, fmt.Errorf("%w: %v", ErrInvalid, err))
		return
	}
	if !ranged {
		to = time.Now().UTC().Truncate(time.Second)
		from = to.Add(-reportDefault)
	}
	rep, err := h.svc.Report(c.Request.Context(), from, to)
	if err != nil {
		Error(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}
