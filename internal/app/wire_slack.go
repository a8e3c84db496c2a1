package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// wireSlack builds the Slack app when slack: is configured: its pager is
// added to the incident service (before anything is enqueued) and its
// handlers answer POST /slack/interactions, /slack/commands and
// /slack/events, where they check Slack's signature themselves. It must run after
// wireIncidents; silences reach alerting through a late-bound adapter, so
// it may run before wireAlerting.
//
// The app sits in a slot that a reload refills: a new slack: section
// (a rotated token or signing secret, another channel, new people) builds
// a new bot that takes over the running one's state (slack.Bot.TakeOver),
// and the handlers, the pager and the runner follow the slot, so the old
// secret is refused from the moment the reload answers. Without slack:
// the endpoints answer 404 and a reload may add it.
func (c *components) wireSlack(cfg *config.Config) config.Problems {
	slot := &slackSlot{changed: make(chan struct{}, 1)}
	c.slackSlot = slot
	c.runners = append(c.runners, runner{name: "slack", run: slot.run})
	c.mounts = append(c.mounts, func(r *web.Routes) {
		r.PublicHandler("POST", "/slack/interactions", slot.handler(func(b *slack.Bot) http.Handler { return b.Interactions() }))
		r.PublicHandler("POST", "/slack/commands", slot.handler(func(b *slack.Bot) http.Handler { return b.Commands() }))
		r.PublicHandler("POST", "/slack/events", slot.handler(func(b *slack.Bot) http.Handler { return b.Events() }))
	})
	if !cfg.Slack.Enabled() {
		c.onReload("slack", c.prepareSlack)
		return nil
	}
	if ps := cfg.Slack.Validate("slack"); len(ps) > 0 {
		return ps
	}
	if c.incidents == nil {
		return nil // the incidents section has problems of its own
	}
	bot, err := c.newSlackBot(cfg.Slack, c.incidents.People(), cfg.Server.ExternalURL, true)
	if err != nil {
		return config.Problems{{Path: "slack", Message: err.Error()}}
	}
	if err := c.incidents.AddPager(slot.pager()); err != nil {
		return config.Problems{{Path: "slack", Message: err.Error()}}
	}
	slot.set(bot)
	c.onReload("slack", c.prepareSlack)
	return nil
}

// newSlackBot builds a bot; register is false for a bot that will take
// over a running one's metrics.
func (c *components) newSlackBot(sc config.Slack, people *oncall.Directory, externalURL string, register bool) (*slack.Bot, error) {
	opts := slack.Options{
		Config:        sc,
		People:        people,
		Incidents:     c.incidents,
		Silences:      lateSilencer{c},
		Postmortems:   latePostmortems{c},
		ExternalURL:   externalURL,
		Logger:        c.deps.log,
		Now:           c.deps.now,
		Shared:        store.Shared(c.deps.engine),
		Audit:         c.audit,
		HandOffs:      c.incidents,
		HandOffClaims: store.NewHandOffClaims(c.deps.engine),
		Deliveries:    store.NewDeliveryClaims(c.deps.engine),
	}
	if register {
		opts.Registerer = c.deps.registry
	}
	return slack.New(opts)
}

// prepareSlack builds the bot of the reloaded slack: section (or none);
// the commit puts it in the slot, taking over the running bot's state.
func (c *components) prepareSlack(_ context.Context, p *reloadPlan) (func(), error) {
	slot := c.slackSlot
	if !p.next.Slack.Enabled() {
		return func() { slot.set(nil) }, nil
	}
	if ps := p.next.Slack.Validate("slack"); len(ps) > 0 {
		return nil, ps
	}
	oc, err := nextOnCall(p)
	if err != nil {
		return nil, err
	}
	bot, err := c.newSlackBot(p.next.Slack, oc.People, p.next.Server.ExternalURL, false)
	if err != nil {
		return nil, config.Problems{{Path: "slack", Message: err.Error()}}
	}
	return func() {
		if prev := slot.previous(); prev != nil {
			bot.TakeOver(prev)
		} else if err := bot.RegisterMetrics(c.deps.registry); err != nil {
			c.deps.log.Error("slack metrics not registered", "err", err)
		}
		slot.set(bot)
	}, nil
}

// slackSlot is the Slack app in force, or nil while slack: is not
// configured.
type slackSlot struct {
	cur atomic.Pointer[slack.Bot]
	// last is the latest bot built, kept while Slack is switched off so
	// that a bot built later takes over its metrics (registered once).
	mu      sync.Mutex
	last    *slack.Bot
	changed chan struct{}
}

func (s *slackSlot) set(b *slack.Bot) {
	s.mu.Lock()
	if b != nil {
		s.last = b
	}
	s.mu.Unlock()
	s.cur.Store(b)
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *slackSlot) previous() *slack.Bot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// handler serves with the bot in force; 404 without one.
func (s *slackSlot) handler(pick func(*slack.Bot) http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := s.cur.Load()
		if b == nil {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"Slack is not configured (slack.token and slack.signing_secret)"}` + "\n"))
			return
		}
		pick(b).ServeHTTP(w, r)
	})
}

// run runs the bot in force (it answers through response_url); when a
// reload replaces it, the new one's Run starts and the old one's stops.
func (s *slackSlot) run(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := s.runCurrent(ctx); err != nil {
			return err
		}
	}
	return nil
}

// runCurrent runs the bot in force (if any) until the slot changes or ctx
// ends.
func (s *slackSlot) runCurrent(ctx context.Context) error {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	if b := s.cur.Load(); b != nil {
		go func() { done <- b.Run(rctx) }()
	} else {
		go func() { <-rctx.Done(); done <- nil }()
	}
	select {
	case <-ctx.Done():
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	case <-s.changed:
	}
	stop()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
		return err
	}
	return nil
}

// pager is the incidents pager that delivers through the bot in force.
func (s *slackSlot) pager() incidents.Pager { return slotPager{s} }

type slotPager struct{ s *slackSlot }

// errSlackSwitching is returned while a reload switches Slack on.
var errSlackSwitching = errors.New("slack: the Slack app is being configured; retrying")

// Name implements incidents.Pager.
func (p slotPager) Name() string { return slack.PagerName }

// Deliver implements incidents.Pager.
func (p slotPager) Deliver(ctx context.Context, n incidents.Notification) error {
	b := p.s.cur.Load()
	if b == nil {
		return errSlackSwitching
	}
	return b.Deliver(ctx, n)
}

// Reconcile implements incidents.Reconciler.
func (p slotPager) Reconcile(ctx context.Context, n incidents.Notification) (bool, error) {
	b := p.s.cur.Load()
	if b == nil {
		return false, errSlackSwitching
	}
	return b.Reconcile(ctx, n)
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
