package incidents

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

// OpenHook is told about every incident that opens (from alerts or
// declared by a person), after the incident is stored. It is called on the
// opener's goroutine, so it must return quickly and do slow work (running
// runbook diagnostics) elsewhere; inc must not be modified.
type OpenHook interface {
	IncidentOpened(ctx context.Context, inc *Incident)
}

// ResolveHook is told about every incident that resolves (by a person or
// because its alerts resolved), after the change is stored; the same rules
// as for OpenHook apply. Postmortems are drafted from it.
type ResolveHook interface {
	IncidentResolved(ctx context.Context, inc *Incident)
}

// hookSet holds the hooks added through AddOpenHook and AddResolveHook.
type hookSet struct {
	mu      sync.RWMutex
	open    []OpenHook
	resolve []ResolveHook
}

// AddOpenHook registers h to be told about incidents that open.
func (s *Service) AddOpenHook(h OpenHook) {
	s.hooks.mu.Lock()
	s.hooks.open = append(s.hooks.open, h)
	s.hooks.mu.Unlock()
}

// AddResolveHook registers h to be told about incidents that resolve.
func (s *Service) AddResolveHook(h ResolveHook) {
	s.hooks.mu.Lock()
	s.hooks.resolve = append(s.hooks.resolve, h)
	s.hooks.mu.Unlock()
}

func (s *Service) fireOpened(ctx context.Context, inc *Incident) {
	if inc == nil {
		return
	}
	s.hooks.mu.RLock()
	hs := s.hooks.open
	s.hooks.mu.RUnlock()
	for _, h := range hs {
		h.IncidentOpened(ctx, inc.Clone())
	}
}

func (s *Service) fireResolved(ctx context.Context, inc *Incident) {
	if inc == nil {
		return
	}
	s.hooks.mu.RLock()
	hs := s.hooks.resolve
	s.hooks.mu.RUnlock()
	for _, h := range hs {
		h.IncidentResolved(ctx, inc.Clone())
	}
}

// KindDiagnostic is the timeline kind of a runbook diagnostic's output;
// KindPostmortem marks a postmortem's status changes.
const (
	KindDiagnostic = "diagnostic"
	KindPostmortem = "postmortem"
)

// maxNoteLen caps a note's text; longer text is cut with an ellipsis.
const maxNoteLen = 4000

// AddNote appends an entry to an incident's timeline (diagnostic output,
// postmortem changes) without notifying any pager. It works on incidents in
// any status.
func (s *Service) AddNote(ctx context.Context, id int64, kind, actor, text string) (*Incident, error) {
	if strings.TrimSpace(kind) == "" {
		return nil, errorf(ErrInvalid, "a note needs a kind")
	}
	if utf8.RuneCountInString(text) > maxNoteLen {
		r := []rune(text)
		text = string(r[:maxNoteLen-1]) + "…"
	}
	return s.change(ctx, id, func(_ Tx, inc *Incident, now time.Time) error {
		inc.note(now, kind, actorOr(actor), "%s", text)
		return nil
	})
}

// Remind sends a reminder about an incident's follow-up work (a postmortem
// left in draft, an overdue action item) through every pager as an
// announcement, so Slack posts it in its channel and the console and email
// pagers deliver it where Slack is not configured. people are names of
// people (people:) to reach directly, such as an action item's owner; the
// email pager writes to them. key identifies the reminder; the same key
// (and a.At) enqueued twice is delivered once.
func (s *Service) Remind(ctx context.Context, key string, a model.Announcement, people []string) error {
	if a.At.IsZero() {
		a.At = s.now()
	}
	if a.Severity.Rank() == 0 {
		a.Severity = model.SeverityInfo
	}
	var recipients []oncall.Person
	for _, name := range people {
		if p, ok := s.onCall().People.Resolve(name); ok {
			recipients = append(recipients, p)
		}
	}
	now := s.now()
	err := s.update(ctx, func(tx Tx) error {
		for _, pg := range s.activePagers() {
			ann := a
			ann.Labels = a.Labels.Clone()
			n := Notification{Kind: KindAnnouncement, Announcement: &ann, Recipients: recipients, Responders: recipients}
			n.Key = fmt.Sprintf("reminder/%s/%d/%s", key, a.At.UnixNano(), pg.Name())
			if _, err := tx.Enqueue(OutboxEntry{Key: n.Key, Pager: pg.Name(), Notification: n, DueAt: now, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remind %s: %w", key, err)
	}
	return nil
}
