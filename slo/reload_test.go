package slo

import (
	"context"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
)

// TestPrepareKeepsCountsOfUnchangedSLOs reconfigures a running engine: an
// SLO whose objective changed keeps its counts (and takes the new
// objective), one whose threshold changed starts again, a dropped one is
// gone, a new one counts from then on, and nothing changes before commit.
func TestPrepareKeepsCountsOfUnchangedSLOs(t *testing.T) {
	now := time.Date(2024, 5, 17, 12, 0, 30, 0, time.UTC)
	compile := func(slos ...config.SLO) []*Spec {
		specs, ps := Compile(slos, nil)
		if len(ps) > 0 {
			t.Fatal(ps)
		}
		return specs
	}
	orders := config.SLO{Name: "orders", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}}
	lcp := config.SLO{Name: "lcp", Objective: 95, Window: "30d", SLI: config.SLI{RUM: &config.SLIRUM{Metric: "lcp", Threshold: "2500ms"}}}
	gone := config.SLO{Name: "gone", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}}
	e, err := New(Options{Specs: compile(orders, lcp, gone), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"orders", "gone"} {
		if err := e.RecordEvents(ctx, name, 90, 100, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.RecordEvents(ctx, "lcp", 1, 1, time.Time{}); err == nil {
		t.Fatal("lcp took events")
	}

	orders.Objective = 99.5
	lcp.SLI.RUM.Threshold = "4s"
	added := config.SLO{Name: "added", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}}
	commit, err := e.Prepare(ctx, compile(orders, lcp, added))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.Spec("added"); ok {
		t.Fatal("the new SLO is in force before commit")
	}
	commit()
	if err := e.RecordEvents(ctx, "added", 5, 5, time.Time{}); err != nil {
		t.Fatalf("new SLO after commit: %v", err)
	}
	if err := e.RecordEvents(ctx, "gone", 1, 1, time.Time{}); err == nil {
		t.Fatal("a dropped SLO still takes events")
	}
	got := map[string]Status{}
	for _, st := range e.Statuses(ctx) {
		got[st.Spec.Name] = st
	}
	if len(got) != 3 {
		t.Fatalf("statuses: %v", got)
	}
	if c := got["orders"].Window; c != (Counts{90, 100}) || got["orders"].Spec.Objective != 99.5 {
		t.Errorf("orders after reload: counts %+v objective %v, want 90/100 at 99.5", c, got["orders"].Spec.Objective)
	}
	if c := got["added"].Window; c != (Counts{5, 5}) {
		t.Errorf("added: %+v", c)
	}
}
