package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/runbooks"
)

// RunbookCatalogue is what the runbook endpoints read.
type RunbookCatalogue interface {
	List() []runbooks.Runbook
	Get(name string) (runbooks.Runbook, error)
}

// RunbookDTO is one runbook in GET /api/v1/runbooks; GET
// /api/v1/runbooks/{name} adds its Markdown and the rendered HTML.
type RunbookDTO struct {
	Name        string                `json:"name"`
	Title       string                `json:"title"`
	Owners      []string              `json:"owners"`
	Alerts      []string              `json:"alerts"`
	Labels      model.Labels          `json:"labels"`
	Severity    model.Severity        `json:"severity,omitempty"`
	Diagnostics []runbooks.Diagnostic `json:"diagnostics"`
	UpdatedAt   time.Time             `json:"updated_at"`
	Markdown    *string               `json:"markdown,omitempty"`
	HTML        *string               `json:"html,omitempty"`
}

func newRunbookDTO(rb runbooks.Runbook) RunbookDTO {
	d := RunbookDTO{Name: rb.Name, Title: rb.Title, Owners: rb.Owners, Alerts: rb.Alerts, Labels: rb.Labels,
		Severity: rb.Severity, Diagnostics: rb.Diagnostics, UpdatedAt: rb.UpdatedAt}
	if d.Owners == nil {
		d.Owners = []string{}
	}
	if d.Alerts == nil {
		d.Alerts = []string{}
	}
	if d.Labels == nil {
		d.Labels = model.Labels{}
	}
	if d.Diagnostics == nil {
		d.Diagnostics = []runbooks.Diagnostic{}
	}
	return d
}

// MountRunbooks adds GET /api/v1/runbooks (the catalogue) and GET
// /api/v1/runbooks/{name} (one runbook rendered to sanitised HTML).
func MountRunbooks(r *Routes, cat RunbookCatalogue) {
	rr := runbooks.NewRenderer()
	r.Viewer().GET("/api/v1/runbooks", func(c *gin.Context) {
		list := cat.List()
		out := struct {
			Runbooks []RunbookDTO `json:"runbooks"`
		}{Runbooks: make([]RunbookDTO, 0, len(list))}
		for _, rb := range list {
			out.Runbooks = append(out.Runbooks, newRunbookDTO(rb))
		}
		c.JSON(http.StatusOK, out)
	})
	r.Viewer().GET("/api/v1/runbooks/:name", func(c *gin.Context) {
		name := c.Param("name")
		rb, err := cat.Get(name)
		if err != nil {
			if errors.Is(err, runbooks.ErrNotFound) {
				err = fmt.Errorf("%w: no runbook named %.100q", ErrNotFound, name)
			}
			Error(c, err)
			return
		}
		html, err := rr.HTML(rb)
		if err != nil {
			Error(c, err)
			return
		}
		d := newRunbookDTO(rb)
		d.Markdown, d.HTML = &rb.Body, &html
		c.JSON(http.StatusOK, d)
	})
}
