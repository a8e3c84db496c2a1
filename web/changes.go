package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/changes"
)

// changeBodyLimit caps a change marker's body.
const changeBodyLimit = 16 << 10

// ChangeList is GET /api/v1/changes.
type ChangeList struct {
	Changes []changes.Change `json:"changes"`
}

// MountChanges adds the change marker endpoints: machines (CI, Argo CD)
// report with an ingest token, people read.
func MountChanges(r *Routes, svc *changes.Service) {
	h := changeHandlers{svc: svc}
	r.Ingest().POST("/api/v1/changes", h.record)
	r.Viewer().GET("/api/v1/changes", h.list)
}

type changeHandlers struct{ svc *changes.Service }

func (h changeHandlers) record(c *gin.Context) {
	var req changes.NewChange
	if err := BindJSON(c, &req, changeBodyLimit); err != nil {
		return
	}
	ch, err := h.svc.Record(c.Request.Context(), req, Actor(c))
	if err != nil {
		Error(c, err)
		return
	}
	c.Header("Location", "/api/v1/changes?service="+url.QueryEscape(ch.Service))
	c.JSON(http.StatusCreated, ch)
}

func (h changeHandlers) list(c *gin.Context) {
	q := changes.Query{Service: c.Query("service")}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := c.Query(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				Error(c, fmt.Errorf("%w: %s must be an RFC 3339 time, got %.40q", ErrInvalid, p.name, v))
				return
			}
			*p.dst = t
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			Error(c, fmt.Errorf("%w: limit must be an integer between 1 and %d", ErrInvalid, changes.MaxLimit))
			return
		}
		q.Limit = n
	}
	list, err := h.svc.List(c.Request.Context(), q)
	if err != nil {
		Error(c, err)
		return
	}
	if list == nil {
		list = []changes.Change{}
	}
	c.JSON(http.StatusOK, ChangeList{Changes: list})
}
