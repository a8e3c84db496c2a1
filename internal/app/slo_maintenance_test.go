package app

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
)

// TestSLOBudgetLeavesMaintenanceOut counts the same events for two SLOs of
// the checkout service, one with exclude_maintenance, around a one-off
// maintenance window from 11:30 to 11:50: 10 bad of 100 at 11:40, inside
// it, and 1 bad of 100 at 11:55, after it. By hand: the SLO that leaves
// the window out counts 99 good of 100 (SLI 0.99, 1 event spent); the
// other 189 of 200 (SLI 0.945, 11 spent).
func TestSLOBudgetLeavesMaintenanceOut(t *testing.T) {
	clk := &movingClock{t: time.Date(2026, 3, 3, 11, 29, 0, 0, time.UTC)} // before the window
	const ingestTok = "slo-maint-ingest-token-0123456789"
	cfg, err := config.Parse("slo-maint.yaml", []byte(`server: {listen: 127.0.0.1:0}
storage: {path: `+t.TempDir()+`/s.db}
auth:
  tokens:
    - {name: admin, token: `+adminToken+`, role: admin}
    - {name: app, token: `+ingestTok+`, role: ingest}
slos:
  - {name: orders, service: checkout, objective: 99, window: 7d, exclude_maintenance: true, sli: {events: {}}}
  - {name: orders-all, service: checkout, objective: 99, window: 7d, sli: {events: {}}}
`), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), Options{Config: cfg, Stderr: io.Discard, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	started(t, a)

	code, body := do(t, http.MethodPost, a.URL()+"/api/v1/maintenance", adminToken, map[string]any{
		"matchers": []string{"service=checkout"}, "comment": "DB upgrade",
		"starts_at": "2026-03-03T11:30:00Z", "ends_at": "2026-03-03T11:50:00Z",
	})
	if code != http.StatusCreated {
		t.Fatalf("maintenance window: %d %s", code, body)
	}
	clk.set(time.Date(2026, 3, 3, 12, 0, 30, 0, time.UTC)) // the window has ended
	for _, name := range []string{"orders", "orders-all"} {
		for _, ev := range []map[string]any{
			{"good": 90, "total": 100, "time": "2026-03-03T11:40:00Z"},
			{"good": 99, "total": 100, "time": "2026-03-03T11:55:00Z"},
		} {
			if code, body := do(t, http.MethodPost, a.URL()+"/api/v1/slos/"+name+"/events", ingestTok, ev); code != http.StatusAccepted {
				t.Fatalf("events for %s: %d %s", name, code, body)
			}
		}
	}

	type status struct {
		SLI    float64 `json:"sli"`
		Good   int64   `json:"window_good"`
		Total  int64   `json:"window_total"`
		Budget struct {
			Spent float64 `json:"spent"`
		} `json:"error_budget"`
	}
	read := func(name string) status {
		code, body := do(t, http.MethodGet, a.URL()+"/api/v1/slos/"+name, adminToken, nil)
		var st status
		if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil {
			t.Fatalf("slo %s: %d %s", name, code, body)
		}
		return st
	}
	testutil.Eventually(t, 30*time.Second, "both SLOs evaluated with the events", func() bool {
		return read("orders-all").Total == 200 && read("orders").Total > 0
	})
	for name, want := range map[string]status{
		"orders":     {SLI: 0.99, Good: 99, Total: 100},
		"orders-all": {SLI: 0.945, Good: 189, Total: 200},
	} {
		got := read(name)
		wantSpent := float64(want.Total - want.Good)
		if got.Good != want.Good || got.Total != want.Total || math.Abs(got.SLI-want.SLI) > 1e-9 || got.Budget.Spent != wantSpent {
			t.Errorf("%s: good %d of %d, SLI %v, spent %v; want %d of %d, SLI %v, spent %v",
				name, got.Good, got.Total, got.SLI, got.Budget.Spent, want.Good, want.Total, want.SLI, wantSpent)
		}
	}
}
