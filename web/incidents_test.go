package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/incidentstest"
)

var incT0 = time.Date(2026, 3, 25, 10, 0, 0, 0, time.UTC)

func newIncidentFixture(t testing.TB) (*fixture, *incidents.Service) {
	t.Helper()
	f := newFixture(t.(*testing.T), nil)
	svc, err := incidents.New(incidents.Options{
		Config: config.DefaultIncidents(), OnCall: incidentstest.MustOncall(), Store: incidents.NewMemoryStore(),
		Pagers: []incidents.Pager{incidentstest.NewPager("test")}, Now: func() time.Time { return incT0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	MountIncidents(f.srv.Routes(), svc)
	return f, svc
}

const jsonCT = "application/json"

func TestIncidentEndpoints(t *testing.T) {
	f, _ := newIncidentFixture(t)
	post := func(path, token, body string) (int, string) {
		rec := f.do(t, http.MethodPost, path, token, strings.NewReader(body), "Content-Type", jsonCT)
		return rec.Code, rec.Body.String()
	}
	get := func(path, token string) (int, string) {
		rec := f.do(t, http.MethodGet, path, token, nil)
		return rec.Code, rec.Body.String()
	}
	code, body := post("/api/v1/incidents", tokResponder, `{"title":"Checkout down","severity":"critical","summary":"500s","labels":{"service":"checkout"}}`)
	if code != http.StatusCreated {
		t.Fatalf("declare: %d %s", code, body)
	}
	var inc map[string]any
	if err := json.Unmarshal([]byte(body), &inc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "title", "severity", "status", "summary", "labels", "dedup_key", "created_at", "acknowledged_at", "resolved_at", "alerts", "timeline", "runbook", "slos"} {
		if _, ok := inc[k]; !ok {
			t.Errorf("incident JSON lacks %q: %s", k, body)
		}
	}
	if inc["id"].(float64) != 1 || inc["status"] != "triggered" || inc["dedup_key"] != nil {
		t.Errorf("declared: %s", body)
	}
	tl := inc["timeline"].([]any)[0].(map[string]any)
	if tl["kind"] != "declared" || tl["actor"] != "r" || tl["at"] == nil || tl["text"] == nil {
		t.Errorf("timeline entry %v", tl)
	}
	for i := 0; i < 2; i++ {
		post("/api/v1/incidents", tokAdmin, `{"title":"t","severity":"info"}`)
	}

	tests := []struct {
		name, method, path, token, body string
		want                            int
		contains                        string
	}{
		{"list", "GET", "/api/v1/incidents?limit=2", tokViewer, "", 200, `"next_before":2`},
		{"list page 2", "GET", "/api/v1/incidents?limit=2&before=2", tokViewer, "", 200, `"id":1`},
		{"list open", "GET", "/api/v1/incidents?status=open", tokViewer, "", 200, `"id":3`},
		{"list resolved", "GET", "/api/v1/incidents?status=resolved", tokViewer, "", 200, `"incidents":[]`},
		{"bad status", "GET", "/api/v1/incidents?status=closed", tokViewer, "", 400, "unknown status"},
		{"bad limit", "GET", "/api/v1/incidents?limit=0", tokViewer, "", 400, "limit"},
		{"bad limit text", "GET", "/api/v1/incidents?limit=abc", tokViewer, "", 400, "limit"},
		{"bad before", "GET", "/api/v1/incidents?before=-1", tokViewer, "", 400, "before"},
		{"get", "GET", "/api/v1/incidents/1", tokViewer, "", 200, `"title":"Checkout down"`},
		{"get missing", "GET", "/api/v1/incidents/99", tokViewer, "", 404, "no incident #99"},
		{"get bad id", "GET", "/api/v1/incidents/abc", tokViewer, "", 400, "positive integer"},
		{"get huge id", "GET", "/api/v1/incidents/99999999999999999999", tokViewer, "", 400, "positive integer"},
		{"viewer cannot ack", "POST", "/api/v1/incidents/1/acknowledge", tokViewer, "", 403, ""},
		{"ingest cannot read", "GET", "/api/v1/incidents", tokIngest, "", 403, ""},
		{"ack", "POST", "/api/v1/incidents/1/acknowledge", tokResponder, "", 200, `"status":"acknowledged"`},
		{"ack again", "POST", "/api/v1/incidents/1/acknowledge", tokResponder, "", 409, "already acknowledged"},
		{"escalate", "POST", "/api/v1/incidents/1/escalate", tokResponder, "", 200, `"status":"triggered"`},
		{"resolve", "POST", "/api/v1/incidents/1/resolve", tokResponder, "", 200, `"status":"resolved"`},
		{"resolve again", "POST", "/api/v1/incidents/1/resolve", tokResponder, "", 409, "already resolved"},
		{"ack missing", "POST", "/api/v1/incidents/42/acknowledge", tokResponder, "", 404, ""},
		{"ack bad id", "POST", "/api/v1/incidents/0/acknowledge", tokResponder, "", 400, ""},
		{"declare no title", "POST", "/api/v1/incidents", tokResponder, `{"severity":"critical"}`, 400, "title is required"},
		{"declare bad severity", "POST", "/api/v1/incidents", tokResponder, `{"title":"x","severity":"sev1"}`, 400, "severity"},
		{"declare unknown field", "POST", "/api/v1/incidents", tokResponder, `{"title":"x","sev":"critical"}`, 400, "unknown field"},
		{"declare not json", "POST", "/api/v1/incidents", tokResponder, `title=x`, 400, ""},
		{"declare wrong type", "POST", "/api/v1/incidents", tokResponder, `{"title":1}`, 400, "title"},
		{"oncall", "GET", "/api/v1/oncall", tokViewer, "", 200, `"user":"alice"`},
		{"override", "POST", "/api/v1/oncall/overrides", tokResponder, `{"schedule":"primary","user":"carol","start":"2026-03-25T09:00:00Z","end":"2026-03-25T12:00:00Z"}`, 201, `"user":"carol"`},
		{"oncall after override", "GET", "/api/v1/oncall", tokViewer, "", 200, `"on_call":{"user":"carol"`},
		{"override unknown schedule", "POST", "/api/v1/oncall/overrides", tokResponder, `{"schedule":"x","user":"carol","start":"2026-03-25T09:00:00Z","end":"2026-03-25T12:00:00Z"}`, 400, "no schedule"},
		{"override past", "POST", "/api/v1/oncall/overrides", tokResponder, `{"schedule":"primary","user":"carol","start":"2026-03-24T09:00:00Z","end":"2026-03-24T12:00:00Z"}`, 400, "past"},
		{"override end before start", "POST", "/api/v1/oncall/overrides", tokResponder, `{"schedule":"primary","user":"carol","start":"2026-03-26T09:00:00Z","end":"2026-03-25T12:00:00Z"}`, 400, "after start"},
		{"override bad time", "POST", "/api/v1/oncall/overrides", tokResponder, `{"schedule":"primary","user":"carol","start":"tomorrow"}`, 400, ""},
		{"viewer cannot override", "POST", "/api/v1/oncall/overrides", tokViewer, `{}`, 403, ""},
		{"stats", "GET", "/api/v1/incidents/stats?from=2026-03-25T00:00:00Z&to=2026-03-26T00:00:00Z", tokViewer, "", 200, `"count":3`},
		{"stats bad", "GET", "/api/v1/incidents/stats?from=x", tokViewer, "", 400, "RFC 3339"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var code int
			var body string
			if tc.method == "GET" {
				code, body = get(tc.path, tc.token)
			} else {
				code, body = post(tc.path, tc.token, tc.body)
			}
			if code != tc.want || !strings.Contains(body, tc.contains) {
				t.Errorf("%s %s = %d %s; want %d containing %q", tc.method, tc.path, code, body, tc.want, tc.contains)
			}
		})
	}
}

func fuzzIncidentBody(f *testing.F, path string, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fx, _ := newIncidentFixture(t)
		rec := fx.do(t, http.MethodPost, path, tokResponder, strings.NewReader(body), "Content-Type", jsonCT)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q = %d %s", path, body, rec.Code, rec.Body.String())
		}
	})
}

func FuzzDeclareIncident(f *testing.F) {
	fuzzIncidentBody(f, "/api/v1/incidents", `{"title":"x","severity":"critical","summary":"s","labels":{"a":"b"}}`, `{"labels":{"":""}}`, `[]`, `{"title":"\u0000"}`)
}

func FuzzAddOverride(f *testing.F) {
	fuzzIncidentBody(f, "/api/v1/oncall/overrides", `{"schedule":"primary","user":"carol","start":"2026-03-25T09:00:00Z","end":"2026-03-25T12:00:00Z"}`, `{"user":"x@y.z"}`, `{"start":"0001-01-01T00:00:00Z","end":"9999-12-31T23:59:59Z","schedule":"primary","user":"bob"}`)
}
