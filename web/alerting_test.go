package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/audit"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

func alertingFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, func(o *Options) { o.Server.MaxBodyBytes = 1 << 20 })
	cfg := config.Alerting{Heartbeats: []config.Heartbeat{{Name: "backup", Timeout: model.Duration(time.Hour)}}}
	svc, err := alerting.New(alerting.Options{Config: cfg, Store: alerting.NewMemoryStore(),
		Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	MountAlerting(f.srv.Routes(), svc, AlertingLimits{WebhookMaxBytes: 4096, WebhookMaxAlerts: 10})
	return f
}

const amPayload = `{"version":"4","groupKey":"{}:{alertname=\"Down\"}","status":"firing","receiver":"sentinel",
"groupLabels":{"alertname":"Down"},"alerts":[{"status":"firing","labels":{"alertname":"Down","service":"api"},"annotations":{},
"startsAt":"2026-03-01T11:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"0123456789abcdef"}]}`

func TestAlertmanagerWebhookEndpoint(t *testing.T) {
	f := alertingFixture(t)
	ct := []string{"Content-Type", "application/json"}
	rec := f.do(t, "POST", "/api/v1/alertmanager", tokIngest, strings.NewReader(amPayload), ct...)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"new":1`) {
		t.Fatalf("first: %d %s", rec.Code, rec.Body)
	}
	rec = f.do(t, "POST", "/api/v1/alertmanager", tokIngest, strings.NewReader(amPayload), ct...)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"unchanged":1`) {
		t.Fatalf("duplicate: %d %s", rec.Code, rec.Body)
	}
	tests := []struct {
		name, token, body string
		hdr               []string
		code              int
		msg               string
	}{
		{"viewer may not ingest", tokViewer, amPayload, ct, 403, ""},
		{"no token", "", amPayload, ct, 401, ""},
		{"malformed", tokIngest, `{"version":`, ct, 400, "malformed JSON"},
		{"wrong version", tokIngest, `{"version":"3","groupKey":"g","status":"firing"}`, ct, 400, "version"},
		{"wrong type", tokIngest, `{"version":"4","groupKey":"g","status":"firing","alerts":{}}`, ct, 400, `field "alerts"`},
		{"bad time", tokIngest, `{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"}},{"status":"firing","labels":{"a":"c"},"startsAt":"yesterday"}]}`, ct, 400,
			`alerts[1].startsAt: "yesterday" is not an RFC 3339 time (byte 146)`},
		{"labels as a list", tokIngest, `{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":["a"]}]}`, ct, 400,
			`alerts[0].labels: expected an object, got JSON array (byte 87)`},
		{"not json", tokIngest, amPayload, []string{"Content-Type", "text/plain"}, 415, "Content-Type"},
		{"too large", tokIngest, `{"version":"4","pad":"` + strings.Repeat("x", 5000) + `"}`, ct, 413, "too large"},
		{"too many alerts", tokIngest, `{"version":"4","groupKey":"g","status":"firing","alerts":[` +
			strings.TrimSuffix(strings.Repeat(`{"status":"firing","labels":{"a":"b"}},`, 11), ",") + `]}`, ct, 400, "limit is 10"},
	}
	for _, tt := range tests {
		rec := f.do(t, "POST", "/api/v1/alertmanager", tt.token, strings.NewReader(tt.body), tt.hdr...)
		if rec.Code != tt.code {
			t.Errorf("%s: %d %s, want %d", tt.name, rec.Code, rec.Body, tt.code)
			continue
		}
		if tt.msg != "" && !strings.Contains(errorOf(t, rec).Error, tt.msg) {
			t.Errorf("%s: error %q, want %q", tt.name, errorOf(t, rec).Error, tt.msg)
		}
	}
	rec = f.do(t, "GET", "/api/v1/alerts", tokViewer, nil)
	var body struct {
		Alerts []map[string]any `json:"alerts"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Alerts) != 1 {
		t.Fatalf("alerts: %s %v", rec.Body, err)
	}
	a := body.Alerts[0]
	for _, k := range []string{"name", "state", "labels", "annotations", "group_key", "silenced", "since"} {
		if _, ok := a[k]; !ok {
			t.Errorf("alert JSON lacks %q: %v", k, a)
		}
	}
	if a["group_key"] != `{}:{alertname="Down"}` || a["state"] != "firing" {
		t.Errorf("alert %v", a)
	}
}

func TestHeartbeatEndpoint(t *testing.T) {
	f := alertingFixture(t)
	if rec := f.do(t, "POST", "/api/v1/heartbeats/backup", tokIngest, nil); rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	rec := f.do(t, "POST", "/api/v1/heartbeats/nope", tokIngest, nil)
	if rec.Code != 404 || !strings.Contains(errorOf(t, rec).Error, "no heartbeat named") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if rec := f.do(t, "POST", "/api/v1/heartbeats/backup", tokViewer, nil); rec.Code != 403 {
		t.Fatalf("viewer: %d", rec.Code)
	}
}

func TestSilenceEndpoints(t *testing.T) {
	f := alertingFixture(t)
	ct := []string{"Content-Type", "application/json"}
	body := `{"matchers":["service=checkout","alertname=~\"Check.*\""],"duration":"2h","comment":"deploy"}`
	if rec := f.do(t, "POST", "/api/v1/silences", tokViewer, strings.NewReader(body), ct...); rec.Code != 403 {
		t.Fatalf("viewer created a silence: %d", rec.Code)
	}
	rec := f.do(t, "POST", "/api/v1/silences", tokResponder, strings.NewReader(body), ct...)
	if rec.Code != http.StatusCreated {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var s silenceDTO
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.CreatedBy != "r" || s.Status != "active" || len(s.Matchers) != 2 || s.EndsAt.Sub(s.StartsAt) != 2*time.Hour {
		t.Fatalf("silence %+v", s)
	}
	bad := []struct{ body, msg string }{
		{`{"matchers":["service"],"duration":"1h"}`, "matchers[0]"},
		{`{"matchers":["a=b"]}`, "set ends_at or duration"},
		{`{"matchers":["a=b"],"duration":"1h","extra":1}`, "unknown field"},
	}
	for _, b := range bad {
		rec := f.do(t, "POST", "/api/v1/silences", tokResponder, strings.NewReader(b.body), ct...)
		if rec.Code != 400 || !strings.Contains(errorOf(t, rec).Error, b.msg) {
			t.Errorf("%s: %d %s", b.body, rec.Code, rec.Body)
		}
	}
	rec = f.do(t, "GET", "/api/v1/silences", tokViewer, nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), s.ID) {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	st := &memAuditStore{}
	f.srv.SetAudit(audit.New(st, nil, nil))
	rec = f.do(t, "DELETE", "/api/v1/silences/"+s.ID, tokResponder, nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"expired"`) || !strings.Contains(rec.Body.String(), `"expired_by":"r"`) {
		t.Fatalf("expire: %d %s", rec.Code, rec.Body)
	}
	var expired silenceDTO
	_ = json.Unmarshal(rec.Body.Bytes(), &expired)
	entries, _ := st.List(t.Context(), 0, 1, func(audit.Entry) bool { return true })
	if len(entries) != 1 || entries[0].Before != `ends_at="`+s.EndsAt.UTC().Format(time.RFC3339)+`"` || entries[0].After != `ends_at="`+expired.EndsAt.UTC().Format(time.RFC3339)+`"` || s.EndsAt.Equal(expired.EndsAt) {
		t.Fatalf("expiry audit entry = %+v (silence ended %v, now %v)", entries, s.EndsAt, expired.EndsAt)
	}
	if rec := f.do(t, "DELETE", "/api/v1/silences?id=nope", tokResponder, nil); rec.Code != 404 {
		t.Fatalf("missing: %d %s", rec.Code, rec.Body)
	}
	if rec := f.do(t, "GET", "/api/v1/silences?status=bogus", tokViewer, nil); rec.Code != 400 {
		t.Fatalf("bad status: %d", rec.Code)
	}
}
