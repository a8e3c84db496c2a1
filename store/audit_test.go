package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/audit"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/store/pgtest"
)

// TestAuditStore: entries come newest first, filter and page by ID, and
// the ones past the retention are pruned; on a bbolt file (reopened) and
// on PostgreSQL (read from a second pool, as another replica would).
func TestAuditStore(t *testing.T) {
	t.Run("bolt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s.db")
		auditConformance(t, store.NewAudit(openIncidentBolt(t, path)), nil)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		auditConformance(t, store.NewAudit(openPostgresAt(t, dsn)), func() audit.Store { return store.NewAudit(openPostgresAt(t, dsn)) })
	})
}

func auditConformance(t *testing.T, st audit.Store, other func() audit.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := t0.Add(-500 * 24 * time.Hour)
	l := audit.New(st, nil, func() time.Time { return clock })
	rec := func(name, channel, action string) {
		t.Helper()
		if err := l.Record(ctx, model.Actor{Name: name, Role: "responder", Channel: channel}, action, "id=1", "200", "203.0.113.7"); err != nil {
			t.Fatal(err)
		}
	}
	rec("old", model.ChannelAPI, "POST /api/v1/silences") // past the retention
	clock = t0
	for i := range 5 {
		clock = t0.Add(time.Duration(i) * time.Minute)
		rec("carol", model.ChannelSlack, "slack acknowledge")
		rec("ops", model.ChannelAPI, "POST /api/v1/incidents/:id/resolve")
	}
	read := l
	if other != nil {
		read = audit.New(other(), nil, func() time.Time { return clock })
	}
	all, err := read.List(ctx, audit.Query{})
	if err != nil || len(all) != 11 || all[0].ID != 11 || all[10].Actor != "old" {
		t.Fatalf("all: %d entries (%v): %+v", len(all), err, all)
	}
	page, _ := read.List(ctx, audit.Query{Actor: "carol", Limit: 2})
	if len(page) != 2 || page[0].ID != 10 || page[1].ID != 8 || page[0].Channel != "slack" || page[0].SourceIP != "203.0.113.7" {
		t.Fatalf("carol's first page: %+v", page)
	}
	next, _ := read.List(ctx, audit.Query{Actor: "carol", Limit: 2, Before: page[1].ID})
	if len(next) != 2 || next[0].ID != 6 || next[1].ID != 4 {
		t.Fatalf("carol's second page: %+v", next)
	}
	ranged, _ := read.List(ctx, audit.Query{Action: "resolve", From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)})
	if len(ranged) != 2 || ranged[0].At != t0.Add(2*time.Minute) {
		t.Fatalf("resolves from 12:01 to 12:03: %+v", ranged)
	}
	if _, err := read.List(ctx, audit.Query{Limit: audit.MaxLimit + 1}); err == nil {
		t.Fatal("a limit past the maximum was accepted")
	}
	n, err := st.Prune(ctx, t0.Add(-config.DefaultAuditRetention))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want the old entry", n, err)
	}
	if all, _ := read.List(ctx, audit.Query{}); len(all) != 10 {
		t.Fatalf("%d entries after pruning", len(all))
	}
}
