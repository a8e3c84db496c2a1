package app

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// BuildInfo identifies the running binary.
type BuildInfo struct {
	Version   string
	Commit    string
	GoVersion string
	// BuildTime is the commit's time (vcs.time), when the build knows it.
	BuildTime string
	// Modified says the build had uncommitted changes (vcs.modified).
	Modified bool
}

// appMetrics are the process-level series the app owns.
type appMetrics struct {
	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge
	ready      prometheus.Gauge
	// restartRequired is 1 for each key a refused reload changed that
	// only a restart applies.
	restartRequired *prometheus.GaugeVec
}

// newRegistry builds the registry /metrics serves: ours, never the global
// default, with the Go and process collectors and sentinel_build_info.
func newRegistry(b BuildInfo) (*prometheus.Registry, *appMetrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "sentinel_build_info",
		Help:        "A metric with a constant 1 value labelled by Sentinel's version, commit and Go version.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "goversion": b.GoVersion},
	})
	info.Set(1)
	m := &appMetrics{
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sentinel_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful (1) or kept the old config (0).",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sentinel_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration load.",
		}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sentinel_ready",
			Help: "1 while Sentinel is ready to serve (store open and writable, config loaded).",
		}),
		restartRequired: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sentinel_config_restart_required",
			Help: "1 for each key (server.listen, storage.*) that the last reload found changed; such keys apply only at a restart, so that reload was refused.",
		}, []string{"key"}),
	}
	reg.MustRegister(info, m.reloadOK, m.reloadTime, m.ready, m.restartRequired)
	return reg, m
}
