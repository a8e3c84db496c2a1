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
	stepDur    *prometheus.GaugeVec // every kind's steps
	vital      *prometheus.GaugeVec // browser steps: lcp, inp, fcp, ttfb
	cls        *prometheus.GaugeVec // browser steps
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
		stepDur: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sentinel_probe_step_duration_seconds", Help: "Duration of each step of the probe's last run.",
		}, []string{"probe", "step", "location"}),
		vital: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sentinel_probe_vital_seconds", Help: "Web vitals (lcp, inp, fcp, ttfb) of the page each browser step of the last run ended on.",
		}, []string{"probe", "step", "location", "vital"}),
		cls: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sentinel_probe_cls", Help: "Cumulative layout shift of the page each browser step of the last run ended on.",
		}, []string{"probe", "step", "location"}),
	}
	m.all = []prometheus.Collector{m.success, m.duration, m.phase, m.status, m.certExpiry, m.runs, m.lateness, m.stepDur, m.vital, m.cls}
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
	m.observeSteps(j, r)
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
	m.stepDur.DeletePartialMatch(l)
	m.vital.DeletePartialMatch(l)
	m.cls.DeletePartialMatch(l)
}

// observeSteps sets the step durations of a run and, for browser steps,
// the vitals of their pages; steps that did not run keep no stale values.
func (m *metrics) observeSteps(j *Journey, r Result) {
	l := prometheus.Labels{"probe": j.Name}
	m.stepDur.DeletePartialMatch(l)
	m.vital.DeletePartialMatch(l)
	m.cls.DeletePartialMatch(l)
	for _, s := range r.Steps {
		m.stepDur.WithLabelValues(j.Name, s.Name, j.Location).Set(s.Duration.Seconds())
		v := s.Vitals
		if v == nil {
			continue
		}
		for _, x := range []struct {
			name string
			v    *float64
		}{{"lcp", v.LCP}, {"inp", v.INP}, {"fcp", v.FCP}, {"ttfb", v.TTFB}} {
			if x.v != nil {
				m.vital.WithLabelValues(j.Name, s.Name, j.Location, x.name).Set(*x.v)
			}
		}
		if v.CLS != nil {
			m.cls.WithLabelValues(j.Name, s.Name, j.Location).Set(*v.CLS)
		}
	}
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
