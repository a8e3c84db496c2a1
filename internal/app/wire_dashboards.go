package app

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/dashboards"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/runbooks"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// wireDashboards builds the web pages over the components built before it
// (each part that is missing shows as "not configured") and mounts them at
// / with the session sign-in. It must run last.
func (c *components) wireDashboards(cfg *config.Config) config.Problems {
	ps := cfg.UI.Validate("ui")
	if len(ps) > 0 {
		return ps
	}
	opts := dashboards.Options{Logger: c.deps.log.With("component", "dashboards"), Now: c.deps.now}
	if c.slo != nil {
		opts.SLOs = c.slo
	}
	if c.incidents != nil {
		opts.Incidents = c.incidents
		opts.OnCall = onCallSource{svc: c.incidents}
	}
	if c.changes != nil {
		opts.Changes = c.changes
	}
	if c.probes != nil {
		opts.Probes = c.probes
	}
	if c.rum != nil {
		opts.RUM = c.rum.Service()
	}
	if cfg.Runbooks.Dir != "" {
		if cat := c.post.catalogue; cat != nil {
			// The catalogue wireAlerting loaded (and keeps in step with
			// the directory): the pages list and render the same runbooks
			// the alerts link.
			opts.Runbooks = cat
		} else {
			cat, _ := runbooks.Load(runbooks.Options{Config: cfg.Runbooks, Logger: c.deps.log.With("component", "runbooks")})
			opts.Runbooks = cat
			c.runners = append(c.runners, runner{name: "dashboards_runbooks", run: cat.Run})
		}
	}
	if c.post.service != nil {
		opts.Postmortems = c.post.service
		opts.Reports = c.post.service
	}
	if c.alerting != nil {
		opts.Alerts = c.alerting
		opts.Maintenance = c.alerting
	}
	d, err := dashboards.New(opts)
	if err != nil {
		return config.Problems{{Path: "ui", Message: err.Error()}}
	}
	// Sessions live in the store: every replica sees them, a restart keeps
	// them.
	sessions := store.NewSessions(c.deps.engine)
	uiOpts := web.UIOptions{Sessions: sessionOptions(cfg)}
	uiOpts.Sessions.Store = sessions
	log := c.deps.log.With("component", "dashboards")
	c.runners = append(c.runners, runner{name: "ui_sessions", run: func(ctx context.Context) error {
		return pruneSessions(ctx, sessions, c.deps.now, log)
	}})
	uiOpts.OIDC = oidcOptions(cfg)
	uiOpts.Audit = c.audit
	if c.incidents != nil {
		uiOpts.Actions = c.incidents
		uiOpts.People = ssoPeople(c.incidents)
	}
	if c.probes != nil {
		uiOpts.Screenshots = c.probes
	}
	if c.post.service != nil {
		uiOpts.Postmortems = c.post.service
	}
	if c.alerting != nil {
		uiOpts.Silences = c.alerting
	}
	var mounted atomic.Pointer[web.Sessions]
	c.mounts = append(c.mounts, func(r *web.Routes) { mounted.Store(web.MountUI(r, d, uiOpts)) })
	c.onReload("ui", func(_ context.Context, p *reloadPlan) (func(), error) {
		if ps := p.next.UI.Validate("ui"); len(ps) > 0 {
			return nil, ps
		}
		opts, sso := sessionOptions(p.next), oidcOptions(p.next)
		return func() {
			if s := mounted.Load(); s != nil {
				s.Configure(opts)
				s.ConfigureSSO(sso, nil)
			}
		}, nil
	})
	return nil
}

// sessionOptions are the ui: section's session settings; an https
// external URL marks the cookie Secure.
func sessionOptions(cfg *config.Config) web.SessionOptions {
	return web.SessionOptions{
		TTL:         cfg.UI.SessionTTL.Std(),
		Secure:      cfg.UI.CookieSecure || strings.HasPrefix(cfg.Server.ExternalURL, "https://"),
		MaxPerOwner: cfg.UI.MaxSessionsPerOwner,
	}
}

// oidcOptions is the auth.oidc section with its redirect URL, on
// server.external_url.
func oidcOptions(cfg *config.Config) web.OIDCOptions {
	return web.OIDCOptions{
		Config:      cfg.Auth.OIDC,
		RedirectURL: strings.TrimSuffix(cfg.Server.ExternalURL, "/") + config.OIDCCallbackPath,
	}
}

// ssoPeople lists the people single sign-on may sign in, with the roles
// the incidents service gives them now (it follows reloads).
func ssoPeople(svc *incidents.Service) func() []web.Person {
	return func() []web.Person {
		dir := svc.People()
		if dir == nil {
			return nil
		}
		ps := dir.People()
		out := make([]web.Person, len(ps))
		for i, p := range ps {
			out[i] = web.Person{Name: p.Name, Email: p.Email, OIDCSubject: p.OIDCSubject, Role: p.Role}
		}
		return out
	}
}

// sessionPruneInterval is how often expired dashboard sessions are
// deleted from the store (reads ignore them already).
const sessionPruneInterval = 10 * time.Minute

// pruneSessions deletes expired sessions now and every interval until ctx
// ends, so that sessions nobody uses again do not pile up.
func pruneSessions(ctx context.Context, st *store.Sessions, now func() time.Time, log *slog.Logger) error {
	t := time.NewTicker(sessionPruneInterval)
	defer t.Stop()
	for {
		if n, err := st.PruneSessions(ctx, now()); err != nil && ctx.Err() == nil {
			log.Warn("prune expired dashboard sessions", "err", err)
		} else if n > 0 {
			log.Debug("pruned expired dashboard sessions", "sessions", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// onCallSource gives the on-call page the compiled schedules and every
// override in force or planned: those in the file and those stored through
// the API.
type onCallSource struct{ svc *incidents.Service }

// Schedules lists the compiled schedules.
func (o onCallSource) Schedules() []*oncall.Schedule { return o.svc.OnCallConfig().Schedules() }

// Policies lists the escalation policies.
func (o onCallSource) Policies() []*oncall.Policy { return o.svc.OnCallConfig().Policies() }

// Routes lists the routes to the policies.
func (o onCallSource) Routes() []oncall.Route { return o.svc.OnCallConfig().Routes() }

// Overrides returns the file's and the stored overrides that end after t.
func (o onCallSource) Overrides(ctx context.Context, after time.Time) ([]oncall.Override, error) {
	return o.svc.Overrides(ctx, after)
}
