// Package incidentstest holds fakes shared by the tests of incidents, store
// and web: a settable clock, a recording pager, and a ready on-call config.
package incidentstest

import (
	"context"
	"sync"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

// Clock is a settable clock safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Pager records deliveries and can be told to fail or to claim that an
// in-flight delivery already went out.
type Pager struct {
	PagerName string

	mu        sync.Mutex
	got       []incidents.Notification
	fail      []error
	delivered map[string]bool
	// Reconciled counts Reconcile calls.
	Reconciled int
}

// NewPager returns a pager named name.
func NewPager(name string) *Pager { return &Pager{PagerName: name, delivered: map[string]bool{}} }

// Name implements incidents.Pager.
func (p *Pager) Name() string { return p.PagerName }

// FailNext makes the next len(errs) deliveries return these errors.
func (p *Pager) FailNext(errs ...error) {
	p.mu.Lock()
	p.fail = append(p.fail, errs...)
	p.mu.Unlock()
}

// Deliver records n unless a failure is queued.
func (p *Pager) Deliver(ctx context.Context, n incidents.Notification) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.fail) > 0 {
		err := p.fail[0]
		p.fail = p.fail[1:]
		return err
	}
	p.got = append(p.got, n)
	p.delivered[n.Key] = true
	return nil
}

// Reconcile reports whether n's key was delivered.
func (p *Pager) Reconcile(ctx context.Context, n incidents.Notification) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Reconciled++
	return p.delivered[n.Key], nil
}

// Got returns the deliveries so far.
func (p *Pager) Got() []incidents.Notification {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]incidents.Notification(nil), p.got...)
}

// Pages returns the recipients' names of every page, in order, as
// "name@step" strings, e.g. "alice@0".
func (p *Pager) Pages() []string {
	var out []string
	for _, n := range p.Got() {
		if n.Kind != incidents.KindPage {
			continue
		}
		who := n.Target.String()
		if len(n.Recipients) > 0 {
			who = n.Recipients[0].Name
		}
		out = append(out, who)
	}
	return out
}

// People are alice, bob and carol.
var People = []config.Person{
	{Name: "alice", Email: "alice@shop.example.com"},
	{Name: "bob", Email: "bob@shop.example.com"},
	{Name: "carol", Email: "carol@shop.example.com", SlackID: "U024BE7LH"},
}

// Oncall is the contract's example: a weekly Berlin rotation of alice and
// bob starting Monday 2026-03-23, and a policy paging the schedule, then
// carol after 15 minutes, repeated twice, 10 minutes apart.
func Oncall() config.Oncall {
	every, _ := model.ParseDuration("1w")
	return config.Oncall{
		Schedules: []config.Schedule{{Name: "primary", Timezone: "Europe/Berlin",
			Rotation: &config.Rotation{Every: every, Handoff: "Mon 09:00", Members: []string{"alice", "bob"}, Start: "2026-03-23"}}},
		EscalationPolicies: []config.EscalationPolicy{{Name: "default", Repeat: 2, RepeatAfter: model.Duration(10 * time.Minute),
			Steps: []config.EscalationStep{{Notify: config.Targets{"schedule:primary"}}, {Notify: config.Targets{"user:carol"}, After: model.Duration(15 * time.Minute)}}}},
	}
}

// MustOncall compiles Oncall with People.
func MustOncall() *oncall.Config {
	c, ps := oncall.Compile(People, Oncall())
	if len(ps) > 0 {
		panic(ps)
	}
	return c
}

// Group is a firing alert group for service with one alert.
func Group(service string, severity model.Severity, firing bool) model.AlertGroup {
	state := model.AlertFiring
	if !firing {
		state = model.AlertResolved
	}
	return model.AlertGroup{
		Key: "service=" + service, Labels: model.Labels{"service": service}, Source: "sentinel", Firing: firing,
		Alerts: []model.Alert{{Name: "CheckoutProbeFailing", Fingerprint: "fp-" + service, State: state, Severity: severity,
			Labels: model.Labels{"service": service, "alertname": "CheckoutProbeFailing"}, Annotations: model.Labels{"summary": service + " is down"},
			Runbook: "checkout-down", Source: "rule"}},
	}
}
