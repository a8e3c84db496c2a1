package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/audit"
	"github.com/sentinel-oss/sentinel/dashboards"
	"github.com/sentinel-oss/sentinel/model"
)

// memAuditStore keeps entries in memory, in the order appended.
type memAuditStore struct {
	mu sync.Mutex
	es []audit.Entry
}

func (m *memAuditStore) Append(_ context.Context, e audit.Entry) (audit.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.ID = int64(len(m.es) + 1)
	m.es = append(m.es, e)
	return e, nil
}

func (m *memAuditStore) List(_ context.Context, before int64, limit int, keep func(audit.Entry) bool) ([]audit.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []audit.Entry
	for i := len(m.es) - 1; i >= 0 && len(out) < limit; i-- {
		if e := m.es[i]; (before == 0 || e.ID < before) && keep(e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memAuditStore) Prune(context.Context, time.Time) (int, error) { return 0, nil }

func TestAuditPage(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Server.MaxBodyBytes = 64 << 10 })
	now := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	log := audit.New(&memAuditStore{}, nil, now)
	ctx := t.Context()
	for i, who := range []string{"ana", "bo", "ana"} {
		_ = log.Record(ctx, model.Actor{Name: who, Role: "responder", Channel: model.ChannelSlack}, "slack acknowledge", "#"+string(rune('1'+i)), "ok", "")
	}
	d, err := dashboards.New(dashboards.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ses := MountUI(f.srv.Routes(), d, UIOptions{Sessions: SessionOptions{TTL: time.Hour}, Audit: log})
	u := &uiFixture{fixture: f, ses: ses}
	admin := u.signIn(t, tokAdmin)
	page := u.get(t, "/audit?actor=ana&limit=1", admin)
	body := page.Body.String()
	if page.Code != http.StatusOK || !strings.Contains(body, `href="/audit"`) || !strings.Contains(body, "#3") || strings.Contains(body, "#1<") {
		t.Fatalf("admin's audit page = %d:\n%s", page.Code, body)
	}
	if !strings.Contains(body, "before=3") { // the next page starts below entry 3
		t.Fatalf("no link to older entries:\n%s", body)
	}
	older := u.get(t, "/audit?actor=ana&limit=1&before=3", admin).Body.String()
	if !strings.Contains(older, "#1") || strings.Contains(older, "#2") || strings.Contains(older, "#3") {
		t.Fatalf("older page:\n%s", older)
	}
	if bad := u.get(t, "/audit?channel=fax", admin); bad.Code != http.StatusBadRequest || !strings.Contains(bad.Body.String(), "channel: want api, ui, slack or config") {
		t.Fatalf("bad filter = %d:\n%s", bad.Code, bad.Body)
	}
	responder := u.signIn(t, tokResponder)
	if r := u.get(t, "/audit", responder); r.Code != http.StatusForbidden {
		t.Fatalf("responder's audit page = %d", r.Code)
	}
	if r := u.get(t, "/incidents", responder); strings.Contains(r.Body.String(), `href="/audit"`) {
		t.Fatal("a responder's nav links the audit page")
	}
}

// TestAuditExport: the export streams every entry the filters select as
// JSON lines past the page size, admins only; a bad filter is named.
func TestAuditExport(t *testing.T) {
	f := newFixture(t, nil)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	log := audit.New(&memAuditStore{}, nil, func() time.Time { return at })
	for i := range 2500 {
		who := "ana"
		if i%5 == 0 {
			who = "bo"
		}
		_ = log.RecordChange(t.Context(), model.Actor{Name: who, Role: "responder", Channel: model.ChannelAPI}, "PATCH /api/v1/incidents/:id", "id="+strconv.Itoa(i), "200", "", "severity=\"warning\"", "severity=\"critical\"")
	}
	MountAudit(f.srv.Routes(), log)
	lines := func(rec *httptest.ResponseRecorder) []audit.Entry {
		t.Helper()
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("export = %d %q: %.300s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		var out []audit.Entry
		for _, l := range strings.Split(strings.TrimSuffix(rec.Body.String(), "\n"), "\n") {
			var e audit.Entry
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			out = append(out, e)
		}
		return out
	}
	all := lines(f.do(t, "GET", "/api/v1/audit/export", tokAdmin, nil))
	if len(all) != 2500 || all[0].ID != 2500 || all[2499].ID != 1 || all[0].Before != `severity="warning"` || all[0].After != `severity="critical"` {
		t.Fatalf("export: %d entries, first %+v", len(all), all[0])
	}
	bo := lines(f.do(t, "GET", "/api/v1/audit/export?actor=BO", tokAdmin, nil))
	if len(bo) != 500 || bo[0].Actor != "bo" || bo[0].ID != 2496 {
		t.Fatalf("actor=bo: %d entries, first %+v", len(bo), bo[0])
	}
	if got := lines(f.do(t, "GET", "/api/v1/audit/export?limit=3&before=10", tokAdmin, nil)); len(got) != 3 || got[0].ID != 9 {
		t.Fatalf("limit=3&before=10: %+v", got)
	}
	for q, want := range map[string]string{"from=yesterday": "from:", "to=1": "to:", "limit=0": "limit:", "before=-1": "before:", "channel=email": "channel:", "from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z": "from must be before to"} {
		rec := f.do(t, "GET", "/api/v1/audit/export?"+q, tokAdmin, nil)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%s: %d %s", q, rec.Code, rec.Body)
		}
	}
	for _, tok := range []string{tokResponder, tokViewer} {
		if rec := f.do(t, "GET", "/api/v1/audit/export", tok, nil); rec.Code != http.StatusForbidden {
			t.Errorf("non-admin export = %d", rec.Code)
		}
	}
}

// TestAuditListPages: a filter that matches nothing answers an empty
// list (it once indexed an empty page); a full page of the default size
// names the next page's before, a shorter one does not.
func TestAuditListPages(t *testing.T) {
	f := newFixture(t, nil)
	log := audit.New(&memAuditStore{}, nil, func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) })
	for i := range 150 {
		_ = log.Record(t.Context(), model.Actor{Name: "ana", Role: "responder", Channel: model.ChannelAPI}, "POST /api/v1/incidents", "", strconv.Itoa(200+i%2), "")
	}
	MountAudit(f.srv.Routes(), log)
	for q, want := range map[string]string{
		"actor=nobody":         `{"entries":[]}`,
		"actor=nobody&limit=5": `{"entries":[]}`,
		"before=1":             `{"entries":[]}`,
	} {
		if rec := f.do(t, "GET", "/api/v1/audit?"+q, tokAdmin, nil); rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != want {
			t.Errorf("%s: %d %s, want %s", q, rec.Code, rec.Body, want)
		}
	}
	page := func(q string) (n int, next *int64) {
		t.Helper()
		rec := f.do(t, "GET", "/api/v1/audit?"+q, tokAdmin, nil)
		var got struct {
			Entries    []audit.Entry `json:"entries"`
			NextBefore *int64        `json:"next_before"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &got) != nil {
			t.Fatalf("%s: %d %s", q, rec.Code, rec.Body)
		}
		return len(got.Entries), got.NextBefore
	}
	if n, next := page(""); n != 100 || next == nil || *next != 51 {
		t.Errorf("first page: %d entries, next %v; want 100 and 51", n, next)
	}
	if n, next := page("before=51"); n != 50 || next != nil {
		t.Errorf("last page: %d entries, next %v; want 50 and none", n, next)
	}
}
