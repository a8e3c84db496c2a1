package alerting

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

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

// build validates a request into a silence at now.
func (n NewSilence) build(p MatcherParser, now time.Time, maxDuration time.Duration) (Silence, error) {
	ms, err := buildMatchers(p, n.Matchers)
	if err != nil {
		return Silence{}, err
	}
	s := Silence{Comment: n.Comment, CreatedBy: n.Author, CreatedAt: now.UTC(), UpdatedAt: now.UTC(), Matchers: ms}
	if n.Actor != n.Author {
		s.Actor = n.Actor
	}
	if len(n.Comment) > maxCommentLen {
		return Silence{}, invalidf("comment: at most %d bytes", maxCommentLen)
	}
	if n.Author == "" {
		return Silence{}, invalidf("a silence needs an author")
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
		return Silence{}, invalidf("a silence may last at most %s", model.Duration(maxDuration))
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
