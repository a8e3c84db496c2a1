// Package probestest holds the conformance suite that every
// probes.ResultStore implementation (the in-memory one, the bbolt one)
// must pass, so a new backend can be checked against the same behaviour.
package probestest

import (
	"context"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/probes"
)

// ids are fixed run IDs that sort in time order.
var ids = []string{
	"01J0000000000000000000000A", "01J0000000000000000000000B", "01J0000000000000000000000C",
	"01J0000000000000000000000D", "01J0000000000000000000000E",
}

// ResultStore runs the suite against stores made by newStore (each call a
// fresh, empty store).
func ResultStore(t *testing.T, newStore func(t *testing.T) probes.ResultStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	run := func(probe string, i int, ok bool) probes.Result {
		return probes.Result{
			ID: ids[i], Probe: probe, At: t0.Add(time.Duration(i) * time.Hour), Success: ok,
			Duration: model.Duration(120 * time.Millisecond), Location: "local", Attempts: 1,
			Steps: []probes.StepResult{{Name: "home", Success: ok, Status: 200, Duration: model.Duration(100 * time.Millisecond),
				Phases: map[string]float64{"connect": 0.001}}},
		}
	}
	t.Run("newest first with cursor and limit", func(t *testing.T) {
		s := newStore(t)
		for i := range ids {
			if err := s.SaveRun(ctx, run("a", i, i%2 == 0)); err != nil {
				t.Fatal(err)
			}
		}
		_ = s.SaveRun(ctx, run("b", 0, true))
		got, err := s.Runs(ctx, "a", "", 2)
		if err != nil || len(got) != 2 || got[0].ID != ids[4] || got[1].ID != ids[3] {
			t.Fatalf("Runs = %+v, %v", got, err)
		}
		got, _ = s.Runs(ctx, "a", ids[3], 10)
		if len(got) != 3 || got[0].ID != ids[2] || got[2].ID != ids[0] {
			t.Fatalf("Runs before %s = %+v", ids[3], got)
		}
		if got[0].Steps[0].Name != "home" || got[0].Steps[0].Phases["connect"] != 0.001 || !got[0].At.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("run not kept whole: %+v", got[0])
		}
		none, err := s.Runs(ctx, "missing", "", 10)
		if err != nil || len(none) != 0 {
			t.Errorf("unknown probe: %v, %v", none, err)
		}
	})
	t.Run("same id replaces", func(t *testing.T) {
		s := newStore(t)
		_ = s.SaveRun(ctx, run("a", 0, true))
		_ = s.SaveRun(ctx, run("a", 0, false))
		got, _ := s.Runs(ctx, "a", "", 10)
		if len(got) != 1 || got[0].Success {
			t.Errorf("Runs = %+v", got)
		}
	})
	t.Run("prune", func(t *testing.T) {
		s := newStore(t)
		for i := range ids {
			_ = s.SaveRun(ctx, run("a", i, true))
			_ = s.SaveRun(ctx, run("b", i, true))
		}
		if err := s.Prune(ctx, t0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"a", "b"} {
			got, _ := s.Runs(ctx, p, "", 10)
			if len(got) != 2 || got[1].ID != ids[3] {
				t.Errorf("%s after prune = %d runs", p, len(got))
			}
		}
	})
}
