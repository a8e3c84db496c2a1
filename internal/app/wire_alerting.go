package app

import (
	"context"
	"log/slog"
	"reflect"
	"sync/atomic"

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
	rules, rps := compileRules(cfg, catalogue)
	ps = append(ps, rps...)
	if len(ps) > 0 {
		return ps
	}
	st := store.NewAlerting(c.deps.engine)
	opts := alerting.Options{
		Config:     cfg.Alerting,
		Rules:      rules,
		GroupBy:    cfg.Incidents.GroupBy,
		Store:      st,
		Lock:       store.AlertingLock(c.deps.engine),
		RUMMinutes: st,
		Writer:     store.WriterID(c.deps.engine),
		Runbooks:   catalogue,
		SLONames:   sloNames(cfg),
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
	var summary atomic.Pointer[string] // follows reloads
	first := alertmanagerConfigSummary(cfg)
	summary.Store(&first)
	info := web.AlertmanagerAPIInfo{Version: c.deps.build.Version, Revision: c.deps.build.Commit, BuildDate: c.deps.build.BuildTime, GoVersion: c.deps.build.GoVersion,
		Started: c.deps.started, ConfigFunc: func() string { return *summary.Load() }}
	c.mounts = append(c.mounts, func(r *web.Routes) {
		web.MountAlerting(r, svc, lim)
		web.MountAlertmanagerAPI(r, svc, lim, info)
	})
	// The pusher runs without a URL too (pushing nothing), so a reload
	// can add, change or remove the Alertmanager it pushes to.
	pusher, err := prom.NewPusher(prom.PusherOptions{
		Config: cfg.Alerting.Alertmanager, Source: svc, ExternalURL: c.deps.externalURL,
		Registerer: c.deps.registry, Logger: c.deps.log.With("component", "alertmanager_push"), Now: c.deps.now,
	})
	if err != nil {
		return config.Problems{{Path: "alerting.alertmanager", Message: err.Error()}}
	}
	c.runners = append(c.runners, runner{name: "alertmanager_push", run: pusher.Run})

	c.onReload("runbooks", func(_ context.Context, p *reloadPlan) (func(), error) {
		next, err := nextCatalogue(p, c.deps.log)
		if err != nil {
			return nil, err
		}
		return func() { catalogue.Replace(next) }, nil
	})
	c.onReload("alerting", func(_ context.Context, p *reloadPlan) (func(), error) {
		next, err := nextCatalogue(p, c.deps.log)
		if err != nil {
			return nil, err
		}
		rules, ps := compileRules(p.next, next)
		if len(ps) > 0 {
			return nil, ps
		}
		push, err := pusher.Prepare(p.next.Alerting.Alertmanager, p.next.Server.ExternalURL)
		if err != nil {
			return nil, config.Problems{{Path: "alerting.alertmanager", Message: err.Error()}}
		}
		apply := svc.Prepare(alerting.Settings{Config: p.next.Alerting, Rules: rules, GroupBy: p.next.Incidents.GroupBy, SLONames: sloNames(p.next),
			ExternalURL: p.next.Server.ExternalURL})
		nextSummary := alertmanagerConfigSummary(p.next)
		return func() { apply(); push(); summary.Store(&nextSummary) }, nil
	})
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
	var inhibit []map[string]any
	for _, r := range cfg.Alerting.InhibitRules {
		m := map[string]any{}
		put(m, "source_matchers", r.SourceMatchers)
		put(m, "target_matchers", r.TargetMatchers)
		put(m, "equal", r.Equal)
		put(m, "source_match", r.SourceMatch)
		put(m, "source_match_re", r.SourceMatchRE)
		put(m, "target_match", r.TargetMatch)
		put(m, "target_match_re", r.TargetMatchRE)
		inhibit = append(inhibit, m)
	}
	if len(inhibit) > 0 {
		doc["inhibit_rules"] = inhibit
	}
	var intervals []map[string]any
	for _, ti := range cfg.Alerting.TimeIntervals {
		var spans []map[string]any
		for _, sp := range ti.TimeIntervals {
			m := map[string]any{}
			if len(sp.Times) > 0 {
				var times []map[string]string
				for _, tr := range sp.Times {
					times = append(times, map[string]string{"start_time": tr.StartTime, "end_time": tr.EndTime})
				}
				m["times"] = times
			}
			put(m, "weekdays", sp.Weekdays)
			put(m, "days_of_month", sp.DaysOfMonth)
			put(m, "months", sp.Months)
			put(m, "years", sp.Years)
			if sp.Location != "" {
				m["location"] = sp.Location
			}
			spans = append(spans, m)
		}
		intervals = append(intervals, map[string]any{"name": ti.Name, "time_intervals": spans})
	}
	if len(intervals) > 0 {
		doc["time_intervals"] = intervals
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return ""
	}
	return string(b)
}

// compileRules compiles the alert rules of cfg against its probes, SLOs
// and the runbook catalogue.
func compileRules(cfg *config.Config, catalogue *runbooks.Catalogue) ([]*alerting.Rule, config.Problems) {
	return alerting.Compile(cfg.Alerting, alerting.Refs{Probes: probeNames(cfg), SLOs: sloNames(cfg), Runbooks: catalogue, RunbooksDir: cfg.Runbooks.Dir})
}

// nextCatalogue is the runbook catalogue of the config being reloaded,
// read once per reload.
func nextCatalogue(p *reloadPlan, log *slog.Logger) (*runbooks.Catalogue, error) {
	return planPart(p, "runbooks", func() (*runbooks.Catalogue, error) {
		cat, ps := runbooks.Load(runbooks.Options{Config: p.next.Runbooks, Logger: log.With("component", "runbooks")})
		if len(ps) > 0 {
			return nil, ps
		}
		return cat, nil
	})
}

func probeNames(cfg *config.Config) []string {
	out := make([]string, 0, len(cfg.Probes))
	for _, p := range cfg.Probes {
		out = append(out, p.Name)
	}
	return out
}

func sloNames(cfg *config.Config) []string {
	out := make([]string, 0, len(cfg.SLOs))
	for _, s := range cfg.SLOs {
		out = append(out, s.Name)
	}
	return out
}

// put sets m[k] to a list or map that is not empty.
func put[T any](m map[string]any, k string, v T) {
	if reflect.ValueOf(v).Len() > 0 {
		m[k] = v
	}
}

// sloStates adapts the SLO engine to the source alerting declares.
type sloStates struct{ e *slo.Engine }

// SLOStates returns the engine's latest evaluated states, each with the
// share of its budget the last hour spent (SpentLastHour), from the
// engine's own budget model.
func (s sloStates) SLOStates() []model.SLOState { return s.e.States() }

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
