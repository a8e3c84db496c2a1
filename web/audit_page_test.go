package web

import (
	"context"
	"net/http"
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
