package incidents

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

// policyOf is the incident's policy, or its route's when the policy it
// started with is gone after a reload.
func (s *Service) policyOf(inc *Incident) *oncall.Policy {
	if p, ok := s.onCall().Policy(inc.Escalation.Policy); ok {
		return p
	}
	return s.onCall().PolicyFor(inc.Labels)
}

// startEscalation runs the incident's policy from the top under a new
// epoch, firing the first step now when it has no delay.
func (s *Service) startEscalation(tx Tx, inc *Incident, now time.Time) error {
	p := s.onCall().PolicyFor(inc.Labels)
	inc.Urgency = p.UrgencyFor(inc.Severity)
	e := &inc.Escalation
	e.Policy, e.Epoch, e.Pass, e.Step, e.AckTimeoutAt, e.StillFiringAt = p.Name, e.Epoch+1, 0, -1, nil, nil
	at := now.Add(p.Delay(0, 0))
	e.NextAt = &at
	if !at.After(now) {
		return s.fireStep(tx, inc, now, 0, 0)
	}
	return nil
}

// fireStep pages the targets of (pass, step), notes it, and schedules the
// step after it. Escalation state and outbox entries are written in tx,
// the same transaction, so a crash keeps both or neither.
func (s *Service) fireStep(tx Tx, inc *Incident, now time.Time, pass, step int) error {
	p := s.policyOf(inc)
	if step >= len(p.Steps) {
		step = len(p.Steps) - 1
	}
	e := &inc.Escalation
	e.Pass, e.Step = pass, step
	overrides, err := s.overrides(tx, now)
	if err != nil {
		return err
	}
	type paged struct {
		t      oncall.Target
		people []oncall.Person
	}
	var targets []paged
	var names []string
	for _, t := range p.Steps[step].Targets {
		people := s.onCall().Recipients(t, now, overrides)
		targets = append(targets, paged{t, people})
		names = append(names, describeTarget(t, people))
		for _, pp := range people {
			if !contains(inc.Responders, pp.Name) {
				inc.Responders = append(inc.Responders, pp.Name)
			}
		}
	}
	kind := KindPaged
	if pass > 0 || step > 0 {
		kind = KindEscalated
	}
	stepText := fmt.Sprintf("step %d of policy %s", step+1, p.Name)
	if pass > 0 {
		stepText += fmt.Sprintf(", repeat %d", pass)
	}
	urgent := inc.UrgencyNow() == oncall.UrgencyHigh
	if !urgent {
		stepText += "; low urgency: notified once, no escalation or repeats"
	}
	inc.note(now, kind, ActorSentinel, "paged %s (%s)", strings.Join(names, ", "), stepText)
	for _, tg := range targets {
		for _, pg := range s.activePagers() {
			n := s.notification(inc, KindPage)
			n.Key = fmt.Sprintf("incident/%d/e%d/p%d/s%d/%s/%s", inc.ID, e.Epoch, pass, step, tg.t, pg.Name())
			n.Pass, n.Step, n.Target, n.Recipients = pass, step, tg.t, tg.people
			if _, err := tx.Enqueue(OutboxEntry{Key: n.Key, Pager: pg.Name(), Notification: n, DueAt: now, CreatedAt: now}); err != nil {
				return err
			}
		}
	}
	countStep(tx)
	if np, ns, ok := p.Next(pass, step); ok && urgent {
		at := now.Add(p.Delay(np, ns))
		e.NextAt = &at
	} else {
		e.NextAt = nil
	}
	return nil
}

func describeTarget(t oncall.Target, people []oncall.Person) string {
	switch {
	case t.Kind == oncall.TargetChannel && t.Name == "":
		return "the default channel"
	case t.Kind == oncall.TargetSchedule && len(people) == 0:
		return fmt.Sprintf("%s (nobody on call)", t)
	case t.Kind == oncall.TargetSchedule:
		return fmt.Sprintf("%s (%s)", people[0].Name, t)
	case t.Kind == oncall.TargetUser:
		return t.Name
	}
	return t.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// notification snapshots inc (without its timeline) for the outbox; the
// event is the last timeline entry.
func (s *Service) notification(inc *Incident, kind NotificationKind) Notification {
	snap := inc.Clone()
	snap.Timeline = nil
	n := Notification{Kind: kind, Incident: snap, Target: oncall.Target{Kind: oncall.TargetChannel}}
	if len(inc.Timeline) > 0 {
		ev := inc.Timeline[len(inc.Timeline)-1]
		n.Event = &ev
	}
	if s.baseURL() != "" {
		n.URL = fmt.Sprintf("%s/incidents/%d", s.baseURL(), inc.ID)
	}
	n.Links = s.links(inc)
	for _, name := range inc.Responders {
		if p, ok := s.onCall().People.Resolve(name); ok {
			n.Responders = append(n.Responders, p)
		}
	}
	return n
}

// resolve closes inc. A person may resolve while alerts still fire (a
// burn-rate alert lags the fix by minutes to hours): the entry says which,
// and those alerts page no one when they later clear (HandleAlertGroup).
// If any of them fires unmuted incidents.repeat_interval later (or at a
// check every interval after that, while they fire muted), it opens a new
// incident (fireTimer): a fix that did not work is not left unpaged.
func (s *Service) resolve(inc *Incident, now time.Time, actor, why string) {
	inc.Status = StatusResolved
	t := now
	inc.ResolvedAt, inc.ResolvedBy = &t, actor
	e := &inc.Escalation
	e.NextAt, e.AckTimeoutAt, e.StillFiringAt = nil, nil, nil
	if why != "" {
		inc.note(now, KindResolved, actor, "resolved: %s", why)
		return
	}
	text := "resolved by " + actor
	if firing := firingAlerts(inc); len(firing) > 0 {
		text += fmt.Sprintf(" while %s %s still firing: %s", plural(len(firing), "alert"), wasWere(len(firing)), alertRefs(firing))
		if repeat := s.conf().RepeatInterval.Std(); repeat > 0 {
			at := now.Add(repeat)
			e.StillFiringAt = &at
			if len(unmuted(firing)) > 0 {
				text += fmt.Sprintf("; if any still fires in %s, a new incident opens", model.Elapsed(repeat))
			} else {
				// A silence often quiets a fix in progress; when it ends
				// and the alert still fires, the fix did not work.
				text += fmt.Sprintf("; they are muted: while they fire, a check every %s opens a new incident for any no longer muted", model.Elapsed(repeat))
			}
		}
	}
	inc.note(now, KindResolved, actor, "%s", text)
}

// stillMuted reports whether inc has firing alerts and every one of them is
// muted.
func stillMuted(inc *Incident) bool {
	firing := firingAlerts(inc)
	return len(firing) > 0 && len(unmuted(firing)) == 0
}

// unmuted are the alerts no silence, inhibition or maintenance window mutes.
func unmuted(alerts []Alert) []Alert {
	var out []Alert
	for _, a := range alerts {
		if !a.Silenced {
			out = append(out, a)
		}
	}
	return out
}

// change loads incident id, applies fn and writes it back with its
// effects in one transaction.
func (s *Service) change(ctx context.Context, id int64, fn func(tx Tx, inc *Incident, now time.Time) error) (*Incident, error) {
	var out *Incident
	err := s.update(ctx, func(tx Tx) error {
		inc, err := tx.Get(id)
		if err != nil {
			return err
		}
		seen, before := len(inc.Timeline), viewKey(inc)
		now := s.now()
		if err := fn(tx, inc, now); err != nil {
			return err
		}
		out = inc
		return s.commit(tx, inc, seen, before, now)
	})
	if err != nil {
		return nil, fmt.Errorf("incident #%d: %w", id, err)
	}
	return out, nil
}

func actorOr(actor string) string {
	if actor == "" {
		return "someone"
	}
	return actor
}

// Acknowledge stops the escalation of an open incident; the ack timeout,
// when set, re-triggers it if it is still open that much later.
func (s *Service) Acknowledge(ctx context.Context, id int64, actor string) (*Incident, error) {
	return s.change(ctx, id, func(tx Tx, inc *Incident, now time.Time) error {
		switch inc.Status {
		case StatusResolved:
			return errorf(ErrInvalidTransition, "incident #%d is resolved", id)
		case StatusAcknowledged:
			return errorf(ErrInvalidTransition, "incident #%d is already acknowledged", id)
		}
		inc.Status, inc.AcknowledgedBy = StatusAcknowledged, actorOr(actor)
		if inc.AcknowledgedAt == nil {
			t := now
			inc.AcknowledgedAt = &t
		}
		inc.Escalation.NextAt = nil
		if s.conf().AckTimeout > 0 {
			at := now.Add(s.conf().AckTimeout.Std())
			inc.Escalation.AckTimeoutAt = &at
		}
		inc.note(now, KindAcknowledged, actorOr(actor), "acknowledged by %s", actorOr(actor))
		return nil
	})
}

// Resolve closes an open incident.
func (s *Service) Resolve(ctx context.Context, id int64, actor string) (*Incident, error) {
	inc, err := s.change(ctx, id, func(tx Tx, inc *Incident, now time.Time) error {
		if inc.Status == StatusResolved {
			return errorf(ErrInvalidTransition, "incident #%d is already resolved", id)
		}
		s.resolve(inc, now, actorOr(actor), "")
		return nil
	})
	if err == nil {
		s.fireResolved(ctx, inc)
	}
	return inc, err
}

// Escalate pages the next step now (wrapping to the first step after the
// last, whatever the repeat count); an acknowledged incident goes back to
// triggered.
func (s *Service) Escalate(ctx context.Context, id int64, actor string) (*Incident, error) {
	return s.change(ctx, id, func(tx Tx, inc *Incident, now time.Time) error {
		if inc.Status == StatusResolved {
			return errorf(ErrInvalidTransition, "incident #%d is resolved", id)
		}
		inc.Status = StatusTriggered
		inc.Escalation.AckTimeoutAt = nil
		p := s.policyOf(inc)
		e := inc.Escalation
		pass, step := 0, 0
		if e.Step >= 0 {
			pass, step = e.Pass, e.Step+1
			if step >= len(p.Steps) {
				pass, step = pass+1, 0
			}
		}
		inc.note(now, KindEscalated, actorOr(actor), "escalated by %s", actorOr(actor))
		if err := s.publish(tx, inc, 0, false, now); err != nil { // the update before the step's pages
			return err
		}
		return s.fireStep(tx, inc, now, pass, step)
	})
}

// DeclareRequest is an incident declared by a person.
type DeclareRequest struct {
	Title    string         `json:"title"`
	Severity model.Severity `json:"severity"`
	Summary  string         `json:"summary"`
	Labels   model.Labels   `json:"labels"`
}

// Limits on declared incidents.
const (
	maxTitleLen   = 200
	maxSummaryLen = 10000
	maxLabels     = 32
)

// Validate names the first thing wrong with a declaration.
func (r DeclareRequest) Validate() error {
	title := strings.TrimSpace(r.Title)
	switch {
	case title == "":
		return errorf(ErrInvalid, "title is required")
	case utf8.RuneCountInString(title) > maxTitleLen:
		return errorf(ErrInvalid, "title is longer than %d characters", maxTitleLen)
	case utf8.RuneCountInString(r.Summary) > maxSummaryLen:
		return errorf(ErrInvalid, "summary is longer than %d characters", maxSummaryLen)
	case len(r.Labels) > maxLabels:
		return errorf(ErrInvalid, "at most %d labels", maxLabels)
	}
	if r.Severity != "" {
		if _, err := model.ParseSeverity(string(r.Severity)); err != nil {
			return errorf(ErrInvalid, "severity: %v", err)
		}
	}
	for k, v := range r.Labels {
		if k == "" || len(k) > 100 || len(v) > 1000 || strings.ContainsAny(k, "=,{}\" ") {
			return errorf(ErrInvalid, "invalid label %q", k)
		}
	}
	return nil
}

// Declare opens an incident a person declared (no dedup key) and starts
// its escalation.
func (s *Service) Declare(ctx context.Context, r DeclareRequest, actor string) (*Incident, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if r.Severity == "" {
		r.Severity = model.SeverityWarning
	}
	var out *Incident
	err := s.update(ctx, func(tx Tx) error {
		id, err := tx.NextID()
		if err != nil {
			return err
		}
		now := s.now()
		inc := &Incident{ID: id, Title: strings.TrimSpace(r.Title), Severity: r.Severity, Status: StatusTriggered,
			Summary: r.Summary, Labels: r.Labels.Clone(), Source: SourceDeclared, CreatedAt: now}
		inc.note(now, KindDeclared, actorOr(actor), "declared by %s", actorOr(actor))
		if err := s.startEscalation(tx, inc, now); err != nil {
			return err
		}
		out = inc
		return tx.Put(inc)
	})
	if err != nil {
		return nil, fmt.Errorf("declare incident: %w", err)
	}
	s.metrics.opened.WithLabelValues(string(out.Severity)).Inc()
	s.log.Info("incident declared", "incident", out.ID, "actor", actor)
	s.fireOpened(ctx, out)
	return out, nil
}

// timerBatch bounds the incidents one RunTimers pass handles.
const timerBatch = 256

// RunTimers fires every durable timer due now: escalation steps of
// unacknowledged incidents and lapsed acknowledgements. It returns how
// many incidents it changed. Each incident is read, advanced and written
// with its outbox entries in one transaction, so running it twice (or
// after a crash) never fires a step twice.
func (s *Service) RunTimers(ctx context.Context) (int, error) {
	now := s.now()
	if l, ok := s.store.(CycleLocker); ok {
		return s.runTimersLocked(ctx, l, now)
	}
	var ids []int64
	if err := s.store.View(ctx, func(tx ReadTx) error {
		var err error
		ids, err = tx.Due(now, timerBatch)
		return err
	}); err != nil {
		return 0, fmt.Errorf("due timers: %w", err)
	}
	n := 0
	for _, id := range ids {
		changed := false
		var opened *Incident
		err := s.update(ctx, func(tx Tx) error {
			changed, opened = false, nil
			inc, err := tx.Get(id)
			if err != nil {
				return err
			}
			if changed, opened, err = s.fireTimer(tx, inc, now); err != nil {
				return err
			}
			if !changed {
				return errNoChange
			}
			return tx.Put(inc)
		})
		if err != nil {
			return n, fmt.Errorf("timer of incident #%d: %w", id, err)
		}
		if changed {
			n++
		}
		s.openedByTimer(ctx, opened)
	}
	return n, nil
}

// openedByTimer does for an incident a timer opened what HandleAlertGroup
// does for one an alert opened, once its transaction has committed.
func (s *Service) openedByTimer(ctx context.Context, opened *Incident) {
	if opened == nil {
		return
	}
	s.metrics.opened.WithLabelValues(string(opened.Severity)).Inc()
	s.log.Info("incident opened", "incident", opened.ID, "dedup_key", opened.DedupKey, "severity", string(opened.Severity), "cause", "still firing after a resolution")
	s.fireOpened(ctx, opened)
}

// timersModule names the escalation cycle's lock among replicas.
const timersModule = "incidents.timers"

// ErrCycleSkipped is returned by RunTimers when another replica holds the
// cycle's lock and runs the cycle; the loop tries again a little later.
var ErrCycleSkipped = errors.New("another replica runs this cycle")

// runTimersLocked is RunTimers on a store shared by replicas: the due
// timers are fired in one transaction under the module lock.
func (s *Service) runTimersLocked(ctx context.Context, l CycleLocker, now time.Time) (int, error) {
	n := 0
	var last *effectTx
	var opened []*Incident
	ran, err := l.UpdateLocked(ctx, timersModule, func(tx Tx) error {
		n, last, opened = 0, &effectTx{Tx: tx}, nil
		ids, err := tx.Due(now, timerBatch)
		if err != nil {
			return err
		}
		for _, id := range ids {
			inc, err := last.Get(id)
			if err != nil {
				return fmt.Errorf("timer of incident #%d: %w", id, err)
			}
			changed, o, err := s.fireTimer(last, inc, now)
			if err != nil {
				return fmt.Errorf("timer of incident #%d: %w", id, err)
			}
			if o != nil {
				opened = append(opened, o)
			}
			if changed {
				n++
				if err := last.Put(inc); err != nil {
					return fmt.Errorf("timer of incident #%d: %w", id, err)
				}
			}
		}
		return nil
	})
	switch {
	case err != nil:
		return 0, fmt.Errorf("fire timers: %w", err)
	case !ran:
		return 0, ErrCycleSkipped
	}
	if last != nil && last.steps > 0 {
		s.metrics.steps.Add(float64(last.steps))
	}
	if n > 0 {
		s.kick(s.outboxKick)
	}
	for _, o := range opened {
		s.openedByTimer(ctx, o)
	}
	return n, nil
}

// fireTimer advances inc when its timer is due; it reports whether inc
// changed, and the incident it opened for alerts still firing long after
// inc was resolved, if any.
func (s *Service) fireTimer(tx Tx, inc *Incident, now time.Time) (bool, *Incident, error) {
	at := inc.TimerAt()
	if at == nil || at.After(now) {
		return false, nil, nil
	}
	e := &inc.Escalation
	switch {
	case e.AckTimeoutAt != nil && !e.AckTimeoutAt.After(now) && inc.Status == StatusAcknowledged:
		inc.Status = StatusTriggered
		inc.note(now, KindAckTimeout, ActorSentinel, "still open %s after the acknowledgement; paging again", s.conf().AckTimeout)
		if err := s.publish(tx, inc, len(inc.Timeline)-1, false, now); err != nil {
			return false, nil, err
		}
		if err := s.startEscalation(tx, inc, now); err != nil {
			return false, nil, err
		}
	case e.NextAt != nil && !e.NextAt.After(now) && inc.Status == StatusTriggered:
		p := s.policyOf(inc)
		pass, step, ok := 0, 0, true
		if e.Step >= 0 {
			pass, step, ok = p.Next(e.Pass, e.Step)
		}
		if !ok {
			e.NextAt = nil
			return true, nil, nil
		}
		if err := s.fireStep(tx, inc, now, pass, step); err != nil {
			return false, nil, err
		}
	case e.StillFiringAt != nil && !e.StillFiringAt.After(now) && inc.Status == StatusResolved:
		e.StillFiringAt = nil
		if repeat := s.conf().RepeatInterval.Std(); repeat > 0 && stillMuted(inc) {
			// Muted yet firing: check again, until they clear or are unmuted.
			at := now.Add(repeat)
			e.StillFiringAt = &at
			return true, nil, nil
		}
		opened, err := s.openStillFiring(tx, inc, now)
		return true, opened, err
	default:
		// A timer left over from a state that no longer wants it.
		e.NextAt, e.AckTimeoutAt, e.StillFiringAt = nil, nil, nil
	}
	return true, nil, nil
}

// openStillFiring opens a new incident, paging from the top of the policy,
// for inc's alerts that a person resolved while they fired and that fire
// yet, unmuted, incidents.repeat_interval later. Nothing opens when they
// have cleared, or when a newer incident has their group (it pages for
// them already); fireTimer checks again later while all are muted.
func (s *Service) openStillFiring(tx Tx, inc *Incident, now time.Time) (*Incident, error) {
	firing := unmuted(firingAlerts(inc))
	if len(firing) == 0 || inc.DedupKey == "" || inc.ResolvedAt == nil {
		return nil, nil
	}
	newest, err := tx.ByDedupKey(inc.DedupKey)
	if err != nil {
		return nil, err
	}
	if newest != nil && newest.ID != inc.ID {
		return nil, nil
	}
	g := model.AlertGroup{Key: inc.DedupKey, Labels: inc.Labels.Clone(), Source: SourceSentinel, Firing: true}
	if inc.Source == SourceAlertmanager {
		g.Source = SourceAlertmanager
	}
	for _, a := range firing {
		g.Alerts = append(g.Alerts, model.Alert{Name: a.Name, Fingerprint: a.Fingerprint, Labels: a.Labels.Clone(),
			Annotations: a.Annotations.Clone(), State: model.AlertFiring, Severity: a.Severity, Runbook: inc.Runbook,
			Source: a.Source, GroupKey: inc.DedupKey, StartsAt: a.StartsAt, FiredAt: a.StartsAt, GeneratorURL: a.GeneratorURL})
	}
	after := model.Elapsed(now.Sub(*inc.ResolvedAt))
	var opened *Incident
	what := fmt.Sprintf("%s still firing %s after #%d was resolved", alertRefs(firing), after, inc.ID)
	if err := s.openFor(tx, g, inc.SLONames, now, &opened, what); err != nil {
		return nil, err
	}
	seen := len(inc.Timeline)
	inc.note(now, KindAlertFiring, ActorSentinel, "%s still firing %s after the incident was resolved: opened #%d", alertRefs(firing), after, opened.ID)
	// Its thread hears where the alerts went.
	return opened, s.commit(tx, inc, seen, "", now)
}
