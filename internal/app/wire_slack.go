package app

import (
	"context"
	"fmt"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/web"
)

// wireSlack builds the Slack app when slack: is configured: its pager is
// added to the incident service (before anything is enqueued) and its
// handlers are mounted at POST /slack/interactions and POST
// /slack/commands, where they check Slack's signature themselves. It must
// run after wireIncidents; silences reach alerting through a late-bound
// adapter, so it may run before wireAlerting. Changes to slack: take
// effect at the next start.
func (c *components) wireSlack(cfg *config.Config) config.Problems {
	if !cfg.Slack.Enabled() {
		return nil
	}
	ps := cfg.Slack.Validate("slack")
	if len(ps) > 0 {
		return ps
	}
	if c.incidents == nil {
		return nil // the incidents section has problems of its own
	}
	bot, err := slack.New(slack.Options{
		Config:      cfg.Slack,
		People:      c.incidents.People(),
		Incidents:   c.incidents,
		Silences:    lateSilencer{c},
		Postmortems: latePostmortems{c},
		ExternalURL: c.deps.externalURL,
		Logger:      c.deps.log,
		Registerer:  c.deps.registry,
		Now:         c.deps.now,
	})
	if err != nil {
		return config.Problems{{Path: "slack", Message: err.Error()}}
	}
	if err := c.incidents.AddPager(bot); err != nil {
		return config.Problems{{Path: "slack", Message: err.Error()}}
	}
	c.slack = bot
	c.runners = append(c.runners, runner{name: "slack", run: bot.Run})
	c.mounts = append(c.mounts, func(r *web.Routes) {
		r.PublicHandler("POST", "/slack/interactions", bot.Interactions())
		r.PublicHandler("POST", "/slack/commands", bot.Commands())
	})
	return nil
}

// lateSilencer hands /sentinel silence to the alerting service, which is
// built after Slack.
type lateSilencer struct{ c *components }

// CreateSilence implements slack.Silencer.
func (l lateSilencer) CreateSilence(ctx context.Context, n alerting.NewSilence) (alerting.Silence, error) {
	if l.c.alerting == nil {
		return alerting.Silence{}, fmt.Errorf("alerting is not running")
	}
	return l.c.alerting.CreateSilence(ctx, n)
}
