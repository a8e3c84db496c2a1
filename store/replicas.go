package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/probes"
)

// LocalWriter is the writer of per-minute counts on a store that one
// process owns (bbolt, memory): the name counts have always been stored
// under there.
const LocalWriter = "local"

// Shared reports whether e is shared by several Sentinel replicas (it
// implements Locker), so that engine cycles need module locks and
// scheduled probe runs need claims.
func Shared(e Engine) bool {
	_, ok := e.(Locker)
	return ok
}

// WriterID names this process among the writers of per-minute counts on
// e: its replica ID on a shared store (storage.replica_id, else a random
// ID per process, so two live replicas never share one), and LocalWriter
// on a store one process owns.
func WriterID(e Engine) string {
	if r, ok := e.(interface{ Replica() string }); ok && Shared(e) {
		return r.Replica()
	}
	return LocalWriter
}

// Fence reports, right before an effect outside the store, whether the
// lock given to HoldModuleLock's function is still held; an error means
// it was lost and the effect must not happen.
type Fence func() error

// Holder is implemented by shared engines (Postgres): a module's lock held
// while a function runs ordinary Views and Updates, for cycles that call
// other services (each with transactions of their own) and so cannot run
// inside one transaction.
type Holder interface {
	HoldModuleLock(ctx context.Context, module string, wait bool, fn func(ctx context.Context, fence Fence) error) (ran bool, err error)
}

// HoldModuleLock runs fn while this process holds module's lock when e is
// a Holder; without wait it skips fn (ran false) when another replica
// holds it. On a store one process owns it just runs fn.
func HoldModuleLock(ctx context.Context, e Engine, module string, wait bool, fn func(ctx context.Context, fence Fence) error) (bool, error) {
	if h, ok := e.(Holder); ok {
		return h.HoldModuleLock(ctx, module, wait, fn)
	}
	return true, fn(ctx, func() error { return nil })
}

// pgHoldWait bounds how long a waiting HoldModuleLock queues behind
// another replica's hold.
const pgHoldWait = 10 * time.Second

// holdSlot returns the one-slot semaphore of module in this process, so
// at most one connection per module waits on or holds the row lock.
func (p *Postgres) holdSlot(module string) chan struct{} {
	v, _ := p.holds.LoadOrStore(module, make(chan struct{}, 1))
	return v.(chan struct{})
}

// HoldModuleLock takes module's row in module_locks FOR UPDATE (NOWAIT
// unless wait) in a transaction of its own, runs fn while holding it, and
// ends the transaction. A keep-alive statement runs on the holding session
// while fn runs, so a live holder keeps its lock however long fn takes; a
// paused or dead one loses it when the server ends its idle session
// (idle_in_transaction_session_timeout). fn's context is then cancelled,
// and fence fails. See Holder.
func (p *Postgres) HoldModuleLock(ctx context.Context, module string, wait bool, fn func(ctx context.Context, fence Fence) error) (ran bool, err error) {
	if module == "" || !utf8.ValidString(module) || strings.IndexByte(module, 0) >= 0 || len(module) > MaxBucketNameLen {
		return false, fmt.Errorf("%w: module lock name %q", ErrInvalidKey, module)
	}
	if p.closed.Load() {
		return false, ErrClosed
	}
	if err := checkCtx(ctx); err != nil {
		return false, err
	}
	slot := p.holdSlot(module)
	if wait {
		select {
		case slot <- struct{}{}:
		case <-ctx.Done():
			return false, fmt.Errorf("store: waiting for module lock %s: %w", module, ctx.Err())
		}
	} else {
		select {
		case slot <- struct{}{}:
		default:
			return false, nil // this process is in the cycle already
		}
	}
	defer func() { <-slot }()
	if _, ok := p.locksMade.Load(module); !ok {
		if _, err := p.pool.Exec(ctx, `INSERT INTO module_locks (module) VALUES ($1) ON CONFLICT DO NOTHING`, module); err != nil {
			return false, p.mapErr("module lock", err)
		}
		p.locksMade.Store(module, true)
	}
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return false, p.mapErr("begin", err)
	}
	var txMu sync.Mutex // the holding session runs one statement at a time
	defer func() {
		txMu.Lock()
		_ = tx.Rollback(context.WithoutCancel(ctx)) // it wrote nothing
		txMu.Unlock()
	}()
	q := `SELECT 1 FROM module_locks WHERE module = $1 FOR UPDATE NOWAIT`
	if wait {
		if _, err := tx.Exec(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d`, pgHoldWait.Milliseconds())); err != nil {
			return false, p.mapErr("module lock", err)
		}
		q = `SELECT 1 FROM module_locks WHERE module = $1 FOR UPDATE`
	}
	var one int
	err = tx.QueryRow(ctx, q, module).Scan(&one)
	switch {
	case pgCode(err) == pgLockNotAvailable && !wait:
		if p.pgm != nil {
			p.pgm.lockSkips.WithLabelValues(module).Inc()
		}
		return false, nil
	case err != nil:
		return false, p.mapErr("module lock "+module, err)
	}

	fctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	lost := errors.New("store: module lock " + module + " lost (the session holding it ended)")
	check := func() error {
		txMu.Lock()
		defer txMu.Unlock()
		if _, err := tx.Exec(fctx, `SELECT 1`); err != nil {
			cancel(lost)
			return fmt.Errorf("%w: %w", lost, err)
		}
		return nil
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(p.idleInTx / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-fctx.Done():
				return
			case <-t.C:
				if check() != nil {
					return
				}
			}
		}
	}()
	err = fn(fctx, check)
	close(stop)
	<-done
	if err == nil && context.Cause(fctx) == lost {
		err = lost
	}
	return true, err
}

// Bucket of probe run claims, keyed by (slot, probe, location), and of
// the flap-suppressed state replicas share, keyed by probe.
const (
	bucketProbeClaims = "probe_claims"
	bucketProbeFlaps  = "probe_flaps"
	probeFlapVersion  = 1
)

// ProbeClaims implements probes.RunClaimer and probes.FlapStore on an
// Engine, for replicas sharing it.
type ProbeClaims struct {
	e       Engine
	replica string
}

var (
	_ probes.RunClaimer = (*ProbeClaims)(nil)
	_ probes.FlapStore  = (*ProbeClaims)(nil)
)

// NewProbeClaims returns the claims store over e; claims record
// WriterID(e) as the replica that made them.
func NewProbeClaims(e Engine) *ProbeClaims { return &ProbeClaims{e: e, replica: WriterID(e)} }

// ClaimRun inserts the claim of (probe, location, slot) unless it exists,
// in one transaction: of replicas claiming together, exactly one inserts
// it (the others' SERIALIZABLE transactions conflict, run again and find
// it).
func (s *ProbeClaims) ClaimRun(ctx context.Context, probe, location string, slot time.Time) (bool, error) {
	key := Key{}.Time(slot).String(probe).String(location)
	won := false
	err := s.e.Update(ctx, func(tx Tx) error {
		won = false
		b, err := tx.Bucket(bucketProbeClaims)
		if err != nil {
			return err
		}
		old, err := b.Get(key)
		if err != nil || old != nil {
			return err
		}
		won = true
		return b.Put(key, []byte(s.replica))
	})
	if err != nil {
		return false, fmt.Errorf("claim run of probe %s at %s: %w", probe, slot.UTC().Format(time.RFC3339Nano), err)
	}
	return won, nil
}

// PruneClaims deletes the claims of slots before before.
func (s *ProbeClaims) PruneClaims(ctx context.Context, before time.Time) error {
	if err := deleteBefore(ctx, s.e, bucketProbeClaims, Key{}.Time(before)); err != nil {
		return fmt.Errorf("prune probe claims: %w", err)
	}
	return nil
}

// deleteBefore deletes every key of bucket before end, a chunk per
// transaction so none grows large after a long pause.
func deleteBefore(ctx context.Context, e Engine, bucket string, end []byte) error {
	for {
		n := 0
		err := e.Update(ctx, func(tx Tx) error {
			b, err := tx.Bucket(bucket)
			if err != nil {
				return err
			}
			var keys [][]byte
			if err := b.Scan(nil, end, false, func(k, _ []byte) (bool, error) {
				keys = append(keys, clone(k))
				return len(keys) < rumPruneChunk, nil
			}); err != nil {
				return err
			}
			n = len(keys)
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || n < rumPruneChunk {
			return err
		}
	}
}

// UpdateFlap runs fn on the stored flap state of probe and stores the
// result, in one transaction.
func (s *ProbeClaims) UpdateFlap(ctx context.Context, probe string, fn func(old []byte) ([]byte, error)) error {
	key := Key{}.String(probe)
	err := s.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketProbeFlaps)
		if err != nil {
			return err
		}
		v, err := b.Get(key)
		if err != nil {
			return err
		}
		var body []byte
		if v != nil {
			if _, body, err = SplitVersion(v, probeFlapVersion); err != nil {
				return err
			}
		}
		next, err := fn(body)
		if err != nil {
			return err
		}
		return b.Put(key, append([]byte{probeFlapVersion}, next...))
	})
	if err != nil {
		return fmt.Errorf("update flap state of probe %s: %w", probe, err)
	}
	return nil
}

// Flap returns the stored flap state of probe, nil when none.
func (s *ProbeClaims) Flap(ctx context.Context, probe string) ([]byte, error) {
	var body []byte
	err := s.e.View(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketProbeFlaps)
		if err != nil {
			return err
		}
		v, err := b.Get(Key{}.String(probe))
		if err != nil || v == nil {
			return err
		}
		_, body, err = SplitVersion(v, probeFlapVersion)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read flap state of probe %s: %w", probe, err)
	}
	return body, nil
}

// AlertingLock is the alerting.Locker of replicas sharing e (nil on a
// store one process owns, where alerting keeps its state in memory).
func AlertingLock(e Engine) alerting.Locker {
	if _, ok := e.(Holder); !ok {
		return nil
	}
	return alertingLock{e: e}
}

// alertingModule names the alert state machine's lock among replicas.
const alertingModule = "alerting"

type alertingLock struct{ e Engine }

func (l alertingLock) HoldLock(ctx context.Context, wait bool, fn func(ctx context.Context, fence func() error) error) (bool, error) {
	return HoldModuleLock(ctx, l.e, alertingModule, wait, func(ctx context.Context, fence Fence) error { return fn(ctx, fence) })
}

// bucketProbeStates holds the latest probe state per (probe, location),
// for the replica that evaluates the alert rules.
const bucketProbeStates = "alerting_probe_states"

var _ alerting.ProbeStateStore = (*Alerting)(nil)

// PutProbeState stores st unless the stored state of its probe and
// location comes from a later run.
func (s *Alerting) PutProbeState(ctx context.Context, st model.ProbeState) error {
	v, err := EncodeJSON(alertingValueFormat, st)
	if err != nil {
		return fmt.Errorf("encode probe state %s: %w", st.Probe, err)
	}
	key := Key{}.String(st.Probe).String(st.Location)
	err = s.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketProbeStates)
		if err != nil {
			return err
		}
		old, err := b.Get(key)
		if err != nil {
			return err
		}
		if old != nil {
			var cur model.ProbeState
			if _, err := DecodeJSON(old, alertingValueFormat, &cur); err == nil && cur.LastRun.After(st.LastRun) {
				return nil
			}
		}
		return b.Put(key, v)
	})
	if err != nil {
		return fmt.Errorf("store probe state %s: %w", st.Probe, err)
	}
	return nil
}

// ProbeStates returns the latest state of every probe and location.
func (s *Alerting) ProbeStates(ctx context.Context) ([]model.ProbeState, error) {
	var out []model.ProbeState
	err := s.e.View(ctx, func(tx Tx) error {
		return scanAlertingValues(tx, bucketProbeStates, func(v []byte) error {
			var st model.ProbeState
			if _, err := DecodeJSON(v, alertingValueFormat, &st); err != nil {
				return err
			}
			out = append(out, st)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load probe states: %w", err)
	}
	return out, nil
}

// handOffLocation is a hand-off part's location in its claim key: none
// for the direct message, so a claim made before the note was claimed
// apart still counts for it.
func handOffLocation(part string) string {
	if part == "message" {
		return ""
	}
	return part
}

// DeliveryClaims implements slack.DeliveryClaimer on the probe claims'
// bucket: one claim per delivery, keyed by when Slack sent it, so the
// claims are pruned with the probes' after a day (Slack redelivers within
// minutes).
type DeliveryClaims struct{ runs *ProbeClaims }

// NewDeliveryClaims returns the Slack delivery claims of e.
func NewDeliveryClaims(e Engine) *DeliveryClaims { return &DeliveryClaims{runs: NewProbeClaims(e)} }

// ClaimDelivery reports whether this call claimed key first. Its key is
// "slack " and key with no location, apart from the probes' runs and the
// hand-offs. A delivery without a sending time counts as sent now.
func (s *DeliveryClaims) ClaimDelivery(ctx context.Context, key string, sent time.Time) (bool, error) {
	if sent.IsZero() {
		sent = time.Now()
	}
	return s.runs.ClaimRun(ctx, "slack "+key, "", sent)
}

// ClaimDeliveryWithin is ClaimDelivery for a delivery whose copies carry
// no common sending time (a modal's submission: each copy has only the
// time Slack sent that copy). Copies sent less than within apart count
// as one delivery, in whichever order they arrive: the claim is kept
// under sent truncated to within, and a claim under that window or either
// window beside it is found (so copies in neighbouring windows, up to
// twice within apart, count as one too). Checking both neighbours also
// makes two replicas claiming copies on either side of a window's edge
// together read each other's key, so one of them conflicts and loses.
// Like ClaimDelivery's, the claims are pruned with the probes' a day
// after their window. within must be positive.
func (s *DeliveryClaims) ClaimDeliveryWithin(ctx context.Context, key string, sent time.Time, within time.Duration) (bool, error) {
	slot, err := deliveryWindow(sent, within)
	if err != nil {
		return false, err
	}
	before := Key{}.Time(slot.Add(-within)).String("slack " + key).String("")
	mine := Key{}.Time(slot).String("slack " + key).String("")
	after := Key{}.Time(slot.Add(within)).String("slack " + key).String("")
	won := false
	err = s.runs.e.Update(ctx, func(tx Tx) error {
		won = false
		b, err := tx.Bucket(bucketProbeClaims)
		if err != nil {
			return err
		}
		for _, k := range [][]byte{before, mine, after} {
			old, err := b.Get(k)
			if err != nil || old != nil {
				return err
			}
		}
		won = true
		return b.Put(mine, []byte(s.runs.replica))
	})
	if err != nil {
		return false, fmt.Errorf("claim Slack delivery %s: %w", key, err)
	}
	return won, nil
}

// ReleaseDeliveryWithin deletes the claim ClaimDeliveryWithin made for
// the copy of key sent at sent, so the next copy wins again (acting on
// this one failed).
func (s *DeliveryClaims) ReleaseDeliveryWithin(ctx context.Context, key string, sent time.Time, within time.Duration) error {
	slot, err := deliveryWindow(sent, within)
	if err != nil {
		return err
	}
	mine := Key{}.Time(slot).String("slack " + key).String("")
	err = s.runs.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketProbeClaims)
		if err != nil {
			return err
		}
		return b.Delete(mine)
	})
	if err != nil {
		return fmt.Errorf("release Slack delivery %s: %w", key, err)
	}
	return nil
}

// deliveryWindow is the window a copy sent at sent is claimed under; a
// copy without a sending time counts as sent now.
func deliveryWindow(sent time.Time, within time.Duration) (time.Time, error) {
	if within <= 0 {
		return time.Time{}, fmt.Errorf("claim window %s: must be positive", within)
	}
	if sent.IsZero() {
		sent = time.Now()
	}
	return sent.Truncate(within), nil
}

// HandOffClaims implements slack.HandOffClaimer on the probe claims'
// bucket (one claim per schedule and shift start, pruned with them), so
// replicas sharing the store announce a hand-off once.
type HandOffClaims struct{ runs *ProbeClaims }

// NewHandOffClaims returns the hand-off claims of e.
func NewHandOffClaims(e Engine) *HandOffClaims { return &HandOffClaims{runs: NewProbeClaims(e)} }

// ClaimHandOff reports whether this call claimed part of schedule's
// hand-off at start first. Its key is "hand-off " and the schedule, with
// the part as the location (none for the message, as before parts were
// claimed apart), apart from the probes' runs.
func (s *HandOffClaims) ClaimHandOff(ctx context.Context, schedule, part string, start time.Time) (bool, error) {
	return s.runs.ClaimRun(ctx, "hand-off "+schedule, handOffLocation(part), start)
}

// ReleaseHandOff deletes the claim of part of schedule's hand-off at
// start, so the next ClaimHandOff of it wins again.
func (s *HandOffClaims) ReleaseHandOff(ctx context.Context, schedule, part string, start time.Time) error {
	key := Key{}.Time(start).String("hand-off " + schedule).String(handOffLocation(part))
	err := s.runs.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketProbeClaims)
		if err != nil {
			return err
		}
		return b.Delete(key)
	})
	if err != nil {
		return fmt.Errorf("release the hand-off of %s at %s: %w", schedule, start.UTC().Format(time.RFC3339), err)
	}
	return nil
}
