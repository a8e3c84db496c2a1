package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/incidents/postmortem"
	"github.com/sentinel-oss/sentinel/runbooks"
)

type fakePostmortems struct{ last postmortem.Edit }

func (f *fakePostmortems) Get(_ context.Context, id int64) (*postmortem.Postmortem, error) {
	if id != 1 {
		return nil, postmortem.ErrNotFound
	}
	return &postmortem.Postmortem{IncidentID: 1, Title: "t", Status: postmortem.StatusDraft}, nil
}

func (f *fakePostmortems) Put(_ context.Context, id int64, e postmortem.Edit, actor string) (*postmortem.Postmortem, error) {
	f.last = e
	if e.Status != nil && *e.Status == postmortem.StatusPublished {
		return nil, postmortem.ErrConflict
	}
	return &postmortem.Postmortem{IncidentID: id, UpdatedBy: actor, Status: postmortem.StatusDraft}, nil
}

func (f *fakePostmortems) Report(_ context.Context, from, to time.Time) (postmortem.Report, error) {
	return postmortem.Report{From: from, To: to}, nil
}

func TestPostmortemEndpoints(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Server.MaxBodyBytes = 1 << 20 })
	svc := &fakePostmortems{}
	MountPostmortems(f.srv.Routes(), svc)
	MountRunbooks(f.srv.Routes(), runbooks.New(runbooks.Runbook{Name: "db", Title: "DB", Body: "# DB\n<iframe src=x></iframe>"}))
	cases := []struct {
		name, method, path, token, ct, body string
		want                                int
		contains                            string
	}{
		{"get", http.MethodGet, "/api/v1/incidents/1/postmortem", tokViewer, "", "", 200, `"status":"draft"`},
		{"markdown query", http.MethodGet, "/api/v1/incidents/1/postmortem?format=markdown", tokViewer, "", "", 200, "# Postmortem: #1 t"},
		{"markdown path", http.MethodGet, "/api/v1/incidents/1/postmortem.md", tokViewer, "", "", 200, "## Action items"},
		{"bad format", http.MethodGet, "/api/v1/incidents/1/postmortem?format=pdf", tokViewer, "", "", 400, "format"},
		{"missing", http.MethodGet, "/api/v1/incidents/2/postmortem", tokViewer, "", "", 404, "not found"},
		{"bad id", http.MethodGet, "/api/v1/incidents/x/postmortem", tokViewer, "", "", 400, "positive integer"},
		{"put", http.MethodPut, "/api/v1/incidents/1/postmortem", tokResponder, jsonCT, `{"root_cause":"x"}`, 200, `"updated_by":"r"`},
		{"put as viewer", http.MethodPut, "/api/v1/incidents/1/postmortem", tokViewer, jsonCT, `{}`, 403, ""},
		{"put not json", http.MethodPut, "/api/v1/incidents/1/postmortem", tokResponder, "text/plain", `{}`, 415, "Content-Type"},
		{"put unknown field", http.MethodPut, "/api/v1/incidents/1/postmortem", tokResponder, jsonCT, `{"rootcause":"x"}`, 400, "rootcause"},
		{"put bad status", http.MethodPut, "/api/v1/incidents/1/postmortem", tokResponder, jsonCT, `{"status":"final"}`, 400, "in_review"},
		{"put too large", http.MethodPut, "/api/v1/incidents/1/postmortem", tokResponder, jsonCT, `{"lessons":"` + strings.Repeat("x", postmortem.MaxEditBytes) + `"}`, 413, "too large"},
		{"put conflict", http.MethodPut, "/api/v1/incidents/1/postmortem", tokResponder, jsonCT, `{"status":"published"}`, 409, "conflict"},
		{"report", http.MethodGet, "/api/v1/reports/incidents?from=2026-03-01T00:00:00Z&to=2026-03-08T00:00:00Z", tokViewer, "", "", 200, `"from":"2026-03-01T00:00:00Z"`},
		{"report from alone", http.MethodGet, "/api/v1/reports/incidents?from=2026-03-01T00:00:00Z", tokViewer, "", "", 400, "give both (RFC 3339 times), or neither for the last 30 days"},
		{"report to alone", http.MethodGet, "/api/v1/reports/incidents?to=2026-03-08T00:00:00Z", tokViewer, "", "", 400, "give both (RFC 3339 times), or neither for the last 30 days"},
		{"report bad time", http.MethodGet, "/api/v1/reports/incidents?from=yesterday&to=2026-03-08T00:00:00Z", tokViewer, "", "", 400, "RFC 3339"},
		{"runbooks", http.MethodGet, "/api/v1/runbooks", tokViewer, "", "", 200, `"name":"db"`},
		{"runbook", http.MethodGet, "/api/v1/runbooks/db", tokViewer, "", "", 200, `raw HTML omitted`},
		{"runbook missing", http.MethodGet, "/api/v1/runbooks/nope", tokViewer, "", "", 404, `no runbook named`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hdr []string
			if c.ct != "" {
				hdr = []string{"Content-Type", c.ct}
			}
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			rec := f.do(t, c.method, c.path, c.token, body, hdr...)
			got := rec.Body.String()
			if rec.Code != c.want || !strings.Contains(got, c.contains) {
				t.Errorf("%s %s = %d %.300s, want %d containing %q", c.method, c.path, rec.Code, got, c.want, c.contains)
			}
			if strings.Contains(got, "<iframe") {
				t.Error("raw HTML passed through")
			}
		})
	}
}

// Without from and to the report covers the last 30 days, as the message
// for a half-given range and docs/api.md say.
func TestIncidentReportDefaultsToLast30Days(t *testing.T) {
	f := newFixture(t, nil)
	MountPostmortems(f.srv.Routes(), &fakePostmortems{})
	before := time.Now().UTC().Truncate(time.Second)
	rec := f.do(t, http.MethodGet, "/api/v1/reports/incidents", tokViewer, nil)
	after := time.Now().UTC()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var rep postmortem.Report
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if got := rep.To.Sub(rep.From); got != 30*24*time.Hour {
		t.Errorf("span %v, want 720h0m0s", got)
	}
	if rep.To.Before(before) || rep.To.After(after) {
		t.Errorf("to %v, want now (%v to %v)", rep.To, before, after)
	}
}
