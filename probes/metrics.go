package probes

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the blackbox_exporter-compatible probe series and Sentinel's
// own counters. Series of probes removed by a reload are deleted.
type metrics struct {
	success    *prometheus.GaugeVec
	duration   *prometheus.GaugeVec
	phase      *prometheus.GaugeVec
	status     *prometheus.GaugeVec
	certExpiry *prometheus.GaugeVec
	runs       *prometheus.CounterVec
	lateness   prometheus.Histogram
	all        []prometheus.Collector
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		success: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "probe_success", Help: "Whether the probe's last run succeeded (1) or failed (0).",
		}, []string{"probe", "location"}),
		duration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "probe_duration_seconds", Help: "How long the probe's last run took.",
		}, []string{"probe", "location"}),
		phase: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "probe_http_duration_seconds", Help: "Duration of each phase of each step of the last run.",
		}, []string{"probe", "step", "location", "phase"}),
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "probe_http_status_code", Help: "HTTP status code of each step of the last run (0 when no response).",
		}, []string{"probe", "step", "location"}),
		certExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "probe_ssl_earliest_cert_expiry", Help: "Earliest certificate expiry of the server's chain, in Unix seconds.",
		}, []string{"probe", "step", "location"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_probe_runs_total", Help: "Probe runs by result.",
		}, []string{"probe", "location", "result"}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sentinel_probe_start_lateness_seconds",
			Help:    "How late probe runs started after their scheduled time (waiting for a concurrency slot included).",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}),
	}
	m.all = []prometheus.Collector{m.success, m.duration, m.phase, m.status, m.certExpiry, m.runs, m.lateness}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range m.all {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		for _, c := range m.all {
			reg.Unregister(c)
		}
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// observe records one run.
func (m *metrics) observe(j *Journey, r Result) {
	success, result := 0.0, "failure"
	if r.Success {
		success, result = 1, "success"
	}
	m.success.WithLabelValues(j.Name, j.Location).Set(success)
	m.duration.WithLabelValues(j.Name, j.Location).Set(r.Duration.Seconds())
	m.runs.WithLabelValues(j.Name, j.Location, result).Inc()
	// Steps that did not run this time keep no stale values.
	m.phase.DeletePartialMatch(prometheus.Labels{"probe": j.Name})
	m.status.DeletePartialMatch(prometheus.Labels{"probe": j.Name})
	for _, s := range r.Steps {
		if j.Kind == "http" {
			for _, p := range phaseOrder {
				m.phase.WithLabelValues(j.Name, s.Name, j.Location, p).Set(s.Phases[p])
			}
			m.status.WithLabelValues(j.Name, s.Name, j.Location).Set(float64(s.Status))
		}
		if s.CertExpiry != nil {
			m.certExpiry.WithLabelValues(j.Name, s.Name, j.Location).Set(float64(s.CertExpiry.Unix()))
		}
	}
}

// forget deletes every series of a probe.
func (m *metrics) forget(name string) {
	l := prometheus.Labels{"probe": name}
	m.success.DeletePartialMatch(l)
	m.duration.DeletePartialMatch(l)
	m.phase.DeletePartialMatch(l)
	m.status.DeletePartialMatch(l)
	m.certExpiry.DeletePartialMatch(l)
	m.runs.DeletePartialMatch(l)
}

// unregister removes the collectors from reg.
func (m *metrics) unregister(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	for _, c := range m.all {
		reg.Unregister(c)
	}
}
