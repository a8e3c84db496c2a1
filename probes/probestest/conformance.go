// Package probestest holds the conformance suite that every
// probes.ResultStore implementation (the in-memory one, the bbolt one)
// must pass, so a new backend can be checked against the same behaviour.
package probestest

import (
	"bytes"
	"context"
	"errors"
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
	if _, ok := newStore(t).(probes.ScreenshotStore); ok {
		screenshots(t, func(t *testing.T) storeWithShots {
			return newStore(t).(storeWithShots)
		}, run)
	}
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

// storeWithShots is a ResultStore that keeps screenshots too.
type storeWithShots interface {
	probes.ResultStore
	probes.ScreenshotStore
}

// screenshots checks ScreenshotStore: per step, absent is ErrNoScreenshot
// (which the API answers with 404), and Prune deletes a run's screenshots
// with the run.
func screenshots(t *testing.T, newStore func(t *testing.T) storeWithShots, run func(string, int, bool) probes.Result) {
	ctx := context.Background()
	png := []byte("\x89PNG\r\n\x1a\nfake image bytes")
	t.Run("screenshots by run and step", func(t *testing.T) {
		s := newStore(t)
		_ = s.SaveRun(ctx, run("a", 0, false))
		if err := s.SaveScreenshot(ctx, "a", ids[0], "pay", png); err != nil {
			t.Fatal(err)
		}
		got, err := s.Screenshot(ctx, "a", ids[0], "pay")
		if err != nil || !bytes.Equal(got, png) {
			t.Fatalf("Screenshot = %q, %v", got, err)
		}
		for _, k := range [][3]string{{"a", ids[0], "home"}, {"a", ids[1], "pay"}, {"b", ids[0], "pay"}} {
			if _, err := s.Screenshot(ctx, k[0], k[1], k[2]); !errors.Is(err, probes.ErrNoScreenshot) {
				t.Errorf("Screenshot%v err = %v, want ErrNoScreenshot", k, err)
			}
		}
		other := []byte("\x89PNG second")
		_ = s.SaveScreenshot(ctx, "a", ids[0], "pay", other)
		if got, _ := s.Screenshot(ctx, "a", ids[0], "pay"); !bytes.Equal(got, other) {
			t.Errorf("replaced screenshot = %q", got)
		}
	})
	t.Run("prune deletes screenshots with their runs", func(t *testing.T) {
		s := newStore(t)
		t0 := run("a", 0, true).At
		for i := range ids {
			_ = s.SaveRun(ctx, run("a", i, false))
			_ = s.SaveScreenshot(ctx, "a", ids[i], "home", png)
			_ = s.SaveScreenshot(ctx, "a", ids[i], "pay", png)
		}
		if err := s.Prune(ctx, t0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		for i := range ids {
			_, err := s.Screenshot(ctx, "a", ids[i], "pay")
			_, err2 := s.Screenshot(ctx, "a", ids[i], "home")
			if kept := err == nil && err2 == nil; kept != (i >= 3) {
				t.Errorf("run %d: screenshots kept %v (errs %v, %v)", i, kept, err, err2)
			}
		}
	})
}
