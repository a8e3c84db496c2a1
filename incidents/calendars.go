package incidents

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

// CalendarFeed is a subscription to a schedule's shifts (or one person's
// shifts in it) as an iCalendar feed. Its secret token is shown once, when
// it is made; only its SHA-256 is stored.
type CalendarFeed struct {
	ID        string    `json:"id"`
	Schedule  string    `json:"schedule"`
	Person    string    `json:"person,omitempty"`
	TokenHash string    `json:"-"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// CalendarStore keeps calendar feeds; the store package implements it.
type CalendarStore interface {
	PutCalendar(ctx context.Context, f CalendarFeed) error
	// CalendarByHash finds a feed by its token's hash; false when none.
	CalendarByHash(ctx context.Context, hash string) (CalendarFeed, bool, error)
	// DeleteCalendar removes a feed by ID; false when there was none.
	DeleteCalendar(ctx context.Context, id string) (bool, error)
	Calendars(ctx context.Context) ([]CalendarFeed, error)
}

// Calendar feed limits: how many feeds exist at once, and the span a feed
// covers (the past week, to see the last hand-off, and eight weeks ahead).
const (
	MaxCalendars   = 1000
	CalendarBehind = 7 * 24 * time.Hour
	CalendarAhead  = 8 * 7 * 24 * time.Hour
)

// SetCalendarStore enables calendar feeds.
func (s *Service) SetCalendarStore(cs CalendarStore) {
	s.mu.Lock()
	s.calendars = cs
	s.mu.Unlock()
}

func (s *Service) calendarStore() (CalendarStore, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.calendars == nil {
		return nil, missingf("calendar feeds are not available in this Sentinel")
	}
	return s.calendars, nil
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// AddCalendar makes a feed of schedule's shifts, of person's only when
// person is set (a person of people:), and returns it with its secret
// token, which is not kept.
func (s *Service) AddCalendar(ctx context.Context, schedule, person, actor string) (CalendarFeed, string, error) {
	cs, err := s.calendarStore()
	if err != nil {
		return CalendarFeed{}, "", err
	}
	if _, ok := s.onCall().Schedule(schedule); !ok {
		return CalendarFeed{}, "", errorf(ErrInvalid, "schedule: no schedule named %q", model.Clip(schedule, 80))
	}
	if person != "" {
		p, ok := s.onCall().People.Known(person)
		if !ok {
			return CalendarFeed{}, "", errorf(ErrInvalid, "person: %q is not a person of people:", model.Clip(person, 80))
		}
		person = p.Name
	}
	all, err := cs.Calendars(ctx)
	if err != nil {
		return CalendarFeed{}, "", err
	}
	if len(all) >= MaxCalendars {
		return CalendarFeed{}, "", errorf(ErrInvalid, "there are already %d calendar feeds, the most Sentinel keeps; revoke unused ones", MaxCalendars)
	}
	var secret [32]byte
	var id [8]byte
	_, _ = rand.Read(secret[:])
	_, _ = rand.Read(id[:])
	token := base64.RawURLEncoding.EncodeToString(secret[:])
	f := CalendarFeed{ID: hex.EncodeToString(id[:]), Schedule: schedule, Person: person, TokenHash: tokenHash(token),
		CreatedBy: actorOr(actor), CreatedAt: s.now().UTC()}
	if err := cs.PutCalendar(ctx, f); err != nil {
		return CalendarFeed{}, "", fmt.Errorf("store calendar feed: %w", err)
	}
	s.log.Info("calendar feed made", "id", f.ID, "schedule", schedule, "person", person, "actor", actor)
	return f, token, nil
}

// CalendarURL is where a feed's token is served.
func (s *Service) CalendarURL(token string) string {
	return strings.TrimRight(s.baseURL(), "/") + "/oncall/calendars/" + token + ".ics"
}

// RevokeCalendar deletes a feed: its URL answers 404 from then on.
func (s *Service) RevokeCalendar(ctx context.Context, id, actor string) error {
	cs, err := s.calendarStore()
	if err != nil {
		return err
	}
	ok, err := cs.DeleteCalendar(ctx, id)
	switch {
	case err != nil:
		return err
	case !ok:
		return missingf("no calendar feed %q", model.Clip(id, 40))
	}
	s.log.Info("calendar feed revoked", "id", id, "actor", actor)
	return nil
}

// Calendars lists the feeds (never their tokens).
func (s *Service) Calendars(ctx context.Context) ([]CalendarFeed, error) {
	cs, err := s.calendarStore()
	if err != nil {
		return nil, err
	}
	return cs.Calendars(ctx)
}

// CalendarICS renders the feed a token opens, as of now: the past week
// and eight weeks ahead, overrides applied. An unknown or revoked token,
// or a feed whose schedule is gone, is not found.
func (s *Service) CalendarICS(ctx context.Context, token string) ([]byte, error) {
	cs, err := s.calendarStore()
	if err != nil {
		return nil, err
	}
	f, ok, err := cs.CalendarByHash(ctx, tokenHash(token))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, missingf("no such calendar feed (revoked, or a wrong address)")
	}
	sc, ok := s.onCall().Schedule(f.Schedule)
	if !ok {
		return nil, missingf("the feed's schedule %q is no longer configured", f.Schedule)
	}
	now := s.now()
	var ovs []oncall.Override
	if err := s.store.View(ctx, func(tx ReadTx) error {
		var err error
		ovs, err = s.overrides(tx, now.Add(-CalendarBehind))
		return err
	}); err != nil {
		return nil, fmt.Errorf("on-call overrides: %w", err)
	}
	shifts := sc.Shifts(now.Add(-CalendarBehind), now.Add(CalendarAhead), ovs)
	name := "On call: " + f.Schedule
	if f.Person != "" {
		name += " (" + f.Person + ")"
		var mine []oncall.Shift
		for _, sh := range shifts {
			if sh.User == f.Person {
				mine = append(mine, sh)
			}
		}
		shifts = mine
	}
	url := ""
	if s.baseURL() != "" {
		url = strings.TrimRight(s.baseURL(), "/") + "/oncall"
	}
	return oncall.Calendar{Name: name, Schedule: sc, Shifts: shifts, Stamp: now, URL: url}.ICS(), nil
}
