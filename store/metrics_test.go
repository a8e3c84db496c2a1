package store_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sentinel-oss/sentinel/store"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	b := openBolt(t, store.WithRegisterer(reg))
	putValue(t, b, "b", "k", "v")
	_ = getValue(t, b, "b", "k")

	n, err := testutil.GatherAndCount(reg, "sentinel_store_tx_duration_seconds")
	if err != nil || n != 2 {
		t.Fatalf("duration series = %d (%v), want view and update", n, err)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP sentinel_store_tx_failures_total Store transactions that failed in the engine itself (begin or commit, such as a full disk), by kind; errors returned by the caller's function are not counted.
# TYPE sentinel_store_tx_failures_total counter
sentinel_store_tx_failures_total{kind="batch"} 0
sentinel_store_tx_failures_total{kind="update"} 0
sentinel_store_tx_failures_total{kind="view"} 0
`), "sentinel_store_tx_failures_total"); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	size := -1.0
	for _, mf := range mfs {
		if mf.GetName() == "sentinel_store_size_bytes" {
			size = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if size <= 0 {
		t.Fatalf("sentinel_store_size_bytes = %v, want the data size", size)
	}

	// A second store on the same registry is a wiring mistake, reported.
	if _, err := store.OpenBolt(t.Context(), testConfig(t), nil, store.WithRegisterer(reg)); err == nil {
		t.Fatal("second registration succeeded")
	}
}
