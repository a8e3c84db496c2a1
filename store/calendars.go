package store

import (
	"context"
	"fmt"

	"github.com/sentinel-oss/sentinel/incidents"
)

// On-call calendar feeds are kept in one bucket keyed by their token's
// SHA-256 (the token itself is never stored), each value a versioned JSON
// document.
const (
	bucketCalendars = "oncall_calendars"
	calendarVersion = 1
)

// Calendars implements incidents.CalendarStore on an Engine.
type Calendars struct{ e Engine }

var _ incidents.CalendarStore = (*Calendars)(nil)

// NewCalendars returns the calendar feed store over e.
func NewCalendars(e Engine) *Calendars { return &Calendars{e: e} }

// calendarDoc is a feed as stored: the hash is not part of its JSON.
type calendarDoc struct {
	incidents.CalendarFeed
	Hash string `json:"token_sha256"`
}

// PutCalendar implements incidents.CalendarStore.
func (s *Calendars) PutCalendar(ctx context.Context, f incidents.CalendarFeed) error {
	return s.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketCalendars)
		if err != nil {
			return err
		}
		v, err := EncodeJSON(calendarVersion, calendarDoc{f, f.TokenHash})
		if err != nil {
			return err
		}
		return b.Put([]byte(f.TokenHash), v)
	})
}

func decodeCalendar(v []byte) (incidents.CalendarFeed, error) {
	var d calendarDoc
	if _, err := DecodeJSON(v, calendarVersion, &d); err != nil {
		return incidents.CalendarFeed{}, fmt.Errorf("decode calendar feed: %w", err)
	}
	d.CalendarFeed.TokenHash = d.Hash
	return d.CalendarFeed, nil
}

// CalendarByHash implements incidents.CalendarStore.
func (s *Calendars) CalendarByHash(ctx context.Context, hash string) (incidents.CalendarFeed, bool, error) {
	var f incidents.CalendarFeed
	found := false
	err := s.e.View(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketCalendars)
		if err != nil {
			return err
		}
		v, err := b.Get([]byte(hash))
		if err != nil || v == nil {
			return err
		}
		f, err = decodeCalendar(v)
		found = err == nil
		return err
	})
	return f, found, err
}

// DeleteCalendar implements incidents.CalendarStore.
func (s *Calendars) DeleteCalendar(ctx context.Context, id string) (bool, error) {
	deleted := false
	err := s.e.Update(ctx, func(tx Tx) error {
		deleted = false
		b, err := tx.Bucket(bucketCalendars)
		if err != nil {
			return err
		}
		var key []byte
		err = b.Scan(nil, nil, false, func(k, v []byte) (bool, error) {
			f, err := decodeCalendar(v)
			if err != nil {
				return false, err
			}
			if f.ID == id {
				key = append([]byte(nil), k...)
				return false, nil
			}
			return true, nil
		})
		if err != nil || key == nil {
			return err
		}
		deleted = true
		return b.Delete(key)
	})
	return deleted, err
}

// Calendars implements incidents.CalendarStore.
func (s *Calendars) Calendars(ctx context.Context) ([]incidents.CalendarFeed, error) {
	out := []incidents.CalendarFeed{}
	err := s.e.View(ctx, func(tx Tx) error {
		out = out[:0]
		b, err := tx.Bucket(bucketCalendars)
		if err != nil {
			return err
		}
		return b.Scan(nil, nil, false, func(k, v []byte) (bool, error) {
			f, err := decodeCalendar(v)
			if err != nil {
				return false, err
			}
			out = append(out, f)
			return true, nil
		})
	})
	return out, err
}
