package incidents

import (
	"context"
	"errors"
	"time"

	"github.com/sentinel-oss/sentinel/incidents/oncall"
)

// Store keeps incidents, their escalation timers, on-call overrides and the
// delivery outbox. It is shaped as transactions so that an incident's new
// escalation state and the outbox entries for the step it fired commit
// together: a crash leaves either both or neither. The store package
// implements it on bbolt; MemoryStore is the in-memory implementation.
// Implementations must be safe for concurrent use.
type Store interface {
	// View runs fn in a read-only transaction over one consistent snapshot.
	View(ctx context.Context, fn func(ReadTx) error) error
	// Update runs fn in a write transaction that commits when fn returns
	// nil and keeps nothing when it returns an error (returned unchanged).
	Update(ctx context.Context, fn func(Tx) error) error
	Outbox
}

// ReadTx reads inside a transaction.
type ReadTx interface {
	// Get returns the incident, or an error wrapping ErrNotFound.
	Get(id int64) (*Incident, error)
	// ByDedupKey returns the newest incident with key, or nil.
	ByDedupKey(key string) (*Incident, error)
	// List returns incidents newest first per q.
	List(q ListQuery) ([]*Incident, error)
	// Due returns the IDs of incidents whose timer is at or before now,
	// earliest first, at most limit.
	Due(now time.Time, limit int) ([]int64, error)
	// NextTimer returns the earliest timer, false when there is none.
	NextTimer() (time.Time, bool, error)
	// Overrides returns the stored on-call overrides that end after t.
	Overrides(t time.Time) ([]oncall.Override, error)
}

// Tx reads and writes inside a transaction.
type Tx interface {
	ReadTx
	// NextID returns the next sequential incident ID (1, 2, ...).
	NextID() (int64, error)
	// Put writes inc, keeping the dedup, open and timer indexes in step
	// with it (the timer at inc.TimerAt()).
	Put(inc *Incident) error
	// Enqueue adds an outbox entry due at e.DueAt; an entry with the same
	// Key already present (in any state) makes it a no-op returning false.
	Enqueue(e OutboxEntry) (bool, error)
	// PutOverride stores an on-call override under o.ID.
	PutOverride(o oncall.Override) error
	// DeleteOverride removes the stored override id and returns it;
	// false when there is none.
	DeleteOverride(id string) (oncall.Override, bool, error)
}

// ListQuery selects incidents for List.
type ListQuery struct {
	// Status is "", "open", or one of the three statuses.
	Status string
	// Before, when non-zero, returns only incidents with smaller IDs.
	Before int64
	// Limit caps the result (at least 1).
	Limit int
	// From and To, when set, keep incidents created in [From, To).
	From, To time.Time
}

// Matches reports whether inc passes the status and time filters.
func (q ListQuery) Matches(inc *Incident) bool {
	switch q.Status {
	case "":
	case "open":
		if !inc.Status.Open() {
			return false
		}
	default:
		if string(inc.Status) != q.Status {
			return false
		}
	}
	if !q.From.IsZero() && inc.CreatedAt.Before(q.From) {
		return false
	}
	if !q.To.IsZero() && !inc.CreatedAt.Before(q.To) {
		return false
	}
	return true
}

// OpenOnly reports whether only open incidents can match (so a store may
// scan its index of open incidents).
func (q ListQuery) OpenOnly() bool {
	return q.Status == "open" || q.Status == string(StatusTriggered) || q.Status == string(StatusAcknowledged)
}

// CycleLocker is implemented by stores that several replicas share: it runs
// one engine cycle's transaction under the named module's lock, so that
// one replica at a time runs the cycle; ran is false (and fn did not run)
// when another replica holds the lock.
type CycleLocker interface {
	UpdateLocked(ctx context.Context, module string, fn func(Tx) error) (ran bool, err error)
}

// Outbox is the durable queue between the incident service and the pagers:
// claim (with a lease), then complete, retry later, or fail over to the
// fallback. An entry still in flight when its lease ends (the process died
// mid-delivery) is claimed again with Reclaimed set, so the pager can check
// whether it was delivered before sending again.
type Outbox interface {
	// Claim reserves up to limit entries due at now (pending ones, and in
	// flight ones whose lease ended) until now+lease, counting an attempt.
	// An entry about an incident is not claimed while an earlier entry of
	// the same incident and pager is unfinished: replicas delivering in
	// parallel must not let an update overtake the page it edits.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxEntry, error)
	// Complete marks a claimed entry delivered.
	Complete(ctx context.Context, c ClaimRef, now time.Time) error
	// Retry puts a claimed entry back, due at at.
	Retry(ctx context.Context, c ClaimRef, at time.Time, lastErr string) error
	// Fail marks a claimed entry failed for good and, in the same
	// transaction, enqueues fallback when it is not nil.
	//
	// Complete, Retry and Fail change nothing and return ErrStaleClaim when
	// the entry is no longer in flight under that claim: a process paused
	// past its lease must not undo what the replica that reclaimed the
	// entry did (a late Retry would otherwise send a page a second time).
	Fail(ctx context.Context, c ClaimRef, now time.Time, lastErr string, fallback *OutboxEntry) error
	// NextDue is when the earliest pending entry is due (or its lease
	// ends), false when nothing is waiting.
	NextDue(ctx context.Context) (time.Time, bool, error)
	// Entries returns every entry not yet pruned, oldest first (for
	// inspection and tests).
	Entries(ctx context.Context) ([]OutboxEntry, error)
	// Prune deletes delivered and failed entries finished before t.
	Prune(ctx context.Context, t time.Time) error
}

// LiveClaims is implemented by outboxes that several replicas share and
// whose claims die with the process that made them (store.Incidents on
// PostgreSQL): an entry in flight under a claimer that died is claimed
// again as soon as the death is known, not when its lease ends. The
// delivery loop then claims at least every second (an idle Claim only
// reads).
type LiveClaims interface {
	// FenceClaim returns an error unless e's claim is still this
	// process's (its claimer alive), so that nobody else can have taken
	// it over; it is checked right before the pager call.
	FenceClaim(ctx context.Context, e OutboxEntry) error
}

// Outbox entry states.
const (
	EntryPending  = "pending"
	EntryInFlight = "in_flight"
	EntryDone     = "delivered"
	EntryFailed   = "failed"
)

// ClaimRef names one claim of an outbox entry: the entry and the attempt
// the claim counted. Only the latest claim of an entry still in flight may
// finish it.
type ClaimRef struct {
	ID      uint64
	Attempt int
}

// ErrStaleClaim is returned when a claim is finished after the entry was
// reclaimed or finished by someone else; the caller drops its outcome.
var ErrStaleClaim = errors.New("outbox claim is stale: the entry was reclaimed or finished elsewhere")

// IncidentID is the incident the entry is about, 0 for none (an
// announcement); entries of one incident and pager are delivered in order.
func (e OutboxEntry) IncidentID() int64 {
	if e.Notification.Incident == nil {
		return 0
	}
	return e.Notification.Incident.ID
}

// Finished reports whether the entry was delivered or given up.
func (e OutboxEntry) Finished() bool { return e.State == EntryDone || e.State == EntryFailed }

// Claim is the reference to this claimed entry.
func (e OutboxEntry) Claim() ClaimRef { return ClaimRef{ID: e.ID, Attempt: e.Attempts} }

// OutboxEntry is one delivery to one pager.
type OutboxEntry struct {
	ID uint64 `json:"id"`
	// Key is the idempotency key: (incident, epoch, pass, step, target)
	// for pages, (incident, timeline position) for updates, plus the pager.
	Key          string       `json:"key"`
	Pager        string       `json:"pager"`
	Notification Notification `json:"notification"`
	State        string       `json:"state"`
	Attempts     int          `json:"attempts"`
	DueAt        time.Time    `json:"due_at"`
	LeaseUntil   time.Time    `json:"lease_until,omitzero"`
	// Claimer names the process that claimed the entry last, on stores
	// whose claims die with their claimer (empty elsewhere).
	Claimer    string    `json:"claimer,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	LastError  string    `json:"last_error,omitempty"`
	// Reclaimed is set by Claim when the entry was found in flight after
	// its lease ended.
	Reclaimed bool `json:"reclaimed,omitempty"`
	// Fallback marks an entry created after the original's retries ran out.
	Fallback bool `json:"fallback,omitempty"`
}
