package changes

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Store keeps changes; the store package implements it on every engine.
type Store interface {
	// Add stores c under a new ID and returns it.
	Add(ctx context.Context, c Change) (Change, error)
	// List returns the changes at or after from and before to, of the
	// services given (every service when none), newest first, at most
	// limit.
	List(ctx context.Context, services []string, from, to time.Time, limit int) ([]Change, error)
	// Prune deletes the changes that happened before cut and returns how
	// many.
	Prune(ctx context.Context, cut time.Time) (int, error)
}

// Limits of a query.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
	// DefaultSpan is how far back a query without from reaches.
	DefaultSpan = 7 * 24 * time.Hour
	// Lookback is how long before an incident started its services'
	// changes are listed with it.
	Lookback = 2 * time.Hour
	// maxRecent bounds the changes shown beside one incident.
	maxRecent = 20
)

// Service records and answers change markers.
type Service struct {
	store Store
	log   *slog.Logger
	now   func() time.Time
}

// NewService returns the service over st; nil now means time.Now.
func NewService(st Store, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, log: log.With("component", "changes"), now: now}
}

// Record checks and stores a change reported by actor.
func (s *Service) Record(ctx context.Context, n NewChange, actor string) (Change, error) {
	now := s.now()
	c, err := n.Check(now)
	if err != nil {
		return Change{}, err
	}
	c.RecordedAt, c.RecordedBy = now.UTC(), actor
	c, err = s.store.Add(ctx, c)
	if err != nil {
		return Change{}, fmt.Errorf("record change: %w", err)
	}
	s.log.Info("change recorded", "id", c.ID, "service", c.Service, "kind", string(c.Kind), "actor", actor)
	return c, nil
}

// Query is what GET /api/v1/changes asks: zero times mean now (to) and
// DefaultSpan before to (from); zero limit means DefaultLimit.
type Query struct {
	Service  string
	From, To time.Time
	Limit    int
}

// List answers q, newest first.
func (s *Service) List(ctx context.Context, q Query) ([]Change, error) {
	if q.To.IsZero() {
		q.To = s.now().Add(MaxFuture)
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-DefaultSpan)
	}
	switch {
	case !q.From.Before(q.To):
		return nil, invalid("from must be before to")
	case q.Limit < 0 || q.Limit > MaxLimit:
		return nil, invalid("limit must be between 1 and %d", MaxLimit)
	case q.Limit == 0:
		q.Limit = DefaultLimit
	}
	var services []string
	if q.Service != "" {
		services = []string{q.Service}
	}
	return s.store.List(ctx, services, q.From, q.To, q.Limit)
}

// Before returns the changes to services in the Lookback before start,
// newest first (at most 20): what an incident that started then lists.
func (s *Service) Before(ctx context.Context, services []string, start time.Time) ([]Change, error) {
	if len(services) == 0 {
		return nil, nil
	}
	services = slices.Compact(slices.Sorted(slices.Values(services)))
	return s.store.List(ctx, services, start.Add(-Lookback), start.Add(time.Nanosecond), maxRecent)
}

// Prune deletes what is past Retention.
func (s *Service) Prune(ctx context.Context) (int, error) {
	return s.store.Prune(ctx, s.now().Add(-Retention))
}

// Run prunes hourly until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.Prune(ctx); err != nil {
			s.log.Warn("prune changes", "err", err)
		} else if n > 0 {
			s.log.Info("pruned changes past retention", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
