package store_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/slo"
	"github.com/sentinel-oss/sentinel/store"
)

// Monthly summaries outlive the counts: an engine writes them, the counts
// are pruned, and a later engine still reports the month.
func TestSLOMonthsOutliveCounts(t *testing.T) {
	ctx := context.Background()
	db, err := store.OpenBolt(ctx, testConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	specs, ps := slo.Compile([]config.SLO{{Name: "orders", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}}}, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	// All of March: 10 events a minute, 1 bad in every 100th minute.
	now := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var hours []slo.HourCounts
	for h := now; h.Before(time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)); h = h.Add(time.Hour) {
		hc := slo.HourCounts{SLO: "orders", Hour: h}
		for m := range 60 {
			hc.Good[m], hc.Total[m] = 10, 10
			if (h.Unix()/60+int64(m))%100 == 0 {
				hc.Good[m] = 9
			}
		}
		hours = append(hours, hc)
	}
	if err := store.NewSLOCounts(db).SaveCounts(ctx, "local", hours); err != nil {
		t.Fatal(err)
	}
	now = time.Date(2024, 4, 2, 0, 0, 0, 0, time.UTC)
	months := store.NewSLOMonths(db)
	e1, err := slo.New(slo.Options{Specs: specs, Store: store.NewSLOCounts(db), Months: months, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := e1.Load(ctx); err != nil {
		t.Fatal(err)
	}
	march, err := e1.Month(ctx, "orders", 2024, time.March)
	if err != nil {
		t.Fatal(err)
	}
	// 31 days of 14,400 events: 446,400, of which 4,464 may be bad; one
	// minute in a hundred had a bad event: 446.4 minutes, so 446 or 447.
	if !march.Final || !march.FromCounts || march.Total != 446_400 || math.Abs(march.Allowed-4464) > 1e-6 || march.Spent < 446 || march.Spent > 447 || march.Outcome() != "met" {
		t.Fatalf("march = %+v", march)
	}
	// What an hourly cycle saves, then the counts are pruned (the
	// engine's retention is long past).
	if err := months.SaveMonths(ctx, []slo.MonthSummary{march}); err != nil {
		t.Fatal(err)
	}
	if err := store.NewSLOCounts(db).DeleteBefore(ctx, "orders", time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	now = time.Date(2024, 7, 15, 0, 0, 0, 0, time.UTC)
	e2, err := slo.New(slo.Options{Specs: specs, Store: store.NewSLOCounts(db), Months: months, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := e2.Load(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := e2.Month(ctx, "orders", 2024, time.March)
	if err != nil {
		t.Fatal(err)
	}
	if got.FromCounts || got.Total != march.Total || got.Spent != march.Spent || got.SLI != march.SLI || got.Outcome() != "met" {
		t.Errorf("stored march = %+v, want %+v", got, march)
	}
	feb, err := e2.Month(ctx, "orders", 2024, time.February)
	if err != nil || !feb.NoData || feb.Outcome() != "no data" {
		t.Errorf("february = %+v %v", feb, err)
	}
	if _, err := e2.Month(ctx, "orders", 2024, time.August); err == nil {
		t.Error("a month not begun has a summary")
	}
}
