package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Buckets of the dashboards' sessions: the sessions by ID (the hash of the
// cookie, never the cookie), an index by (owner, created, ID) whose value
// is the expiry, for the per-owner cap, and one by (expires, ID) for
// pruning.
const (
	bucketSessions         = "ui_sessions"
	bucketSessionsByOwner  = "ui_sessions_by_owner"
	bucketSessionsByExpiry = "ui_sessions_by_expiry"
	sessionVersion         = 1
	// sessionPruneChunk bounds the sessions one prune transaction deletes.
	sessionPruneChunk = 1000
)

// Sessions keeps the dashboards' sessions on an Engine, so that every
// replica sharing the store sees them and a restart keeps them; it
// implements web.SessionStore.
type Sessions struct{ e Engine }

// NewSessions returns the session store over e.
func NewSessions(e Engine) *Sessions { return &Sessions{e: e} }

type sessionTx struct{ all, byOwner, byExpiry Bucket }

func openSessionTx(tx Tx) (*sessionTx, error) {
	var t sessionTx
	var err error
	if t.all, err = tx.Bucket(bucketSessions); err != nil {
		return nil, err
	}
	if t.byOwner, err = tx.Bucket(bucketSessionsByOwner); err != nil {
		return nil, err
	}
	if t.byExpiry, err = tx.Bucket(bucketSessionsByExpiry); err != nil {
		return nil, err
	}
	return &t, nil
}

func ownerKey(s model.Session) []byte {
	return Key{}.String(s.Owner).Time(s.Created).String(s.ID)
}

func expiryKey(expires time.Time, id string) []byte { return Key{}.Time(expires).String(id) }

func (t *sessionTx) get(id string) (model.Session, bool, error) {
	v, err := t.all.Get(Key{}.String(id))
	if err != nil || v == nil {
		return model.Session{}, false, err
	}
	var s model.Session
	if _, err := DecodeJSON(v, sessionVersion, &s); err != nil {
		return model.Session{}, false, fmt.Errorf("decode session: %w", err)
	}
	return s, true, nil
}

func (t *sessionTx) put(s model.Session) error {
	v, err := EncodeJSON(sessionVersion, s)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	if err := t.all.Put(Key{}.String(s.ID), v); err != nil {
		return err
	}
	if err := t.byOwner.Put(ownerKey(s), TimeKey(s.Expires)); err != nil {
		return err
	}
	return t.byExpiry.Put(expiryKey(s.Expires, s.ID), []byte{})
}

func (t *sessionTx) delete(s model.Session) error {
	if err := t.all.Delete(Key{}.String(s.ID)); err != nil {
		return err
	}
	if err := t.byOwner.Delete(ownerKey(s)); err != nil {
		return err
	}
	return t.byExpiry.Delete(expiryKey(s.Expires, s.ID))
}

// CreateSession stores s after ending the owner's expired sessions and
// then its oldest ones, so that at most maxPerOwner remain with s.
func (s *Sessions) CreateSession(ctx context.Context, se model.Session, maxPerOwner int, now time.Time) error {
	if se.ID == "" || se.Owner == "" {
		return errors.New("create session: a session needs an ID and an owner")
	}
	err := s.e.Update(ctx, func(tx Tx) error {
		t, err := openSessionTx(tx)
		if err != nil {
			return err
		}
		type held struct {
			key     []byte
			id      string
			created time.Time
			expires time.Time
		}
		var live, expired []held
		prefix := Key{}.String(se.Owner)
		if err := t.byOwner.Scan(prefix, PrefixEnd(prefix), false, func(k, v []byte) (bool, error) {
			r := ReadKey(k)
			_, _ = r.String()
			created, err := r.Time()
			if err != nil {
				return false, fmt.Errorf("session owner key: %w", err)
			}
			id, err := r.String()
			if err != nil {
				return false, fmt.Errorf("session owner key: %w", err)
			}
			expires, err := ParseTimeKey(v)
			if err != nil {
				return false, fmt.Errorf("session owner index: %w", err)
			}
			h := held{key: clone(k), id: id, created: created, expires: expires}
			if now.Before(expires) {
				live = append(live, h)
			} else {
				expired = append(expired, h)
			}
			return true, nil
		}); err != nil {
			return err
		}
		drop := expired
		if over := len(live) - max(maxPerOwner-1, 0); over > 0 {
			drop = append(drop, live[:over]...) // oldest first: the index sorts by creation
		}
		for _, h := range drop {
			if err := t.delete(model.Session{ID: h.id, Owner: se.Owner, Created: h.created, Expires: h.expires}); err != nil {
				return err
			}
		}
		return t.put(se)
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session returns the session with id.
func (s *Sessions) Session(ctx context.Context, id string) (model.Session, bool, error) {
	var se model.Session
	var ok bool
	err := s.e.View(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketSessions)
		if err != nil {
			return err
		}
		t := &sessionTx{all: b}
		se, ok, err = t.get(id)
		return err
	})
	if err != nil {
		return model.Session{}, false, fmt.Errorf("read session: %w", err)
	}
	return se, ok, nil
}

// DeleteSession ends the session with id; a missing one is not an error.
func (s *Sessions) DeleteSession(ctx context.Context, id string) error {
	err := s.e.Update(ctx, func(tx Tx) error {
		t, err := openSessionTx(tx)
		if err != nil {
			return err
		}
		se, ok, err := t.get(id)
		if err != nil || !ok {
			return err
		}
		return t.delete(se)
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// PruneSessions deletes the sessions expired at now, a chunk per
// transaction, and returns how many.
func (s *Sessions) PruneSessions(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		scanned, n := 0, 0
		err := s.e.Update(ctx, func(tx Tx) error {
			scanned, n = 0, 0
			t, err := openSessionTx(tx)
			if err != nil {
				return err
			}
			var keys [][]byte
			var ids []string
			if err := t.byExpiry.Scan(nil, Key{}.Time(now.Add(time.Nanosecond)), false, func(k, _ []byte) (bool, error) {
				r := ReadKey(k)
				_, _ = r.Time()
				id, err := r.String()
				if err != nil {
					return false, fmt.Errorf("session expiry key: %w", err)
				}
				keys, ids = append(keys, clone(k)), append(ids, id)
				return len(ids) < sessionPruneChunk, nil
			}); err != nil {
				return err
			}
			scanned = len(ids)
			for i, id := range ids {
				se, ok, err := t.get(id)
				if err != nil {
					return err
				}
				if !ok { // an index entry without its session: drop it too
					if err := t.byExpiry.Delete(keys[i]); err != nil {
						return err
					}
					continue
				}
				if err := t.delete(se); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("prune sessions: %w", err)
		}
		total += n
		if scanned < sessionPruneChunk {
			return total, nil
		}
	}
}
