package web

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/changes"
)

// memChanges is a changes.Store in memory for handler tests.
type memChanges struct {
	mu  sync.Mutex
	all []changes.Change
}

func (m *memChanges) Add(_ context.Context, c changes.Change) (changes.Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c.ID = int64(len(m.all) + 1)
	m.all = append(m.all, c)
	return c, nil
}

func (m *memChanges) List(_ context.Context, services []string, from, to time.Time, limit int) ([]changes.Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []changes.Change
	for _, c := range slices.Backward(m.all) {
		if (len(services) == 0 || slices.Contains(services, c.Service)) && !c.At.Before(from) && c.At.Before(to) && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memChanges) Prune(context.Context, time.Time) (int, error) { return 0, nil }

func newChangesFixture(t *testing.T) *fixture {
	f := newFixture(t, nil)
	MountChanges(f.srv.Routes(), changes.NewService(&memChanges{}, nil, func() time.Time { return incT0 }))
	return f
}

func TestChangeEndpoints(t *testing.T) {
	f := newChangesFixture(t)
	tests := []struct {
		name, method, path, token, body string
		want                            int
		contains                        string
	}{
		{"record", "POST", "/api/v1/changes", tokIngest, `{"service":"checkout","title":"v42","kind":"deploy","url":"https://ci.example.com/runs/42","at":"2026-03-25T09:48:00Z","labels":{"env":"prod"}}`, 201, `"id":1,"service":"checkout","title":"v42","kind":"deploy"`},
		{"record defaults", "POST", "/api/v1/changes", tokIngest, `{"service":"payments","title":"pool size 1"}`, 201, `"kind":"other","at":"2026-03-25T10:00:00Z"`},
		{"responder may not ingest", "POST", "/api/v1/changes", tokResponder, `{"service":"s","title":"t"}`, 403, ""},
		{"anonymous", "POST", "/api/v1/changes", "", `{"service":"s","title":"t"}`, 401, ""},
		{"no service", "POST", "/api/v1/changes", tokIngest, `{"title":"t"}`, 400, "service is required"},
		{"bad kind", "POST", "/api/v1/changes", tokIngest, `{"service":"s","title":"t","kind":"rollout"}`, 400, "kind must be"},
		{"bad url", "POST", "/api/v1/changes", tokIngest, `{"service":"s","title":"t","url":"ftp://x"}`, 400, "url must be"},
		{"bad at", "POST", "/api/v1/changes", tokIngest, `{"service":"s","title":"t","at":"yesterday"}`, 400, "at must be an RFC 3339 time"},
		{"unknown field", "POST", "/api/v1/changes", tokIngest, `{"service":"s","title":"t","env":"prod"}`, 400, "unknown field"},
		{"list", "GET", "/api/v1/changes", tokViewer, "", 200, `"title":"pool size 1"`},
		{"list service", "GET", "/api/v1/changes?service=checkout&from=2026-03-25T09:00:00Z&to=2026-03-25T10:00:00Z", tokViewer, "", 200, `{"changes":[{"id":1,`},
		{"list empty range", "GET", "/api/v1/changes?service=checkout&from=2026-03-24T09:00:00Z&to=2026-03-24T10:00:00Z", tokViewer, "", 200, `{"changes":[]}`},
		{"list bad from", "GET", "/api/v1/changes?from=monday", tokViewer, "", 400, "from must be an RFC 3339 time"},
		{"list reversed", "GET", "/api/v1/changes?from=2026-03-25T10:00:00Z&to=2026-03-25T09:00:00Z", tokViewer, "", 400, "from must be before to"},
		{"list bad limit", "GET", "/api/v1/changes?limit=5000", tokViewer, "", 400, "limit must be between 1 and 1000"},
		{"ingest cannot read", "GET", "/api/v1/changes", tokIngest, "", 403, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec = f.do(t, tc.method, tc.path, tc.token, strings.NewReader(tc.body), "Content-Type", jsonCT)
			if rec.Code != tc.want || !strings.Contains(rec.Body.String(), tc.contains) {
				t.Errorf("%s %s = %d %.300s; want %d containing %q", tc.method, tc.path, rec.Code, rec.Body, tc.want, tc.contains)
			}
		})
	}
}

func FuzzRecordChange(f *testing.F) {
	for _, s := range []string{`{"service":"checkout","title":"v42","kind":"deploy","url":"https://x.example","at":"2026-03-25T09:48:00Z","labels":{"a":"b"}}`, `{"labels":{"":""}}`, `[]`, `{"at":"0001-01-01T00:00:00Z"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fx := newChangesFixture(t)
		rec := fx.do(t, http.MethodPost, "/api/v1/changes", tokIngest, strings.NewReader(body), "Content-Type", jsonCT)
		if rec.Code >= 500 {
			t.Fatalf("POST %q = %d %s", body, rec.Code, rec.Body.String())
		}
	})
}
