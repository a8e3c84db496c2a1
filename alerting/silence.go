package alerting

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sort"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Silences and maintenance windows are both stored as Silence records:
// matchers and a span of time during which the alerts they select do not
// page. A silence is a person's mute; a maintenance window (Kind
// "maintenance") is planned work, announced when it starts and ends, and
// left out of the budget of SLOs that ask for that. This file holds the
// record and the operations on it that both share.

// KindMaintenance marks a Silence record that is a maintenance window.
const KindMaintenance = "maintenance"

// Silence mutes the alerts its matchers select between StartsAt and EndsAt.
// Muted alerts still show (with silenced: true) but do not page.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  Matchers  `json:"matchers"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedBy string    `json:"created_by"`
	Comment   string    `json:"comment"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiredBy names who ended the silence early ("" when it ran out).
	ExpiredBy string `json:"expired_by,omitempty"`
	// WarnedAt is when its coming expiry was announced.
	WarnedAt time.Time `json:"warned_at,omitzero"`
	// ExpiryHandled is set once its end was dealt with (announced or not needed).
	ExpiryHandled bool `json:"expiry_handled,omitempty"`
	// UpdatedAt is when it was created or last changed in place.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// Actor names the authenticated caller that created it, when that is
	// not CreatedBy (Alertmanager clients name their user as the author).
	Actor string `json:"actor,omitempty"`
	// Kind is "" for a silence and KindMaintenance for a maintenance window.
	Kind string `json:"kind,omitempty"`
	// Recurring names the alerting.maintenance entry a window is an
	// occurrence of ("" for a one-off window).
	Recurring string `json:"recurring,omitempty"`
	// StartAnnounced is set once a maintenance window's start was announced.
	StartAnnounced bool `json:"start_announced,omitempty"`
}

// kindNoun names a record's kind in messages.
func kindNoun(kind string) string {
	if kind == KindMaintenance {
		return "maintenance window"
	}
	return "silence"
}

// SilenceStatus is where a silence is in time.
type SilenceStatus string

// Silence statuses, as Alertmanager names them.
const (
	SilencePending SilenceStatus = "pending"
	SilenceActive  SilenceStatus = "active"
	SilenceExpired SilenceStatus = "expired"
)

// Status returns the silence's status at now.
func (s Silence) Status(now time.Time) SilenceStatus {
	switch {
	case !now.Before(s.EndsAt):
		return SilenceExpired
	case now.Before(s.StartsAt):
		return SilencePending
	}
	return SilenceActive
}

// Active reports whether the silence mutes at now.
func (s Silence) Active(now time.Time) bool { return s.Status(now) == SilenceActive }

// Mutes reports whether the silence mutes an alert with labels l at now.
func (s Silence) Mutes(l model.Labels, now time.Time) bool {
	return s.Active(now) && s.Matchers.Matches(l)
}

// NewSilence is what a person asks for: matchers and a time span.
type NewSilence struct {
	// Matchers are texts in Alertmanager's syntax (each may hold several,
	// as in `service=checkout,env=prod`) or matcher objects.
	Matchers []MatcherInput
	StartsAt time.Time // zero: now
	EndsAt   time.Time // zero: StartsAt + Duration
	Duration time.Duration
	Comment  string
	Author   string
	// Actor is the authenticated caller, recorded when it differs from Author.
	Actor string
}

// maxSilenceMatchers and maxCommentLen bound a silence's size.
const (
	maxSilenceMatchers = 32
	maxCommentLen      = 4096
)

// build validates a request into a silence (or, with kind, a maintenance
// window) at now. Neither may start in the past: a window cannot be
// declared after the fact to take an outage out of an SLO's budget.
func (n NewSilence) build(p MatcherParser, now time.Time, maxDuration time.Duration, kind string) (Silence, error) {
	ms, err := buildMatchers(p, n.Matchers)
	if err != nil {
		return Silence{}, err
	}
	s := Silence{Comment: n.Comment, CreatedBy: n.Author, CreatedAt: now.UTC(), UpdatedAt: now.UTC(), Matchers: ms, Kind: kind}
	if n.Actor != n.Author {
		s.Actor = n.Actor
	}
	if len(n.Comment) > maxCommentLen {
		return Silence{}, invalidf("comment: at most %d bytes", maxCommentLen)
	}
	if n.Author == "" {
		return Silence{}, invalidf("a %s needs an author", kindNoun(kind))
	}
	s.StartsAt = n.StartsAt
	if s.StartsAt.IsZero() || s.StartsAt.Before(now) {
		s.StartsAt = now
	}
	s.StartsAt = s.StartsAt.UTC()
	s.EndsAt = n.EndsAt.UTC()
	if n.EndsAt.IsZero() {
		if n.Duration <= 0 {
			return Silence{}, invalidf("set ends_at or duration")
		}
		s.EndsAt = s.StartsAt.Add(n.Duration)
	}
	if !s.EndsAt.After(s.StartsAt) {
		return Silence{}, invalidf("ends_at must be after starts_at and in the future")
	}
	if maxDuration > 0 && s.EndsAt.Sub(s.StartsAt) > maxDuration {
		return Silence{}, invalidf("a %s may last at most %s", kindNoun(kind), model.Duration(maxDuration))
	}
	s.ID = newID()
	return s, nil
}

// buildMatchers parses a silence's (or maintenance window's) matchers and
// refuses sets that would mute every alert, as Alertmanager does.
func buildMatchers(p MatcherParser, in []MatcherInput) (Matchers, error) {
	if len(in) == 0 {
		return nil, invalidf("matchers: at least one matcher is required, such as \"service=checkout\"")
	}
	ms, err := p.Build(in)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, invalidf("matchers: at least one matcher is required, such as \"service=checkout\"")
	}
	if len(ms) > maxSilenceMatchers {
		return nil, invalidf("matchers: at most %d", maxSilenceMatchers)
	}
	if ms.SelectsEverything() {
		return nil, invalidf("matchers: they would match every alert; add one that requires a label value")
	}
	return ms, nil
}

// newID returns a random version 4 UUID, the form Alertmanager gives
// silence IDs (some clients check it).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// canUpdateInPlace reports whether prev may become next without losing
// the history of what was muted, by Alertmanager's rule: same matchers;
// an active silence keeps its start and may not end in the past; a pending
// one may not start in the past; an expired one never changes.
func canUpdateInPlace(prev, next Silence, now time.Time) bool {
	if prev.Matchers.String() != next.Matchers.String() {
		return false
	}
	switch prev.Status(now) {
	case SilenceActive:
		return prev.StartsAt.Unix() == next.StartsAt.Unix() && !next.EndsAt.Before(now)
	case SilencePending:
		return !next.StartsAt.Before(now)
	}
	return false
}

// buildFor validates a request for a record of kind with the settings in
// force (a reload may change them): the matcher syntax, and the longest a
// silence may last (windows have no cap).
func (s *Service) buildFor(n NewSilence, now time.Time, kind string) (Silence, error) {
	s.mu.Lock()
	p, maxDur := s.parser, s.cfg.Silences.MaxDuration.Std()
	s.mu.Unlock()
	if kind == KindMaintenance {
		maxDur = 0
	}
	return n.build(p, now, maxDur, kind)
}

// CreateSilence validates and stores a new silence, and re-mutes alerts at once.
func (s *Service) CreateSilence(ctx context.Context, n NewSilence) (Silence, error) {
	return s.createMute(ctx, n, "")
}

// UpdateSilence changes silence id to what n asks, as Alertmanager does:
// in place (same ID) when the matchers are the same and history is kept
// (an active silence keeps its start, a pending one starts in the future);
// otherwise the old silence is expired and a new one, with a new ID, takes
// its place. ErrNotFound when there is no such silence.
func (s *Service) UpdateSilence(ctx context.Context, id string, n NewSilence) (Silence, error) {
	return s.updateMute(ctx, id, n, "")
}

// Silence returns one silence; ErrNotFound when there is none with id.
func (s *Service) Silence(ctx context.Context, id string) (Silence, error) {
	return s.getMute(ctx, id, "")
}

// Silences returns every silence kept (pending, active and recently
// expired), newest first, with its status at now.
func (s *Service) Silences(ctx context.Context) ([]Silence, error) {
	return s.listMutes(ctx, "")
}

// ExpireSilence ends a silence now (a person's decision, so no expiry
// announcement follows); ErrNotFound when there is no such silence.
func (s *Service) ExpireSilence(ctx context.Context, id, actor string) (Silence, error) {
	return s.endMute(ctx, id, actor, "")
}

func (s *Service) createMute(ctx context.Context, n NewSilence, kind string) (Silence, error) {
	now := s.now()
	sl, err := s.buildFor(n, now, kind)
	if err != nil {
		return Silence{}, err
	}
	err = s.exclusive(ctx, func(ctx context.Context) error {
		return s.changeMutes(ctx, now, func() error { return s.putMuteLocked(ctx, sl) })
	})
	if err != nil {
		return Silence{}, err
	}
	return sl, nil
}

// changeMutes runs change on the loaded state, then re-mutes alerts, saves
// and hands changed groups over.
func (s *Service) changeMutes(ctx context.Context, now time.Time, change func() error) error {
	s.mu.Lock()
	if err := s.loadLocked(ctx); err != nil {
		s.mu.Unlock()
		return err
	}
	if err := change(); err != nil {
		s.mu.Unlock()
		return err
	}
	s.refreshMutesLocked(now)
	_ = s.saveLocked(ctx)
	s.mu.Unlock()
	_ = s.flush(ctx, now)
	return nil
}

// putMuteLocked stores sl and keeps it in memory.
func (s *Service) putMuteLocked(ctx context.Context, sl Silence) error {
	if err := s.store.PutSilence(ctx, sl); err != nil {
		return err
	}
	s.silences[sl.ID] = &sl
	return nil
}

// muteLocked finds record id of kind.
func (s *Service) muteLocked(id, kind string) (*Silence, error) {
	sl, ok := s.silences[id]
	if !ok || sl.Kind != kind {
		return nil, notFoundf("no %s with id %q", kindNoun(kind), truncate(id, 64))
	}
	return sl, nil
}

func (s *Service) updateMute(ctx context.Context, id string, n NewSilence, kind string) (Silence, error) {
	now := s.now()
	next, err := s.buildFor(n, now, kind)
	if err != nil {
		return Silence{}, err
	}
	var out Silence
	err = s.exclusive(ctx, func(ctx context.Context) error {
		return s.changeMutes(ctx, now, func() error {
			prev, err := s.muteLocked(id, kind)
			if err != nil {
				return err
			}
			if prev.Recurring != "" {
				return conflictf("maintenance window %s is an occurrence of alerting.maintenance %q: change it in the config, or end this occurrence", short(id), prev.Recurring)
			}
			cand := next
			if !n.StartsAt.IsZero() {
				cand.StartsAt = n.StartsAt.UTC()
			}
			if canUpdateInPlace(*prev, cand, now) {
				c := *prev
				c.StartsAt, c.EndsAt, c.Comment, c.CreatedBy, c.Actor, c.UpdatedAt = cand.StartsAt, cand.EndsAt, cand.Comment, cand.CreatedBy, cand.Actor, now.UTC()
				c.WarnedAt, c.ExpiryHandled = time.Time{}, false
				out = c
				return s.putMuteLocked(ctx, c)
			}
			if prev.Status(now) != SilenceExpired {
				c := *prev
				c.EndsAt, c.ExpiredBy, c.UpdatedAt = now, n.Actor, now.UTC()
				c.ExpiryHandled = kind != KindMaintenance // a window's end is announced
				if c.ExpiredBy == "" {
					c.ExpiredBy = n.Author
				}
				if c.StartsAt.After(now) {
					c.StartsAt = now
				}
				if err := s.putMuteLocked(ctx, c); err != nil {
					return err
				}
			}
			out = next
			return s.putMuteLocked(ctx, next)
		})
	})
	if err != nil {
		return Silence{}, err
	}
	return out, nil
}

func (s *Service) getMute(ctx context.Context, id, kind string) (Silence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.freshLocked(ctx); err != nil {
		return Silence{}, err
	}
	sl, err := s.muteLocked(id, kind)
	if err != nil {
		return Silence{}, err
	}
	c := *sl
	c.Matchers = append(Matchers(nil), sl.Matchers...)
	return c, nil
}

func (s *Service) listMutes(ctx context.Context, kind string) ([]Silence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.freshLocked(ctx); err != nil {
		return nil, err
	}
	out := make([]Silence, 0, len(s.silences))
	for _, sl := range s.silences {
		if sl.Kind != kind {
			continue
		}
		c := *sl
		c.Matchers = append(Matchers(nil), sl.Matchers...)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// endMute ends a record now. A silence ended by hand is not announced; a
// maintenance window's end is (by the next pass, at once here).
func (s *Service) endMute(ctx context.Context, id, actor, kind string) (Silence, error) {
	now := s.now()
	var out Silence
	err := s.exclusive(ctx, func(ctx context.Context) error {
		return s.changeMutes(ctx, now, func() error {
			sl, err := s.muteLocked(id, kind)
			if err != nil {
				return err
			}
			if sl.Status(now) != SilenceExpired {
				c := *sl
				c.EndsAt, c.ExpiredBy, c.UpdatedAt = now, actor, now.UTC()
				c.ExpiryHandled = kind != KindMaintenance
				if c.StartsAt.After(now) {
					c.StartsAt = now
				}
				if err := s.putMuteLocked(ctx, c); err != nil {
					return err
				}
			}
			out = *s.silences[id]
			return nil
		})
	})
	if err != nil {
		return Silence{}, err
	}
	return out, nil
}
