package app

import (
	"context"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slo"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// wireIncidents checks incidents:, people: and oncall: (every name a
// schedule, policy or override uses must resolve), builds the incident
// service on the store with the configured pagers (the console pager when
// none), and mounts its API. The service is kept on c.incidents so the
// alerting wiring can hand it alert groups and announcements, and the
// Slack wiring can add its pager (before Run).
// Affected SLOs and the budget they lost come from the SLO engine, built
// before this (see sloBudgets).
func (c *components) wireIncidents(cfg *config.Config) config.Problems {
	ps := cfg.Incidents.Validate("incidents")
	ps = append(ps, cfg.Dashboards.Validate("dashboards")...)
	oc, ops := oncall.Compile(cfg.People, cfg.Oncall)
	ps = append(ps, ops...)
	if len(ps) > 0 {
		return ps
	}
	pagers, fallback := incidents.BuildPagers(cfg.Incidents, nil)
	svc, err := incidents.New(incidents.Options{
		Config:      cfg.Incidents,
		OnCall:      oc,
		Store:       store.NewIncidents(c.deps.engine),
		Pagers:      pagers,
		Fallback:    fallback,
		ExternalURL: c.deps.externalURL,
		GrafanaURL:  cfg.Dashboards.GrafanaURL,
		Logger:      c.deps.log,
		Registerer:  c.deps.registry,
		Now:         c.deps.now,
	})
	if err != nil {
		return config.Problems{{Path: "incidents", Message: err.Error()}}
	}
	c.incidents = svc
	svc.SetCalendarStore(store.NewCalendars(c.deps.engine))
	if c.slo != nil {
		svc.SetBudgetSource(sloBudgets{engine: c.slo})
	}
	c.runners = append(c.runners, runner{name: "incidents", run: svc.Run})
	c.mounts = append(c.mounts, func(r *web.Routes) { web.MountIncidents(r, svc) })
	c.onReload("incidents", func(_ context.Context, p *reloadPlan) (func(), error) {
		ps := p.next.Incidents.Validate("incidents")
		ps = append(ps, p.next.Dashboards.Validate("dashboards")...)
		if len(ps) > 0 {
			return nil, ps
		}
		oc, err := nextOnCall(p)
		if err != nil {
			return nil, err
		}
		pagers, fallback := incidents.BuildPagers(p.next.Incidents, nil)
		if p.next.Slack.Enabled() && c.slackSlot != nil {
			pagers = append(pagers, c.slackSlot.pager())
		}
		return svc.Prepare(incidents.Settings{Config: p.next.Incidents, OnCall: oc, Pagers: pagers, Fallback: fallback,
			ExternalURL: p.next.Server.ExternalURL, GrafanaURL: p.next.Dashboards.GrafanaURL})
	})
	return nil
}

// nextOnCall is the compiled people: and oncall: sections of the config
// being reloaded, compiled once per reload.
func nextOnCall(p *reloadPlan) (*oncall.Config, error) {
	return planPart(p, "oncall", func() (*oncall.Config, error) {
		oc, ps := oncall.Compile(p.next.People, p.next.Oncall)
		if len(ps) > 0 {
			return nil, ps
		}
		return oc, nil
	})
}

// sloBudgets adapts the SLO engine to incidents.BudgetSource: an incident
// affects the SLOs of its service (or, for SLOs without a service, those
// whose labels it carries).
type sloBudgets struct{ engine *slo.Engine }

// SLOsForLabels names the SLOs whose service equals the incident's service
// label, or whose every label matches the incident's.
func (b sloBudgets) SLOsForLabels(labels model.Labels) []string {
	var out []string
	for _, s := range b.engine.Specs() {
		if !s.Counted() {
			continue // Prometheus counts these, not Sentinel
		}
		if s.Service != "" && labels["service"] == s.Service {
			out = append(out, s.Name)
			continue
		}
		if s.Service == "" && len(s.Labels) > 0 && containsLabels(labels, s.Labels) {
			out = append(out, s.Name)
		}
	}
	return out
}

// Consumed is the share of slo's budget spent in the whole minutes
// between from and to, and which minutes those are.
func (b sloBudgets) Consumed(ctx context.Context, name string, from, to time.Time) (incidents.Consumption, error) {
	c, err := b.engine.Consumed(ctx, name, from, to)
	if err != nil {
		return incidents.Consumption{}, err
	}
	return incidents.Consumption{Share: c.BudgetConsumed, CountedFrom: c.CountedFrom, CountedTo: c.CountedTo}, nil
}

// BudgetStatus is an SLO's budget now (left, and how long it lasts at
// the current rate), as GET /api/v1/slos/{name} reports it.
func (b sloBudgets) BudgetStatus(ctx context.Context, name string) (incidents.BudgetStatus, error) {
	st, err := b.engine.Status(ctx, name)
	if err != nil {
		return incidents.BudgetStatus{}, err
	}
	return incidents.BudgetStatus{Objective: st.Spec.Objective, Window: st.Period, Remaining: st.BudgetRemaining,
		Projected: st.Budget.Projected, TimeToExhaustion: st.TimeToExhaustion}, nil
}

func containsLabels(have, want model.Labels) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
