package alerting

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/model"
)

// metrics are the service's own series; registered on the injected registerer.
type metrics struct {
	reg           prometheus.Registerer
	alerts        *prometheus.GaugeVec
	silences      *prometheus.GaugeVec
	windows       *prometheus.GaugeVec
	webhookAlerts *prometheus.CounterVec
	postedAlerts  *prometheus.CounterVec
	handoffs      *prometheus.CounterVec
	announcements *prometheus.CounterVec
	heartbeat     *prometheus.GaugeVec
	evalDuration  prometheus.Histogram
	cycleSkips    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		reg: reg,
		alerts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sentinel_alerts",
			Help: "Alerts by state (pending, firing) and source (rule, slo, heartbeat, alertmanager).",
		}, []string{"state", "source"}),
		silences: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sentinel_silences",
			Help: "Silences kept, by status (pending, active, expired).",
		}, []string{"state"}),
		windows: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sentinel_maintenance_windows",
			Help: "Maintenance windows kept, by state (pending, active, ended).",
		}, []string{"state"}),
		webhookAlerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_alertmanager_webhook_alerts_total",
			Help: "Alerts received through the Alertmanager webhook, by what they did (new, resolved, unchanged, heartbeat).",
		}, []string{"result"}),
		postedAlerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_alertmanager_api_alerts_total",
			Help: "Alerts posted to the Alertmanager API v2 (POST /api/v2/alerts), by what they did (new, resolved, unchanged).",
		}, []string{"result"}),
		handoffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_alert_group_handoffs_total",
			Help: "Alert group changes handed to the incident engine, by result (ok, error).",
		}, []string{"result"}),
		announcements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_alerting_announcements_total",
			Help: "Announcements made (silence_expiring, silence_expired).",
		}, []string{"kind"}),
		heartbeat: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sentinel_heartbeat_last_seen_timestamp_seconds",
			Help: "Unix time of each heartbeat's last beat.",
		}, []string{"heartbeat"}),
		cycleSkips: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sentinel_alerting_cycle_skips_total",
			Help: "Evaluation cycles skipped because another replica sharing the store was evaluating.",
		}),
		evalDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sentinel_alert_evaluation_duration_seconds",
			Help:    "Time to evaluate every rule, heartbeat and silence once.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9),
		}),
	}
	if reg == nil {
		return m, nil
	}
	for i, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			for _, done := range m.collectors()[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("alerting: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.alerts, m.silences, m.windows, m.webhookAlerts, m.postedAlerts, m.handoffs, m.announcements, m.heartbeat, m.evalDuration, m.cycleSkips}
}

func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors() {
		m.reg.Unregister(c)
	}
}

// updateGaugesLocked recounts alerts and silences.
func (s *Service) updateGaugesLocked(now time.Time) {
	s.m.alerts.Reset()
	for _, src := range []string{SourceRule, SourceSLO, SourceHeartbeat, SourceAlertmanager, SourceAPI} {
		s.m.alerts.WithLabelValues(string(model.AlertPending), src).Set(0)
		s.m.alerts.WithLabelValues(string(model.AlertFiring), src).Set(0)
	}
	for _, r := range s.alerts {
		if r.Alert.State == model.AlertPending || r.Alert.State == model.AlertFiring {
			s.m.alerts.WithLabelValues(string(r.Alert.State), r.Alert.Source).Inc()
		}
	}
	counts := map[SilenceStatus]float64{SilencePending: 0, SilenceActive: 0, SilenceExpired: 0}
	windows := map[string]float64{"pending": 0, "active": 0, "ended": 0}
	for _, sl := range s.silences {
		if sl.Kind == KindMaintenance {
			windows[sl.WindowState(now)]++
		} else {
			counts[sl.Status(now)]++
		}
	}
	for st, n := range counts {
		s.m.silences.WithLabelValues(string(st)).Set(n)
	}
	for st, n := range windows {
		s.m.windows.WithLabelValues(st).Set(n)
	}
}
