package slo

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// benchCounts is the synthetic traffic of the benchmarks: about 1,000
// events a minute with a few bad ones, varying by SLO and minute.
func benchCounts(i int, m int64) Counts {
	total := 900 + (m+int64(i))%200
	bad := (m * int64(i+7)) % 5
	return Counts{Good: total - bad, Total: total}
}

// genStore serves stored hours from benchCounts, as a store full of 30
// days of minute counts would.
type genStore struct{ idx map[string]int }

func (g genStore) SaveCounts(context.Context, string, []HourCounts) error { return nil }
func (g genStore) DeleteBefore(context.Context, string, time.Time) error  { return nil }
func (g genStore) LoadCounts(_ context.Context, name string, from, to time.Time, w Writers, fn func(HourCounts) error) error {
	if !w.Includes("generated") {
		return nil
	}
	i := g.idx[name]
	for h := from.Truncate(time.Hour); h.Before(to); h = h.Add(time.Hour) {
		hc := HourCounts{SLO: name, Hour: h}
		for k := range int64(60) {
			c := benchCounts(i, h.Unix()/60+k)
			hc.Good[k], hc.Total[k] = c.Good, c.Total
		}
		if err := fn(hc); err != nil {
			return err
		}
	}
	return nil
}

// benchEngine builds n SLOs (30-day windows, one 28d and one calendar
// month in every ten) holding 30 days of minute counts each.
func benchEngine(b *testing.B, n int, now *time.Time) *Engine {
	b.Helper()
	cfgs := make([]config.SLO, n)
	idx := map[string]int{}
	for i := range cfgs {
		w := "30d"
		switch i % 10 {
		case 1:
			w = "28d"
		case 2:
			w = "month"
		}
		cfgs[i] = config.SLO{Name: fmt.Sprintf("slo-%04d", i), Objective: 99.9, Window: w, SLI: config.SLI{Events: &config.SLIEvents{}}}
		idx[cfgs[i].Name] = i
	}
	specs, ps := Compile(cfgs, nil)
	if len(ps) > 0 {
		b.Fatal(ps)
	}
	e, err := New(Options{Specs: specs, Store: genStore{idx}, Now: func() time.Time { return *now }})
	if err != nil {
		b.Fatal(err)
	}
	// Load reads 30 days + 7 days of history for every SLO: what a restart does.
	if err := e.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	return e
}

func heapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// BenchmarkEvaluate1000: one evaluation cycle of 1,000 SLOs over 30 days
// of minute counts, every burn window, the budget and the tiers.
func BenchmarkEvaluate1000(b *testing.B) {
	now := time.Date(2024, 5, 17, 12, 34, 56, 0, time.UTC)
	before := heapMB()
	e := benchEngine(b, 1000, &now)
	heap := heapMB() - before
	ctx := context.Background()
	e.Evaluate(ctx) // loads the window-edge hours once, as the first cycle of the hour does
	b.ResetTimer()
	for b.Loop() {
		now = now.Add(10 * time.Second)
		if now.Minute() == 0 && now.Second() < 10 {
			now = now.Add(-time.Hour + 10*time.Second) // stay inside the hour: steady-state cycles
		}
		e.Evaluate(ctx)
	}
	b.ReportMetric(heap, "heap_MB")
}

// BenchmarkEvaluate1000NewHour: the cycle after an hour boundary, which
// reads three edge hours per SLO from the store (here a generator).
func BenchmarkEvaluate1000NewHour(b *testing.B) {
	now := time.Date(2024, 5, 17, 12, 34, 56, 0, time.UTC)
	e := benchEngine(b, 1000, &now)
	ctx := context.Background()
	e.Evaluate(ctx)
	b.ResetTimer()
	for b.Loop() {
		now = now.Add(time.Hour)
		e.Evaluate(ctx)
	}
}

// BenchmarkRecordOutcome: counting probe outcomes for one SLO from all
// cores at once (the RUM request path).
func BenchmarkRecordOutcome(b *testing.B) {
	now := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	specs, _ := Compile([]config.SLO{{Name: "a", Objective: 99, Window: "30d", SLI: config.SLI{Probe: "p"}}}, []ProbeRef{{Name: "p"}})
	e, _ := New(Options{Specs: specs, Now: func() time.Time { return now }})
	o := model.Outcome{Source: model.SourceProbe, Name: "p", Good: 1, Total: 1, Time: now}
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.RecordOutcome(ctx, o)
		}
	})
}

// BenchmarkRecordEvents: the events API's engine call, validation included.
func BenchmarkRecordEvents(b *testing.B) {
	now := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	specs, _ := Compile([]config.SLO{{Name: "a", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}}}, nil)
	e, _ := New(Options{Specs: specs, Now: func() time.Time { return now }})
	ctx := context.Background()
	for b.Loop() {
		if err := e.RecordEvents(ctx, "a", 9, 10, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}
