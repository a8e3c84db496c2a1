package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slo"
	"github.com/sentinel-oss/sentinel/store"
)

func TestSLOCountsRoundTrip(t *testing.T) {
	for name, e := range map[string]store.Engine{"bolt": openBolt(t), "memory": store.NewMemory(), "postgres": openPostgres(t)} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			s := store.NewSLOCounts(e)
			h0 := time.Date(2024, 5, 17, 10, 0, 0, 0, time.UTC)
			a := slo.HourCounts{SLO: "orders", Hour: h0}
			a.Good[0], a.Total[0], a.Good[59], a.Total[59] = 5, 7, 1<<40, 1<<41
			b := slo.HourCounts{SLO: "orders", Hour: h0}
			b.Good[0], b.Total[0] = 1, 1
			other := slo.HourCounts{SLO: "orders-eu", Hour: h0}
			other.Total[3] = 9
			later := slo.HourCounts{SLO: "orders", Hour: h0.Add(2 * time.Hour)}
			later.Total[30] = 4
			if err := s.SaveCounts(ctx, "a", []slo.HourCounts{a, other, later}); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveCounts(ctx, "b", []slo.HourCounts{b}); err != nil {
				t.Fatal(err)
			}
			// Absolute values: saving again replaces, never adds.
			if err := s.SaveCounts(ctx, "b", []slo.HourCounts{b}); err != nil {
				t.Fatal(err)
			}
			var got []slo.HourCounts
			err := s.LoadCounts(ctx, "orders", h0.Add(-time.Hour), h0.Add(3*time.Hour), slo.Writers{}, func(hc slo.HourCounts) error {
				got = append(got, hc)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].Good[0] != 6 || got[0].Total[0] != 8 || got[0].Total[59] != 1<<41 || got[1].Total[30] != 4 || !got[1].Hour.Equal(later.Hour) {
				t.Fatalf("loaded %+v", got)
			}
			// A range ending inside an hour includes that hour; one starting after it does not.
			n := 0
			_ = s.LoadCounts(ctx, "orders", h0.Add(90*time.Minute), h0.Add(121*time.Minute), slo.Writers{}, func(slo.HourCounts) error { n++; return nil })
			if n != 1 {
				t.Errorf("partial range loaded %d hours, want 1", n)
			}
			if err := s.DeleteBefore(ctx, "orders", h0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			got = nil
			_ = s.LoadCounts(ctx, "orders", h0.Add(-time.Hour), h0.Add(3*time.Hour), slo.Writers{}, func(hc slo.HourCounts) error { got = append(got, hc); return nil })
			if len(got) != 1 || !got[0].Hour.Equal(later.Hour) {
				t.Errorf("after prune: %+v", got)
			}
			n = 0
			_ = s.LoadCounts(ctx, "orders-eu", h0, h0.Add(time.Hour), slo.Writers{}, func(slo.HourCounts) error { n++; return nil })
			if n != 1 {
				t.Error("pruning orders touched orders-eu")
			}
		})
	}
}

// TestSLORestartMidWindow counts for two days, restarts the engine on the
// same bbolt file, and expects the same status from the stored counts.
func TestSLORestartMidWindow(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	specs, ps := slo.Compile([]config.SLO{{Name: "orders", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}}}, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	start := time.Date(2024, 5, 15, 9, 17, 0, 0, time.UTC)
	now := start
	clock := func() time.Time { return now }

	db, err := store.OpenBolt(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	e1, err := slo.New(slo.Options{Specs: specs, Store: store.NewSLOCounts(db), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := e1.Load(ctx); err != nil {
		t.Fatal(err)
	}
	// Two days of traffic, one call a minute: 100 events, 3 bad every 10th minute.
	for i := 0; i < 2*24*60; i++ {
		now = start.Add(time.Duration(i) * time.Minute)
		good := int64(100)
		if i%10 == 0 {
			good = 97
		}
		if err := e1.RecordEvents(ctx, "orders", good, 100, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if i%30 == 0 {
			if err := e1.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e1.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := e1.Status(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db2, err := store.OpenBolt(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	e2, err := slo.New(slo.Options{Specs: specs, Store: store.NewSLOCounts(db2), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := e2.Load(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := e2.Status(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if after.Window != before.Window || after.Window.Total != 2*24*60*100 || after.Window.Bad() != 3*2*24*6 {
		t.Fatalf("after restart %+v, before %+v", after.Window, before.Window)
	}
	for w, v := range before.BurnRates {
		if after.BurnRates[w] != v {
			t.Errorf("burn %s: %v after restart, %v before", w, after.BurnRates[w], v)
		}
	}
	// Counting continues on top of the stored counts, and a flush keeps them.
	now = now.Add(time.Minute)
	if err := e2.RecordEvents(ctx, "orders", 0, 50, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := e2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := e2.Consumed(ctx, "orders", start, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != after.Window.Total+50 || c.Total-c.Good != after.Window.Bad()+50 {
		t.Errorf("consumed = %+v", c)
	}
	var states []model.SLOState = e2.Evaluate(ctx)
	if len(states) != 1 || states[0].Events != c.Total {
		t.Errorf("states = %+v", states)
	}
}

// BenchmarkSLOFlush1000: one flush of 1,000 SLOs' current hour, what the
// engine writes each second under traffic on every SLO, on bbolt and on
// PostgreSQL (one replica's upsert of its absolute values).
func BenchmarkSLOFlush1000(b *testing.B) {
	b.Run("bolt", func(b *testing.B) { benchSLOFlush(b, openBolt(b), 1000) })
	b.Run("postgres", func(b *testing.B) { benchSLOFlush(b, openPostgres(b), 1000) })
}

// BenchmarkSLOFlush10Postgres: a replica's flush of 10 SLOs' current hour
// to PostgreSQL, the common case.
func BenchmarkSLOFlush10Postgres(b *testing.B) { benchSLOFlush(b, openPostgres(b), 10) }

func benchSLOFlush(b *testing.B, db store.Engine, n int) {
	s := store.NewSLOCounts(db)
	hour := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	hcs := make([]slo.HourCounts, n)
	for i := range hcs {
		hcs[i] = slo.HourCounts{SLO: fmt.Sprintf("slo-%04d", i), Hour: hour}
		for m := range 60 {
			hcs[i].Good[m], hcs[i].Total[m] = 990, 1000
		}
	}
	ctx := context.Background()
	for b.Loop() {
		if err := s.SaveCounts(ctx, "local", hcs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSLOEdgeRead: reading one SLO's hour of minutes back (a window
// edge) from bbolt.
func BenchmarkSLOEdgeRead(b *testing.B) {
	db := openBolt(b)
	s := store.NewSLOCounts(db)
	hour := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	hc := slo.HourCounts{SLO: "orders", Hour: hour}
	for m := range 60 {
		hc.Good[m], hc.Total[m] = 990, 1000
	}
	ctx := context.Background()
	if err := s.SaveCounts(ctx, "local", []slo.HourCounts{hc}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := s.LoadCounts(ctx, "orders", hour, hour.Add(time.Hour), slo.Writers{}, func(slo.HourCounts) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
