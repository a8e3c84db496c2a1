package store

import (
	"context"
	"fmt"

	"github.com/sentinel-oss/sentinel/incidents/postmortem"
)

// Postmortems are kept in one bucket keyed by incident ID (big-endian, so
// they sort by incident), each value a versioned JSON document.
const (
	bucketPostmortems = "postmortems"
	postmortemVersion = 1
)

// Postmortems implements postmortem.Store on an Engine.
type Postmortems struct{ e Engine }

var _ postmortem.Store = (*Postmortems)(nil)

// NewPostmortems returns the postmortem store over e.
func NewPostmortems(e Engine) *Postmortems { return &Postmortems{e: e} }

func getPostmortem(tx Tx, id int64) (*postmortem.Postmortem, error) {
	b, err := tx.Bucket(bucketPostmortems)
	if err != nil {
		return nil, err
	}
	v, err := b.Get(Uint64Key(uint64(id)))
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("%w: incident #%d has none", postmortem.ErrNotFound, id)
	}
	var pm postmortem.Postmortem
	if _, err := DecodeJSON(v, postmortemVersion, &pm); err != nil {
		return nil, fmt.Errorf("decode postmortem #%d: %w", id, err)
	}
	return &pm, nil
}

func putPostmortem(tx Tx, pm *postmortem.Postmortem) error {
	b, err := tx.Bucket(bucketPostmortems)
	if err != nil {
		return err
	}
	v, err := EncodeJSON(postmortemVersion, pm)
	if err != nil {
		return err
	}
	return b.Put(Uint64Key(uint64(pm.IncidentID)), v)
}

// Get implements postmortem.Store.
func (s *Postmortems) Get(ctx context.Context, id int64) (*postmortem.Postmortem, error) {
	var pm *postmortem.Postmortem
	err := s.e.View(ctx, func(tx Tx) error {
		var err error
		pm, err = getPostmortem(tx, id)
		return err
	})
	return pm, err
}

// Create implements postmortem.Store.
func (s *Postmortems) Create(ctx context.Context, pm *postmortem.Postmortem) (bool, error) {
	created := false
	err := s.e.Update(ctx, func(tx Tx) error {
		created = false
		b, err := tx.Bucket(bucketPostmortems)
		if err != nil {
			return err
		}
		v, err := b.Get(Uint64Key(uint64(pm.IncidentID)))
		if err != nil || v != nil {
			return err
		}
		created = true
		return putPostmortem(tx, pm)
	})
	return created, err
}

// Update implements postmortem.Store.
func (s *Postmortems) Update(ctx context.Context, id int64, fn func(*postmortem.Postmortem) (*postmortem.Postmortem, error)) error {
	return s.e.Update(ctx, func(tx Tx) error {
		cur, err := getPostmortem(tx, id)
		if err != nil {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		next.IncidentID = id
		return putPostmortem(tx, next)
	})
}

// Each implements postmortem.Store. It reads in pages of short
// transactions, so fn may be slow without holding a reader open.
func (s *Postmortems) Each(ctx context.Context, fn func(*postmortem.Postmortem) bool) error {
	const page = 256
	var from []byte
	for {
		var list []*postmortem.Postmortem
		err := s.e.View(ctx, func(tx Tx) error {
			b, err := tx.Bucket(bucketPostmortems)
			if err != nil {
				return err
			}
			return b.Scan(from, nil, false, func(k, v []byte) (bool, error) {
				var pm postmortem.Postmortem
				if _, err := DecodeJSON(v, postmortemVersion, &pm); err != nil {
					return false, fmt.Errorf("decode postmortem %x: %w", k, err)
				}
				list = append(list, &pm)
				return len(list) < page, nil
			})
		})
		if err != nil {
			return err
		}
		for _, pm := range list {
			if !fn(pm) {
				return nil
			}
		}
		if len(list) < page {
			return nil
		}
		from = Uint64Key(uint64(list[len(list)-1].IncidentID) + 1)
	}
}
