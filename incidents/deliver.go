package incidents

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// claimBatch bounds the entries one DeliverDue pass claims.
const claimBatch = 64

// batchFor is how many entries one pass claims: no more than could all be
// delivered, one after another, before their common lease ends. A larger
// claim left the tail of a backlog unsent until the lease ran out (each
// call must end before the lease does), delaying pages by a lease each
// time; the delivery loop claims again at once while work is due.
func batchFor(lease, timeout time.Duration) int {
	if timeout <= 0 {
		return claimBatch
	}
	return min(claimBatch, max(1, int(lease/timeout)-1))
}

// pruneAfter is how long delivered and failed entries are kept, so that a
// late duplicate enqueue is still recognised by its key.
const pruneAfter = 7 * 24 * time.Hour

// DeliverDue claims the outbox entries due now and hands them to their
// pagers: one goroutine per pager, entries of one pager in order. It
// returns how many entries it claimed.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	now := s.now()
	d := s.conf().Delivery
	entries, err := s.store.Claim(ctx, now, d.Lease.Std(), batchFor(d.Lease.Std(), d.Timeout.Std()))
	if err != nil {
		return 0, fmt.Errorf("claim outbox entries: %w", err)
	}
	byPager := map[string][]OutboxEntry{}
	var order []string
	for _, e := range entries {
		if _, ok := byPager[e.Pager]; !ok {
			order = append(order, e.Pager)
		}
		byPager[e.Pager] = append(byPager[e.Pager], e)
	}
	var wg sync.WaitGroup
	for _, name := range order {
		wg.Go(func() {
			for _, e := range byPager[name] {
				s.deliver(ctx, e)
			}
		})
	}
	wg.Wait()
	return len(entries), nil
}

// deliver makes one attempt at e and records the outcome in the outbox.
func (s *Service) deliver(ctx context.Context, e OutboxEntry) {
	d := s.conf().Delivery
	p := s.pager(e.Pager)
	log := s.log.With("pager", e.Pager, "key", e.Key, "attempt", e.Attempts)
	if p == nil {
		s.finishFailed(ctx, e, fmt.Sprintf("no pager named %q is configured any more", e.Pager), log)
		return
	}
	n := e.Notification
	n.Attempt = e.Attempts
	if n.Incident != nil && n.SLOs == nil {
		// The budget as it is now, not as it was when the entry was made.
		n.SLOs = s.SLOImpact(ctx, n.Incident)
	}
	if n.Incident != nil && n.Changes == nil {
		n.Changes = s.RecentChanges(ctx, n.Incident)
	}
	if e.Reclaimed {
		s.metrics.deliveries.WithLabelValues(e.Pager, "reclaimed").Inc()
	}
	if e.Reclaimed {
		if r, ok := p.(Reconciler); ok {
			rctx, cancel := context.WithTimeout(ctx, d.Timeout.Std())
			done, err := r.Reconcile(rctx, n)
			cancel()
			switch {
			case err != nil:
				log.Warn("reconcile in-flight delivery failed; retrying later", "err", err)
				s.retry(ctx, e, s.backoff(e.Attempts), err, log)
				return
			case done:
				log.Info("delivery found already made after a restart; not sending again")
				s.metrics.deliveries.WithLabelValues(e.Pager, "reconciled").Inc()
				s.complete(ctx, e, log)
				return
			}
		}
	}
	// The lease is checked again right before the call: a process paused
	// since its claim (or slowed by reconciling) must not call once
	// another replica may have reclaimed the entry. With the call bounded
	// by the timeout and the lease longer than it, a call that starts in
	// time ends before anyone else can claim the entry.
	if !e.LeaseUntil.IsZero() && s.now().Add(d.Timeout.Std()).After(e.LeaseUntil) {
		s.metrics.deliveries.WithLabelValues(e.Pager, "lease_expired").Inc()
		log.Warn("claim's lease runs out before the call could end; not sending (whoever reclaims the entry reconciles first)")
		return
	}
	// Where claims die with their claimer, the claim must still be this
	// process's: once it was found dead another replica may send.
	if lc, ok := s.store.(LiveClaims); ok {
		if err := lc.FenceClaim(ctx, e); err != nil {
			s.metrics.deliveries.WithLabelValues(e.Pager, "claim_lost").Inc()
			log.Warn("claim lost before the call; not sending (whoever reclaims the entry reconciles first)", "err", err)
			return
		}
	}
	dctx, cancel := context.WithTimeout(ctx, d.Timeout.Std())
	err := p.Deliver(dctx, n)
	cancel()
	if err == nil {
		s.metrics.deliveries.WithLabelValues(e.Pager, "delivered").Inc()
		s.metrics.latency.WithLabelValues(e.Pager).Observe(s.now().Sub(e.CreatedAt).Seconds())
		s.complete(ctx, e, log)
		return
	}
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and the entry is reclaimed
	}
	var ra *RetryAfterError
	switch {
	case errors.Is(err, ErrPermanent) || e.Attempts >= d.MaxAttempts:
		s.finishFailed(ctx, e, err.Error(), log)
	case errors.As(err, &ra):
		log.Warn("pager asked to retry later", "err", err, "retry_after", ra.After.String())
		s.retry(ctx, e, ra.After, err, log)
	default:
		log.Warn("delivery failed; retrying", "err", err)
		s.retry(ctx, e, s.backoff(e.Attempts), err, log)
	}
}

// backoff is the wait after the attempt-th failure: doubling from
// delivery.backoff up to delivery.max_backoff.
func (s *Service) backoff(attempt int) time.Duration {
	d := s.conf().Delivery
	b := d.Backoff.Std()
	for i := 1; i < attempt && b < d.MaxBackoff.Std(); i++ {
		b *= 2
	}
	return min(b, d.MaxBackoff.Std())
}

func (s *Service) complete(ctx context.Context, e OutboxEntry, log interface {
	Error(string, ...any)
}) {
	if err := s.store.Complete(ctx, e.Claim(), s.now()); err != nil {
		s.recordFailed(e, "record delivery", err, log)
	}
}

func (s *Service) retry(ctx context.Context, e OutboxEntry, wait time.Duration, cause error, log interface {
	Error(string, ...any)
}) {
	s.metrics.deliveries.WithLabelValues(e.Pager, "retry").Inc()
	if err := s.store.Retry(ctx, e.Claim(), s.now().Add(wait), cause.Error()); err != nil {
		s.recordFailed(e, "record delivery retry", err, log)
	}
}

// recordFailed reports that an outcome could not be recorded. A stale claim
// is expected after a pause past the lease: whoever reclaimed the entry
// owns it now, so this outcome is dropped, not an error.
func (s *Service) recordFailed(e OutboxEntry, what string, err error, log interface {
	Error(string, ...any)
}) {
	if errors.Is(err, ErrStaleClaim) {
		s.metrics.deliveries.WithLabelValues(e.Pager, "stale_claim").Inc()
		s.log.Warn(what+": the claim is stale (the entry was reclaimed elsewhere); dropping this outcome", "pager", e.Pager, "key", e.Key)
		return
	}
	log.Error(what, "err", err)
}

// finishFailed gives up on e and hands it to the fallback pager, unless e
// already was the fallback's.
func (s *Service) finishFailed(ctx context.Context, e OutboxEntry, why string, log interface {
	Error(string, ...any)
}) {
	s.metrics.deliveries.WithLabelValues(e.Pager, "failed").Inc()
	var fb *OutboxEntry
	if !e.Fallback && s.fallbackPager().Name() != e.Pager {
		now := s.now()
		n := e.Notification
		n.Key = e.Key + "/fallback"
		fb = &OutboxEntry{Key: n.Key, Pager: s.fallbackPager().Name(), Notification: n, DueAt: now, CreatedAt: now, Fallback: true}
	}
	log.Error("delivery failed for good; using the fallback pager", "err", why, "fallback", s.fallbackPager().Name())
	if err := s.store.Fail(ctx, e.Claim(), s.now(), why, fb); err != nil {
		s.recordFailed(e, "record delivery failure", err, log)
	}
	s.kick(s.outboxKick)
}

// Announce sends an announcement from alerting (such as a silence expiring
// while its alert still fires) through every pager.
func (s *Service) Announce(ctx context.Context, a model.Announcement) error {
	if a.At.IsZero() {
		a.At = s.now()
	}
	if a.Severity.Rank() == 0 {
		a.Severity = model.SeverityWarning // the stored form must decode again
	}
	now := s.now()
	err := s.update(ctx, func(tx Tx) error {
		for _, pg := range s.activePagers() {
			ann := a
			ann.Labels = a.Labels.Clone()
			n := Notification{Kind: KindAnnouncement, Announcement: &ann}
			n.Key = fmt.Sprintf("announcement/%s/%s/%d/%s", a.Kind, a.Labels.String(), a.At.UnixNano(), pg.Name())
			if _, err := tx.Enqueue(OutboxEntry{Key: n.Key, Pager: pg.Name(), Notification: n, DueAt: now, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("announce %s: %w", a.Kind, err)
	}
	return nil
}

// Run fires timers and delivers the outbox until ctx ends. Entries left in
// flight by a previous process are reclaimed when their lease ends, or, on
// a store whose claims die with their claimer, as soon as it is dead.
func (s *Service) Run(ctx context.Context) error {
	s.activePagers()
	var wg sync.WaitGroup
	wg.Go(func() { s.loop(ctx, s.timerKick, s.RunTimers, s.nextTimer) })
	wg.Go(func() { s.loop(ctx, s.outboxKick, s.DeliverDue, s.nextDelivery) })
	wg.Wait()
	return ctx.Err()
}

// maxIdle bounds a loop's sleep, so that pruning runs and a missed kick
// costs at most this long.
const maxIdle = time.Minute

func (s *Service) loop(ctx context.Context, kick <-chan struct{}, work func(context.Context) (int, error), next func(context.Context) (time.Time, bool)) {
	lastPrune := time.Time{}
	for {
		n, err := work(ctx)
		if ctx.Err() != nil {
			return
		}
		skipped := errors.Is(err, ErrCycleSkipped)
		if skipped {
			err = nil
		}
		if err != nil {
			s.log.Error("incident loop", "err", err)
		}
		if now := s.now(); now.Sub(lastPrune) > time.Hour {
			lastPrune = now
			if err := s.store.Prune(ctx, now.Add(-pruneAfter)); err != nil && ctx.Err() == nil {
				s.log.Error("prune outbox", "err", err)
			}
		}
		if n > 0 && err == nil {
			continue // more may be due
		}
		wait := maxIdle
		if err != nil || skipped {
			wait = time.Second
		} else if at, ok := next(ctx); ok {
			wait = min(max(at.Sub(s.now()), 0), maxIdle)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-kick:
		case <-t.C:
		}
		t.Stop()
	}
}

func (s *Service) nextTimer(ctx context.Context) (time.Time, bool) {
	var at time.Time
	var ok bool
	err := s.store.View(ctx, func(tx ReadTx) error {
		var err error
		at, ok, err = tx.NextTimer()
		return err
	})
	return at, ok && err == nil
}

// claimPoll is how often the delivery loop claims where claims die with
// their claimer (LiveClaims): an entry whose claimer died is free again
// without anything waking this process.
const claimPoll = time.Second

func (s *Service) nextDelivery(ctx context.Context) (time.Time, bool) {
	at, ok, err := s.store.NextDue(ctx)
	ok = ok && err == nil
	if _, live := s.store.(LiveClaims); live {
		if poll := s.now().Add(claimPoll); !ok || poll.Before(at) {
			at, ok = poll, true
		}
	}
	return at, ok
}
