// Package audit is the audit log: who changed what, when, through which
// channel and from where. Adapters record an Entry for every change they
// carry out (web for API and dashboard requests, slack for buttons and
// commands, the app for reloads); the log keeps entries in its Store,
// lists them newest first with filters, and forgets them after the
// retention.
package audit

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// MaxLimit bounds one page of List.
const MaxLimit = 1000

// Entry is one change.
type Entry struct {
	// ID orders entries: later entries have larger IDs.
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// Actor is the person's or token's name; Role the role it acted
	// with; Channel api, ui, slack or config.
	Actor   string `json:"actor"`
	Role    string `json:"role,omitempty"`
	Channel string `json:"channel"`
	// Action says what was done: an HTTP method and route template
	// ("POST /api/v1/incidents/:id/acknowledge"), or a Slack action
	// ("slack acknowledge").
	Action string `json:"action"`
	// Target is what was changed: the route's parameters
	// ("id=42"), or an incident ("#42").
	Target string `json:"target,omitempty"`
	// Outcome is the HTTP status of the answer (for API and dashboard
	// requests) or "ok".
	Outcome string `json:"outcome"`
	// SourceIP is the client's address, when known.
	SourceIP string `json:"source_ip,omitempty"`
	// Before and After are the changed fields' values before and after
	// the change ("severity=warning commander=ana"), when the adapter
	// knows them; each at most MaxChange bytes.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// MaxChange bounds Entry.Before and Entry.After.
const MaxChange = 256

// Query filters List; zero fields filter nothing.
type Query struct {
	Actor, Channel string
	// Action keeps entries whose action contains it.
	Action string
	From   time.Time
	To     time.Time
	// Before keeps entries with smaller IDs (paging: pass the last ID of
	// the previous page).
	Before int64
	Limit  int
}

// Store keeps entries; store.Audit implements it on every engine.
type Store interface {
	// Append stores e with the next ID and returns it.
	Append(ctx context.Context, e Entry) (Entry, error)
	// List returns entries with ID < before (0: any), newest first,
	// for which keep is true, up to limit.
	List(ctx context.Context, before int64, limit int, keep func(Entry) bool) ([]Entry, error)
	// Prune deletes entries older than cut and returns how many.
	Prune(ctx context.Context, cut time.Time) (int, error)
}

// Log records and lists entries. Safe for concurrent use.
type Log struct {
	store Store
	log   *slog.Logger
	now   func() time.Time
	// retention is how long entries are kept (nanoseconds).
	retention atomic.Int64
}

// SetRetention changes how long entries are kept, from the next pruning
// on (hourly).
func (l *Log) SetRetention(d time.Duration) { l.retention.Store(int64(d)) }

// Retention is how long entries are kept now.
func (l *Log) Retention() time.Duration { return time.Duration(l.retention.Load()) }

// New returns the log over st.
func New(st Store, log *slog.Logger, now func() time.Time) *Log {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	l := &Log{store: st, log: log.With("component", "audit"), now: now}
	l.SetRetention(config.DefaultAuditRetention) // until the config says otherwise
	return l
}

// maxField bounds each recorded text.
const maxField = 512

func clip(s string) string { return clipTo(s, maxField) }

func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// Record stores what actor did. Failing to store is logged and returned:
// the change itself has already happened.
func (l *Log) Record(ctx context.Context, a model.Actor, action, target, outcome, sourceIP string) error {
	return l.RecordChange(ctx, a, action, target, outcome, sourceIP, "", "")
}

// RecordChange is Record with what the changed fields held before and
// after (cut to MaxChange bytes).
func (l *Log) RecordChange(ctx context.Context, a model.Actor, action, target, outcome, sourceIP, before, after string) error {
	name := a.Name
	if name == "" {
		name = "anonymous"
	}
	e := Entry{At: l.now().UTC(), Actor: clip(name), Role: a.Role, Channel: a.Channel, Action: clip(action),
		Target: clip(target), Outcome: clip(outcome), SourceIP: sourceIP, Before: clipTo(before, MaxChange), After: clipTo(after, MaxChange)}
	if _, err := l.store.Append(ctx, e); err != nil {
		l.log.Error("audit entry not stored", "actor", e.Actor, "action", e.Action, "err", err)
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// invalidQuery is a query the caller must change.
type invalidQuery string

func (e invalidQuery) Error() string { return "invalid audit query: " + string(e) }

// Invalid marks the error as the caller's to fix (HTTP 400).
func (invalidQuery) Invalid() bool { return true }

// List returns the entries q selects, newest first.
func (l *Log) List(ctx context.Context, q Query) ([]Entry, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if q.Limit > MaxLimit {
		return nil, invalidQuery(fmt.Sprintf("limit must be at most %d", MaxLimit))
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return nil, invalidQuery("from must be before to")
	}
	return l.store.List(ctx, q.Before, q.Limit, func(e Entry) bool {
		return (q.Actor == "" || strings.EqualFold(e.Actor, q.Actor)) &&
			(q.Channel == "" || e.Channel == q.Channel) &&
			(q.Action == "" || strings.Contains(e.Action, q.Action)) &&
			(q.From.IsZero() || !e.At.Before(q.From)) &&
			(q.To.IsZero() || e.At.Before(q.To))
	})
}

// Prune deletes the entries older than the retention and returns how
// many.
func (l *Log) Prune(ctx context.Context) (int, error) {
	return l.store.Prune(ctx, l.now().Add(-l.Retention()))
}

// Run prunes entries past the retention hourly until ctx ends.
func (l *Log) Run(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := l.Prune(ctx); err != nil && ctx.Err() == nil {
			l.log.Warn("audit pruning failed", "err", err)
		} else if n > 0 {
			l.log.Info("audit entries past the retention deleted", "entries", n, "retention", l.Retention().String())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
