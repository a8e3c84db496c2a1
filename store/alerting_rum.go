package store

import (
	"context"
	"fmt"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
)

// bucketAlertingRUM holds the RUM rules' per-minute figures by (minute,
// writer, rule): each writer's absolute figure, summed by the evaluating
// replica; minutes sort first, so a window and the rows to prune are each
// one range.
const bucketAlertingRUM = "alerting_rum_minutes"

var _ alerting.RUMMinuteStore = (*Alerting)(nil)

func alertingRUMKey(minute time.Time, writer, rule string) []byte {
	return Key{}.Time(minute.Truncate(time.Minute)).String(writer).String(rule)
}

// SaveRUMMinutes replaces writer's rows of the rules and minutes given, in
// one transaction.
func (s *Alerting) SaveRUMMinutes(ctx context.Context, writer string, rows []alerting.RUMMinute) error {
	if writer == "" {
		return fmt.Errorf("save RUM rule figures: empty writer")
	}
	vals := make([][]byte, len(rows))
	for i, r := range rows {
		r.Writer, r.Minute = writer, r.Minute.Truncate(time.Minute).UTC()
		v, err := EncodeJSON(alertingValueFormat, r)
		if err != nil {
			return fmt.Errorf("encode RUM rule figure: %w", err)
		}
		vals[i] = v
	}
	err := s.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketAlertingRUM)
		if err != nil {
			return err
		}
		for i, r := range rows {
			if err := b.Put(alertingRUMKey(r.Minute, writer, r.Rule), vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save RUM rule figures: %w", err)
	}
	return nil
}

// RUMMinutes returns the rows of minutes in [from, to) of writer, or of
// every other writer when except is true.
func (s *Alerting) RUMMinutes(ctx context.Context, from, to time.Time, writer string, except bool) ([]alerting.RUMMinute, error) {
	var out []alerting.RUMMinute
	err := s.e.View(ctx, func(tx Tx) error {
		out = nil
		b, err := tx.Bucket(bucketAlertingRUM)
		if err != nil {
			return err
		}
		return b.Scan(Key{}.Time(from.Truncate(time.Minute)), Key{}.Time(to), false, func(k, v []byte) (bool, error) {
			r := ReadKey(k)
			if _, err := r.Time(); err != nil {
				return false, fmt.Errorf("RUM rule figure key: %w", err)
			}
			w, err := r.String()
			if err != nil {
				return false, fmt.Errorf("RUM rule figure key: %w", err)
			}
			if (w == writer) == except {
				return true, nil
			}
			var row alerting.RUMMinute
			if _, err := DecodeJSON(v, alertingValueFormat, &row); err != nil {
				return false, fmt.Errorf("decode RUM rule figure: %w", err)
			}
			out = append(out, row)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read RUM rule figures: %w", err)
	}
	return out, nil
}

// PruneRUMMinutes deletes the rows of minutes before before.
func (s *Alerting) PruneRUMMinutes(ctx context.Context, before time.Time) error {
	if err := deleteBefore(ctx, s.e, bucketAlertingRUM, Key{}.Time(before)); err != nil {
		return fmt.Errorf("prune RUM rule figures: %w", err)
	}
	return nil
}
