package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/dashboards"
	"github.com/sentinel-oss/sentinel/internal/ratelimit"
	"github.com/sentinel-oss/sentinel/statuspage"
)

// StatusPages renders the public status page (dashboards.StatusPage).
type StatusPages interface {
	Public(ctx context.Context) (*dashboards.StatusPublic, error)
	Stylesheet() (css []byte, hash string)
	Invalidate()
}

// StatusComponents is the authenticated side of the status page: every
// component with where its status comes from, and the overrides responders
// set (statuspage.Service).
type StatusComponents interface {
	Current(ctx context.Context) (statuspage.Snapshot, error)
	SetOverride(ctx context.Context, id string, n statuspage.NewOverride, actor string) (statuspage.Override, error)
	ClearOverride(ctx context.Context, id, reason, actor string) error
	OverrideLog(ctx context.Context, limit int) ([]statuspage.OverrideEvent, error)
}

// statusBodyLimit caps an override request.
const statusBodyLimit = 16 << 10

// StatusPageRoutes serves the status page; its rate limit follows the
// config through SetRateLimit.
type StatusPageRoutes struct {
	pages   StatusPages
	comps   StatusComponents
	limiter atomic.Pointer[ratelimit.Keyed]
	now     func() time.Time
	// srv answers a browser with an HTML page when the status page is off.
	srv *Server
}

// SetRateLimit replaces the per-IP buckets (a reload's commit).
func (s *StatusPageRoutes) SetRateLimit(rl config.StatusRateLimit) {
	s.limiter.Store(ratelimit.NewKeyed(rl.PerIP, rl.PerIPBurst, rl.TrackedIPs))
}

// statusDocs maps the public JSON paths under /status/api/v2/ to their
// rendered documents.
var statusDocs = []string{
	"summary.json", "status.json", "components.json", "incidents.json", "incidents/unresolved.json",
	"scheduled-maintenances.json", "scheduled-maintenances/upcoming.json", "scheduled-maintenances/active.json",
}

// MountStatusPage serves the public status page without sign-in, on GET
// and HEAD only: /status, /status/incidents/{id}, /status/feed.atom,
// /status/feed.rss, /status/badge/{id}.svg, /status/assets/{css} and
// Statuspage's API v2 under /status/api/v2/. Every answer comes from a
// rendering a few seconds old at most (Cache-Control says so, ETags answer
// 304), each client IP is rate-limited (429 with Retry-After), and HTML
// carries a CSP without script. comps, when set, adds the authenticated
// API under /api/v1/status-page/.
func MountStatusPage(r *Routes, pages StatusPages, comps StatusComponents, rl config.StatusRateLimit) *StatusPageRoutes {
	s := &StatusPageRoutes{pages: pages, comps: comps, now: r.srv.now, srv: r.srv}
	s.SetRateLimit(rl)
	pub := r.Public().Group("/status", s.limit)
	get := func(path string, h gin.HandlerFunc) {
		pub.GET(path, h)
		pub.HEAD(path, h)
	}
	get("", s.doc(func(*gin.Context) string { return "page" }))
	get("/incidents/:id", s.doc(func(c *gin.Context) string { return "incident/" + c.Param("id") }))
	get("/feed.atom", s.doc(func(*gin.Context) string { return "feed.atom" }))
	get("/feed.rss", s.doc(func(*gin.Context) string { return "feed.rss" }))
	get("/badge/:file", s.doc(func(c *gin.Context) string {
		id, ok := strings.CutSuffix(c.Param("file"), ".svg")
		if !ok {
			return ""
		}
		return "badge/" + id
	}))
	for _, key := range statusDocs {
		get("/api/v2/"+key, s.doc(func(*gin.Context) string { return key }))
	}
	get("/assets/:file", s.stylesheet)
	if comps != nil {
		r.Viewer().GET("/api/v1/status-page/components", s.listComponents)
		r.Viewer().GET("/api/v1/status-page/overrides", s.overrideLog)
		r.Responder().PUT("/api/v1/status-page/components/:id/override", BodyLimit(statusBodyLimit), s.setOverride)
		r.Responder().DELETE("/api/v1/status-page/components/:id/override", BodyLimit(statusBodyLimit), s.clearOverride)
	}
	return s
}

// limit takes a token from the client's bucket or answers 429.
func (s *StatusPageRoutes) limit(c *gin.Context) {
	if !s.limiter.Load().Allow(ClientIP(c), s.now()) {
		c.Header("Retry-After", "1")
		abortJSON(c, http.StatusTooManyRequests, "too many requests to the status page from this address; retry in a second")
		return
	}
	c.Next()
}

// statusCSP is the HTML pages' policy: no script at all, the stylesheet
// and images from Sentinel (and the logo's origin), nothing else.
func statusCSP(logoOrigin string) string {
	img := "img-src 'self'"
	if logoOrigin != "" {
		img += " " + logoOrigin
	}
	return "default-src 'none'; style-src 'self'; " + img + "; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
}

// doc serves the rendered document key picks.
func (s *StatusPageRoutes) doc(key func(*gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		pub, err := s.pages.Public(c.Request.Context())
		if err != nil {
			abortJSON(c, http.StatusServiceUnavailable, "the status page cannot be rendered right now; try again shortly")
			return
		}
		if !pub.Enabled {
			if s.srv.wantsPage(c) {
				s.srv.pageError(c, http.StatusNotFound, "This Sentinel has no public status page: it is not enabled (status_page.enabled).")
				return
			}
			abortJSON(c, http.StatusNotFound, "the status page is not enabled (status_page.enabled)")
			return
		}
		k := key(c)
		d, ok := pub.Doc(k)
		if !ok {
			abortJSON(c, http.StatusNotFound, "no such page on the status page")
			return
		}
		h := c.Writer.Header()
		// Caches may keep it as long as Sentinel itself will.
		left := pub.Expires.Sub(s.now())
		maxAge := max(int((left+time.Second-1)/time.Second), 0)
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(maxAge))
		h.Set("ETag", d.ETag)
		h.Set("Vary", "Accept-Encoding")
		h.Set("Last-Modified", pub.Built.UTC().Format(http.TimeFormat))
		if strings.HasPrefix(d.ContentType, "text/html") {
			h.Set("Content-Security-Policy", statusCSP(pub.LogoOrigin))
		} else {
			// JSON, feeds and badges are read by other sites' widgets.
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			h.Set("Access-Control-Allow-Origin", "*")
		}
		if inm := c.GetHeader("If-None-Match"); inm != "" && etagMatch(inm, d.ETag) {
			c.Status(http.StatusNotModified)
			return
		}
		body := d.Body
		if d.Gzip != nil && acceptsGzip(c.GetHeader("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			body = d.Gzip
		}
		h.Set("Content-Type", d.ContentType)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		c.Status(http.StatusOK)
		if c.Request.Method != http.MethodHead {
			_, _ = c.Writer.Write(body)
		}
	}
}

// etagMatch reports whether an If-None-Match header names etag (or *).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header admits gzip (named
// with a quality above zero).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}

func (s *StatusPageRoutes) stylesheet(c *gin.Context) {
	css, hash := s.pages.Stylesheet()
	serveStylesheet(c, css, hash)
}

// StatusComponentDTO is one component on GET /api/v1/status-page/components:
// its public status and, for responders, where it comes from.
type StatusComponentDTO struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Status      statuspage.Status    `json:"status"`
	Automatic   statuspage.Status    `json:"automatic_status"`
	Reason      string               `json:"reason"`
	Source      string               `json:"source"`
	Override    *statuspage.Override `json:"override"`
	Maintenance []string             `json:"maintenance"`
}

func (s *StatusPageRoutes) listComponents(c *gin.Context) {
	snap, err := s.comps.Current(c.Request.Context())
	if err != nil {
		Error(c, err)
		return
	}
	out := make([]StatusComponentDTO, 0, len(snap.Components))
	for _, cs := range snap.Components {
		d := StatusComponentDTO{ID: cs.ID, Name: cs.Name, Status: cs.Status, Automatic: cs.Automatic, Reason: cs.Why,
			Source: cs.Kind + ":" + cs.Source, Override: cs.Override, Maintenance: []string{}}
		for _, w := range cs.Maintenance {
			d.Maintenance = append(d.Maintenance, w.ID)
		}
		out = append(out, d)
	}
	c.JSON(http.StatusOK, gin.H{"enabled": snap.Page.Enabled, "components": out})
}

func (s *StatusPageRoutes) overrideLog(c *gin.Context) {
	limit, ok := limitParam(c, 100, 1000)
	if !ok {
		return
	}
	log, err := s.comps.OverrideLog(c.Request.Context(), limit)
	if err != nil {
		Error(c, err)
		return
	}
	if log == nil {
		log = []statuspage.OverrideEvent{}
	}
	c.JSON(http.StatusOK, gin.H{"overrides": log})
}

func (s *StatusPageRoutes) setOverride(c *gin.Context) {
	var req statuspage.NewOverride
	if err := BindJSON(c, &req, statusBodyLimit); err != nil {
		return
	}
	o, err := s.comps.SetOverride(c.Request.Context(), c.Param("id"), req, Actor(c))
	if err != nil {
		Error(c, err)
		return
	}
	s.pages.Invalidate()
	c.JSON(http.StatusOK, gin.H{"component": c.Param("id"), "override": o})
}

func (s *StatusPageRoutes) clearOverride(c *gin.Context) {
	var req struct {
		Reason string `json:"reason"`
	}
	// The reason comes in a JSON body or, for clients that send no body
	// with DELETE, as ?reason=.
	if c.Request.ContentLength == 0 && c.GetHeader("Content-Type") == "" {
		req.Reason = c.Query("reason")
	} else if err := BindJSON(c, &req, statusBodyLimit); err != nil {
		return
	}
	if strings.TrimSpace(req.Reason) == "" {
		abortJSON(c, http.StatusBadRequest, `reason is required (it goes into the audit log): send {"reason": "..."} as the body, or ?reason= in the URL`)
		return
	}
	if err := s.comps.ClearOverride(c.Request.Context(), c.Param("id"), req.Reason, Actor(c)); err != nil {
		Error(c, err)
		return
	}
	s.pages.Invalidate()
	c.JSON(http.StatusOK, gin.H{"component": c.Param("id"), "override": nil})
}
