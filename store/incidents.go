package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
)

// Buckets of the incident store. Incidents are keyed by their sequential
// ID; the other buckets are indexes kept in step by Put, and the outbox
// with its idempotency keys and due-time index.
const (
	bucketIncidents      = "incidents"
	bucketIncidentDedup  = "incidents_by_dedup_key"
	bucketIncidentOpen   = "incidents_open"
	bucketIncidentTimers = "incident_timers"
	bucketOverrides      = "oncall_overrides"
	bucketOutbox         = "outbox"
	bucketOutboxKeys     = "outbox_keys"
	bucketOutboxDue      = "outbox_due"
	bucketOutboxInFlight = "outbox_in_flight"
	bucketOutboxOpen     = "outbox_unfinished_by_incident"
	incidentVersion      = 1
	outboxVersion        = 1
	overrideVersion      = 1
)

// Incidents implements incidents.Store on an Engine.
type Incidents struct {
	e Engine
	// live is set when the engine tells live processes from dead ones
	// (PostgreSQL): claims then name their claimer and die with it.
	live claimLiveness
}

var (
	_ incidents.Store       = (*Incidents)(nil)
	_ incidents.CycleLocker = (*Incidents)(nil)
	_ incidents.LiveClaims  = (*Incidents)(nil)
)

// claimLiveness is what the outbox needs from an engine whose claims die
// with the process that made them (Postgres).
type claimLiveness interface {
	Incarnation() (string, error)
	CheckAlive(ctx context.Context, id string) error
	DeadClaimers(ctx context.Context, ids []string) (map[string]bool, error)
}

// NewIncidents returns the incident store over e.
func NewIncidents(e Engine) *Incidents {
	s := &Incidents{e: e}
	if l, ok := e.(claimLiveness); ok {
		s.live = l
	}
	return s
}

type incTx struct {
	tx      Tx
	buckets map[string]Bucket
	// lastScanned is the last key scanIDs read (for the next page).
	lastScanned []byte
}

func (t *incTx) b(name string) (Bucket, error) {
	if b, ok := t.buckets[name]; ok {
		return b, nil
	}
	b, err := t.tx.Bucket(name)
	if err != nil {
		return nil, err
	}
	t.buckets[name] = b
	return b, nil
}

// View runs fn in a read-only transaction.
func (s *Incidents) View(ctx context.Context, fn func(incidents.ReadTx) error) error {
	return s.e.View(ctx, func(tx Tx) error { return fn(&incTx{tx: tx, buckets: map[string]Bucket{}}) })
}

// Update runs fn in a write transaction.
func (s *Incidents) Update(ctx context.Context, fn func(incidents.Tx) error) error {
	return s.e.Update(ctx, func(tx Tx) error { return fn(&incTx{tx: tx, buckets: map[string]Bucket{}}) })
}

// dedupKey keeps long keys (Alertmanager group keys can be long) within
// the key limit by hashing them.
func dedupKey(k string) []byte {
	if len(k) <= 512 {
		return Key{}.String(k)
	}
	sum := sha256.Sum256([]byte(k))
	return Key{}.String("sha256:" + fmt.Sprintf("%x", sum))
}

func (t *incTx) Get(id int64) (*incidents.Incident, error) {
	b, err := t.b(bucketIncidents)
	if err != nil {
		return nil, err
	}
	v, err := b.Get(Uint64Key(uint64(id)))
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("%w: no incident #%d", incidents.ErrNotFound, id)
	}
	var inc incidents.Incident
	if _, err := DecodeJSON(v, incidentVersion, &inc); err != nil {
		return nil, fmt.Errorf("decode incident #%d: %w", id, err)
	}
	return &inc, nil
}

func (t *incTx) ByDedupKey(key string) (*incidents.Incident, error) {
	if key == "" {
		return nil, nil
	}
	b, err := t.b(bucketIncidentDedup)
	if err != nil {
		return nil, err
	}
	v, err := b.Get(dedupKey(key))
	if err != nil || v == nil {
		return nil, err
	}
	id, err := ParseUint64Key(v)
	if err != nil {
		return nil, err
	}
	return t.Get(int64(id))
}

func (t *incTx) List(q incidents.ListQuery) ([]*incidents.Incident, error) {
	limit := max(q.Limit, 1)
	var to []byte
	if q.Before > 0 {
		to = Uint64Key(uint64(q.Before))
	}
	var out []*incidents.Incident
	decode := func(v []byte) error {
		var inc incidents.Incident
		if _, err := DecodeJSON(v, incidentVersion, &inc); err != nil {
			return fmt.Errorf("decode incident: %w", err)
		}
		if q.Matches(&inc) {
			out = append(out, &inc)
		}
		return nil
	}
	if q.OpenOnly() {
		open, err := t.b(bucketIncidentOpen)
		if err != nil {
			return nil, err
		}
		var ids [][]byte
		if err := open.Scan(nil, to, true, func(k, _ []byte) (bool, error) {
			ids = append(ids, append([]byte(nil), k...))
			return true, nil
		}); err != nil {
			return nil, err
		}
		all, err := t.b(bucketIncidents)
		if err != nil {
			return nil, err
		}
		for _, k := range ids {
			if len(out) >= limit {
				break
			}
			v, err := all.Get(k)
			if err != nil {
				return nil, err
			}
			if v != nil {
				if err := decode(v); err != nil {
					return nil, err
				}
			}
		}
		return out, nil
	}
	all, err := t.b(bucketIncidents)
	if err != nil {
		return nil, err
	}
	err = all.Scan(nil, to, true, func(_, v []byte) (bool, error) {
		if err := decode(v); err != nil {
			return false, err
		}
		return len(out) < limit, nil
	})
	return out, err
}

func (t *incTx) Due(now time.Time, limit int) ([]int64, error) {
	b, err := t.b(bucketIncidentTimers)
	if err != nil {
		return nil, err
	}
	var ids []int64
	end := Key{}.Time(now.Add(time.Nanosecond))
	err = b.Scan(nil, end, false, func(k, _ []byte) (bool, error) {
		r := ReadKey(k)
		_, _ = r.Time()
		id, err := r.Uint64()
		if err != nil {
			return false, fmt.Errorf("incident timer key: %w", err)
		}
		ids = append(ids, int64(id))
		return len(ids) < limit, nil
	})
	return ids, err
}

func (t *incTx) NextTimer() (time.Time, bool, error) {
	b, err := t.b(bucketIncidentTimers)
	if err != nil {
		return time.Time{}, false, err
	}
	var at time.Time
	found := false
	err = b.Scan(nil, nil, false, func(k, _ []byte) (bool, error) {
		at, err = ReadKey(k).Time()
		found = err == nil
		return false, err
	})
	return at, found, err
}

func (t *incTx) Overrides(at time.Time) ([]oncall.Override, error) {
	b, err := t.b(bucketOverrides)
	if err != nil {
		return nil, err
	}
	var out []oncall.Override
	err = b.Scan(nil, nil, false, func(_, v []byte) (bool, error) {
		var o oncall.Override
		if _, err := DecodeJSON(v, overrideVersion, &o); err != nil {
			return false, fmt.Errorf("decode override: %w", err)
		}
		if o.End.After(at) {
			out = append(out, o)
		}
		return true, nil
	})
	return out, err
}

func (t *incTx) NextID() (int64, error) {
	b, err := t.b(bucketIncidents)
	if err != nil {
		return 0, err
	}
	n, err := b.NextSequence()
	return int64(n), err
}

func timerKey(at time.Time, id int64) []byte { return Key{}.Time(at).Uint64(uint64(id)) }

func (t *incTx) Put(inc *incidents.Incident) error {
	if inc.ID <= 0 {
		return fmt.Errorf("put incident with ID %d", inc.ID)
	}
	all, err := t.b(bucketIncidents)
	if err != nil {
		return err
	}
	timers, err := t.b(bucketIncidentTimers)
	if err != nil {
		return err
	}
	open, err := t.b(bucketIncidentOpen)
	if err != nil {
		return err
	}
	key := Uint64Key(uint64(inc.ID))
	if old, err := t.Get(inc.ID); err == nil {
		if at := old.TimerAt(); at != nil {
			if err := timers.Delete(timerKey(*at, old.ID)); err != nil {
				return err
			}
		}
	}
	val, err := EncodeJSON(incidentVersion, inc)
	if err != nil {
		return fmt.Errorf("encode incident #%d: %w", inc.ID, err)
	}
	if err := all.Put(key, val); err != nil {
		return err
	}
	if at := inc.TimerAt(); at != nil {
		if err := timers.Put(timerKey(*at, inc.ID), []byte{}); err != nil {
			return err
		}
	}
	if inc.Status.Open() {
		err = open.Put(key, []byte{})
	} else {
		err = open.Delete(key)
	}
	if err != nil {
		return err
	}
	if inc.DedupKey != "" {
		dd, err := t.b(bucketIncidentDedup)
		if err != nil {
			return err
		}
		dk := dedupKey(inc.DedupKey)
		cur, err := dd.Get(dk)
		if err != nil {
			return err
		}
		if n, perr := ParseUint64Key(cur); cur == nil || perr != nil || n <= uint64(inc.ID) {
			if err := dd.Put(dk, key); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *incTx) PutOverride(o oncall.Override) error {
	b, err := t.b(bucketOverrides)
	if err != nil {
		return err
	}
	val, err := EncodeJSON(overrideVersion, o)
	if err != nil {
		return err
	}
	return b.Put(Key{}.String(o.ID), val)
}

func (t *incTx) DeleteOverride(id string) (oncall.Override, bool, error) {
	b, err := t.b(bucketOverrides)
	if err != nil {
		return oncall.Override{}, false, err
	}
	key := Key{}.String(id)
	v, err := b.Get(key)
	if err != nil || v == nil {
		return oncall.Override{}, false, err
	}
	var o oncall.Override
	if _, err := DecodeJSON(v, overrideVersion, &o); err != nil {
		return o, false, fmt.Errorf("decode override %q: %w", id, err)
	}
	return o, true, b.Delete(key)
}

func (t *incTx) Enqueue(e incidents.OutboxEntry) (bool, error) {
	keys, err := t.b(bucketOutboxKeys)
	if err != nil {
		return false, err
	}
	k := []byte(e.Key)
	if len(k) == 0 || len(k) > 4096 {
		return false, fmt.Errorf("outbox key of %d bytes", len(k))
	}
	if v, err := keys.Get(k); err != nil || v != nil {
		return false, err
	}
	out, err := t.b(bucketOutbox)
	if err != nil {
		return false, err
	}
	id, err := out.NextSequence()
	if err != nil {
		return false, err
	}
	e.ID, e.State, e.Claimer = id, incidents.EntryPending, ""
	if err := t.putEntry(e, nil); err != nil {
		return false, err
	}
	return true, keys.Put(k, Uint64Key(id))
}

// dueAt is when an entry next needs attention (zero for finished ones).
func dueAt(e incidents.OutboxEntry) time.Time {
	switch e.State {
	case incidents.EntryPending:
		return e.DueAt
	case incidents.EntryInFlight:
		return e.LeaseUntil
	}
	return time.Time{}
}

// inFlightKey indexes an entry in flight under its claimer.
func inFlightKey(claimer string, id uint64) []byte { return Key{}.String(claimer).Uint64(id) }

// openPrefix and openKey index the unfinished entries of one incident and
// pager in order, so Claim can keep them in order.
func openPrefix(pager string, incident int64) Key { return Key{}.String(pager).Int64(incident) }

func openKey(e incidents.OutboxEntry) []byte { return openPrefix(e.Pager, e.IncidentID()).Uint64(e.ID) }

// firstOpen reports whether e is the earliest unfinished entry of its
// incident and pager (entries indexed before the index existed count as
// first).
func (t *incTx) firstOpen(e incidents.OutboxEntry) (bool, error) {
	if e.IncidentID() == 0 {
		return true, nil
	}
	open, err := t.b(bucketOutboxOpen)
	if err != nil {
		return false, err
	}
	prefix := openPrefix(e.Pager, e.IncidentID())
	first := true
	err = open.Scan(prefix, PrefixEnd(prefix), false, func(k, _ []byte) (bool, error) {
		r := ReadKey(k)
		_, _ = r.String()
		_, _ = r.Int64()
		id, err := r.Uint64()
		if err != nil {
			return false, fmt.Errorf("outbox order key: %w", err)
		}
		first = id >= e.ID
		return false, nil
	})
	return first, err
}

// putEntry writes e and moves its due and in-flight index entries from
// where prev (e as it was, nil for a new entry) had them.
func (t *incTx) putEntry(e incidents.OutboxEntry, prev *incidents.OutboxEntry) error {
	out, err := t.b(bucketOutbox)
	if err != nil {
		return err
	}
	due, err := t.b(bucketOutboxDue)
	if err != nil {
		return err
	}
	flying, err := t.b(bucketOutboxInFlight)
	if err != nil {
		return err
	}
	if prev != nil {
		if old := dueAt(*prev); !old.IsZero() {
			if err := due.Delete(Key{}.Time(old).Uint64(e.ID)); err != nil {
				return err
			}
		}
		if prev.State == incidents.EntryInFlight && prev.Claimer != "" {
			if err := flying.Delete(inFlightKey(prev.Claimer, e.ID)); err != nil {
				return err
			}
		}
	}
	if e.State == incidents.EntryInFlight && e.Claimer != "" {
		if err := flying.Put(inFlightKey(e.Claimer, e.ID), []byte{}); err != nil {
			return err
		}
	}
	if e.IncidentID() != 0 {
		open, err := t.b(bucketOutboxOpen)
		if err != nil {
			return err
		}
		switch {
		case prev == nil && !e.Finished():
			err = open.Put(openKey(e), []byte{})
		case prev != nil && !prev.Finished() && e.Finished():
			err = open.Delete(openKey(e))
		}
		if err != nil {
			return err
		}
	}
	e.Reclaimed = false
	val, err := EncodeJSON(outboxVersion, e)
	if err != nil {
		return fmt.Errorf("encode outbox entry: %w", err)
	}
	if err := out.Put(Uint64Key(e.ID), val); err != nil {
		return err
	}
	if at := dueAt(e); !at.IsZero() {
		return due.Put(Key{}.Time(at).Uint64(e.ID), []byte{})
	}
	return nil
}

func (t *incTx) entry(id uint64) (incidents.OutboxEntry, error) {
	var e incidents.OutboxEntry
	out, err := t.b(bucketOutbox)
	if err != nil {
		return e, err
	}
	v, err := out.Get(Uint64Key(id))
	if err != nil {
		return e, err
	}
	if v == nil {
		return e, fmt.Errorf("%w: no outbox entry %d", incidents.ErrNotFound, id)
	}
	_, err = DecodeJSON(v, outboxVersion, &e)
	return e, err
}

// Claim reserves due entries; see incidents.Outbox. On an engine that
// tells live processes from dead ones, the claim names this process's
// incarnation, and entries in flight under a claimer found dead are
// claimed again at once rather than when their lease ends.
func (s *Incidents) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]incidents.OutboxEntry, error) {
	claimer := ""
	var dead map[string]bool
	if s.live != nil {
		var err error
		if claimer, err = s.live.Incarnation(); err != nil {
			return nil, err
		}
		// Replicas look every second (incidents.LiveClaims): a read first,
		// so that an idle look writes nothing.
		due, others, err := s.dueAndClaimers(ctx, now, claimer)
		if err != nil {
			return nil, err
		}
		if len(others) > 0 {
			if dead, err = s.live.DeadClaimers(ctx, others); err != nil {
				return nil, err
			}
		}
		if !due && len(dead) == 0 {
			return nil, nil
		}
	}
	var claimed []incidents.OutboxEntry
	err := s.e.Update(ctx, func(tx Tx) error {
		claimed = nil
		t := &incTx{tx: tx, buckets: map[string]Bucket{}}
		seen := map[uint64]bool{}
		// try claims the entry id when it is due (or its claimer dead)
		// and no earlier entry of its incident is unfinished.
		try := func(id uint64) error {
			if seen[id] {
				return nil
			}
			seen[id] = true
			e, err := t.entry(id)
			if err != nil {
				return err
			}
			prev := e
			at := dueAt(e)
			reclaimed := e.State == incidents.EntryInFlight
			orphaned := reclaimed && e.Claimer != "" && dead[e.Claimer]
			if at.IsZero() || (at.After(now) && !orphaned) {
				return nil
			}
			if first, err := t.firstOpen(e); err != nil || !first {
				return err // an earlier entry of its incident goes first
			}
			e.State, e.Attempts, e.LeaseUntil, e.Claimer = incidents.EntryInFlight, e.Attempts+1, now.Add(lease), claimer
			if err := t.putEntry(e, &prev); err != nil {
				return err
			}
			e.Reclaimed = reclaimed
			claimed = append(claimed, e)
			return nil
		}
		// tryAll tries ids in order until the limit is reached.
		tryAll := func(ids []uint64) error {
			for _, id := range ids {
				if len(claimed) >= limit {
					return nil
				}
				if err := try(id); err != nil {
					return err
				}
			}
			return nil
		}
		// Entries of dead claimers first: they have waited longest.
		for _, c := range slices.Sorted(maps.Keys(dead)) {
			prefix := Key{}.String(c)
			ids, err := scanIDs(t, bucketOutboxInFlight, prefix, PrefixEnd(prefix), claimScanPage)
			if err != nil {
				return err
			}
			if err := tryAll(ids); err != nil {
				return err
			}
		}
		// Then what is due, a page of the index at a time: entries waiting
		// behind an earlier one of their incident are passed over, not
		// counted against the limit.
		from, end := []byte(nil), Key{}.Time(now.Add(time.Nanosecond))
		for len(claimed) < limit {
			ids, err := scanIDs(t, bucketOutboxDue, from, end, claimScanPage)
			if err != nil {
				return err
			}
			if err := tryAll(ids); err != nil {
				return err
			}
			if len(ids) < claimScanPage {
				return nil
			}
			from = t.lastScanned
		}
		return nil
	})
	return claimed, err
}

// claimScanPage is how many index keys Claim reads at a time.
const claimScanPage = 64

// scanIDs reads up to n keys of bucket in [from, to) (from excluded when
// it is the key a previous page ended on) and returns the entry IDs their
// last part names; t.lastScanned is the last key read.
func scanIDs(t *incTx, bucket string, from, to []byte, n int) ([]uint64, error) {
	b, err := t.b(bucket)
	if err != nil {
		return nil, err
	}
	var ids []uint64
	after := from != nil && t.lastScanned != nil && string(from) == string(t.lastScanned)
	err = b.Scan(from, to, false, func(k, _ []byte) (bool, error) {
		if after && string(k) == string(from) {
			return true, nil
		}
		if len(k) < 8 {
			return false, fmt.Errorf("outbox index key of %d bytes", len(k))
		}
		id, err := ParseUint64Key(k[len(k)-8:])
		if err != nil {
			return false, fmt.Errorf("outbox index key: %w", err)
		}
		ids = append(ids, id)
		t.lastScanned = clone(k)
		return len(ids) < n, nil
	})
	return ids, err
}

// dueAndClaimers reads whether an entry is due at now and which claimers
// other than self have entries in flight.
func (s *Incidents) dueAndClaimers(ctx context.Context, now time.Time, self string) (due bool, others []string, err error) {
	err = s.e.View(ctx, func(tx Tx) error {
		due, others = false, nil
		db, err := tx.Bucket(bucketOutboxDue)
		if err != nil {
			return err
		}
		if err := db.Scan(nil, Key{}.Time(now.Add(time.Nanosecond)), false, func(_, _ []byte) (bool, error) {
			due = true
			return false, nil
		}); err != nil {
			return err
		}
		b, err := tx.Bucket(bucketOutboxInFlight)
		if err != nil {
			return err
		}
		var from []byte
		for {
			var next string
			found := false
			if err := b.Scan(from, nil, false, func(k, _ []byte) (bool, error) {
				c, err := ReadKey(k).String()
				if err != nil {
					return false, fmt.Errorf("outbox in-flight key: %w", err)
				}
				next, found = c, true
				return false, nil
			}); err != nil || !found {
				return err
			}
			if next != self {
				others = append(others, next)
			}
			if from = PrefixEnd(Key{}.String(next)); from == nil { // skip to the next claimer
				return nil
			}
		}
	})
	return due, others, err
}

// FenceClaim returns an error unless the process that claimed e is this
// one and is still alive, so that no other replica can have taken e over;
// see incidents.LiveClaims. Claims made without a claimer (a store one
// process owns) always pass: their lease guards them.
func (s *Incidents) FenceClaim(ctx context.Context, e incidents.OutboxEntry) error {
	if s.live == nil || e.Claimer == "" {
		return nil
	}
	return s.live.CheckAlive(ctx, e.Claimer)
}

func (s *Incidents) finish(ctx context.Context, c incidents.ClaimRef, fn func(t *incTx, e *incidents.OutboxEntry) error) error {
	return s.e.Update(ctx, func(tx Tx) error {
		t := &incTx{tx: tx, buckets: map[string]Bucket{}}
		e, err := t.entry(c.ID)
		if err != nil {
			return err
		}
		if e.State != incidents.EntryInFlight || e.Attempts != c.Attempt {
			return incidents.ErrStaleClaim // reclaimed or finished by someone else
		}
		prev := e
		if err := fn(t, &e); err != nil {
			return err
		}
		return t.putEntry(e, &prev)
	})
}

// Complete marks an entry delivered.
func (s *Incidents) Complete(ctx context.Context, c incidents.ClaimRef, now time.Time) error {
	return s.finish(ctx, c, func(_ *incTx, e *incidents.OutboxEntry) error {
		e.State, e.FinishedAt, e.LeaseUntil = incidents.EntryDone, now, time.Time{}
		return nil
	})
}

// Retry puts an entry back, due at at.
func (s *Incidents) Retry(ctx context.Context, c incidents.ClaimRef, at time.Time, lastErr string) error {
	return s.finish(ctx, c, func(_ *incTx, e *incidents.OutboxEntry) error {
		e.State, e.DueAt, e.LastError, e.LeaseUntil = incidents.EntryPending, at, lastErr, time.Time{}
		return nil
	})
}

// Fail marks an entry failed and enqueues the fallback in the same
// transaction.
func (s *Incidents) Fail(ctx context.Context, c incidents.ClaimRef, now time.Time, lastErr string, fallback *incidents.OutboxEntry) error {
	return s.finish(ctx, c, func(t *incTx, e *incidents.OutboxEntry) error {
		e.State, e.LastError, e.FinishedAt, e.LeaseUntil = incidents.EntryFailed, lastErr, now, time.Time{}
		if fallback != nil {
			_, err := t.Enqueue(*fallback)
			return err
		}
		return nil
	})
}

// NextDue is the earliest time an entry can be claimed.
func (s *Incidents) NextDue(ctx context.Context) (time.Time, bool, error) {
	var at time.Time
	found := false
	err := s.e.View(ctx, func(tx Tx) error {
		due, err := tx.Bucket(bucketOutboxDue)
		if err != nil {
			return err
		}
		return due.Scan(nil, nil, false, func(k, _ []byte) (bool, error) {
			at, err = ReadKey(k).Time()
			found = err == nil
			return false, err
		})
	})
	return at, found, err
}

// Entries lists every entry, oldest first.
func (s *Incidents) Entries(ctx context.Context) ([]incidents.OutboxEntry, error) {
	var out []incidents.OutboxEntry
	err := s.e.View(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketOutbox)
		if err != nil {
			return err
		}
		return b.Scan(nil, nil, false, func(_, v []byte) (bool, error) {
			var e incidents.OutboxEntry
			if _, err := DecodeJSON(v, outboxVersion, &e); err != nil {
				return false, err
			}
			out = append(out, e)
			return true, nil
		})
	})
	return out, err
}

// Prune deletes delivered and failed entries finished before t, with
// their idempotency keys.
func (s *Incidents) Prune(ctx context.Context, t time.Time) error {
	return s.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketOutbox)
		if err != nil {
			return err
		}
		keys, err := tx.Bucket(bucketOutboxKeys)
		if err != nil {
			return err
		}
		var drop []incidents.OutboxEntry
		if err := b.Scan(nil, nil, false, func(_, v []byte) (bool, error) {
			var e incidents.OutboxEntry
			if _, err := DecodeJSON(v, outboxVersion, &e); err != nil {
				return false, err
			}
			if (e.State == incidents.EntryDone || e.State == incidents.EntryFailed) && e.FinishedAt.Before(t) {
				drop = append(drop, e)
			}
			return true, nil
		}); err != nil {
			return err
		}
		for _, e := range drop {
			if err := b.Delete(Uint64Key(e.ID)); err != nil {
				return err
			}
			if err := keys.Delete([]byte(e.Key)); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpdateLocked runs fn in a transaction holding module's lock (see
// Locker); on an engine without locks it is a plain Update.
func (s *Incidents) UpdateLocked(ctx context.Context, module string, fn func(incidents.Tx) error) (bool, error) {
	return WithModuleLock(ctx, s.e, module, func(tx Tx) error { return fn(&incTx{tx: tx, buckets: map[string]Bucket{}}) })
}
