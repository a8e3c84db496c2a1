package incidents

import (
	"context"
	"slices"
	"time"
)

// RecentChange is a change (a deploy, a config push, a feature flag) to
// one of an incident's services shortly before it started: the first
// answer to "what changed?". The changes package provides them through
// internal/app.
type RecentChange struct {
	ID      int64     `json:"id"`
	Service string    `json:"service"`
	Title   string    `json:"title"`
	Kind    string    `json:"kind"`
	URL     string    `json:"url,omitempty"`
	At      time.Time `json:"at"`
	// Words says it for people: "deploy checkout: v42, 12 min before".
	Words string `json:"words"`
}

// ChangeSource lists the changes to services in the hours before start,
// newest first.
type ChangeSource interface {
	ChangesBefore(ctx context.Context, services []string, start time.Time) ([]RecentChange, error)
}

// SetChangeSource plugs the change markers in; pages and the incident API
// then list the changes before each incident.
func (s *Service) SetChangeSource(c ChangeSource) {
	s.mu.Lock()
	s.changes = c
	s.mu.Unlock()
}

// Services are the services an incident is about: its service label and
// its alerts', sorted, without repeats.
func Services(inc *Incident) []string {
	var out []string
	if v := inc.Labels["service"]; v != "" {
		out = append(out, v)
	}
	for _, a := range inc.Alerts {
		if v := a.Labels["service"]; v != "" {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Started is when the incident's trouble started: the earliest start of
// its alerts, or when it was opened if that is earlier (declared).
func Started(inc *Incident) time.Time {
	t := inc.CreatedAt
	for _, a := range inc.Alerts {
		if !a.StartsAt.IsZero() && a.StartsAt.Before(t) {
			t = a.StartsAt
		}
	}
	return t
}

// RecentChanges lists the changes to inc's services before it started;
// empty when no change source is set or it fails (logged).
func (s *Service) RecentChanges(ctx context.Context, inc *Incident) []RecentChange {
	s.mu.RLock()
	src := s.changes
	s.mu.RUnlock()
	out := []RecentChange{}
	services := Services(inc)
	if src == nil || len(services) == 0 {
		return out
	}
	cs, err := src.ChangesBefore(ctx, services, Started(inc))
	if err != nil {
		s.log.Warn("changes before incident", "incident", inc.ID, "err", err)
		return out
	}
	return append(out, cs...)
}
