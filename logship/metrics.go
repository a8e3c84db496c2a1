package logship

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics exposes log shipping on the Registerer given to New. Drops at our
// own buffer are counted here; pushes and drops inside loki-client-go are
// read at scrape time from the promtail_* counters it keeps in the global
// registry (filtered by our Loki host), so nothing global leaks into
// Sentinel's /metrics. Those library counters live for the whole process: a
// Logging rebuilt for the same host continues from its predecessor's counts,
// which keeps them monotonic.
type metrics struct {
	bufferDrops atomic.Uint64
	// current names the Loki host ("" when shipping is off) and the lines
	// in its buffer.
	current func() (host string, queued int)
	gather  prometheus.Gatherer

	dropped, sent, buffered *prometheus.Desc
}

func newMetrics() *metrics {
	return &metrics{
		gather: prometheus.DefaultGatherer,
		dropped: prometheus.NewDesc("sentinel_log_shipping_dropped_total",
			"Log lines not delivered to Loki: buffer_full when the shipping buffer was full (Loki slow or down), send_failed when a push failed after all retries.",
			[]string{"reason"}, nil),
		sent: prometheus.NewDesc("sentinel_log_shipping_sent_total",
			"Log lines Loki accepted.", nil, nil),
		buffered: prometheus.NewDesc("sentinel_log_shipping_buffered_lines",
			"Log lines waiting in the shipping buffer.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.dropped
	ch <- m.sent
	ch <- m.buffered
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	host, queued := m.current()
	sent, failed := m.clientCounts(host)
	ch <- prometheus.MustNewConstMetric(m.dropped, prometheus.CounterValue, float64(m.bufferDrops.Load()), "buffer_full")
	ch <- prometheus.MustNewConstMetric(m.dropped, prometheus.CounterValue, failed, "send_failed")
	ch <- prometheus.MustNewConstMetric(m.sent, prometheus.CounterValue, sent)
	ch <- prometheus.MustNewConstMetric(m.buffered, prometheus.GaugeValue, float64(queued))
}

// clientCounts reads loki-client-go's sent and dropped entry counters for
// our host.
func (m *metrics) clientCounts(host string) (sent, failed float64) {
	if host == "" {
		return 0, 0
	}
	mfs, err := m.gather.Gather()
	if err != nil && len(mfs) == 0 {
		return 0, 0
	}
	for _, mf := range mfs {
		var dst *float64
		switch mf.GetName() {
		case "promtail_sent_entries_total":
			dst = &sent
		case "promtail_dropped_entries_total":
			dst = &failed
		default:
			continue
		}
		for _, met := range mf.GetMetric() {
			for _, lp := range met.GetLabel() {
				if lp.GetName() == "host" && lp.GetValue() == host {
					*dst += met.GetCounter().GetValue()
				}
			}
		}
	}
	return sent, failed
}
