package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/sentinel-oss/sentinel/slo"
)

// sloCountsBucket holds SLO event counts: key (slo, hour, writer), value
// the writer's absolute per-minute good and total counts of that hour.
const sloCountsBucket = "slo_counts"

// sloCountsVersion is the value layout: a version byte, then for each of
// the 60 minutes good and total as unsigned varints.
const sloCountsVersion = 1

// SLOCounts implements slo.CountStore on any Engine: per-minute counts,
// absolute values per writer, summed over writers on read. One key per
// SLO, hour and writer keeps writes small (a flush rewrites only the hours
// that changed) and lets a read of a window edge fetch one hour at once.
type SLOCounts struct{ e Engine }

// NewSLOCounts returns the SLO count store on e.
func NewSLOCounts(e Engine) *SLOCounts { return &SLOCounts{e: e} }

var _ slo.CountStore = (*SLOCounts)(nil)

func sloHourKey(name string, hour time.Time, writer string) []byte {
	return Key(nil).String(name).Int64(hour.Unix()).String(writer)
}

func encodeHour(hc slo.HourCounts) ([]byte, error) {
	out := make([]byte, 1, 1+60*2*2)
	out[0] = sloCountsVersion
	for i := range 60 {
		if hc.Good[i] < 0 || hc.Total[i] < 0 {
			return nil, fmt.Errorf("store: slo %s minute %d: negative count", hc.SLO, i)
		}
		out = binary.AppendUvarint(out, uint64(hc.Good[i]))
		out = binary.AppendUvarint(out, uint64(hc.Total[i]))
	}
	return out, nil
}

// addHour decodes a stored hour and adds it to hc.
func addHour(hc *slo.HourCounts, v []byte) error {
	_, body, err := SplitVersion(v, sloCountsVersion)
	if err != nil {
		return err
	}
	for i := range 60 {
		g, n := binary.Uvarint(body)
		if n <= 0 {
			return errors.New("store: damaged slo counts value")
		}
		body = body[n:]
		t, n := binary.Uvarint(body)
		if n <= 0 {
			return errors.New("store: damaged slo counts value")
		}
		body = body[n:]
		hc.Good[i] += int64(g)
		hc.Total[i] += int64(t)
	}
	return nil
}

// SaveCounts stores writer's absolute counts for each hour, replacing what
// writer stored for it before, in one transaction.
func (s *SLOCounts) SaveCounts(ctx context.Context, writer string, hours []slo.HourCounts) error {
	if writer == "" {
		return errors.New("store: save slo counts: empty writer")
	}
	vals := make([][]byte, len(hours))
	for i, hc := range hours {
		v, err := encodeHour(hc)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	err := s.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(sloCountsBucket)
		if err != nil {
			return err
		}
		for i, hc := range hours {
			if err := b.Put(sloHourKey(hc.SLO, hc.Hour.Truncate(time.Hour), writer), vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save slo counts: %w", err)
	}
	return nil
}

// LoadCounts calls fn for each stored hour of name in [from, to), oldest
// first, summing the writers w selects. fn runs after the read
// transaction has ended, so it may call back into the store.
func (s *SLOCounts) LoadCounts(ctx context.Context, name string, from, to time.Time, w slo.Writers, fn func(slo.HourCounts) error) error {
	prefix := Key(nil).String(name)
	lo := Key(append([]byte(nil), prefix...)).Int64(from.Truncate(time.Hour).Unix())
	endHour := to.Truncate(time.Hour)
	if endHour.Before(to) {
		endHour = endHour.Add(time.Hour)
	}
	hi := Key(append([]byte(nil), prefix...)).Int64(endHour.Unix())
	var out []slo.HourCounts
	err := s.e.View(ctx, func(tx Tx) error {
		b, err := tx.Bucket(sloCountsBucket)
		if err != nil {
			return err
		}
		return b.Scan(lo, hi, false, func(k, v []byte) (bool, error) {
			r := ReadKey(k)
			if _, err := r.String(); err != nil {
				return false, err
			}
			unix, err := r.Int64()
			if err != nil {
				return false, err
			}
			writer, err := r.String()
			if err != nil {
				return false, err
			}
			if !w.Includes(writer) {
				return true, nil
			}
			hour := time.Unix(unix, 0).UTC()
			if len(out) == 0 || !out[len(out)-1].Hour.Equal(hour) {
				out = append(out, slo.HourCounts{SLO: name, Hour: hour})
			}
			if err := addHour(&out[len(out)-1], v); err != nil {
				return false, fmt.Errorf("slo %s hour %s: %w", name, hour.Format(time.RFC3339), err)
			}
			return true, nil
		})
	})
	if err != nil {
		return fmt.Errorf("load slo counts: %w", err)
	}
	for _, hc := range out {
		if err := fn(hc); err != nil {
			return err
		}
	}
	return nil
}

// DeleteBefore removes every writer's counts of name for hours before
// before.
func (s *SLOCounts) DeleteBefore(ctx context.Context, name string, before time.Time) error {
	prefix := Key(nil).String(name)
	hi := Key(append([]byte(nil), prefix...)).Int64(before.Truncate(time.Hour).Unix())
	err := s.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(sloCountsBucket)
		if err != nil {
			return err
		}
		var keys [][]byte
		if err := b.Scan(prefix, hi, false, func(k, _ []byte) (bool, error) {
			keys = append(keys, append([]byte(nil), k...))
			return true, nil
		}); err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prune slo counts: %w", err)
	}
	return nil
}
