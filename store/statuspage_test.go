package store_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/statuspage"
	"github.com/sentinel-oss/sentinel/store"
)

func TestStatusPageStore(t *testing.T) {
	engines := map[string]func(t *testing.T) store.Engine{
		"memory": func(*testing.T) store.Engine { return store.NewMemory() },
		"bolt": func(t *testing.T) store.Engine {
			b, err := store.OpenBolt(context.Background(), config.Storage{Path: filepath.Join(t.TempDir(), "s.db"), OpenTimeout: model.Duration(time.Second)}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close() })
			return b
		},
		"postgres": func(t *testing.T) store.Engine { return openPostgres(t) },
	}
	for name, open := range engines {
		t.Run(name, func(t *testing.T) { statusPageStoreSuite(t, store.NewStatusPage(open(t))) })
	}
}

func statusPageStoreSuite(t *testing.T, s statuspage.Store) {
	ctx := t.Context()
	day := time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC)
	// Two days of one component, a minute written twice, another component.
	for _, w := range []struct {
		at    time.Time
		codes map[string]byte
	}{
		{day.Add(5 * time.Minute), map[string]byte{"checkout": 1, "search": 5}},
		{day.Add(5*time.Minute + 40*time.Second), map[string]byte{"checkout": 4}},
		{day.Add(24*time.Hour + 1439*time.Minute), map[string]byte{"checkout": 2}},
		{day.Add(-24 * time.Hour), map[string]byte{"checkout": 3}},
	} {
		if err := s.RecordMinute(ctx, w.at, w.codes); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Days(ctx, "checkout", day, day.AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Day.Equal(day) || !got[1].Day.Equal(day.AddDate(0, 0, 1)) {
		t.Fatalf("days = %+v", got)
	}
	want0 := make([]byte, statuspage.MinutesPerDay)
	want0[5] = 4
	want1 := make([]byte, statuspage.MinutesPerDay)
	want1[1439] = 2
	if !bytes.Equal(got[0].Minutes, want0) || !bytes.Equal(got[1].Minutes, want1) {
		t.Fatal("stored minutes differ from those written")
	}
	if other, _ := s.Days(ctx, "search", day, day.AddDate(0, 0, 1)); len(other) != 1 || other[0].Minutes[5] != 5 {
		t.Fatalf("search = %+v", other)
	}

	// Overrides and their log.
	o := statuspage.Override{Status: statuspage.MajorOutage, Reason: "payments provider down", Actor: "alice", At: day}
	if err := s.SetOverride(ctx, "checkout", &o, statuspage.OverrideEvent{At: day, Component: "checkout", Action: statuspage.ActionSet, Status: o.Status, Reason: o.Reason, Actor: "alice"}); err != nil {
		t.Fatal(err)
	}
	all, err := s.Overrides(ctx)
	if err != nil || len(all) != 1 || all["checkout"].Reason != o.Reason || !all["checkout"].At.Equal(day) {
		t.Fatalf("overrides = %+v, %v", all, err)
	}
	if err := s.SetOverride(ctx, "checkout", nil, statuspage.OverrideEvent{At: day.Add(time.Hour), Component: "checkout", Action: statuspage.ActionCleared, Reason: "fixed", Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Overrides(ctx); len(all) != 0 {
		t.Fatalf("after clearing: %+v", all)
	}
	log, err := s.OverrideLog(ctx, 10)
	if err != nil || len(log) != 2 || log[0].Actor != "bob" || log[1].Actor != "alice" {
		t.Fatalf("log = %+v, %v", log, err)
	}

	// Prune: days before the 24th and log lines before 00:30.
	if err := s.Prune(ctx, day, day.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Days(ctx, "checkout", day.AddDate(0, 0, -5), day.AddDate(0, 0, 5)); len(got) != 2 {
		t.Fatalf("after prune: %d days", len(got))
	}
	if log, _ := s.OverrideLog(ctx, 10); len(log) != 1 || log[0].Actor != "bob" {
		t.Fatalf("log after prune = %+v", log)
	}
}
