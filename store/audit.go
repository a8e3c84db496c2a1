package store

import (
	"context"
	"fmt"
	"time"

	"github.com/sentinel-oss/sentinel/audit"
)

// Audit entries are kept in one bucket keyed by their ID (a sequence, so
// key order is the order they were recorded in); values are versioned
// JSON documents.
const (
	bucketAudit  = "audit"
	auditVersion = 1
)

// Audit implements audit.Store on an Engine.
type Audit struct{ e Engine }

var _ audit.Store = (*Audit)(nil)

// NewAudit returns the audit store over e.
func NewAudit(e Engine) *Audit { return &Audit{e: e} }

// Append implements audit.Store.
func (s *Audit) Append(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	err := putSequenced(ctx, s.e, bucketAudit, auditVersion, &e,
		func(e *audit.Entry, id uint64) { e.ID = int64(id) },
		func(e *audit.Entry) []byte { return Key{}.Uint64(uint64(e.ID)) })
	return e, err
}

// List implements audit.Store.
func (s *Audit) List(ctx context.Context, before int64, limit int, keep func(audit.Entry) bool) ([]audit.Entry, error) {
	var out []audit.Entry
	err := s.e.View(ctx, func(tx Tx) error {
		out = out[:0]
		b, err := tx.Bucket(bucketAudit)
		if err != nil {
			return err
		}
		var hi []byte
		if before > 0 {
			hi = Key{}.Uint64(uint64(before))
		}
		return b.Scan(nil, hi, true, func(k, v []byte) (bool, error) {
			var e audit.Entry
			if _, err := DecodeJSON(v, auditVersion, &e); err != nil {
				return false, fmt.Errorf("decode audit entry: %w", err)
			}
			if keep(e) {
				out = append(out, e)
			}
			return len(out) < limit, nil
		})
	})
	return out, err
}

// Prune implements audit.Store: entries recorded before cut go. IDs grow
// with time, so the scan stops at the first entry to keep.
func (s *Audit) Prune(ctx context.Context, cut time.Time) (int, error) {
	// At most 10,000 a transaction; the next prune takes the rest.
	return deleteMatching(ctx, s.e, bucketAudit, 10000, func(_, v []byte) (bool, bool, error) {
		var e audit.Entry
		if _, err := DecodeJSON(v, auditVersion, &e); err != nil {
			return false, false, fmt.Errorf("decode audit entry: %w", err)
		}
		old := e.At.Before(cut)
		return old, old, nil
	})
}
