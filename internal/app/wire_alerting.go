package app

import (
	"context"
	"log/slog"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/prom"
	"github.com/sentinel-oss/sentinel/runbooks"
	"github.com/sentinel-oss/sentinel/slo"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// wireAlerting loads the runbook catalogue, compiles the alert rules
// against the configured probes, SLOs and runbooks (so check config
// reports bad references with their positions), and builds the alerting
// service on the store. It consumes probe states and RUM outcomes, reads
// SLO states from the SLO engine, hands alert groups and announcements to
// the incident service, and, when alerting.alertmanager.url is set, pushes
// Sentinel's alerts to Alertmanager. It must run after wireSLO and
// wireIncidents.
func (c *components) wireAlerting(cfg *config.Config) config.Problems {
	log := c.deps.log.With("component", "alerting")
	catalogue, ps := runbooks.Load(runbooks.Options{Config: cfg.Runbooks, Logger: c.deps.log.With("component", "runbooks")})
	c.post.catalogue = catalogue // rendered and diagnosed by wirePostmortems
	probeNames := make([]string, 0, len(cfg.Probes))
	for _, p := range cfg.Probes {
		probeNames = append(probeNames, p.Name)
	}
	sloNames := make([]string, 0, len(cfg.SLOs))
	for _, s := range cfg.SLOs {
		sloNames = append(sloNames, s.Name)
	}
	rules, rps := alerting.Compile(cfg.Alerting, alerting.Refs{Probes: probeNames, SLOs: sloNames, Runbooks: catalogue, RunbooksDir: cfg.Runbooks.Dir})
	ps = append(ps, rps...)
	if len(ps) > 0 {
		return ps
	}
	opts := alerting.Options{
		Config:     cfg.Alerting,
		Rules:      rules,
		GroupBy:    cfg.Incidents.GroupBy,
		Store:      store.NewAlerting(c.deps.engine),
		Lock:       store.AlertingLock(c.deps.engine),
		Runbooks:   catalogue,
		Registerer: c.deps.registry,
		Logger:     log,
		Now:        c.deps.now,
		// Links in annotations (the failed probe run).
		ExternalURL: c.deps.externalURL,
	}
	if c.slo != nil {
		opts.SLOs = sloStates{c.slo}
	}
	if c.incidents != nil {
		opts.Sink, opts.Announcer = c.incidents, c.incidents
	} else {
		sink := logSink{log}
		opts.Sink, opts.Announcer = sink, sink
	}
	svc, err := alerting.New(opts)
	if err != nil {
		return config.Problems{{Path: "alerting", Message: err.Error()}}
	}
	c.alerting = svc
	c.states.add(svc)
	c.outcomes.add(svc)
	c.runners = append(c.runners, runner{name: "alerting", run: svc.Run}, runner{name: "runbooks", run: catalogue.Run})
	lim := web.AlertingLimits{WebhookMaxBytes: cfg.Alerting.Webhook.MaxBodyBytes, WebhookMaxAlerts: cfg.Alerting.Webhook.MaxAlerts}
	info := web.AlertmanagerAPIInfo{Version: c.deps.build.Version, Revision: c.deps.build.Commit, GoVersion: c.deps.build.GoVersion,
		Started: c.deps.started, Config: alertmanagerConfigSummary(cfg)}
	c.mounts = append(c.mounts, func(r *web.Routes) {
		web.MountAlerting(r, svc, lim)
		web.MountAlertmanagerAPI(r, svc, lim, info)
	})
	if cfg.Alerting.Alertmanager.URL != "" {
		pusher, err := prom.NewPusher(prom.PusherOptions{
			Config: cfg.Alerting.Alertmanager, Source: svc, ExternalURL: c.deps.externalURL,
			Registerer: c.deps.registry, Logger: c.deps.log.With("component", "alertmanager_push"), Now: c.deps.now,
		})
		if err != nil {
			return config.Problems{{Path: "alerting.alertmanager", Message: err.Error()}}
		}
		c.runners = append(c.runners, runner{name: "alertmanager_push", run: pusher.Run})
	}
	return nil
}

// alertmanagerConfigSummary is what GET /api/v2/status shows as
// Alertmanager's config: one receiver, Sentinel's grouping, and the
// inhibition rules and time intervals in Alertmanager's own syntax, so
// Grafana and amtool show how Sentinel routes. It holds no secrets.
func alertmanagerConfigSummary(cfg *config.Config) string {
	groupBy := cfg.Incidents.GroupBy
	if len(groupBy) == 0 {
		groupBy = []string{"service"}
	}
	doc := map[string]any{
		"route":     map[string]any{"receiver": web.AlertmanagerReceiver, "group_by": groupBy},
		"receivers": []map[string]string{{"name": web.AlertmanagerReceiver}},
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return ""
	}
	return string(b)
}

// sloStates adapts the SLO engine to the source alerting declares.
type sloStates struct{ e *slo.Engine }

// SLOStates returns the engine's latest evaluated states, each with the
// share of its budget the last hour spent, from the engine's own budget
// model (burn alerts say it in words).
func (s sloStates) SLOStates() []model.SLOState {
	states := s.e.States()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for i := range states {
		st := &states[i]
		if st.EvaluatedAt.IsZero() {
			continue
		}
		if c, err := s.e.Consumed(ctx, st.Name, st.EvaluatedAt.Add(-time.Hour), st.EvaluatedAt); err == nil {
			spent := c.BudgetConsumed
			st.SpentLastHour = &spent
		}
	}
	return states
}

// logSink logs alert groups and announcements when no incident service is
// wired (never in a full build; kept so alerting runs on its own).
type logSink struct{ log *slog.Logger }

// HandleAlertGroup logs the group.
func (l logSink) HandleAlertGroup(_ context.Context, g model.AlertGroup) error {
	l.log.Warn("alert group (no incident service)", "group_key", g.Key, "firing", g.Firing, "alerts", len(g.Alerts))
	return nil
}

// Announce logs the announcement.
func (l logSink) Announce(_ context.Context, a model.Announcement) error {
	l.log.Warn("announcement (no incident service)", "kind", a.Kind, "text", a.Text)
	return nil
}
