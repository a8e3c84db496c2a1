package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/audit"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/dashboards"
	"github.com/sentinel-oss/sentinel/model"
)

// AuditRecorder records one change; *audit.Log implements it.
type AuditRecorder interface {
	Record(ctx context.Context, a model.Actor, action, target, outcome, sourceIP string) error
}

// ChangeRecorder is an AuditRecorder that also keeps what a change's
// fields held before and after; *audit.Log implements it.
type ChangeRecorder interface {
	RecordChange(ctx context.Context, a model.Actor, action, target, outcome, sourceIP, before, after string) error
}

// auditSlot holds the recorder (nil: nothing is recorded).
type auditSlot struct{ r AuditRecorder }

// SetAudit makes every change made through the API or the dashboards
// recorded in r: each request other than GET, HEAD and OPTIONS that
// carries a person's or token's identity, except machine input on the
// ingest routes (events, webhooks, heartbeats, change markers), and every
// sign-in attempt on the dashboards' form or by single sign-on.
func (s *Server) SetAudit(r AuditRecorder) { s.audit.Store(&auditSlot{r: r}) }

const (
	ginIngestKey = "sentinel.ingest"
	ginAuditKey  = "sentinel.audit.actor"
	ginChangeKey = "sentinel.audit.change"
)

// auditChange is what a handler knows of the fields it changed.
type auditChange struct{ before, after string }

// setChange tells the audit log what the request's change did to the
// fields it touched; only a successful answer keeps it.
func setChange(c *gin.Context, before, after string) {
	c.Set(ginChangeKey, auditChange{before: before, after: after})
}

// changeSlot lets code below the handler (the app's reload) tell the
// audit log what a request changed; the request's context (see
// requestContext) hands it out.
type changeSlot struct{ c *gin.Context }

type changeSlotKey struct{}

// NoteAuditChange records, for the request whose context ctx is, what
// its change did (before and after); outside an audited request it does
// nothing.
func NoteAuditChange(ctx context.Context, before, after string) {
	if s, ok := ctx.Value(changeSlotKey{}).(changeSlot); ok && s.c != nil {
		setChange(s.c, before, after)
	}
}

// auditMiddleware records the request after it is answered.
func (s *Server) auditMiddleware(c *gin.Context) {
	c.Next()
	slot := s.audit.Load()
	if slot == nil || slot.r == nil {
		return
	}
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		// The single sign-on callback is a GET that signs a person in.
		if c.FullPath() != ssoCallbackPath {
			return
		}
	}
	if c.GetBool(ginIngestKey) {
		return
	}
	a, ok := c.Get(ginAuditKey)
	if !ok {
		return
	}
	actor, _ := a.(model.Actor)
	route := c.FullPath()
	if route == "" {
		return
	}
	var target []string
	for _, p := range c.Params {
		target = append(target, p.Key+"="+p.Value)
	}
	// The change has been answered; its record gets its own deadline so
	// a client that hung up does not cancel it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 5*time.Second)
	defer cancel()
	action, status := c.Request.Method+" "+route, c.Writer.Status()
	// A page's form answers a change it made with a redirect (303).
	if ch, ok := c.Value(ginChangeKey).(auditChange); ok && status < 400 {
		if cr, ok := slot.r.(ChangeRecorder); ok {
			_ = cr.RecordChange(ctx, actor, action, strings.Join(target, " "), strconv.Itoa(status), c.ClientIP(), ch.before, ch.after)
			return
		}
	}
	_ = slot.r.Record(ctx, actor, action, strings.Join(target, " "), strconv.Itoa(status), c.ClientIP())
}

// fieldChanges writes the fields whose values differ as "k=v" pairs, one
// text for before and one for after, in the order given.
func fieldChanges(kv ...string) (before, after string) {
	var b, a []string
	for i := 0; i+2 < len(kv); i += 3 {
		if kv[i+1] != kv[i+2] {
			b = append(b, kv[i]+"="+strconv.Quote(kv[i+1]))
			a = append(a, kv[i]+"="+strconv.Quote(kv[i+2]))
		}
	}
	return strings.Join(b, " "), strings.Join(a, " ")
}

// setActor puts the request's actor on its context (model.ActorFrom) and
// marks it for the audit log.
func setActor(c *gin.Context, a model.Actor) {
	c.Request = c.Request.WithContext(model.ContextWithActor(c.Request.Context(), a))
	c.Set(ginAuditKey, a)
}

// auditQuery reads the audit log's filters (actor, channel, action, from,
// to, before, limit) from the query string, for the API and the page; a
// filter that cannot be read is named in problem.
func auditQuery(c *gin.Context) (q audit.Query, problem string) {
	q = audit.Query{Actor: c.Query("actor"), Channel: c.Query("channel"), Action: c.Query("action")}
	var err error
	if v := c.Query("limit"); v != "" {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 1 {
			return q, "limit: want a whole number from 1 to " + strconv.Itoa(audit.MaxLimit)
		}
	}
	if v := c.Query("before"); v != "" {
		if q.Before, err = strconv.ParseInt(v, 10, 64); err != nil || q.Before < 1 {
			return q, "before: want an entry ID (a positive whole number)"
		}
	}
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := c.Query(f.name); v != "" {
			if *f.to, err = time.Parse(time.RFC3339, v); err != nil {
				return q, f.name + ": want an RFC 3339 time such as 2026-03-01T12:00:00Z"
			}
		}
	}
	switch q.Channel {
	case "", model.ChannelAPI, model.ChannelUI, model.ChannelSlack, model.ChannelConfig:
	default:
		return q, "channel: want api, ui, slack or config"
	}
	return q, ""
}

// auditHandlers serve GET /api/v1/audit.
type auditHandlers struct{ log *audit.Log }

// MountAudit serves the audit log to admins.
func MountAudit(r *Routes, l *audit.Log) {
	h := auditHandlers{log: l}
	r.Admin().GET("/api/v1/audit", h.list)
	r.Admin().GET("/api/v1/audit/export", h.export)
	r.srv.SetAudit(l)
}

// export is GET /api/v1/audit/export: every entry the filters select,
// newest first, one JSON object a line (application/x-ndjson), read from
// the store a page at a time; limit, when given, caps the count.
func (h auditHandlers) export(c *gin.Context) {
	q, problem := auditQuery(c)
	if problem != "" {
		abortJSON(c, http.StatusBadRequest, problem)
		return
	}
	total := q.Limit
	q.Limit = audit.MaxLimit
	page, err := h.log.List(c.Request.Context(), q)
	if err != nil {
		Error(c, err)
		return
	}
	c.Header("Content-Type", "application/x-ndjson")
	c.Header("Content-Disposition", `attachment; filename="sentinel-audit.jsonl"`)
	c.Status(http.StatusOK)
	enc := json.NewEncoder(c.Writer)
	written := 0
	for len(page) > 0 {
		for _, e := range page {
			if total > 0 && written == total {
				return
			}
			if enc.Encode(e) != nil {
				return
			}
			written++
		}
		if len(page) < q.Limit || c.Request.Context().Err() != nil {
			return
		}
		q.Before = page[len(page)-1].ID
		if page, err = h.log.List(c.Request.Context(), q); err != nil {
			loggerFrom(c).Warn("audit export cut short", "entries", written, "err", err)
			return
		}
	}
}

func (h auditHandlers) list(c *gin.Context) {
	q, problem := auditQuery(c)
	if problem != "" {
		abortJSON(c, http.StatusBadRequest, problem)
		return
	}
	entries, err := h.log.List(c.Request.Context(), q)
	if err != nil {
		Error(c, err)
		return
	}
	if entries == nil {
		entries = []audit.Entry{}
	}
	body := gin.H{"entries": entries}
	if n := len(entries); n > 0 && (n == q.Limit || q.Limit == 0 && n == 100) {
		body["next_before"] = entries[n-1].ID
	}
	c.JSON(http.StatusOK, body)
}

// auditPage is GET /audit: the audit log for admins, with the API's
// filters and paging.
func (u *ui) auditPage(c *gin.Context) {
	v := viewer(c)
	if v.Role != config.RoleAdmin {
		u.errorPage(c, http.StatusForbidden, "Only admins may read the audit log.")
		return
	}
	if u.opts.Audit == nil {
		u.errorPage(c, http.StatusServiceUnavailable, "The audit log is not available.")
		return
	}
	q, problem := auditQuery(c)
	view := dashboards.AuditView{Actor: q.Actor, Channel: q.Channel, Action: q.Action, From: c.Query("from"), To: c.Query("to"), Problem: problem}
	status := http.StatusOK
	if problem != "" {
		status = http.StatusBadRequest
	} else {
		if q.Limit == 0 {
			q.Limit = 100
		}
		entries, err := u.opts.Audit.List(c.Request.Context(), q)
		if err != nil {
			u.fail(c, err)
			return
		}
		view.Entries = entries
		if len(entries) == q.Limit {
			view.Next = entries[len(entries)-1].ID
		}
	}
	u.write(c, status, func(w io.Writer) error { return u.d.Audit(w, v, view) })
}
