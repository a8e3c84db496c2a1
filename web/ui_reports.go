package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// The report pages (the monthly SLO report with its CSV and Markdown
// exports, the incident report), the viewer's settings, and the viewer's
// time zone.

// zoneCookie holds the viewer's time zone: "auto:Europe/Berlin" when it is
// the browser's (kept current by the pages' script), "Europe/Berlin" when
// chosen in the settings, "auto" before the script has run.
const zoneCookie = "sentinel_tz"

// ginZoneKey keeps the request's zone choice for viewer.
const ginZoneKey = "sentinel.zone"

// maxSettingsForm caps the settings form (a zone name and a token).
const maxSettingsForm = 4 << 10

// maxReportRange is the longest incident report range the page accepts.
const maxReportRange = 366 * 24 * time.Hour

type zoneChoice struct {
	loc  *time.Location
	auto bool
}

// viewerZone reads the zone cookie; an unknown or malformed zone is
// ignored (the page is then drawn in UTC).
func (u *ui) viewerZone(c *gin.Context) {
	zc := zoneChoice{auto: true}
	if ck, err := c.Request.Cookie(zoneCookie); err == nil {
		val, _ := url.QueryUnescape(ck.Value)
		name, auto := strings.CutPrefix(val, "auto:")
		zc.auto = auto || val == "auto"
		if loc, ok := u.d.Zone(name); ok {
			zc.loc = loc
		}
	}
	c.Set(ginZoneKey, zc)
	c.Next()
}

func (u *ui) mountReports(pages *gin.RouterGroup) {
	pages.GET("/reports", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/reports/slos") })
	pages.GET("/reports/slos", u.sloReport)
	pages.GET("/reports/slos.csv", u.sloReportExport("text/csv; charset=utf-8", "csv"))
	pages.GET("/reports/slos.md", u.sloReportExport("text/markdown; charset=utf-8", "md"))
	pages.GET("/reports/incidents", u.incidentReport)
	pages.GET("/reports/incidents.json", u.incidentReportJSON)
	pages.GET("/settings", u.settingsPage)
	pages.POST("/settings", BodyLimit(maxSettingsForm), u.saveSettings)
}

// immutable serves a content-hashed asset for good.
func (u *ui) immutable(c *gin.Context, hash, contentType string, body []byte) {
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Header("ETag", `"`+hash+`"`)
	c.Header("X-Content-Type-Options", "nosniff")
	if c.GetHeader("If-None-Match") == `"`+hash+`"` {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, contentType, body)
}

func (u *ui) sloReport(c *gin.Context) {
	month := c.Query("month")
	if len(month) > 20 {
		u.errorPage(c, http.StatusBadRequest, "The month is not a month such as 2024-05.")
		return
	}
	u.write(c, http.StatusOK, func(w io.Writer) error {
		return u.d.SLOReportPage(c.Request.Context(), w, viewer(c), month)
	})
}

// sloReportExport serves the report as a download (CSV or Markdown).
func (u *ui) sloReportExport(contentType, ext string) gin.HandlerFunc {
	return func(c *gin.Context) {
		month := c.Query("month")
		if len(month) > 20 {
			u.errorPage(c, http.StatusBadRequest, "The month is not a month such as 2024-05.")
			return
		}
		if month == "" {
			month = time.Now().UTC().Format("2006-01")
		}
		var buf bytes.Buffer
		var err error
		if ext == "csv" {
			err = u.d.SLOReportCSV(c.Request.Context(), &buf, month)
		} else {
			err = u.d.SLOReportMarkdown(c.Request.Context(), &buf, month)
		}
		if err != nil {
			u.fail(c, err)
			return
		}
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="slo-report-%s.%s"`, url.PathEscape(month), ext))
		c.Data(http.StatusOK, contentType, buf.Bytes())
	}
}

// incidentReport shows the incident report between two dates (the
// viewer's days, to included); the last 30 days by default.
func (u *ui) incidentReport(c *gin.Context) {
	from, to, ok := u.reportRange(c)
	if !ok {
		return
	}
	u.write(c, http.StatusOK, func(w io.Writer) error {
		return u.d.IncidentReportPage(c.Request.Context(), w, viewer(c), from, to)
	})
}

// incidentReportJSON serves the page's report as GET
// /api/v1/reports/incidents does, to the session (the API takes only
// bearer tokens, which a browser following a link does not send).
func (u *ui) incidentReportJSON(c *gin.Context) {
	from, to, ok := u.reportRange(c)
	if !ok {
		return
	}
	rep, err := u.d.IncidentReport(c.Request.Context(), from, to)
	if err != nil {
		u.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}

// reportRange reads the incident report's from and to (the viewer's days,
// to included; the last 30 days by default) as [from, to); on a bad range
// it answers with an error page and returns false.
func (u *ui) reportRange(c *gin.Context) (from, to time.Time, ok bool) {
	v := viewer(c)
	loc := v.Zone
	if loc == nil {
		loc = time.UTC
	}
	today := time.Now().In(loc)
	day := func(s string, def time.Time) (time.Time, bool) {
		if s == "" {
			return def, true
		}
		t, err := time.ParseInLocation("2006-01-02", s, loc)
		return t, err == nil
	}
	start := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	from, ok1 := day(c.Query("from"), start.AddDate(0, 0, -29))
	to, ok2 := day(c.Query("to"), start)
	if !ok1 || !ok2 {
		u.errorPage(c, http.StatusBadRequest, "From and to must be dates such as 2024-05-01.")
		return
	}
	to = to.AddDate(0, 0, 1) // the last day included
	switch {
	case !to.After(from):
		u.errorPage(c, http.StatusBadRequest, "The report's end must be on or after its start.")
		return
	case to.Sub(from) > maxReportRange:
		u.errorPage(c, http.StatusBadRequest, "A report covers at most a year.")
		return
	}
	return from, to, true
}

func (u *ui) settingsPage(c *gin.Context) {
	u.write(c, http.StatusOK, func(w io.Writer) error { return u.d.Settings(w, viewer(c), c.Query("saved") == "1", "") })
}

// saveSettings stores the viewer's time zone choice in its cookie: a
// setting of this browser, not of the token.
func (u *ui) saveSettings(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		u.errorPage(c, http.StatusBadRequest, "The settings form could not be read.")
		return
	}
	if !CheckCSRF(c) {
		u.errorPage(c, http.StatusForbidden, "This form was not sent from this session's page (missing or wrong CSRF token); reload the settings and try again.")
		return
	}
	val := "auto"
	if c.Request.PostForm.Get("mode") == "zone" {
		name := strings.TrimSpace(c.Request.PostForm.Get("zone"))
		if _, ok := u.d.Zone(name); !ok {
			u.write(c, http.StatusBadRequest, func(w io.Writer) error {
				return u.d.Settings(w, viewer(c), false, fmt.Sprintf("%.64q is not a time zone: write an IANA name such as Europe/Berlin or America/New_York.", name))
			})
			return
		}
		val = name
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: zoneCookie, Value: url.QueryEscape(val), Path: "/", MaxAge: 365 * 24 * 3600,
		SameSite: http.SameSiteLaxMode, Secure: c.Request.TLS != nil})
	c.Redirect(http.StatusSeeOther, "/settings?saved=1")
}
