package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/sentinel-oss/sentinel/slo"
)

// sloMonthsBucket holds monthly SLO summaries: key (slo, "2024-05"),
// value the summary as versioned JSON. They outlive the counts (kept for
// about two months), so monthly reports reach back further.
const sloMonthsBucket = "slo_months"

const sloMonthVersion = 1

// SLOMonths implements slo.MonthStore on any Engine.
type SLOMonths struct{ e Engine }

// NewSLOMonths returns the monthly summary store on e.
func NewSLOMonths(e Engine) *SLOMonths { return &SLOMonths{e: e} }

var _ slo.MonthStore = (*SLOMonths)(nil)

// monthRecord is the stored form of a summary (JSON has no NaN: an SLI
// without data is left out).
type monthRecord struct {
	SLO       string    `json:"slo"`
	Month     string    `json:"month"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Through   time.Time `json:"through"`
	Objective float64   `json:"objective"`
	Budgeting string    `json:"budgeting"`
	Unit      string    `json:"unit"`
	Good      int64     `json:"good"`
	Total     int64     `json:"total"`
	SLI       *float64  `json:"sli,omitempty"`
	Expected  float64   `json:"expected"`
	Allowed   float64   `json:"allowed"`
	Spent     float64   `json:"spent"`
	Consumed  float64   `json:"consumed"`
	Remaining float64   `json:"remaining"`
	Coverage  float64   `json:"coverage"`
	Projected bool      `json:"projected"`
	NoData    bool      `json:"no_data"`
	Final     bool      `json:"final"`
}

func sloMonthKey(name, month string) []byte { return Key(nil).String(name).String(month) }

// SaveMonths stores the summaries, replacing those of the same SLO and
// month, in one transaction.
func (s *SLOMonths) SaveMonths(ctx context.Context, ms []slo.MonthSummary) error {
	vals := make([][]byte, len(ms))
	for i, m := range ms {
		r := monthRecord{SLO: m.SLO, Month: m.Month, From: m.From.UTC(), To: m.To.UTC(), Through: m.Through.UTC(),
			Objective: m.Objective, Budgeting: string(m.Budgeting), Unit: m.Unit, Good: m.Good, Total: m.Total,
			Expected: m.Expected, Allowed: m.Allowed, Spent: m.Spent, Consumed: m.Consumed, Remaining: m.Remaining,
			Coverage: m.Coverage, Projected: m.Projected, NoData: m.NoData, Final: m.Final}
		if !math.IsNaN(m.SLI) && !math.IsInf(m.SLI, 0) {
			v := m.SLI
			r.SLI = &v
		}
		b, err := EncodeJSON(sloMonthVersion, r)
		if err != nil {
			return fmt.Errorf("save slo month %s %s: %w", m.SLO, m.Month, err)
		}
		vals[i] = b
	}
	err := s.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(sloMonthsBucket)
		if err != nil {
			return err
		}
		for i, m := range ms {
			if err := b.Put(sloMonthKey(m.SLO, m.Month), vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save slo months: %w", err)
	}
	return nil
}

// LoadMonth reads the summary of name for month; ok is false when none
// was stored.
func (s *SLOMonths) LoadMonth(ctx context.Context, name, month string) (slo.MonthSummary, bool, error) {
	var raw []byte
	err := s.e.View(ctx, func(tx Tx) error {
		b, err := tx.Bucket(sloMonthsBucket)
		if err != nil {
			return err
		}
		raw, err = b.Get(sloMonthKey(name, month))
		return err
	})
	if err != nil {
		return slo.MonthSummary{}, false, fmt.Errorf("load slo month %s %s: %w", name, month, err)
	}
	if raw == nil {
		return slo.MonthSummary{}, false, nil
	}
	var r monthRecord
	if _, err := DecodeJSON(raw, sloMonthVersion, &r); err != nil {
		return slo.MonthSummary{}, false, fmt.Errorf("load slo month %s %s: %w", name, month, err)
	}
	m := slo.MonthSummary{SLO: r.SLO, Month: r.Month, From: r.From, To: r.To, Through: r.Through, Objective: r.Objective,
		Budgeting: slo.Budgeting(r.Budgeting), Unit: r.Unit, Good: r.Good, Total: r.Total, SLI: math.NaN(),
		Expected: r.Expected, Allowed: r.Allowed, Spent: r.Spent, Consumed: r.Consumed, Remaining: r.Remaining,
		Coverage: r.Coverage, Projected: r.Projected, NoData: r.NoData, Final: r.Final}
	if r.SLI != nil {
		m.SLI = *r.SLI
	}
	return m, true, nil
}
