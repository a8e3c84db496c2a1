package app

import (
	"github.com/sentinel-oss/sentinel/audit"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// wireAudit builds the audit log on the store, prunes it hourly, serves
// it to admins and has the web server record every change made through
// the API and the dashboards (Slack records through the bot's options).
// It has no config section: retention is audit.Retention.
func (c *components) wireAudit(*config.Config) config.Problems {
	l := audit.New(store.NewAudit(c.deps.engine), c.deps.log, c.deps.now)
	c.audit = l
	c.runners = append(c.runners, runner{name: "audit", run: l.Run})
	c.mounts = append(c.mounts, func(r *web.Routes) { web.MountAudit(r, l) })
	return nil
}
