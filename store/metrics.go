package store

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the store's Prometheus series; a nil *metrics records
// nothing, so an engine opened without a registerer needs no checks.
type metrics struct {
	duration *prometheus.HistogramVec
	failures *prometheus.CounterVec
}

// newMetrics registers the store's series with reg; size reports the
// current size of the stored data in bytes.
func newMetrics(reg prometheus.Registerer, size func() float64) (*metrics, error) {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sentinel_store_tx_duration_seconds",
			Help:    "Time taken by store transactions, waiting for the writer included, by kind (view, update, batch).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_store_tx_failures_total",
			Help: "Store transactions that failed in the engine itself (begin or commit, such as a full disk), by kind; errors returned by the caller's function are not counted.",
		}, []string{"kind"}),
	}
	sizeGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sentinel_store_size_bytes",
		Help: "Size of the data in the store file.",
	}, size)
	collectors := []prometheus.Collector{m.duration, m.failures, sizeGauge}
	for i, c := range collectors {
		if err := reg.Register(c); err != nil {
			for _, done := range collectors[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("register store metrics: %w", err)
		}
	}
	for _, kind := range []string{"view", "update", "batch"} {
		m.failures.WithLabelValues(kind)
	}
	return m, nil
}

// observe records one transaction of the given kind that started at start.
func (m *metrics) observe(kind string, start time.Time, engineErr bool) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	if engineErr {
		m.failures.WithLabelValues(kind).Inc()
	}
}
