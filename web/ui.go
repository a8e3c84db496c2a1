package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/audit"
	"github.com/sentinel-oss/sentinel/dashboards"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/incidents/postmortem"
	"github.com/sentinel-oss/sentinel/model"
)

// UIIncidentActions are the incident changes the pages' buttons make.
type UIIncidentActions interface {
	Acknowledge(ctx context.Context, id int64, actor string) (*incidents.Incident, error)
	Resolve(ctx context.Context, id int64, actor string) (*incidents.Incident, error)
	Escalate(ctx context.Context, id int64, actor string) (*incidents.Incident, error)
	AddPersonNote(ctx context.Context, id int64, text, actor string) (*incidents.Incident, error)
	AddUpdate(ctx context.Context, id int64, u incidents.NewUpdate, actor string) (*incidents.Incident, incidents.Update, error)
	AddOverride(ctx context.Context, o oncall.Override, actor string) (oncall.Override, error)
	RemoveOverride(ctx context.Context, id, actor string) (oncall.Override, error)
}

// UIScreenshots serves browser probe screenshots to signed-in people.
type UIScreenshots interface {
	Screenshot(ctx context.Context, name, run, step string) ([]byte, error)
}

// UIPostmortems saves what the postmortem editor sends.
type UIPostmortems interface {
	Put(ctx context.Context, id int64, e postmortem.Edit, actor string) (*postmortem.Postmortem, error)
}

// UISilences creates and expires silences from the alerts page.
type UISilences interface {
	CreateSilence(ctx context.Context, n alerting.NewSilence) (alerting.Silence, error)
	ExpireSilence(ctx context.Context, id, actor string) (alerting.Silence, error)
}

// UIOptions are what MountUI needs besides the pages.
type UIOptions struct {
	Sessions SessionOptions
	// Actions backs the incident buttons; nil hides nothing but answers
	// 503 when one is pressed.
	Actions UIIncidentActions
	// Screenshots backs the screenshot images; nil answers 404.
	Screenshots UIScreenshots
	// Postmortems saves the postmortem editor; nil answers 503 to a save.
	Postmortems UIPostmortems
	// Silences backs the alerts page's silence forms; nil answers 503.
	Silences UISilences
	// OIDC turns on single sign-on (zero: off); People lists who may sign
	// in with it.
	OIDC   OIDCOptions
	People func() []Person
	// Audit backs the admins' audit page; nil answers 503.
	Audit *audit.Log
}

// uiCSP is the Content-Security-Policy of every page: no inline script
// (only Sentinel's own time-zone script), styles and images from Sentinel
// only, forms posting only to Sentinel, and no framing.
const uiCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxLoginForm caps the sign-in form body (a token and a path).
const maxLoginForm = 8 << 10

// maxPostmortemForm caps the postmortem editor's body: five sections of
// up to 20,000 characters and 100 action items, URL-encoded.
const maxPostmortemForm = 1 << 20

// maxSilenceForm caps the new-silence form.
const maxSilenceForm = 64 << 10

type ui struct {
	d    *dashboards.Dashboards
	ses  *Sessions
	opts UIOptions
}

// MountUI serves the dashboards at / and below, behind a session cookie:
// GET /login and POST /login (token for session), POST /logout, the
// stylesheet, and the pages, with their forms: incident actions, the
// postmortem editor (/incidents/{id}/postmortem, and its Markdown at
// /incidents/{id}/postmortem.md), and silences on /alerts. A page
// requested without a session redirects to /login; a form POST must carry
// the session's CSRF token, and changes need a responder. It returns the
// session store (for tests and metrics).
func MountUI(r *Routes, d *dashboards.Dashboards, opts UIOptions) *Sessions {
	u := &ui{d: d, ses: r.Sessions(opts.Sessions), opts: opts}
	u.ses.ConfigureSSO(opts.OIDC, opts.People)
	r.srv.pageError = func(c *gin.Context, status int, msg string) {
		setUIHeaders(c.Writer.Header())
		u.errorPage(c, status, msg)
	}
	pub := r.Public()
	pub.GET("/ui/:file", u.stylesheet)
	pub.GET("/login", u.uiHeaders, u.loginPage)
	pub.POST("/login", u.uiHeaders, u.login)
	pub.POST("/logout", u.uiHeaders, u.logout)
	pub.GET("/login/oidc", u.uiHeaders, u.ssoStart)
	pub.GET(ssoCallbackPath, u.uiHeaders, u.ssoCallback)

	pages := pub.Group("/", u.uiHeaders, u.ses.Require(u.signInFirst, u.sessionUnreadable), u.viewerZone)
	pages.GET("/", u.overview)
	pages.GET("/slos", u.overview)
	pages.GET("/slos/:name", u.sloPage)
	pages.GET("/incidents", u.incidentsPage)
	pages.GET("/incidents/:id", u.incidentPage)
	pages.POST("/incidents/:id/:action", BodyLimit(maxIncidentForm), u.incidentAction)
	pages.GET("/incidents/:id/postmortem", u.postmortemPage)
	pages.GET("/incidents/:id/postmortem.md", u.postmortemMarkdown)
	pages.POST("/incidents/:id/postmortem", BodyLimit(maxPostmortemForm), u.postmortemSave)
	pages.GET("/alerts", u.alertsPage)
	pages.POST("/alerts/silences", BodyLimit(maxSilenceForm), u.createSilence)
	pages.POST("/alerts/silences/:sid/expire", BodyLimit(maxSilenceForm), u.expireSilence)
	pages.GET("/probes", u.probesPage)
	pages.GET("/probes/:name", u.probePage)
	pages.GET("/probes/:name/runs/:run/screenshot", u.screenshot)
	pages.GET("/rum", u.rumPage)
	pages.GET("/oncall", u.oncallPage)
	pages.POST("/oncall/overrides", BodyLimit(maxOverrideForm), u.addOverride)
	pages.POST("/oncall/overrides/:override/remove", BodyLimit(maxOverrideForm), u.removeOverride)
	pages.GET("/runbooks", u.runbooksPage)
	pages.GET("/runbooks/:name", u.runbookPage)
	pages.GET("/audit", u.auditPage)
	u.mountReports(pages)
	return u.ses
}

// uiHeaders sets what every page answer carries: the CSP, no caching of
// private pages, and a referrer policy that lets forms name their origin.
func (u *ui) uiHeaders(c *gin.Context) {
	setUIHeaders(c.Writer.Header())
	c.Next()
}

func setUIHeaders(h http.Header) {
	h.Set("Content-Security-Policy", uiCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie")
	// With no-referrer, browsers send "Origin: null" on form posts, which
	// the origin check must refuse; same-origin keeps the origin for our
	// own forms and still sends nothing to other sites.
	h.Set("Referrer-Policy", "same-origin")
}

func (u *ui) stylesheet(c *gin.Context) {
	if js, path := u.d.ZoneScript(); "/ui/"+c.Param("file") == path {
		u.immutable(c, strings.TrimSuffix(strings.TrimPrefix(path, "/ui/tz."), ".js"), "text/javascript; charset=utf-8", js)
		return
	}
	css, hash := u.d.Stylesheet()
	serveStylesheet(c, css, hash)
}

// serveStylesheet answers GET …/style.HASH.css: the CSS, cached for good
// (its hash is in its name), or 404 for any other name.
func serveStylesheet(c *gin.Context, css []byte, hash string) {
	if c.Param("file") != "style."+hash+".css" {
		c.Status(http.StatusNotFound)
		return
	}
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Header("ETag", `"`+hash+`"`)
	if c.GetHeader("If-None-Match") == `"`+hash+`"` {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "text/css; charset=utf-8", css)
}

// viewer is the dashboards' view of the signed-in person, with the time
// zone viewerZone found.
func viewer(c *gin.Context) dashboards.Viewer {
	info, _ := SessionFrom(c)
	v := dashboards.Viewer{Name: info.Principal.Name, Role: info.Principal.Role, CSRF: info.CSRF}
	if z, ok := c.Get(ginZoneKey); ok {
		zc := z.(zoneChoice)
		v.Zone, v.ZoneAuto = zc.loc, zc.auto
	}
	return v
}

// signInFirst answers a page request without a session: a redirect to the
// sign-in page (back here afterwards) for reads, 403 for form posts.
func (u *ui) signInFirst(c *gin.Context) {
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		u.errorPage(c, http.StatusForbidden, "Your session has ended: sign in again, then repeat the action.")
		return
	}
	c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
}

// safeNext keeps a post-sign-in destination only when it is a path on this
// server (no scheme, no host, no //evil.example).
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") || strings.HasPrefix(next, "/login") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

func (u *ui) loginPage(c *gin.Context) {
	next := safeNext(c.Query("next"))
	if _, ok, _ := u.ses.Peek(c); ok { // an unreadable session shows the form
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	u.write(c, http.StatusOK, func(w io.Writer) error {
		return u.d.Login(w, dashboards.LoginForm{Next: next, SSO: u.ses.sso.enabled()})
	})
}

func (u *ui) login(c *gin.Context) {
	if !SameOrigin(c.Request) {
		u.errorPage(c, http.StatusForbidden, "Sign-in must come from Sentinel's own page.")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxLoginForm)
	if err := c.Request.ParseForm(); err != nil {
		u.errorPage(c, http.StatusBadRequest, "The sign-in form could not be read.")
		return
	}
	next := safeNext(c.Request.PostForm.Get("next"))
	th, source := u.ses.srv.throttle, c.ClientIP()
	if d := th.wait(throttleLogin, source); d > 0 {
		retryAfter(c, d)
		u.write(c, http.StatusTooManyRequests, func(w io.Writer) error {
			return u.d.Login(w, dashboards.LoginForm{Next: next, SSO: u.ses.sso.enabled(), Error: fmt.Sprintf("Too many failed sign-ins from your address. Try again in %s.", model.SpokenDuration(d.Round(time.Second)))})
		})
		return
	}
	p, why, ok, err := u.ses.SignIn(c, strings.TrimSpace(c.Request.PostForm.Get("token")))
	if err != nil {
		u.sessionUnreadable(c, err)
		return
	}
	if !ok {
		setActor(c, model.Actor{Name: "unknown token", Channel: model.ChannelUI})
		n, wait := th.fail(throttleLogin, source)
		loggerFrom(c).Warn("sign-in to the dashboards refused", "reason", why, "client_ip", source, "failures", n, "wait", wait.String())
		u.write(c, http.StatusUnauthorized, func(w io.Writer) error {
			return u.d.Login(w, dashboards.LoginForm{Next: next, SSO: u.ses.sso.enabled(), Error: why})
		})
		return
	}
	th.succeed(throttleLogin, source)
	setActor(c, model.Actor{Name: p.Name, Role: string(p.Role), Channel: model.ChannelUI})
	loggerFrom(c).Info("signed in to the dashboards", "token_name", p.Name, "role", string(p.Role))
	c.Redirect(http.StatusSeeOther, next)
}

func (u *ui) logout(c *gin.Context) {
	info, ok, err := u.ses.Peek(c)
	if err != nil {
		u.sessionUnreadable(c, err)
		return
	}
	if ok {
		// Signing out changes state: the form carries the CSRF token.
		c.Set(ginSessionKey, info)
		setActor(c, model.Actor{Name: info.Principal.Name, Role: string(info.Principal.Role), Channel: model.ChannelUI})
		if !CheckCSRF(c) {
			u.errorPage(c, http.StatusForbidden, "The sign-out form was not sent from this session's page.")
			return
		}
	}
	if err := u.ses.SignOut(c); err != nil {
		u.sessionUnreadable(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/login")
}

// sessionUnreadable answers when the session store failed: 503, so the
// person tries again, never a sign-in form that would not help.
func (u *ui) sessionUnreadable(c *gin.Context, err error) {
	loggerFrom(c).Error("dashboard session store", "err", err)
	u.errorPage(c, http.StatusServiceUnavailable, "Sessions cannot be read or written right now; try again in a moment.")
}

// write renders into a buffer and sends it with status, or an error page.
func (u *ui) write(c *gin.Context, status int, render func(io.Writer) error) {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		u.fail(c, err)
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// fail maps an error to an error page: the dashboards' and domain kinds to
// 4xx with their text, anything else to a generic 500 (logged).
func (u *ui) fail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, dashboards.ErrNotFound):
		u.errorPage(c, http.StatusNotFound, capitalise(err.Error())+".")
		return
	case errors.Is(err, dashboards.ErrInvalid):
		u.errorPage(c, http.StatusBadRequest, capitalise(err.Error())+".")
		return
	}
	status, msg := statusOf(err)
	if status >= 500 && status != http.StatusServiceUnavailable {
		loggerFrom(c).Error("page failed", "err", err, "status", status)
		msg = "Something went wrong while building this page; the error is in Sentinel's log (request " + RequestID(c) + ")."
	}
	u.errorPage(c, status, capitalise(msg))
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (u *ui) errorPage(c *gin.Context, status int, msg string) {
	var buf bytes.Buffer
	if err := u.d.Error(&buf, viewer(c), status, msg); err != nil {
		loggerFrom(c).Error("render error page", "err", err)
		c.Header("Content-Type", "text/plain; charset=utf-8")
		c.String(status, "%d %s\n", status, msg)
		c.Abort()
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

func (u *ui) overview(c *gin.Context) {
	service := c.Query("service")
	if len(service) > 200 {
		u.errorPage(c, http.StatusBadRequest, "The service filter is too long.")
		return
	}
	u.write(c, http.StatusOK, func(w io.Writer) error { return u.d.Overview(c.Request.Context(), w, viewer(c), service) })
}

func (u *ui) sloPage(c *gin.Context) {
	u.write(c, http.StatusOK, func(w io.Writer) error { return u.d.SLO(c.Request.Context(), w, viewer(c), c.Param("name")) })
}

func (u *ui) incidentsPage(c *gin.Context) {
	var before int64
	if raw := c.Query("before"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 1 {
			u.errorPage(c, http.StatusBadRequest, "The page cursor (before) must be a positive incident number.")
			return
		}
		before = n
	}
	u.write(c, http.StatusOK, func(w io.Writer) error {
		return u.d.Incidents(c.Request.Context(), w, viewer(c), c.Query("status"), before)
	})
}

func (u *ui) incidentID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		u.errorPage(c, http.StatusNotFound, fmt.Sprintf("There is no incident %.40q: incident numbers are positive whole numbers.", c.Param("id")))
		return 0, false
	}
	return id, true
}

// flashes are the messages shown after an action (keyed, so no text from
// the URL reaches the page).
var flashes = map[string]string{
	"acknowledge": "Acknowledged: escalation has stopped.",
	"resolve":     "Resolved.",
	"escalate":    "Escalated: the next step of the policy has been paged.",
	"note":        "Note added to the timeline.",
	"update":      "Update posted.",
}

// maxIncidentForm bounds a note or update form (the text is at most a few
// thousand characters).
const maxIncidentForm = 32 << 10

func (u *ui) incidentPage(c *gin.Context) {
	id, ok := u.incidentID(c)
	if !ok {
		return
	}
	flash := flashes[c.Query("done")]
	u.write(c, http.StatusOK, func(w io.Writer) error { return u.d.Incident(c.Request.Context(), w, viewer(c), id, flash) })
}

func (u *ui) incidentAction(c *gin.Context) {
	id, ok := u.incidentID(c)
	if !ok {
		return
	}
	if !CheckCSRF(c) {
		u.errorPage(c, http.StatusForbidden, "This form was not sent from this session's page (missing or wrong CSRF token); reload the incident and try again.")
		return
	}
	info, _ := SessionFrom(c)
	if !RoleAllowsResponding(info.Principal.Role) {
		u.errorPage(c, http.StatusForbidden, fmt.Sprintf("Your token %q has role %s; acknowledging, resolving and escalating need a responder.", info.Principal.Name, info.Principal.Role))
		return
	}
	if u.opts.Actions == nil {
		u.errorPage(c, http.StatusServiceUnavailable, "Incident actions are not available.")
		return
	}
	var fn func(context.Context, int64, string) (*incidents.Incident, error)
	action := c.Param("action")
	switch action {
	case "acknowledge":
		fn = u.opts.Actions.Acknowledge
	case "resolve":
		fn = u.opts.Actions.Resolve
	case "escalate":
		fn = u.opts.Actions.Escalate
	case "note":
		fn = func(ctx context.Context, id int64, actor string) (*incidents.Incident, error) {
			return u.opts.Actions.AddPersonNote(ctx, id, c.PostForm("text"), actor)
		}
	case "update":
		fn = func(ctx context.Context, id int64, actor string) (*incidents.Incident, error) {
			inc, _, err := u.opts.Actions.AddUpdate(ctx, id, incidents.NewUpdate{Text: c.PostForm("text"), Public: c.PostForm("public") == "on"}, actor)
			return inc, err
		}
	default:
		u.errorPage(c, http.StatusNotFound, "Unknown incident action: use acknowledge, resolve, escalate, note or update.")
		return
	}
	if _, err := fn(c.Request.Context(), id, Actor(c)); err != nil {
		u.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/incidents/%d?done=%s", id, action))
}

func (u *ui) probesPage(c *gin.Context) {
	u.write(c, http.StatusOK, func(w io.Writer) error { return u.d.Probes(c.Request.Context(), w, viewer(c)) })
}

func (u *ui) probePage(c *gin.Context) {
	run := c.Query("run")
	if len(run) > 64 {
		u.errorPage(c, http.StatusBadRequest, "Not a run ID.")
		return
	}
	u.write(c, http.StatusOK, func(w io.Writer) error {
		return u.d.ProbeRun(c.Request.Context(), w, viewer(c), c.Param("name"), run)
	})
}

func (u *ui) screenshot(c *gin.Context) {
	run, step := c.Param("run"), c.Query("step")
	if len(run) > 64 || len(step) > 200 {
		u.errorPage(c, http.StatusBadRequest, "Not a run or step name.")
		return
	}
	if u.opts.Screenshots == nil {
		u.errorPage(c, http.StatusNotFound, "No screenshots are kept.")
		return
	}
	png, err := u.opts.Screenshots.Screenshot(c.Request.Context(), c.Param("name"), run, step)
	if err != nil {
		u.fail(c, err)
		return
	}
	c.Header("Cache-Control", "private, max-age=86400, immutable")
	c.Data(http.StatusOK, "image/png", png)
}

func (u *ui) rumPage(c *gin.Context) {
	u.write(c, http.StatusOK, func(w io.Writer) error { return u.d.RUM(c.Request.Context(), w, viewer(c), c.Query("window")) })
}

func (u *ui) oncallPage(c *gin.Context) {
	flash := ""
	switch c.Query("done") {
	case "override":
		flash = "Override added."
	case "override-removed":
		flash = "Override removed."
	}
	u.write(c, http.StatusOK, func(w io.Writer) error { return u.d.OnCall(c.Request.Context(), w, viewer(c), flash) })
}

// removeOverride is the Remove button beside an override on the on-call
// page.
func (u *ui) removeOverride(c *gin.Context) {
	if !u.formPost(c, "removing an override") {
		return
	}
	if u.opts.Actions == nil {
		u.errorPage(c, http.StatusServiceUnavailable, "On-call overrides are not available.")
		return
	}
	o, err := u.opts.Actions.RemoveOverride(c.Request.Context(), c.Param("override"), Actor(c))
	if err != nil {
		u.fail(c, err)
		return
	}
	setChange(c, overrideFields(o), "")
	c.Redirect(http.StatusSeeOther, "/oncall?done=override-removed")
}

// maxOverrideForm bounds the override form.
const maxOverrideForm = 8 << 10

// overrideTime reads a datetime-local field in the viewer's zone.
func overrideTime(field, v string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02T15:04", v, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s must be a date and time such as 2026-03-25T09:00, got %.40q", ErrInvalid, field, v)
	}
	return t, nil
}

// addOverride is the on-call page's override form: a responder puts
// someone on call for a span given in the viewer's time zone.
func (u *ui) addOverride(c *gin.Context) {
	if !CheckCSRF(c) {
		u.errorPage(c, http.StatusForbidden, "This form was not sent from this session's page (missing or wrong CSRF token); reload the on-call page and try again.")
		return
	}
	info, _ := SessionFrom(c)
	if !RoleAllowsResponding(info.Principal.Role) {
		u.errorPage(c, http.StatusForbidden, fmt.Sprintf("Your role %s cannot add overrides; that needs a responder.", info.Principal.Role))
		return
	}
	if u.opts.Actions == nil {
		u.errorPage(c, http.StatusServiceUnavailable, "On-call overrides are not available.")
		return
	}
	loc := time.UTC
	if v := viewer(c); v.Zone != nil {
		loc = v.Zone
	}
	start, err := overrideTime("start", c.PostForm("start"), loc)
	if err != nil {
		u.fail(c, err)
		return
	}
	end, err := overrideTime("end", c.PostForm("end"), loc)
	if err != nil {
		u.fail(c, err)
		return
	}
	o := oncall.Override{Schedule: c.PostForm("schedule"), User: strings.TrimSpace(c.PostForm("user")), Start: start.UTC(), End: end.UTC()}
	added, err := u.opts.Actions.AddOverride(c.Request.Context(), o, Actor(c))
	if err != nil {
		u.fail(c, err)
		return
	}
	setChange(c, "", overrideFields(added))
	c.Redirect(http.StatusSeeOther, "/oncall?done=override")
}

func (u *ui) runbooksPage(c *gin.Context) {
	u.write(c, http.StatusOK, func(w io.Writer) error { return u.d.Runbooks(c.Request.Context(), w, viewer(c)) })
}

func (u *ui) runbookPage(c *gin.Context) {
	u.write(c, http.StatusOK, func(w io.Writer) error { return u.d.Runbook(c.Request.Context(), w, viewer(c), c.Param("name")) })
}

// formPost reads a page's form POST and checks that it comes from this
// session's page (CSRF token and origin) and from a responder; otherwise
// it answers (413, 400 or 403) and returns false. what names the action
// for the refusal.
func (u *ui) formPost(c *gin.Context, what string) bool {
	if err := c.Request.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			u.errorPage(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("The form is larger than %d bytes.", mbe.Limit))
			return false
		}
		u.errorPage(c, http.StatusBadRequest, "The form could not be read.")
		return false
	}
	if !CheckCSRF(c) {
		u.errorPage(c, http.StatusForbidden, "This form was not sent from this session's page (missing or wrong CSRF token); reload the page and try again.")
		return false
	}
	info, _ := SessionFrom(c)
	if !RoleAllowsResponding(info.Principal.Role) {
		u.errorPage(c, http.StatusForbidden, fmt.Sprintf("Your token %q has role %s; %s needs a responder.", info.Principal.Name, info.Principal.Role, what))
		return false
	}
	return true
}

// postmortemFlashes are the messages after a save, by the status asked for.
var postmortemFlashes = map[string]string{
	"saved":     "Saved.",
	"started":   "Postmortem started: it is a draft now.",
	"in_review": "Saved and submitted for review.",
	"published": "Published. Its text is final; action items can still be updated.",
	"draft":     "Moved back to draft.",
}

func (u *ui) postmortemPage(c *gin.Context) {
	id, ok := u.incidentID(c)
	if !ok {
		return
	}
	st := dashboards.PostmortemState{Flash: postmortemFlashes[c.Query("done")]}
	u.write(c, http.StatusOK, func(w io.Writer) error { return u.d.Postmortem(c.Request.Context(), w, viewer(c), id, st) })
}

func (u *ui) postmortemMarkdown(c *gin.Context) {
	id, ok := u.incidentID(c)
	if !ok {
		return
	}
	md, err := u.d.PostmortemMarkdown(c.Request.Context(), id)
	if err != nil {
		u.fail(c, err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="postmortem-%d.md"`, id))
	c.Data(http.StatusOK, "text/markdown; charset=utf-8", md)
}

// postmortemSave applies the editor's form. A refusal the person can fix
// (400: a field; 409: someone saved first, or a status that cannot change)
// shows the editor again with their input and the reason, with that
// status; a save redirects back to the page (303) with a message.
func (u *ui) postmortemSave(c *gin.Context) {
	id, ok := u.incidentID(c)
	if !ok || !u.formPost(c, "editing a postmortem") {
		return
	}
	if u.opts.Postmortems == nil {
		u.errorPage(c, http.StatusServiceUnavailable, "Postmortems are not available.")
		return
	}
	form, err := dashboards.ParsePostmortemForm(c.Request.PostForm)
	if err != nil {
		u.fail(c, err)
		return
	}
	e, _ := form.Edit()
	if _, err := u.opts.Postmortems.Put(c.Request.Context(), id, e, Actor(c)); err != nil {
		status, _ := statusOf(err)
		if status != http.StatusBadRequest && status != http.StatusConflict {
			u.fail(c, err)
			return
		}
		loggerFrom(c).Info("postmortem save refused", "incident", id, "status", status, "err", err)
		u.write(c, status, func(w io.Writer) error {
			return u.d.Postmortem(c.Request.Context(), w, viewer(c), id, dashboards.PostmortemState{Form: &form, Err: err})
		})
		return
	}
	done := "saved"
	switch {
	case form.Status != "":
		done = string(form.Status)
	case !form.HasText && !form.HasItems:
		done = "started"
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/incidents/%d/postmortem?done=%s", id, done))
}

// alertFlashes are the messages after a silence action.
var alertFlashes = map[string]string{
	"silenced": "Silence created: matching alerts no longer page until it ends.",
	"expired":  "Silence expired: matching alerts page again.",
}

func (u *ui) alertsPage(c *gin.Context) {
	st := dashboards.AlertsState{Flash: alertFlashes[c.Query("done")]}
	if fp := c.Query("silence"); len(fp) <= 128 {
		st.Prefill = fp
	}
	u.write(c, http.StatusOK, func(w io.Writer) error { return u.d.Alerts(c.Request.Context(), w, viewer(c), st) })
}

func (u *ui) createSilence(c *gin.Context) {
	if !u.formPost(c, "creating a silence") {
		return
	}
	if u.opts.Silences == nil {
		u.errorPage(c, http.StatusServiceUnavailable, "Silences are not available.")
		return
	}
	form := dashboards.ParseSilenceForm(c.Request.PostForm)
	n, err := form.NewSilence(Actor(c))
	if err == nil {
		_, err = u.opts.Silences.CreateSilence(c.Request.Context(), n)
	}
	if err != nil {
		status, msg := statusOf(err)
		if errors.Is(err, dashboards.ErrInvalid) {
			status, msg = http.StatusBadRequest, err.Error()
		}
		if status == http.StatusBadRequest {
			u.write(c, status, func(w io.Writer) error {
				return u.d.Alerts(c.Request.Context(), w, viewer(c), dashboards.AlertsState{Form: &form, Problem: msg})
			})
			return
		}
		u.fail(c, err)
		return
	}
	loggerFrom(c).Info("silence created from the dashboards", "actor", Actor(c), "matchers", len(n.Matchers))
	c.Redirect(http.StatusSeeOther, "/alerts?done=silenced")
}

func (u *ui) expireSilence(c *gin.Context) {
	if !u.formPost(c, "expiring a silence") {
		return
	}
	if u.opts.Silences == nil {
		u.errorPage(c, http.StatusServiceUnavailable, "Silences are not available.")
		return
	}
	id := c.Param("sid")
	if len(id) > 64 {
		u.errorPage(c, http.StatusNotFound, "There is no such silence.")
		return
	}
	if _, err := u.opts.Silences.ExpireSilence(c.Request.Context(), id, Actor(c)); err != nil {
		u.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/alerts?done=expired")
}
