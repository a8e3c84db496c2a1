package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/probes"
)

// ProbeService is what the probe endpoints need from the probes package.
type ProbeService interface {
	List(ctx context.Context) ([]probes.Status, error)
	Results(ctx context.Context, name string, limit int, before string) ([]probes.Result, error)
	// Screenshot returns a browser run's PNG (the step's, or the run's
	// main one when step is "").
	Screenshot(ctx context.Context, name, run, step string) ([]byte, error)
}

// MountProbes adds GET /api/v1/probes, GET /api/v1/probes/{name}/results
// and GET /api/v1/probes/{name}/runs/{run}/screenshot (role viewer).
func MountProbes(r *Routes, svc ProbeService) {
	r.Viewer().GET("/api/v1/probes", func(c *gin.Context) {
		list, err := svc.List(c.Request.Context())
		if err != nil {
			Error(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"probes": list})
	})
	r.Viewer().GET("/api/v1/probes/:name/results", func(c *gin.Context) {
		limit := 0
		if raw := c.Query("limit"); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 {
				abortJSON(c, http.StatusBadRequest, "limit: must be a positive whole number")
				return
			}
			limit = n
		}
		before := c.Query("before")
		if len(before) > 64 {
			abortJSON(c, http.StatusBadRequest, "before: not a run ID")
			return
		}
		runs, err := svc.Results(c.Request.Context(), c.Param("name"), limit, before)
		if err != nil {
			Error(c, err)
			return
		}
		if runs == nil {
			runs = []probes.Result{}
		}
		next := ""
		if len(runs) > 0 {
			next = runs[len(runs)-1].ID
		}
		c.JSON(http.StatusOK, gin.H{"probe": c.Param("name"), "results": runs, "next_before": next})
	})
	r.Viewer().GET("/api/v1/probes/:name/runs/:run/screenshot", func(c *gin.Context) {
		run, step := c.Param("run"), c.Query("step")
		if len(run) > 64 {
			abortJSON(c, http.StatusBadRequest, "run: not a run ID")
			return
		}
		if len(step) > 200 {
			abortJSON(c, http.StatusBadRequest, "step: not a step name")
			return
		}
		png, err := svc.Screenshot(c.Request.Context(), c.Param("name"), run, step)
		if err != nil {
			Error(c, err)
			return
		}
		c.Header("Cache-Control", "private, max-age=86400, immutable") // a run's screenshot never changes
		c.Header("X-Content-Type-Options", "nosniff")
		c.Data(http.StatusOK, "image/png", png)
	})
}
