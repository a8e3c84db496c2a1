package incidents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

// BudgetSource tells which SLOs an incident burns and how much of their
// error budget was consumed in a time range; the slo package provides it
// through internal/app.
type BudgetSource interface {
	// SLOsForLabels names the SLOs whose service or labels match.
	SLOsForLabels(labels model.Labels) []string
	// Consumed is the fraction of slo's whole error budget consumed
	// between from and to, and the whole minutes it counted.
	Consumed(ctx context.Context, slo string, from, to time.Time) (Consumption, error)
}

// Consumption is the share of an SLO's whole error budget a span spent.
// SLO counts are kept per minute, so it counts every minute the span
// touches: [CountedFrom, CountedTo), the end cut at now.
type Consumption struct {
	Share       float64
	CountedFrom time.Time
	CountedTo   time.Time
}

// BudgetStatus is an SLO's error budget now, as the SLO engine reports it.
type BudgetStatus struct {
	// Objective is the SLO's objective in percent; Window its length.
	Objective float64
	Window    time.Duration
	// Remaining is the fraction of the window's budget left (negative
	// when overspent).
	Remaining float64
	// Projected is true when the window's allowance is projected from the
	// traffic seen so far, so Remaining moves as traffic comes in.
	Projected bool
	// TimeToExhaustion is how long the rest lasts at the current rate;
	// nil when not burning.
	TimeToExhaustion *time.Duration
}

// BudgetStatusSource is implemented by budget sources that also tell an
// SLO's budget now, for the error-budget block of pages (how much is left,
// how long it lasts).
type BudgetStatusSource interface {
	BudgetStatus(ctx context.Context, slo string) (BudgetStatus, error)
}

// Options are what New needs.
type Options struct {
	// Config is the incidents: section.
	Config config.Incidents
	// OnCall is the compiled people: and oncall: sections.
	OnCall *oncall.Config
	// Store keeps incidents and the outbox.
	Store Store
	// Pagers receive every notification; more can be added with AddPager
	// before anything is enqueued. Without any, the console pager is used.
	Pagers []Pager
	// Fallback receives deliveries whose retries are spent; nil means a
	// console pager writing to Console.
	Fallback Pager
	// Budgets computes SLO impact; nil leaves slos empty.
	Budgets BudgetSource
	// Console is where the default console pager writes; nil is stderr.
	Console io.Writer
	// ExternalURL is the base of incident links in notifications.
	ExternalURL string
	// GrafanaURL is dashboards.grafana_url: notifications link to the
	// exported dashboards there when set.
	GrafanaURL string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service owns incidents: alert groups and people's actions come in, pages
// and updates go out through the outbox. It is safe for concurrent use.
type Service struct {
	set     atomic.Pointer[settings] // what a reload changes (Prepare)
	store   Store
	log     *slog.Logger
	now     func() time.Time
	console io.Writer
	metrics *metrics

	mu      sync.RWMutex
	pagers  []Pager
	budgets BudgetSource
	changes ChangeSource
	// calendars keeps on-call calendar feeds (SetCalendarStore).
	calendars CalendarStore
	sealed    bool

	outboxKick chan struct{}
	timerKick  chan struct{}

	hooks hookSet
}

// New builds the service; it starts nothing (see Run).
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("incidents: no store")
	}
	if opts.OnCall == nil {
		oc, ps := oncall.Compile(nil, config.Oncall{})
		if len(ps) > 0 {
			return nil, ps
		}
		opts.OnCall = oc
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Console == nil {
		opts.Console = os.Stderr
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Service{
		store: opts.Store, log: opts.Logger.With("component", "incidents"),
		now: opts.Now, console: opts.Console, metrics: m,
		budgets:    opts.Budgets,
		outboxKick: make(chan struct{}, 1), timerKick: make(chan struct{}, 1),
	}
	s.set.Store(s.newSettings(Settings{Config: opts.Config, OnCall: opts.OnCall, Fallback: opts.Fallback, ExternalURL: opts.ExternalURL, GrafanaURL: opts.GrafanaURL}))
	for _, p := range opts.Pagers {
		if err := s.AddPager(p); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// AddPager adds a pager that receives every notification (the slack
// package adds its own through internal/app). It must be called before
// the first incident is handled.
func (s *Service) AddPager(p Pager) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sealed {
		return fmt.Errorf("incidents: pager %q added after notifications started", p.Name())
	}
	for _, q := range s.pagers {
		if q.Name() == p.Name() {
			return fmt.Errorf("incidents: two pagers named %q", p.Name())
		}
	}
	s.pagers = append(s.pagers, p)
	return nil
}

// SetBudgetSource sets where SLO impact comes from (internal/app wires the
// slo package in once it is built).
func (s *Service) SetBudgetSource(b BudgetSource) {
	s.mu.Lock()
	s.budgets = b
	s.mu.Unlock()
}

// activePagers returns the pagers notifications fan out to, sealing the
// set: the console pager when none was added.
func (s *Service) activePagers() []Pager {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.sealed {
		s.sealed = true
		if len(s.pagers) == 0 {
			s.pagers = []Pager{NewConsolePager("console", s.console)}
		}
	}
	return s.pagers
}

// pager finds a pager (or the fallback) by name.
func (s *Service) pager(name string) Pager {
	for _, p := range s.activePagers() {
		if p.Name() == name {
			return p
		}
	}
	if fb := s.fallbackPager(); fb.Name() == name {
		return fb
	}
	return nil
}

// People is the directory of people, for callers mapping Slack users.
func (s *Service) People() *oncall.Directory { return s.onCall().People }

// OnCallConfig is the compiled on-call configuration.
func (s *Service) OnCallConfig() *oncall.Config { return s.onCall() }

func (s *Service) kick(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// errNoChange aborts an Update that has nothing to write.
var errNoChange = errors.New("no change")

// update runs fn in a store transaction and wakes the loops; errNoChange
// from fn is not an error. A networked store may run fn more than once
// (after a serialization conflict), so fn must keep no state from an
// earlier attempt; effects such as metrics are recorded on the effectTx
// and applied once, after the commit.
func (s *Service) update(ctx context.Context, fn func(Tx) error) error {
	var last *effectTx
	err := s.store.Update(ctx, func(tx Tx) error {
		last = &effectTx{Tx: tx}
		return fn(last)
	})
	if errors.Is(err, errNoChange) {
		return nil
	}
	if err == nil {
		if last != nil && last.steps > 0 {
			s.metrics.steps.Add(float64(last.steps))
		}
		s.kick(s.outboxKick)
		s.kick(s.timerKick)
	}
	return err
}

// effectTx carries the side effects of one transaction attempt, applied
// only when it commits.
type effectTx struct {
	Tx
	steps int
}

// countStep records an escalation step fired in tx, counted once the
// transaction commits.
func countStep(tx Tx) {
	if et, ok := tx.(*effectTx); ok {
		et.steps++
	}
}

// overrides are the config and stored overrides in force after t.
func (s *Service) overrides(tx ReadTx, t time.Time) ([]oncall.Override, error) {
	stored, err := tx.Overrides(t)
	if err != nil {
		return nil, err
	}
	return append(s.onCall().ConfigOverrides(), stored...), nil
}

// HandleAlertGroup opens, updates, reopens or resolves the incident whose
// dedup key is g.Key. Alerting calls it at every change of a group; a
// call that changes nothing writes nothing.
//
// A resolved incident goes back to triggered only when an alert of its
// group newly fires within incidents.reopen_window: an alert it did not
// have, or one that had cleared and fires again. Alerts that were still
// firing when a person resolved it page no one: their clearing is noted
// (and told in Slack's thread), nothing more. After the window, a new
// firing opens a new incident.
func (s *Service) HandleAlertGroup(ctx context.Context, g model.AlertGroup) error {
	if g.Key == "" {
		return errorf(ErrInvalid, "alert group without a key")
	}
	now := s.now()
	slos := s.sloNames(g)
	var opened, resolved *Incident
	err := s.update(ctx, func(tx Tx) error {
		opened, resolved = nil, nil
		inc, err := tx.ByDedupKey(g.Key)
		if err != nil {
			return err
		}
		switch {
		case inc != nil && inc.Status.Open():
			seen, before, sev := len(inc.Timeline), viewKey(inc), inc.Severity
			if !s.mergeAlerts(inc, g, now) {
				return errNoChange
			}
			if inc.Severity != sev {
				if err := s.followSeverity(tx, inc, seen, now); err != nil {
					return err
				}
			}
			if len(firingAlerts(inc)) == 0 {
				if s.conf().AutoResolve {
					s.resolve(inc, now, ActorSentinel, "every alert cleared")
					resolved = inc
				} else if last := inc.Timeline[len(inc.Timeline)-1]; last.Kind != KindAlertResolved || !strings.HasPrefix(last.Text, "every alert") {
					inc.note(now, KindAlertResolved, ActorSentinel, "every alert cleared; the incident stays open until someone resolves it")
				}
			}
			return s.commit(tx, inc, seen, before, now)
		case inc != nil:
			fresh := newFirings(inc, g)
			if len(fresh) == 0 {
				// Alerts that were firing when the incident was resolved,
				// clearing (or still firing): noted, never paged.
				seen, before := len(inc.Timeline), viewKey(inc)
				if !s.mergeAlerts(inc, g, now) {
					return errNoChange
				}
				return s.commit(tx, inc, seen, before, now)
			}
			if rw := s.conf().ReopenWindow; rw > 0 && inc.ResolvedAt != nil && now.Sub(*inc.ResolvedAt) <= rw.Std() {
				s.reopen(inc, g, fresh, now)
				return s.reopened(tx, inc, now)
			}
			return s.open(tx, g, slos, now, &opened)
		case groupFiring(g):
			return s.open(tx, g, slos, now, &opened)
		}
		return errNoChange
	})
	if err != nil {
		return fmt.Errorf("handle alert group %s: %w", g.Key, err)
	}
	if opened != nil {
		s.metrics.opened.WithLabelValues(string(opened.Severity)).Inc()
		s.log.Info("incident opened", "incident", opened.ID, "dedup_key", opened.DedupKey, "severity", string(opened.Severity))
	}
	s.fireOpened(ctx, opened)
	s.fireResolved(ctx, resolved)
	return nil
}

// open creates a new incident from g and starts its escalation.
func (s *Service) open(tx Tx, g model.AlertGroup, slos []string, now time.Time, opened **Incident) error {
	return s.openFor(tx, g, slos, now, opened, "")
}

// openFor is open with what started it, when that is not "… fired".
func (s *Service) openFor(tx Tx, g model.AlertGroup, slos []string, now time.Time, opened **Incident, what string) error {
	id, err := tx.NextID()
	if err != nil {
		return err
	}
	inc := s.newFromGroup(id, g, slos, now, what)
	if err := s.startEscalation(tx, inc, now); err != nil {
		return err
	}
	*opened = inc
	return s.commit(tx, inc, len(inc.Timeline), "", now)
}

// reopen brings a resolved incident back to triggered because the alerts
// in fresh newly fired, and says so.
func (s *Service) reopen(inc *Incident, g model.AlertGroup, fresh []model.Alert, now time.Time) {
	since := model.Elapsed(now.Sub(*inc.ResolvedAt))
	again := map[string]bool{}
	for _, a := range inc.Alerts {
		again[a.Fingerprint] = true
	}
	seen := len(inc.Timeline)
	s.mergeAlerts(inc, g, now)
	// The reopened entry names what fired; merge's own entries for those
	// alerts would say it twice.
	kept := inc.Timeline[:seen]
	for _, e := range inc.Timeline[seen:] {
		if e.Kind != KindAlertFiring {
			kept = append(kept, e)
		}
	}
	inc.Timeline = kept
	inc.Status, inc.ResolvedAt = StatusTriggered, nil
	retitle(inc) // open again: the title follows the alerts again
	var what []string
	for _, a := range fresh {
		w := alertRef(a.Name, a.Labels)
		if again[alertID(a)] {
			w += " fired again"
		} else {
			w += " fired"
		}
		what = append(what, w)
	}
	inc.note(now, KindReopened, ActorSentinel, "reopened: %s %s after the incident was resolved", strings.Join(what, ", "), since)
}

// reopened announces a reopen to the pagers, then pages from the top of
// the policy, and stores the incident.
func (s *Service) reopened(tx Tx, inc *Incident, now time.Time) error {
	inc.Revision++
	if err := s.publish(tx, inc, 0, false, now); err != nil {
		return err
	}
	if err := s.startEscalation(tx, inc, now); err != nil {
		return err
	}
	return tx.Put(inc)
}

// newFirings are the alerts of g that fire (unsilenced) and that inc, a
// resolved incident, did not know firing: new alerts, alerts that had
// cleared, and alerts that cleared and fired again since it was resolved
// (a later firing time than the one it recorded).
func newFirings(inc *Incident, g model.AlertGroup) []model.Alert {
	known := map[string]*Alert{}
	for i := range inc.Alerts {
		known[inc.Alerts[i].Fingerprint] = &inc.Alerts[i]
	}
	var out []model.Alert
	for _, a := range g.Alerts {
		if a.State != model.AlertFiring || a.Silenced {
			continue
		}
		cur, ok := known[alertID(a)]
		switch {
		case !ok, cur.State != model.AlertFiring:
			out = append(out, a)
		case inc.ResolvedAt != nil && firedAt(a).After(*inc.ResolvedAt) && firedAt(a).After(cur.StartsAt):
			out = append(out, a)
		}
	}
	return out
}

// firedAt is when an alert last started firing.
func firedAt(a model.Alert) time.Time {
	if !a.FiredAt.IsZero() {
		return a.FiredAt
	}
	return a.StartsAt
}

func (s *Service) sloNames(g model.AlertGroup) []string {
	s.mu.RLock()
	b := s.budgets
	s.mu.RUnlock()
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, a := range g.Alerts {
		add(a.Labels["slo"])
	}
	if b != nil {
		for _, n := range b.SLOsForLabels(g.Labels) {
			add(n)
		}
	}
	sort.Strings(out)
	return out
}

// groupFiring reports whether any alert fires and is not silenced.
func groupFiring(g model.AlertGroup) bool {
	for _, a := range g.Alerts {
		if a.State == model.AlertFiring && !a.Silenced {
			return true
		}
	}
	return false
}

func alertID(a model.Alert) string {
	if a.Fingerprint != "" {
		return a.Fingerprint
	}
	return a.Name + "{" + a.Labels.String() + "}"
}

// newFromGroup makes incident id from g; what says what started it
// (default: the alerts that fired).
func (s *Service) newFromGroup(id int64, g model.AlertGroup, slos []string, now time.Time, what string) *Incident {
	inc := &Incident{
		ID: id, Status: StatusTriggered, DedupKey: g.Key, CreatedAt: now, Labels: g.Labels.Clone(),
		Source: SourceSentinel, SLONames: slos, Severity: model.SeverityWarning,
	}
	if g.Source == SourceAlertmanager {
		inc.Source = SourceAlertmanager
	}
	var first *model.Alert
	sev := 0
	var firing []string
	for i := range g.Alerts {
		a := &g.Alerts[i]
		if a.State != model.AlertFiring || a.Silenced {
			continue
		}
		if first == nil {
			first = a
		}
		firing = append(firing, alertRef(a.Name, a.Labels))
		if a.Severity.Rank() > sev {
			sev, inc.Severity = a.Severity.Rank(), a.Severity
		}
		if inc.Runbook == "" {
			inc.Runbook = a.Runbook
		}
	}
	if len(inc.Labels) == 0 && first != nil {
		inc.Labels = first.Labels.Clone()
	}
	switch {
	case what != "":
	case len(firing) > 0:
		what = strings.Join(firing, ", ") + " fired"
	default:
		what = "an alert fired"
	}
	inc.note(now, KindTriggered, ActorSentinel, "%s (group %s)", what, g.Key)
	s.mergeAlerts(inc, g, now)
	retitle(inc)
	return inc
}

// mergeAlerts brings inc's alerts in line with g and notes each change;
// alerts missing from g have cleared. Annotations follow the latest
// delivery, and the title follows the alerts (retitle). It reports
// whether anything changed.
func (s *Service) mergeAlerts(inc *Incident, g model.AlertGroup, now time.Time) bool {
	before := viewKey(inc)
	changed := false
	idx := map[string]int{}
	for i, a := range inc.Alerts {
		idx[a.Fingerprint] = i
	}
	opening := len(inc.Timeline) == 1 && inc.Timeline[0].Kind == KindTriggered && len(inc.Alerts) == 0
	var cleared []Alert
	present := map[string]bool{}
	for _, a := range g.Alerts {
		id := alertID(a)
		present[id] = true
		state := a.State
		if state != model.AlertFiring {
			state = model.AlertResolved
		}
		i, ok := idx[id]
		if !ok {
			if state != model.AlertFiring {
				continue
			}
			na := Alert{Name: a.Name, Fingerprint: id, State: state, Severity: a.Severity, Labels: a.Labels.Clone(),
				Annotations: a.Annotations.Clone(), Source: a.Source, StartsAt: firedAt(a), GeneratorURL: a.GeneratorURL, Silenced: a.Silenced}
			inc.Alerts = append(inc.Alerts, na)
			idx[id] = len(inc.Alerts) - 1
			if !opening {
				muted := ""
				if a.Silenced {
					muted = " (silenced: pages no one)"
				}
				inc.note(now, KindAlertFiring, ActorSentinel, "alert %s fired%s%s", alertRef(a.Name, a.Labels), muted, summaryOf(a.Annotations))
			}
			changed = true
			if a.Severity.Rank() > inc.Severity.Rank() && inc.Status.Open() {
				if who := inc.severitySetBy(); who != "" {
					// A person's choice outranks the alerts': say so, change nothing.
					inc.note(now, KindSeverity, ActorSentinel, "alert %s is %s; severity stays %s as set by %s", alertRef(a.Name, a.Labels), a.Severity, inc.Severity, who)
				} else {
					inc.note(now, KindSeverity, ActorSentinel, "severity raised from %s to %s by alert %s", inc.Severity, a.Severity, alertRef(a.Name, a.Labels))
					inc.Severity = a.Severity
				}
			}
			continue
		}
		cur := &inc.Alerts[i]
		if state == model.AlertFiring && !maps.Equal(a.Annotations, cur.Annotations) {
			cur.Annotations = a.Annotations.Clone()
		}
		if state == model.AlertFiring && a.Silenced != cur.Silenced {
			cur.Silenced, changed = a.Silenced, true
		}
		refired := state == model.AlertFiring && cur.State == model.AlertFiring && firedAt(a).After(cur.StartsAt) &&
			inc.ResolvedAt != nil && firedAt(a).After(*inc.ResolvedAt)
		if cur.State == state && !refired {
			continue
		}
		changed = true
		cur.State = state
		if state == model.AlertResolved {
			end := now
			if !a.EndsAt.IsZero() {
				end = a.EndsAt
			}
			cur.EndsAt = &end
			cleared = append(cleared, *cur)
		} else {
			cur.EndsAt, cur.StartsAt = nil, firedAt(a)
			inc.note(now, KindAlertFiring, ActorSentinel, "alert %s fired again%s", alertRef(a.Name, a.Labels), summaryOf(a.Annotations))
		}
	}
	for i := range inc.Alerts {
		a := &inc.Alerts[i]
		if !present[a.Fingerprint] && a.State == model.AlertFiring {
			end := now
			a.State, a.EndsAt = model.AlertResolved, &end
			cleared = append(cleared, *a)
			changed = true
		}
	}
	if len(cleared) > 0 {
		s.noteCleared(inc, cleared, now)
	}
	retitle(inc)
	return changed || viewKey(inc) != before
}

// noteCleared notes alerts that stopped firing. On a resolved incident
// these are alerts that were still firing when a person resolved it: the
// entry says so, and how many still fire.
func (s *Service) noteCleared(inc *Incident, cleared []Alert, now time.Time) {
	left := len(firingAlerts(inc))
	text := fmt.Sprintf("alert %s cleared", alertRefs(cleared))
	if len(cleared) > 1 {
		text = fmt.Sprintf("alerts %s cleared", alertRefs(cleared))
	}
	if inc.Status == StatusResolved {
		text += " after the incident was resolved"
		if left == 0 {
			text += "; no alert fires any more"
		} else {
			text += fmt.Sprintf("; %s still firing", plural(left, "alert"))
		}
		text += " (no page: nothing new fired)"
	} else if left > 0 {
		text += fmt.Sprintf("; %s still firing", plural(left, "alert"))
	}
	inc.note(now, KindAlertResolved, ActorSentinel, "%s", text)
}

// summaryOf is ": <summary>" for a timeline entry, or "".
func summaryOf(ann model.Labels) string {
	if s := strings.TrimSpace(ann["summary"]); s != "" {
		return ": " + model.Clip(s, 300)
	}
	return ""
}
