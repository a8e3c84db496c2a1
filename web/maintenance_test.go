package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/config"
)

// TestMaintenanceAPI: one-off windows are created, listed, read, edited
// and ended like silences; the recurring ones are listed with their next
// occurrence; bad requests name what is wrong.
func TestMaintenanceAPI(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Server.MaxBodyBytes = 1 << 20 })
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} // a Monday
	cfg := config.Alerting{
		TimeIntervals: []config.TimeIntervalSpec{{Name: "nightly", TimeIntervals: []config.TimeInterval{{
			Times: []config.TimeRange{{StartTime: "02:00", EndTime: "04:00"}}, Weekdays: []string{"monday:friday"}}}}},
		Maintenance: []config.RecurringMaintenance{{Name: "db", TimeIntervals: []string{"nightly"}, Matchers: []string{"service=db"}}},
	}
	svc, err := alerting.New(alerting.Options{Config: cfg, Store: alerting.NewMemoryStore(), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	MountAlerting(f.srv.Routes(), svc, AlertingLimits{WebhookMaxBytes: 4096, WebhookMaxAlerts: 10})
	ct := []string{"Content-Type", "application/json"}

	body := `{"matchers": ["service=checkout,env=prod"], "starts_at": "2026-03-02T11:00:00Z", "ends_at": "2026-03-02T13:00:00Z", "comment": "DB failover"}`
	if rec := f.do(t, "POST", "/api/v1/maintenance", tokViewer, strings.NewReader(body), ct...); rec.Code != http.StatusForbidden {
		t.Fatalf("viewer created a window: %d", rec.Code)
	}
	rec := f.do(t, "POST", "/api/v1/maintenance", tokResponder, strings.NewReader(body), ct...)
	var w windowDTO
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &w) != nil || w.Status != "pending" || len(w.Matchers) != 2 ||
		w.CreatedBy != "r" || w.Comment != "DB failover" || !w.EndsAt.Equal(time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	edit := `{"matchers": ["service=checkout,env=prod"], "starts_at": "2026-03-02T11:00:00Z", "ends_at": "2026-03-02T14:00:00Z", "comment": "DB failover, longer"}`
	rec = f.do(t, "PUT", "/api/v1/maintenance/"+w.ID, tokResponder, strings.NewReader(edit), ct...)
	var w2 windowDTO
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &w2) != nil || w2.ID != w.ID || !w2.EndsAt.Equal(time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)) {
		t.Fatalf("edit: %d %s", rec.Code, rec.Body)
	}
	clk.add(90 * time.Minute)
	rec = f.do(t, "GET", "/api/v1/maintenance/"+w.ID, tokViewer, nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"status":"active"`) {
		t.Fatalf("get: %d %s", rec.Code, rec.Body)
	}
	rec = f.do(t, "GET", "/api/v1/maintenance?status=active", tokViewer, nil)
	var list struct {
		Windows   []windowDTO
		Recurring []recurringDTO
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &list) != nil || len(list.Windows) != 1 || len(list.Recurring) != 1 {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	r := list.Recurring[0]
	if r.Name != "db" || r.Active || r.NextStart == nil || !r.NextStart.Equal(time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC)) ||
		!r.NextEnd.Equal(time.Date(2026, 3, 3, 4, 0, 0, 0, time.UTC)) || r.Matchers[0] != `service="db"` {
		t.Fatalf("recurring: %+v", r)
	}
	rec = f.do(t, "DELETE", "/api/v1/maintenance/"+w.ID, tokResponder, nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"status":"ended"`) || !strings.Contains(rec.Body.String(), `"ended_by":"r"`) {
		t.Fatalf("end: %d %s", rec.Code, rec.Body)
	}
	if rec := f.do(t, "DELETE", "/api/v1/silences/"+w.ID, tokResponder, nil); rec.Code != http.StatusNotFound {
		t.Fatalf("a window ended as a silence: %d", rec.Code)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"matchers": [], "duration": "1h"}`, "at least one matcher"},
		{`{"matchers": ["service=checkout"]}`, "set ends_at or duration"},
		{`{"matchers": ["a=~\".*\""], "duration": "1h"}`, "would match every alert"},
		{`{"matchers": ["service=checkout"], "duration": "1h", "colour": "red"}`, "colour"},
	} {
		rec := f.do(t, "POST", "/api/v1/maintenance", tokResponder, strings.NewReader(tc.body), ct...)
		if rec.Code != http.StatusBadRequest || !strings.Contains(errorOf(t, rec).Error, tc.want) {
			t.Errorf("%s: %d %s, want 400 with %q", tc.body, rec.Code, rec.Body, tc.want)
		}
	}
	if rec := f.do(t, "GET", "/api/v1/maintenance?status=over", tokViewer, nil); rec.Code != http.StatusBadRequest {
		t.Errorf("bad status: %d", rec.Code)
	}
}
