package app

import (
	"context"

	"github.com/sentinel-oss/sentinel/audit"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// wireAudit builds the audit log on the store, prunes it hourly past
// audit.retention, serves it to admins and has the web server record
// every change made through the API and the dashboards (Slack records
// through the bot's options). A reload changes the retention.
func (c *components) wireAudit(cfg *config.Config) config.Problems {
	l := audit.New(store.NewAudit(c.deps.engine), c.deps.log, c.deps.now)
	l.SetRetention(cfg.Audit.Retention.Std())
	c.audit = l
	c.runners = append(c.runners, runner{name: "audit", run: l.Run})
	c.mounts = append(c.mounts, func(r *web.Routes) { web.MountAudit(r, l) })
	c.onReload("audit", func(_ context.Context, p *reloadPlan) (func(), error) {
		d := p.next.Audit.Retention.Std() // validated with the config
		return func() { l.SetRetention(d) }, nil
	})
	return nil
}
