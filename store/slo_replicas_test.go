package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/slo"
	"github.com/sentinel-oss/sentinel/store"
)

// replicaEngine builds an SLO engine for the events SLO "orders" counting
// as writer on e, and loads the stored counts.
func replicaEngine(t *testing.T, e store.Engine, writer string, clock func() time.Time) *slo.Engine {
	t.Helper()
	specs, ps := slo.Compile([]config.SLO{{Name: "orders", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}}}, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	en, err := slo.New(slo.Options{Specs: specs, Store: store.NewSLOCounts(e), Writer: writer, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := en.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return en
}

// consumed is what GET /api/v1/slos/orders?from=&to= answers with.
func consumed(t *testing.T, en *slo.Engine, from, to time.Time) slo.Consumption {
	t.Helper()
	en.Evaluate(t.Context()) // one evaluation cycle re-reads the other replicas' counts
	c, err := en.Consumed(t.Context(), "orders", from, to)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSLOCountsReplicas runs three engines (replicas) on one PostgreSQL
// database counting events concurrently: every replica's totals are the
// sum of all; a restarted replica and a retried flush do not double count;
// counts stored under the embedded store's writer "local" are still read.
func TestSLOCountsReplicas(t *testing.T) {
	db := openPostgres(t)
	ctx := t.Context()
	start := time.Now().UTC().Truncate(time.Hour).Add(-30 * time.Minute)
	var mu sync.Mutex
	now := start
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	// Counts migrated from a bbolt file (writer "local") come first.
	local := replicaEngine(t, db, "local", clock)
	if err := local.RecordEvents(ctx, "orders", 9, 10, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := local.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	writers := []string{"r1", "r2", "r3"}
	engines := make([]*slo.Engine, len(writers))
	for i, w := range writers {
		engines[i] = replicaEngine(t, db, w, clock)
	}
	// 40 minutes of concurrent traffic, crossing an hour boundary: each
	// replica takes its share and flushes every simulated 10 seconds.
	want := slo.Consumption{Good: 9, Total: 10}
	for minute := range 40 {
		var wg sync.WaitGroup
		for i, en := range engines {
			good, total := int64(100+i), int64(101+i+minute%3)
			want.Good += 6 * good
			want.Total += 6 * total
			wg.Go(func() {
				for range 6 {
					if err := en.RecordEvents(ctx, "orders", good, total, time.Time{}); err != nil {
						t.Error(err)
					}
					if err := en.Flush(ctx); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		advance(time.Minute)
	}
	from, to := start.Add(-time.Hour), clock().Add(time.Minute)
	for i, en := range engines {
		if c := consumed(t, en, from, to); c.Good != want.Good || c.Total != want.Total {
			t.Errorf("replica %s sees good %d total %d, want %d %d", writers[i], c.Good, c.Total, want.Good, want.Total)
		}
	}

	// A retried flush (the same absolute values written again) changes nothing.
	if err := engines[0].RecordEvents(ctx, "orders", 1, 2, time.Time{}); err != nil {
		t.Fatal(err)
	}
	want.Good, want.Total = want.Good+1, want.Total+2
	for range 3 {
		if err := engines[0].Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	hour := clock().Truncate(time.Hour)
	hc := slo.HourCounts{SLO: "orders", Hour: hour}
	if err := store.NewSLOCounts(db).LoadCounts(ctx, "orders", hour, hour.Add(time.Hour), slo.Writers{Only: "r1"}, func(got slo.HourCounts) error {
		hc = got
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := store.NewSLOCounts(db).SaveCounts(ctx, "r1", []slo.HourCounts{hc}); err != nil { // the retry of a flush whose answer was lost
		t.Fatal(err)
	}

	// A replica restarts (same writer) and another replaces a dead one
	// (new writer): neither double counts.
	engines[1] = replicaEngine(t, db, "r2", clock)
	engines = append(engines, replicaEngine(t, db, "r4", clock))
	if err := engines[1].RecordEvents(ctx, "orders", 5, 5, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := engines[3].RecordEvents(ctx, "orders", 0, 3, time.Time{}); err != nil {
		t.Fatal(err)
	}
	want.Good, want.Total = want.Good+5, want.Total+8
	for _, en := range engines {
		if err := en.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i, en := range append(engines, local) {
		if c := consumed(t, en, from, to); c.Good != want.Good || c.Total != want.Total {
			t.Errorf("after restarts, engine %d sees good %d total %d, want %d %d", i, c.Good, c.Total, want.Good, want.Total)
		}
	}
	// Status (the window) agrees with Consumed on a fresh engine.
	st, err := replicaEngine(t, db, "r5", clock).Status(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if st.Window.Total != want.Total || st.Window.Good != want.Good {
		t.Errorf("window of a new replica = %+v, want good %d total %d", st.Window, want.Good, want.Total)
	}
}
