package web

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/slo"
)

func sloFixture(t *testing.T) (*fixture, *slo.Engine, *time.Time) {
	t.Helper()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	specs, ps := slo.Compile([]config.SLO{
		{Name: "orders", Service: "checkout", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}},
		{Name: "avail", Objective: 99.9, Window: "30d", SLI: config.SLI{Probe: "checkout"}},
	}, []slo.ProbeRef{{Name: "checkout", Interval: 10 * time.Second}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	e, err := slo.New(slo.Options{Specs: specs, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, nil)
	MountSLOs(f.srv.Routes(), e, e)
	return f, e, &now
}

func TestSLOEventsAndStatus(t *testing.T) {
	f, _, now := sloFixture(t)
	post := func(token, body string) int {
		return f.do(t, http.MethodPost, "/api/v1/slos/orders/events", token, strings.NewReader(body), "Content-Type", "application/json").Code
	}
	if code := post(tokIngest, `{"good": 95, "total": 100}`); code != http.StatusAccepted {
		t.Fatalf("post = %d", code)
	}
	if code := post(tokAdmin, `{"good": 0, "total": 5, "time": "2026-03-01T11:30:00Z"}`); code != http.StatusAccepted {
		t.Fatalf("post with time = %d", code)
	}
	if code := post(tokViewer, `{"good": 1, "total": 1}`); code != http.StatusForbidden {
		t.Errorf("viewer post = %d, want 403", code)
	}
	if code := f.do(t, http.MethodGet, "/api/v1/slos", tokIngest, nil).Code; code != http.StatusForbidden {
		t.Errorf("ingest read = %d, want 403", code)
	}

	rec := f.do(t, http.MethodGet, "/api/v1/slos/orders", tokViewer, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("get = %d %s", rec.Code, rec.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "objective", "sli", "error_budget_remaining", "burn_rates", "time_to_exhaustion", "alerts", "history"} {
		if _, ok := got[k]; !ok {
			t.Errorf("SLO JSON lacks %q: %s", k, rec.Body)
		}
	}
	if got["objective"] != 99.0 || got["window_total"] != 105.0 || got["sli"] != 95.0/105 {
		t.Errorf("values: objective %v total %v sli %v", got["objective"], got["window_total"], got["sli"])
	}
	burn := got["burn_rates"].(map[string]any)
	for _, w := range []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d", "window"} {
		if _, ok := burn[w]; !ok {
			t.Errorf("burn_rates lacks %q", w)
		}
	}
	if len(got["history"].([]any)) != 168 {
		t.Errorf("history has %d points, want 168", len(got["history"].([]any)))
	}

	// from/to: good, total and budget consumed between the two times. The
	// SLO's data began at 11:30, so the window ending at 12:01 has 31
	// minutes of it: 105 events project to 105 * 43,200/31 over 30 days,
	// of which 1% may be bad; 10 were.
	// It is read 30 s into the current minute, so the counts end now.
	*now = now.Add(30 * time.Second)
	rec = f.do(t, http.MethodGet, "/api/v1/slos/orders?from=2026-03-01T11:00:00Z&to=2026-03-01T12:01:00Z", tokViewer, nil)
	got = nil
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	if c, _ := got["budget_consumed"].(float64); rec.Code != http.StatusOK || got["good"] != 95.0 || got["total"] != 105.0 || math.Abs(c-10/(0.01*105*43200/31)) > 1e-12 {
		t.Errorf("ranged = %d %v %v %v", rec.Code, got["good"], got["total"], got["budget_consumed"])
	}
	if got["counted_from"] != "2026-03-01T11:00:00Z" || got["counted_to"] != "2026-03-01T12:00:30Z" {
		t.Errorf("ranged counted %v to %v, want 11:00:00 to now (12:00:30)", got["counted_from"], got["counted_to"])
	}
	// Instants inside minutes: the counts are those of the whole minutes
	// 11:29 to 12:00 the span touches (the 5 bad events of 11:30), and the
	// answer says so beside the instants asked for.
	rec = f.do(t, http.MethodGet, "/api/v1/slos/orders?from=2026-03-01T11:29:30.5Z&to=2026-03-01T11:59:10Z", tokViewer, nil)
	got = nil
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	if rec.Code != http.StatusOK || got["from"] != "2026-03-01T11:29:30.5Z" || got["to"] != "2026-03-01T11:59:10Z" ||
		got["counted_from"] != "2026-03-01T11:29:00Z" || got["counted_to"] != "2026-03-01T12:00:00Z" || got["good"] != 0.0 || got["total"] != 5.0 {
		t.Errorf("ranged by instants = %d %s", rec.Code, rec.Body)
	}

	rec = f.do(t, http.MethodGet, "/api/v1/slos", tokViewer, nil)
	var list struct {
		SLOs []SLOJSON `json:"slos"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list.SLOs) != 2 || list.SLOs[1].TimeToExhaustion != nil {
		t.Errorf("list = %d %s", rec.Code, rec.Body)
	}
	_ = now
}

func TestSLOBadInput(t *testing.T) {
	f, _, _ := sloFixture(t)
	tests := []struct {
		name, path, body, ctype string
		status                  int
		want                    string
	}{
		{"good over total", "/api/v1/slos/orders/events", `{"good": 5, "total": 2}`, "application/json", 400, "good:"},
		{"negative", "/api/v1/slos/orders/events", `{"good": 0, "total": -2}`, "application/json", 400, "total:"},
		{"missing total", "/api/v1/slos/orders/events", `{"good": 0}`, "application/json", 400, "total: required"},
		{"bad time", "/api/v1/slos/orders/events", `{"good": 0, "total": 1, "time": "yesterday"}`, "application/json", 400, "time:"},
		{"old time", "/api/v1/slos/orders/events", `{"good": 0, "total": 1, "time": "2026-02-01T00:00:00Z"}`, "application/json", 400, "time:"},
		{"future time", "/api/v1/slos/orders/events", `{"good": 0, "total": 1, "time": "2026-03-02T00:00:00Z"}`, "application/json", 400, "time:"},
		{"string count", "/api/v1/slos/orders/events", `{"good": "1", "total": 1}`, "application/json", 400, `"good"`},
		{"float count", "/api/v1/slos/orders/events", `{"good": 1.5, "total": 2}`, "application/json", 400, `"good"`},
		{"huge count", "/api/v1/slos/orders/events", `{"good": 0, "total": 99999999999999999999}`, "application/json", 400, `"total"`},
		{"unknown field", "/api/v1/slos/orders/events", `{"good": 0, "total": 1, "bad": 1}`, "application/json", 400, "unknown field"},
		{"not json", "/api/v1/slos/orders/events", `good=1`, "text/plain", 415, "Content-Type"},
		{"too large", "/api/v1/slos/orders/events", `{"good": 0, "total": 1, "time": "` + strings.Repeat("x", 5000) + `"}`, "application/json", 413, "too large"},
		{"unknown slo", "/api/v1/slos/nope/events", `{"good": 0, "total": 1}`, "application/json", 404, "no SLO named"},
		{"probe slo", "/api/v1/slos/avail/events", `{"good": 0, "total": 1}`, "application/json", 409, "only SLOs with sli: {events: {}}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(t, http.MethodPost, tc.path, tokIngest, strings.NewReader(tc.body), "Content-Type", tc.ctype)
			if rec.Code != tc.status || !strings.Contains(errorOf(t, rec).Error, tc.want) {
				t.Errorf("%d %s, want %d mentioning %q", rec.Code, rec.Body, tc.status, tc.want)
			}
		})
	}
	for _, q := range []struct{ path, want string }{
		{"/api/v1/slos/nope", "no SLO named"},
		{"/api/v1/slos/orders?from=2026-03-01T11:00:00Z", "give both"},
		{"/api/v1/slos/orders?from=x&to=2026-03-01T11:00:00Z", "from:"},
		{"/api/v1/slos/orders?from=2026-03-01T11:00:00Z&to=2026-03-01T10:00:00Z", "after from"},
	} {
		rec := f.do(t, http.MethodGet, q.path, tokViewer, nil)
		if rec.Code/100 != 4 || !strings.Contains(errorOf(t, rec).Error, q.want) {
			t.Errorf("%s: %d %s", q.path, rec.Code, rec.Body)
		}
	}
}

func FuzzSLOEvents(f *testing.F) {
	f.Add([]byte(`{"good": 1, "total": 2}`))
	f.Add([]byte(`{"good": 1, "total": 2, "time": "2026-03-01T11:59:00Z"}`))
	f.Add([]byte(`{"good": -1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fx, _, _ := sloFixture(t)
		rec := fx.do(t, http.MethodPost, "/api/v1/slos/orders/events", tokIngest, strings.NewReader(string(body)), "Content-Type", "application/json")
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}
