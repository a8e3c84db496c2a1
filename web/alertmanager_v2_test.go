package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-openapi/runtime"
	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	amalert "github.com/prometheus/alertmanager/api/v2/client/alert"
	amgroup "github.com/prometheus/alertmanager/api/v2/client/alertgroup"
	amgeneral "github.com/prometheus/alertmanager/api/v2/client/general"
	amsilence "github.com/prometheus/alertmanager/api/v2/client/silence"
	"github.com/prometheus/alertmanager/api/v2/models"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/config"
)

// clock is a settable time source for the alerting service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// amAPI serves the API v2 over real HTTP and returns Alertmanager's own
// generated client (the one amtool uses) for a token.
func amAPI(t *testing.T) (client func(token string) *amclient.AlertmanagerAPI, svc *alerting.Service, clk *clock) {
	t.Helper()
	f := newFixture(t, func(o *Options) { o.Server.MaxBodyBytes = 1 << 20 })
	clk = &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	svc, err := alerting.New(alerting.Options{Config: config.Alerting{}, Store: alerting.NewMemoryStore(), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	lim := AlertingLimits{WebhookMaxBytes: 1 << 20, WebhookMaxAlerts: 100}
	MountAlerting(f.srv.Routes(), svc, lim)
	MountAlertmanagerAPI(f.srv.Routes(), svc, lim, AlertmanagerAPIInfo{Version: "1.2.3", GoVersion: "go1.26", Started: clk.now().Add(-time.Hour),
		Config: "route:\n  receiver: sentinel\n"})
	srv := httptest.NewServer(f.srv.Handler())
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return func(token string) *amclient.AlertmanagerAPI {
		tr := httptransport.New(u.Host, "/api/v2/", []string{"http"})
		tr.DefaultAuthentication = httptransport.BearerToken(token)
		return amclient.New(tr, strfmt.Default)
	}, svc, clk
}

func ptr[T any](v T) *T { return &v }

func amMatcher(name, value string, isRegex, isEqual bool) *models.Matcher {
	return &models.Matcher{Name: &name, Value: &value, IsRegex: &isRegex, IsEqual: &isEqual}
}

// TestAlertmanagerAPIWithItsOwnClient drives every API v2 endpoint through
// Alertmanager's generated client, so each answer must decode into its
// models: status, posted alerts (repost, explicit resolve, timeout),
// alerts and groups with filters, silences created, updated in place,
// replaced, read, listed, expired; roles and refusals.
func TestAlertmanagerAPIWithItsOwnClient(t *testing.T) {
	client, svc, clk := amAPI(t)
	ctx := context.Background()
	viewer, responder, ingest := client(tokViewer), client(tokResponder), client(tokIngest)

	st, err := viewer.General.GetStatus(amgeneral.NewGetStatusParamsWithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if *st.Payload.VersionInfo.Version != "1.2.3" || *st.Payload.Cluster.Status != "disabled" || !strings.Contains(*st.Payload.Config.Original, "receiver: sentinel") {
		t.Fatalf("status %+v", st.Payload)
	}

	// Alerts posted as Prometheus posts them.
	now := clk.now()
	post := func(c *amclient.AlertmanagerAPI, as ...*models.PostableAlert) error {
		_, err := c.Alert.PostAlerts(amalert.NewPostAlertsParamsWithContext(ctx).WithAlerts(as))
		return err
	}
	checkout := &models.PostableAlert{Alert: models.Alert{Labels: models.LabelSet{"alertname": "CheckoutDown", "service": "checkout", "severity": "critical", "empty": ""}},
		Annotations: models.LabelSet{"summary": "checkout is down"}, StartsAt: strfmt.DateTime(now.Add(-time.Minute)), EndsAt: strfmt.DateTime(now.Add(4 * time.Minute))}
	cart := &models.PostableAlert{Alert: models.Alert{Labels: models.LabelSet{"alertname": "CartSlow", "service": "cart"}}}
	if err := post(ingest, checkout, cart); err != nil {
		t.Fatal(err)
	}
	if err := post(responder, cart); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("a responder token posted alerts: %v", err)
	}
	var bad *amalert.PostAlertsBadRequest
	err = post(ingest, &models.PostableAlert{Alert: models.Alert{Labels: models.LabelSet{"alertname": "Late"}}, StartsAt: strfmt.DateTime(now), EndsAt: strfmt.DateTime(now.Add(-time.Hour))},
		&models.PostableAlert{Alert: models.Alert{Labels: models.LabelSet{"alertname": "Fine"}}})
	if !errors.As(err, &bad) || !strings.Contains(bad.Payload, "alerts[0]: endsAt") {
		t.Fatalf("bad alert: %v", err)
	}

	alerts := func(p *amalert.GetAlertsParams) models.GettableAlerts {
		t.Helper()
		ok, err := viewer.Alert.GetAlerts(p.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		return ok.Payload
	}
	all := alerts(amalert.NewGetAlertsParams())
	if len(all) != 3 { // checkout, cart, and Fine (valid alerts of a refused batch are kept, as in Alertmanager)
		t.Fatalf("alerts %d", len(all))
	}
	got := alerts(amalert.NewGetAlertsParams().WithFilter([]string{`service="checkout"`}))
	if len(got) != 1 {
		t.Fatalf("filtered %d", len(got))
	}
	a := got[0]
	if _, ok := a.Labels["empty"]; ok || a.Labels["alertname"] != "CheckoutDown" || a.Annotations["summary"] != "checkout is down" ||
		*a.Status.State != "active" || len(a.Receivers) != 1 || *a.Receivers[0].Name != "sentinel" ||
		!time.Time(*a.EndsAt).Equal(now.Add(4*time.Minute)) || !time.Time(*a.StartsAt).Equal(now.Add(-time.Minute)) {
		t.Fatalf("alert %+v status %+v", a, a.Status)
	}
	var badFilter *amalert.GetAlertsBadRequest
	if _, err := viewer.Alert.GetAlerts(amalert.NewGetAlertsParamsWithContext(ctx).WithFilter([]string{"foo=bar}"})); !errors.As(err, &badFilter) ||
		!strings.Contains(badFilter.Payload, "unexpected open or close brace") {
		t.Fatalf("bad filter: %v", err)
	}

	// A silence through the client, as amtool makes it.
	ps := &models.PostableSilence{Silence: models.Silence{
		Matchers: models.Matchers{amMatcher("service", "checkout", false, true)}, StartsAt: ptr(strfmt.DateTime(now)),
		EndsAt: ptr(strfmt.DateTime(now.Add(time.Hour))), CreatedBy: ptr("alice"), Comment: ptr("deploy")}}
	if _, err := viewer.Silence.PostSilences(amsilence.NewPostSilencesParamsWithContext(ctx).WithSilence(ps)); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("a viewer token made a silence: %v", err)
	}
	created, err := responder.Silence.PostSilences(amsilence.NewPostSilencesParamsWithContext(ctx).WithSilence(ps))
	if err != nil {
		t.Fatal(err)
	}
	id := created.Payload.SilenceID
	if len(id) != 36 || strings.Count(id, "-") != 4 {
		t.Fatalf("silence ID %q is not a UUID", id)
	}
	got = alerts(amalert.NewGetAlertsParams().WithFilter([]string{`service="checkout"`}))
	if *got[0].Status.State != "suppressed" || len(got[0].Status.SilencedBy) != 1 || got[0].Status.SilencedBy[0] != id {
		t.Fatalf("silenced alert status %+v", got[0].Status)
	}
	if n := len(alerts(amalert.NewGetAlertsParams().WithSilenced(ptr(false)))); n != 2 {
		t.Fatalf("silenced=false: %d alerts", n)
	}
	if n := len(alerts(amalert.NewGetAlertsParams().WithActive(ptr(false)))); n != 1 {
		t.Fatalf("active=false: %d alerts", n)
	}
	groups, err := viewer.Alertgroup.GetAlertGroups(amgroup.NewGetAlertGroupsParamsWithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, g := range groups.Payload {
		keys = append(keys, g.Labels["service"]+g.Labels["alertname"])
		if *g.Receiver.Name != "sentinel" || len(g.Alerts) != 1 {
			t.Fatalf("group %+v", g)
		}
	}
	if strings.Join(keys, ",") != "Fine,cart,checkout" || *groups.Payload[2].Alerts[0].Status.State != "suppressed" {
		t.Fatalf("groups %v", keys)
	}

	// Read it, list it by an exact matcher, update it in place, replace it.
	one, err := viewer.Silence.GetSilence(amsilence.NewGetSilenceParamsWithContext(ctx).WithSilenceID(strfmt.UUID(id)))
	if err != nil || *one.Payload.CreatedBy != "alice" || *one.Payload.Status.State != "active" || *one.Payload.Matchers[0].Name != "service" {
		t.Fatalf("get silence: %+v %v", one, err)
	}
	list := func(filter ...string) models.GettableSilences {
		t.Helper()
		ok, err := viewer.Silence.GetSilences(amsilence.NewGetSilencesParamsWithContext(ctx).WithFilter(filter))
		if err != nil {
			t.Fatal(err)
		}
		return ok.Payload
	}
	if len(list(`service="checkout"`)) != 1 || len(list(`service="cart"`)) != 0 || len(list(`service=~"checkout"`)) != 0 {
		t.Fatal("silence filter is not Alertmanager's (exact name, operator and value)")
	}
	clk.add(time.Minute)
	ps.ID = id
	ps.EndsAt = ptr(strfmt.DateTime(now.Add(2 * time.Hour)))
	upd, err := responder.Silence.PostSilences(amsilence.NewPostSilencesParamsWithContext(ctx).WithSilence(ps))
	if err != nil || upd.Payload.SilenceID != id {
		t.Fatalf("extend in place: %+v %v", upd, err)
	}
	ps.Matchers = append(ps.Matchers, amMatcher("env", "prod", false, true))
	repl, err := responder.Silence.PostSilences(amsilence.NewPostSilencesParamsWithContext(ctx).WithSilence(ps))
	if err != nil || repl.Payload.SilenceID == id {
		t.Fatalf("new matchers must replace the silence: %+v %v", repl, err)
	}
	sils := list()
	if len(sils) != 2 || *sils[0].ID != repl.Payload.SilenceID || *sils[0].Status.State != "active" || *sils[1].ID != id || *sils[1].Status.State != "expired" {
		t.Fatalf("after replace: %d silences", len(sils))
	}
	var nf *amsilence.PostSilencesNotFound
	ps.ID = "00000000-0000-4000-8000-000000000000"
	if _, err := responder.Silence.PostSilences(amsilence.NewPostSilencesParamsWithContext(ctx).WithSilence(ps)); !errors.As(err, &nf) {
		t.Fatalf("update of a missing silence: %v", err)
	}
	ps.ID = ""
	ps.EndsAt = ptr(strfmt.DateTime(now.Add(-time.Minute)))
	var badSil *amsilence.PostSilencesBadRequest
	if _, err := responder.Silence.PostSilences(amsilence.NewPostSilencesParamsWithContext(ctx).WithSilence(ps)); !errors.As(err, &badSil) || !strings.Contains(badSil.Payload, "start time must be before end time") {
		t.Fatalf("silence ending before it starts: %v", err)
	}
	if _, err := responder.Silence.DeleteSilence(amsilence.NewDeleteSilenceParamsWithContext(ctx).WithSilenceID(strfmt.UUID(repl.Payload.SilenceID))); err != nil {
		t.Fatal(err)
	}
	var gone *amsilence.GetSilenceNotFound
	if _, err := viewer.Silence.GetSilence(amsilence.NewGetSilenceParamsWithContext(ctx).WithSilenceID("11111111-0000-4000-8000-000000000000")); !errors.As(err, &gone) {
		t.Fatalf("missing silence: %v", err)
	}
	if got := list(); *got[0].Status.State != "expired" || *got[1].Status.State != "expired" {
		t.Fatal("delete did not expire")
	}

	// Reposts keep an alert firing; an explicit end resolves it; without a
	// repost it resolves when its end passes.
	clk.add(3 * time.Minute)
	checkout.EndsAt = strfmt.DateTime(clk.now().Add(4 * time.Minute))
	if err := post(ingest, checkout); err != nil {
		t.Fatal(err)
	}
	cart.EndsAt = strfmt.DateTime(clk.now().Add(-time.Second))
	cart.StartsAt = strfmt.DateTime(now)
	if err := post(ingest, cart); err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Minute) // checkout's first end has passed, its reposted one has not
	if err := svc.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	names := func() (out []string) {
		for _, a := range alerts(amalert.NewGetAlertsParams()) {
			out = append(out, a.Labels["alertname"])
		}
		return out
	}
	if got := names(); len(got) != 1 || got[0] != "CheckoutDown" {
		t.Fatalf("after repost and resolve: %v", got)
	}
	clk.add(5 * time.Minute)
	if err := svc.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := names(); len(got) != 0 {
		t.Fatalf("after the end passed: %v", got)
	}

	// A token of no role, or none at all, is refused before any handler.
	var apiErr *runtime.APIError
	if _, err := client("no-such-token-0123456789").General.GetStatus(amgeneral.NewGetStatusParamsWithContext(ctx)); !errors.As(err, &apiErr) || apiErr.Code != http.StatusUnauthorized {
		t.Fatalf("unknown token: %v", err)
	}
}

// FuzzAlertmanagerAPIBodies sends any body to the two API v2 endpoints
// that take one: the answer is 200, 400, 404, 413 or 422, never a server
// error, and a refusal has one of Alertmanager's two shapes.
func FuzzAlertmanagerAPIBodies(f *testing.F) {
	f.Add(`[{"labels":{"alertname":"A"},"startsAt":"2026-03-01T11:00:00Z"}]`, true)
	f.Add(`[{"labels":{},"endsAt":"2020-01-01T00:00:00Z"}]`, true)
	f.Add(`{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2026-03-01T12:00:00Z","endsAt":"2026-03-01T13:00:00Z","createdBy":"x","comment":"y"}`, false)
	f.Add(`{"id":"nope","matchers":[{"name":"a","value":"(","isRegex":true}]}`, false)
	fx := newFixture(f, func(o *Options) { o.Server.MaxBodyBytes = 1 << 20 })
	svc, err := alerting.New(alerting.Options{Store: alerting.NewMemoryStore(), Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		f.Fatal(err)
	}
	lim := AlertingLimits{WebhookMaxBytes: 64 << 10, WebhookMaxAlerts: 50}
	MountAlertmanagerAPI(fx.srv.Routes(), svc, lim, AlertmanagerAPIInfo{})
	f.Fuzz(func(t *testing.T, body string, alerts bool) {
		path, tok := "/api/v2/silences", tokResponder
		if alerts {
			path, tok = "/api/v2/alerts", tokIngest
		}
		rec := fx.do(t, "POST", path, tok, strings.NewReader(body), "Content-Type", "application/json")
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			if err := checkAMErrorShape(rec.Code, rec.Body.Bytes()); err != nil {
				t.Fatalf("%s %q: %v", path, body, err)
			}
		default:
			t.Fatalf("%s %q: %d %s", path, body, rec.Code, rec.Body)
		}
	})
}

// checkAMErrorShape checks a refusal against Alertmanager's two shapes: a
// body its go-openapi server could not take is {"code", "message"} with
// the status as code (for 422, go-openapi's validation code, 6xx); the
// handler's own refusals are a JSON string (never for 422).
func checkAMErrorShape(status int, body []byte) error {
	var msg string
	if json.Unmarshal(body, &msg) == nil {
		if status == http.StatusUnprocessableEntity || msg == "" {
			return fmt.Errorf("%d answered with the JSON string %q", status, msg)
		}
		return nil
	}
	var obj struct {
		Code    *int    `json:"code"`
		Message *string `json:"message"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&obj); err != nil || obj.Code == nil || obj.Message == nil || *obj.Message == "" {
		return fmt.Errorf("%d answer is neither a JSON string nor {code, message}: %s", status, body)
	}
	if want := *obj.Code == status || status == http.StatusUnprocessableEntity && *obj.Code >= 600; !want {
		return fmt.Errorf("%d answer has code %d: %s", status, *obj.Code, body)
	}
	return nil
}

// TestGrafanaAlertmanagerDataSourceRequests replays the requests Grafana's
// Alertmanager data source (implementation "Prometheus") makes, as its
// sources build them, with the token in a custom Authorization header:
// the health check (the Mimir path must not answer 200, /api/v2/status
// must), the status whose config.original Grafana parses as an
// Alertmanager config, alerts and groups with its parameters, and a
// silence created and expired with its payload.
func TestGrafanaAlertmanagerDataSourceRequests(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Server.MaxBodyBytes = 1 << 20 })
	svc, err := alerting.New(alerting.Options{Store: alerting.NewMemoryStore(), Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	lim := AlertingLimits{WebhookMaxBytes: 1 << 20, WebhookMaxAlerts: 100}
	MountAlertmanagerAPI(f.srv.Routes(), svc, lim, AlertmanagerAPIInfo{Version: "1.0.0", Config: "route:\n  receiver: sentinel\n  group_by: [service]\nreceivers:\n- name: sentinel\n"})
	ct := []string{"Content-Type", "application/json"}
	rec := f.do(t, "POST", "/api/v2/alerts", tokIngest, strings.NewReader(`[{"labels":{"alertname":"CheckoutDown","service":"checkout"},"annotations":{"summary":"down"}}]`), ct...)
	if rec.Code != http.StatusOK {
		t.Fatalf("post alert: %d %s", rec.Code, rec.Body)
	}

	if rec := f.do(t, "GET", "/alertmanager/api/v2/status", tokViewer, nil); rec.Code == http.StatusOK {
		t.Fatal("the Mimir status path answered 200: Grafana would call Sentinel a Mimir")
	}
	rec = f.do(t, "GET", "/api/v2/status", tokViewer, nil)
	var status struct {
		Config      struct{ Original string } `json:"config"`
		Cluster     struct{ Status string }   `json:"cluster"`
		VersionInfo struct{ Version string }  `json:"versionInfo"`
		Uptime      string                    `json:"uptime"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &status) != nil || status.Cluster.Status != "disabled" || status.Uptime == "" ||
		!strings.Contains(status.Config.Original, "receiver: sentinel") {
		t.Fatalf("status: %d %s", rec.Code, rec.Body)
	}

	// getAlertmanagerAlerts: filter matchers and state flags as query params.
	q := url.Values{"filter": {`service="checkout"`}, "silenced": {"true"}, "active": {"true"}, "inhibited": {"true"}, "unprocessed": {"true"}}
	rec = f.do(t, "GET", "/api/v2/alerts?"+q.Encode(), tokViewer, nil)
	var alerts []struct {
		Labels map[string]string
		Status struct {
			State                            string
			SilencedBy, InhibitedBy, MutedBy []string
		}
		Fingerprint string
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &alerts) != nil || len(alerts) != 1 || alerts[0].Status.State != "active" ||
		alerts[0].Status.SilencedBy == nil || alerts[0].Status.MutedBy == nil || alerts[0].Fingerprint == "" {
		t.Fatalf("alerts: %d %s", rec.Code, rec.Body)
	}
	// getAlertmanagerAlertGroups.
	rec = f.do(t, "GET", "/api/v2/alerts/groups?"+url.Values{"filter": {`alertname=~"Checkout.*"`}, "receiver": {"sentinel"}, "active": {"true"}}.Encode(), tokViewer, nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"labels":{"service":"checkout"}`) || !strings.Contains(rec.Body.String(), `"receiver":{"name":"sentinel"}`) {
		t.Fatalf("groups: %d %s", rec.Code, rec.Body)
	}
	// The silence editor's payload.
	payload := `{"matchers":[{"name":"service","value":"checkout","isRegex":false,"isEqual":true}],
		"startsAt":"2026-03-01T12:00:00.000Z","endsAt":"2026-03-01T14:00:00.000Z","createdBy":"admin","comment":"planned restart","id":""}`
	rec = f.do(t, "POST", "/api/v2/silences", tokResponder, strings.NewReader(payload), ct...)
	var created struct{ SilenceID string }
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &created) != nil || created.SilenceID == "" {
		t.Fatalf("create silence: %d %s", rec.Code, rec.Body)
	}
	rec = f.do(t, "GET", "/api/v2/silences", tokViewer, nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"id":"`+created.SilenceID+`"`) || !strings.Contains(rec.Body.String(), `"state":"active"`) {
		t.Fatalf("silences: %d %s", rec.Code, rec.Body)
	}
	rec = f.do(t, "GET", "/api/v2/alerts?"+url.Values{"silenced": {"false"}}.Encode(), tokViewer, nil)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Fatalf("silenced=false: %d %s", rec.Code, rec.Body)
	}
	if rec := f.do(t, "DELETE", "/api/v2/silence/"+url.PathEscape(created.SilenceID), tokResponder, nil); rec.Code != http.StatusOK {
		t.Fatalf("expire: %d %s", rec.Code, rec.Body)
	}
	rec = f.do(t, "GET", "/api/v2/silence/"+created.SilenceID, tokViewer, nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"state":"expired"`) {
		t.Fatalf("after expire: %d %s", rec.Code, rec.Body)
	}
}
