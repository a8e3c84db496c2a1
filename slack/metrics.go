package slack

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
)

// metrics are the Slack adapter's own series.
type metrics struct {
	calls        *prometheus.CounterVec
	paceWait     prometheus.Histogram
	requests     *prometheus.CounterVec
	reconcileRes *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_slack_api_calls_total",
			Help: "Slack Web API calls by method and result (ok, ratelimited, error).",
		}, []string{"method", "result"}),
		paceWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sentinel_slack_pace_wait_seconds",
			Help:    "Time a message waited for its channel's pace (about one message per second per channel).",
			Buckets: []float64{.1, .25, .5, 1, 2, 5, 10, 30},
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_slack_requests_total",
			Help: "Requests from Slack (interactions, commands) by endpoint and outcome.",
		}, []string{"endpoint", "outcome"}),
		reconcileRes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_slack_reconciliations_total",
			Help: "Deliveries found in flight after a restart, by whether Slack already had them.",
		}, []string{"found"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.calls, m.paceWait, m.requests, m.reconcileRes} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) call(method string, err error) {
	result := "ok"
	var rl *slack.RateLimitedError
	switch {
	case errors.As(err, &rl):
		result = "ratelimited"
	case err != nil:
		result = "error"
	}
	m.calls.WithLabelValues(method, result).Inc()
}

func (m *metrics) request(endpoint, outcome string) {
	m.requests.WithLabelValues(endpoint, outcome).Inc()
}

func (m *metrics) reconciled(found bool) {
	if found {
		m.reconcileRes.WithLabelValues("true").Inc()
	} else {
		m.reconcileRes.WithLabelValues("false").Inc()
	}
}
