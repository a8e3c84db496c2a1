package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-openapi/strfmt"
	"github.com/go-openapi/swag/conv"
	"github.com/prometheus/alertmanager/api/v2/models"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/internal/jsonerr"
	"github.com/sentinel-oss/sentinel/model"
)

// The part of Alertmanager's API v2 that amtool and Grafana's Alertmanager
// data source use, in Alertmanager's JSON shapes (its own generated
// models), over Sentinel's alerts and silences. Sentinel is one receiver
// ("sentinel") without a routing tree: alerts group by incidents.group_by
// (or by the Alertmanager groupKey they arrived with). Refusals take
// Alertmanager's two shapes, since its clients decode them: a body its
// go-openapi server cannot take is {"code", "message"} (amBodyFail), what
// its handlers refuse is a JSON string (amFail).

// AlertmanagerReceiver is the one receiver Sentinel shows in the API v2.
const AlertmanagerReceiver = "sentinel"

// AlertmanagerAPIInfo describes this Sentinel in GET /api/v2/status.
type AlertmanagerAPIInfo struct {
	Version, Revision, Branch, BuildUser, BuildDate, GoVersion string
	// Started is when the process started (the status's uptime).
	Started time.Time
	// Config is shown as the status's config.original: an
	// Alertmanager-style summary of how Sentinel routes (no secrets).
	Config string
	// ConfigFunc, when set, is asked for Config on each request, so a
	// config reload shows.
	ConfigFunc func() string
}

// MountAlertmanagerAPI adds the API v2 endpoints for svc. Reads need a
// viewer token, silences a responder token, posting alerts an ingest token.
func MountAlertmanagerAPI(r *Routes, svc *alerting.Service, lim AlertingLimits, info AlertmanagerAPIInfo) {
	h := &amHandlers{svc: svc, lim: lim, info: info}
	r.Viewer().GET("/api/v2/status", h.status)
	r.Viewer().GET("/api/v2/receivers", h.receivers)
	r.Viewer().GET("/api/v2/alerts", h.alerts)
	r.Viewer().GET("/api/v2/alerts/groups", h.groups)
	r.Viewer().GET("/api/v2/silences", h.silences)
	r.Viewer().GET("/api/v2/silence/:id", h.silence)
	r.Responder().POST("/api/v2/silences", BodyLimit(64<<10), h.postSilence)
	r.Responder().DELETE("/api/v2/silence/:id", h.deleteSilence)
	r.Ingest().POST("/api/v2/alerts", BodyLimit(lim.WebhookMaxBytes), h.postAlerts)
}

type amHandlers struct {
	svc  *alerting.Service
	lim  AlertingLimits
	info AlertmanagerAPIInfo
}

// amFail answers as Alertmanager does: the status and a JSON string.
// Server-side failures keep their cause in the log, not the answer.
func amFail(c *gin.Context, err error) {
	status, msg := statusOf(err)
	if status >= 500 && status != http.StatusServiceUnavailable {
		loggerFrom(c).Error("alertmanager api request failed", "err", err, "request_id", RequestID(c))
		msg = "internal error"
	}
	c.AbortWithStatusJSON(status, msg)
}

func (h *amHandlers) status(c *gin.Context) {
	uptime := strfmt.DateTime(h.info.Started)
	clusterStatus := models.ClusterStatusStatusDisabled
	cfg := h.info.Config
	if h.info.ConfigFunc != nil {
		cfg = h.info.ConfigFunc()
	}
	c.JSON(http.StatusOK, models.AlertmanagerStatus{
		Cluster: &models.ClusterStatus{Status: &clusterStatus, Peers: []*models.PeerStatus{}},
		Config:  &models.AlertmanagerConfig{Original: &cfg},
		Uptime:  &uptime,
		VersionInfo: &models.VersionInfo{
			Version: &h.info.Version, Revision: &h.info.Revision, Branch: &h.info.Branch,
			BuildUser: &h.info.BuildUser, BuildDate: &h.info.BuildDate, GoVersion: &h.info.GoVersion,
		},
	})
}

func (h *amHandlers) receivers(c *gin.Context) {
	name := AlertmanagerReceiver
	c.JSON(http.StatusOK, []*models.Receiver{{Name: &name}})
}

// amQuery is what GET /api/v2/alerts and /alerts/groups filter by.
type amQuery struct {
	matchers                           alerting.Matchers
	active, silenced, inhibited, muted bool
	receiver                           *regexp.Regexp
}

// boolParam reads a flag as go-openapi does (true, 1, yes, on, ...;
// anything else is false), defaulting to true when absent.
func boolParam(c *gin.Context, name string) bool {
	v, ok := c.GetQuery(name)
	if !ok {
		return true
	}
	b, _ := conv.ConvertBool(v)
	return b
}

// maxFilters bounds the filter matchers of one query.
const maxFilters = 64

func (h *amHandlers) query(c *gin.Context) (amQuery, bool) {
	q := amQuery{active: boolParam(c, "active"), silenced: boolParam(c, "silenced"), inhibited: boolParam(c, "inhibited"),
		muted: boolParam(c, "muted")}
	ms, err := h.filter(c)
	if err != nil {
		amFail(c, err)
		return q, false
	}
	q.matchers = ms
	if rcv, ok := c.GetQuery("receiver"); ok {
		re, err := regexp.Compile("^(?:" + rcv + ")$")
		if err != nil {
			amFail(c, fmt.Errorf("%w: failed to parse receiver param: %v", ErrInvalid, err))
			return q, false
		}
		q.receiver = re
	}
	return q, true
}

// filter reads the repeated filter parameter, one matcher each, in the
// configured matcher syntax.
func (h *amHandlers) filter(c *gin.Context) (alerting.Matchers, error) {
	raw := c.QueryArray("filter")
	if len(raw) > maxFilters {
		return nil, fmt.Errorf("%w: at most %d filter matchers", ErrInvalid, maxFilters)
	}
	var out alerting.Matchers
	for _, f := range raw {
		m, err := h.svc.Matchers().ParseOne(f)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// matchFilterLabels is Alertmanager's filter rule: an empty = or =~ value
// also accepts a missing label, an empty != or !~ value a present one.
func matchFilterLabels(ms alerting.Matchers, l model.Labels) bool {
	for _, m := range ms {
		v, present := l[m.Name]
		switch m.Type {
		case alerting.MatchNotRegexp, alerting.MatchNotEqual:
			if m.Value == "" && present {
				continue
			}
		default:
			if m.Value == "" && !present {
				continue
			}
		}
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

// keep applies the query to one alert's status.
func (q amQuery) keep(a alerting.ActiveAlert) bool {
	if q.receiver != nil && !q.receiver.MatchString(AlertmanagerReceiver) {
		return false
	}
	if !matchFilterLabels(q.matchers, a.Labels) {
		return false
	}
	silenced, inhibited := len(a.SilencedBy) > 0, a.InhibitedBy != ""
	switch {
	case !q.active && !silenced && !inhibited && len(a.MaintenanceBy) == 0:
		return false
	case !q.silenced && silenced:
		return false
	case !q.inhibited && inhibited:
		return false
	}
	return true
}

// gettableAlert is one firing alert in Alertmanager's shape. Its status is
// suppressed while a silence, an inhibition or a maintenance window
// (mutedBy) holds it.
func gettableAlert(a alerting.ActiveAlert) *models.GettableAlert {
	starts := strfmt.DateTime(a.StartsAt)
	updated := a.StartsAt
	if a.FiredAt.After(updated) {
		updated = a.FiredAt
	}
	upd := strfmt.DateTime(updated)
	ends := strfmt.DateTime(a.ExpiresAt)
	fp := a.Fingerprint
	state := models.AlertStatusStateActive
	if len(a.SilencedBy) > 0 || a.InhibitedBy != "" || len(a.MaintenanceBy) > 0 {
		state = models.AlertStatusStateSuppressed
	}
	st := &models.AlertStatus{State: &state, SilencedBy: nonNilStrings(a.SilencedBy), InhibitedBy: []string{}, MutedBy: nonNilStrings(a.MaintenanceBy)}
	if a.InhibitedBy != "" {
		st.InhibitedBy = []string{a.InhibitedBy}
	}
	rcv := AlertmanagerReceiver
	return &models.GettableAlert{
		Alert:       models.Alert{Labels: models.LabelSet(nonNil(a.Labels)), GeneratorURL: strfmt.URI(a.GeneratorURL)},
		Annotations: models.LabelSet(nonNil(a.Annotations)),
		StartsAt:    &starts, UpdatedAt: &upd, EndsAt: &ends, Fingerprint: &fp,
		Receivers: []*models.ReceiverReference{{Name: &rcv}},
		Status:    st,
	}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// firing lists the firing alerts (Alertmanager knows no pending ones).
func (h *amHandlers) firing(c *gin.Context) ([]alerting.ActiveAlert, bool) {
	as, err := h.svc.Alerts(c.Request.Context())
	if err != nil {
		amFail(c, err)
		return nil, false
	}
	out := as[:0]
	for _, a := range as {
		if a.State == model.AlertFiring {
			out = append(out, a)
		}
	}
	return out, true
}

func (h *amHandlers) alerts(c *gin.Context) {
	q, ok := h.query(c)
	if !ok {
		return
	}
	as, ok := h.firing(c)
	if !ok {
		return
	}
	res := models.GettableAlerts{}
	for _, a := range as {
		if q.keep(a) {
			res = append(res, gettableAlert(a))
		}
	}
	sort.Slice(res, func(i, j int) bool { return *res[i].Fingerprint < *res[j].Fingerprint })
	c.JSON(http.StatusOK, res)
}

func (h *amHandlers) groups(c *gin.Context) {
	q, ok := h.query(c)
	if !ok {
		return
	}
	as, ok := h.firing(c)
	if !ok {
		return
	}
	type group struct {
		labels model.Labels
		alerts []alerting.ActiveAlert
	}
	byKey := map[string]*group{}
	var keys []string
	for _, a := range as {
		g := byKey[a.GroupKey]
		if g == nil {
			g = &group{labels: a.GroupLabels}
			byKey[a.GroupKey] = g
			keys = append(keys, a.GroupKey)
		}
		g.alerts = append(g.alerts, a)
	}
	sort.Strings(keys)
	res := models.AlertGroups{}
	for _, k := range keys {
		g := byKey[k]
		if !q.muted && allInMaintenance(g.alerts) {
			continue
		}
		rcv := AlertmanagerReceiver
		ag := &models.AlertGroup{Labels: models.LabelSet(nonNil(g.labels)), RouteLabels: models.LabelSet{},
			Receiver: &models.ReceiverReference{Name: &rcv}, Alerts: []*models.GettableAlert{}}
		for _, a := range g.alerts {
			if q.keep(a) {
				ag.Alerts = append(ag.Alerts, gettableAlert(a))
			}
		}
		if len(ag.Alerts) > 0 {
			res = append(res, ag)
		}
	}
	c.JSON(http.StatusOK, res)
}

func allInMaintenance(as []alerting.ActiveAlert) bool {
	for _, a := range as {
		if len(a.MaintenanceBy) == 0 {
			return false
		}
	}
	return len(as) > 0
}

// gettableSilence is a silence in Alertmanager's shape.
func gettableSilence(s alerting.Silence, now time.Time) *models.GettableSilence {
	id := s.ID
	starts, ends := strfmt.DateTime(s.StartsAt), strfmt.DateTime(s.EndsAt)
	updated := s.UpdatedAt
	if updated.IsZero() {
		updated = s.CreatedAt
	}
	upd := strfmt.DateTime(updated)
	state := string(s.Status(now))
	comment, createdBy := s.Comment, s.CreatedBy
	out := &models.GettableSilence{
		ID: &id, Status: &models.SilenceStatus{State: &state}, UpdatedAt: &upd,
		Silence: models.Silence{StartsAt: &starts, EndsAt: &ends, Comment: &comment, CreatedBy: &createdBy, Matchers: models.Matchers{}},
	}
	for _, m := range s.Matchers {
		o := alerting.ObjectOf(m)
		name, value, isRegex := o.Name, o.Value, o.IsRegex
		out.Matchers = append(out.Matchers, &models.Matcher{Name: &name, Value: &value, IsRegex: &isRegex, IsEqual: o.IsEqual})
	}
	return out
}

// silenceHasMatchers is Alertmanager's silence filter: every requested
// matcher appears in the silence with the same name, operator and value.
func silenceHasMatchers(s alerting.Silence, want alerting.Matchers) bool {
	for _, w := range want {
		found := false
		for _, m := range s.Matchers {
			if m.Name == w.Name && m.Type == w.Type && m.Value == w.Value {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

var silenceStateOrder = map[string]int{"active": 1, "pending": 2, "expired": 3}

func (h *amHandlers) silences(c *gin.Context) {
	ms, err := h.filter(c)
	if err != nil {
		amFail(c, err)
		return
	}
	want := map[alerting.SilenceStatus]bool{
		alerting.SilenceActive: boolParam(c, "active"), alerting.SilencePending: boolParam(c, "pending"), alerting.SilenceExpired: boolParam(c, "expired"),
	}
	sils, err := h.svc.Silences(c.Request.Context())
	if err != nil {
		amFail(c, err)
		return
	}
	now := h.svc.Now()
	res := models.GettableSilences{}
	for _, s := range sils {
		if want[s.Status(now)] && silenceHasMatchers(s, ms) {
			res = append(res, gettableSilence(s, now))
		}
	}
	// Alertmanager's order: active (next to end first), pending (next to
	// start first), expired (latest first).
	sort.SliceStable(res, func(i, j int) bool {
		si, sj := *res[i].Status.State, *res[j].Status.State
		if si != sj {
			return silenceStateOrder[si] < silenceStateOrder[sj]
		}
		ei, ej := time.Time(*res[i].EndsAt), time.Time(*res[j].EndsAt)
		switch si {
		case "active":
			return ei.Before(ej)
		case "pending":
			return time.Time(*res[i].StartsAt).Before(time.Time(*res[j].StartsAt))
		}
		return ei.After(ej)
	})
	c.JSON(http.StatusOK, res)
}

// amUUID is the uuid format Alertmanager (0.25) checks a silence ID in
// the path against: 32 hex digits, upper or lower case, each of the four
// usual hyphens optional. Every silence ID Sentinel gives out is one.
var amUUID = regexp.MustCompile(`(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$`)

// amCodeInvalidType is go-openapi's code for a value of the wrong type
// or format.
const amCodeInvalidType = 601

// silenceID reads the path's silence ID. One that is not a UUID is
// refused as Alertmanager's go-openapi server refuses it, with 422 before
// any lookup: {"code": 601, "message": "silenceID in path must be of type
// uuid: \"abc\""}.
func silenceID(c *gin.Context) (string, bool) {
	id := c.Param("id")
	if !amUUID.MatchString(id) {
		amBodyFail(c, http.StatusUnprocessableEntity, amCodeInvalidType, fmt.Sprintf("silenceID in path must be of type uuid: %q", id))
		return "", false
	}
	return id, true
}

func (h *amHandlers) silence(c *gin.Context) {
	id, ok := silenceID(c)
	if !ok {
		return
	}
	s, err := h.svc.Silence(c.Request.Context(), id)
	if err != nil {
		amFail(c, err)
		return
	}
	c.JSON(http.StatusOK, gettableSilence(s, h.svc.Now()))
}

func (h *amHandlers) deleteSilence(c *gin.Context) {
	id, ok := silenceID(c)
	if !ok {
		return
	}
	if _, err := h.svc.ExpireSilence(c.Request.Context(), id, Actor(c)); err != nil {
		amFail(c, err)
		return
	}
	c.Status(http.StatusOK)
}

// decodeAM reads a JSON body into one of Alertmanager's models and runs
// the model's own validation, so what is refused is what Alertmanager
// refuses. A body that cannot be read is answered as Alertmanager's
// go-openapi server answers it (see amBodyFail); name is the body
// parameter's name there ("alerts", "silence"). A body that is not JSON
// by its Content-Type is refused before it is read (amContentType). A
// decoding error names the alert, field and byte offset (locateAM).
func decodeAM(c *gin.Context, dst interface{ Validate(strfmt.Registry) error }, name string) bool {
	hasBody, err := amHasBody(c.Request)
	if err == nil && hasBody && !amContentType(c) {
		return false
	}
	var data []byte
	if err == nil {
		data, err = io.ReadAll(c.Request.Body)
	}
	if err != nil {
		status, msg := statusOf(err)
		if status == http.StatusInternalServerError {
			status, msg = http.StatusBadRequest, "the request body could not be read: "+err.Error()
		}
		amBodyFail(c, status, status, msg)
		return false
	}
	// One value is read and anything after it ignored, as go-openapi does.
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(dst); err != nil {
		if errors.Is(err, io.EOF) {
			amBodyFail(c, http.StatusUnprocessableEntity, amCodeRequired, name+" in body is required")
			return false
		}
		var syn *json.SyntaxError
		msg := ""
		if !errors.As(err, &syn) {
			msg = locateAM(data, dst)
		}
		if msg == "" {
			msg = describeJSONError(err).Error()
		}
		amBodyFail(c, http.StatusBadRequest, http.StatusBadRequest, msg)
		return false
	}
	if err := dst.Validate(strfmt.Default); err != nil {
		code, msg := amValidationError(err)
		amBodyFail(c, http.StatusUnprocessableEntity, code, msg)
		return false
	}
	return true
}

// amHasBody reports, as go-openapi does, whether r carries a body: a
// declared length above zero, or with no length declared, at least one
// byte to read (peeked, and put back in front of the body). Only a body
// has its Content-Type checked.
func amHasBody(r *http.Request) (bool, error) {
	if r.ContentLength > 0 {
		return true, nil
	}
	if r.Header.Get("Content-Length") != "" || r.Body == nil || r.Body == http.NoBody {
		return false, nil
	}
	var one [1]byte
	n, err := io.ReadFull(r.Body, one[:])
	if n == 0 {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, err
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(one[:n]), r.Body), r.Body}
	return true, nil
}

// amContentType checks a body's Content-Type as Alertmanager's go-openapi
// server does, answering in its shape when it refuses: a header that does
// not parse is 400 ("parsing Content-Type header from \"a, b\" failed,
// because mime: ..."); a media type other than application/json (any
// case, any parameters, charset included) is 415 ("unsupported media type
// \"text/plain\", only [application/json] are allowed"); a missing header
// counts as application/octet-stream.
func amContentType(c *gin.Context) bool {
	ct := c.GetHeader("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		msg := fmt.Sprintf("parsing Content-Type header from %q failed, because %v", c.GetHeader("Content-Type"), err)
		amBodyFail(c, http.StatusBadRequest, http.StatusBadRequest, msg)
		return false
	}
	if !strings.EqualFold(mt, "application/json") {
		amBodyFail(c, http.StatusUnsupportedMediaType, http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported media type %q, only [application/json] are allowed", mt))
		return false
	}
	return true
}

// locateAM names the alert or field a body of dst's type failed on (see
// jsonerr.LocateFields), or returns "".
func locateAM(data []byte, dst any) string {
	var msg string
	switch dst.(type) {
	case *models.PostableAlerts:
		msg, _ = jsonerr.LocateEach(data, "alerts", false, func() any { return new(models.PostableAlert) })
	case *models.PostableSilence:
		msg, _ = jsonerr.LocateFields(data, func() any { return new(models.PostableSilence) })
	}
	return msg
}

// amCodeRequired is go-openapi's code for a required value missing.
const amCodeRequired = 602

// amBodyFail answers a request body refused before the handler's own
// checks as Alertmanager's go-openapi server does: the status and
// {"code": ..., "message": ...}, where code is the status, or for a
// validation failure (422) go-openapi's own code. Handler refusals stay a
// JSON string (amFail), as in Alertmanager.
func amBodyFail(c *gin.Context, status, code int, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"code": code, "message": msg})
}

// amValidationError picks, as go-openapi's ServeError does, the first
// leaf of a model's validation error, with its code.
func amValidationError(err error) (int, string) {
	for {
		multi, ok := err.(interface{ Unwrap() []error })
		if !ok || len(multi.Unwrap()) == 0 {
			break
		}
		err = multi.Unwrap()[0]
	}
	code := http.StatusUnprocessableEntity
	if ce, ok := err.(interface{ Code() int32 }); ok {
		code = int(ce.Code())
	}
	return code, err.Error()
}

// isAlertmanagerAPI reports whether c is a request to the API v2, whose
// body refusals take Alertmanager's shape (see amBodyFail).
func isAlertmanagerAPI(c *gin.Context) bool {
	return strings.HasPrefix(c.Request.URL.Path, "/api/v2/")
}

func (h *amHandlers) postSilence(c *gin.Context) {
	var ps models.PostableSilence
	if !decodeAM(c, &ps, "silence") {
		return
	}
	n := alerting.NewSilence{
		StartsAt: time.Time(*ps.StartsAt), EndsAt: time.Time(*ps.EndsAt),
		Comment: *ps.Comment, Author: *ps.CreatedBy, Actor: Actor(c),
	}
	if n.Author == "" {
		n.Author = Actor(c)
	}
	for _, m := range ps.Matchers {
		n.Matchers = append(n.Matchers, alerting.MatcherInput{Object: &alerting.MatcherObject{Name: *m.Name, Value: *m.Value, IsRegex: *m.IsRegex, IsEqual: m.IsEqual}})
	}
	if !n.EndsAt.After(n.StartsAt) {
		amFail(c, fmt.Errorf("%w: Failed to create silence: start time must be before end time", ErrInvalid))
		return
	}
	if n.EndsAt.Before(h.svc.Now()) {
		amFail(c, fmt.Errorf("%w: Failed to create silence: end time can't be in the past", ErrInvalid))
		return
	}
	var s alerting.Silence
	var err error
	if ps.ID == "" {
		s, err = h.svc.CreateSilence(c.Request.Context(), n)
	} else {
		s, err = h.svc.UpdateSilence(c.Request.Context(), ps.ID, n)
	}
	if err != nil {
		amFail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"silenceID": s.ID})
}

func (h *amHandlers) postAlerts(c *gin.Context) {
	var pas models.PostableAlerts
	if !decodeAM(c, &pas, "alerts") {
		return
	}
	if len(pas) > h.lim.WebhookMaxAlerts {
		amFail(c, fmt.Errorf("%w: %d alerts in one request, the limit is %d (alerting.webhook.max_alerts)", ErrInvalid, len(pas), h.lim.WebhookMaxAlerts))
		return
	}
	in := make([]alerting.PostedAlert, 0, len(pas))
	for _, pa := range pas {
		if pa == nil {
			continue
		}
		in = append(in, alerting.PostedAlert{
			Labels: model.Labels(pa.Labels), Annotations: model.Labels(pa.Annotations),
			StartsAt: time.Time(pa.StartsAt), EndsAt: time.Time(pa.EndsAt), GeneratorURL: string(pa.GeneratorURL),
		})
	}
	_, err := h.svc.IngestAlerts(c.Request.Context(), in)
	if err != nil {
		if alerting.IsInvalid(err) {
			amFail(c, fmt.Errorf("%w: %s", ErrInvalid, strings.ReplaceAll(err.Error(), "\n", "; ")))
			return
		}
		amFail(c, fmt.Errorf("%w: %v", ErrUnavailable, err))
		return
	}
	c.Status(http.StatusOK)
}
