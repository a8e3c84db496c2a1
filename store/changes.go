package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sentinel-oss/sentinel/changes"
)

// Changes are kept in one bucket keyed (service, at, id), so the changes
// to a service in a time range are one range scan; values are versioned
// JSON documents.
const (
	bucketChanges = "changes"
	changeVersion = 1
)

// Changes implements changes.Store on an Engine.
type Changes struct{ e Engine }

var _ changes.Store = (*Changes)(nil)

// NewChanges returns the change store over e.
func NewChanges(e Engine) *Changes { return &Changes{e: e} }

func changeKey(c changes.Change) []byte {
	return Key{}.String(c.Service).Time(c.At).Uint64(uint64(c.ID))
}

// Add implements changes.Store.
func (s *Changes) Add(ctx context.Context, c changes.Change) (changes.Change, error) {
	err := putSequenced(ctx, s.e, bucketChanges, changeVersion, &c,
		func(c *changes.Change, id uint64) { c.ID = int64(id) },
		func(c *changes.Change) []byte { return changeKey(*c) })
	return c, err
}

// List implements changes.Store.
func (s *Changes) List(ctx context.Context, services []string, from, to time.Time, limit int) ([]changes.Change, error) {
	var out []changes.Change
	err := s.e.View(ctx, func(tx Tx) error {
		out = out[:0]
		b, err := tx.Bucket(bucketChanges)
		if err != nil {
			return err
		}
		keep := func(k, v []byte) (bool, error) {
			var c changes.Change
			if _, err := DecodeJSON(v, changeVersion, &c); err != nil {
				return false, fmt.Errorf("decode change: %w", err)
			}
			if !c.At.Before(from) && c.At.Before(to) {
				out = append(out, c)
			}
			return true, nil
		}
		if len(services) == 0 {
			return b.Scan(nil, nil, false, keep)
		}
		for _, svc := range services {
			lo, hi := Key{}.String(svc).Time(from), Key{}.String(svc).Time(to)
			n := len(out)
			err := b.Scan(lo, hi, true, func(k, v []byte) (bool, error) {
				more, err := keep(k, v)
				return more && len(out)-n < limit, err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b changes.Change) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Prune implements changes.Store: every change that happened before cut
// goes, in one transaction.
func (s *Changes) Prune(ctx context.Context, cut time.Time) (int, error) {
	return deleteMatching(ctx, s.e, bucketChanges, 0, func(k, _ []byte) (bool, bool, error) {
		r := ReadKey(k)
		if _, err := r.String(); err != nil {
			return false, false, err
		}
		at, err := r.Time()
		if err != nil {
			return false, false, err
		}
		return at.Before(cut), true, nil
	})
}
