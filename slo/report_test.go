package slo

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
)

// FuzzParseMonth: the report's month comes from a query string.
func FuzzParseMonth(f *testing.F) {
	for _, s := range []string{"2024-05", "2024-13", "24-05", "2024-5", "2024-05-01", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		y, m, err := ParseMonth(s)
		if err != nil {
			return
		}
		if len(s) != 7 || MonthKey(y, m) != s || m < time.January || m > time.December {
			t.Fatalf("ParseMonth(%q) = %d, %d", s, y, m)
		}
	})
}

type fakeMonths struct{ saved []MonthSummary }

func (f *fakeMonths) SaveMonths(_ context.Context, ms []MonthSummary) error {
	f.saved = append(f.saved, ms...)
	return nil
}

func (f *fakeMonths) LoadMonth(context.Context, string, string) (MonthSummary, bool, error) {
	return MonthSummary{}, false, nil
}

// The hourly cycle saves the current month (and the previous one, while
// its counts are kept and it has data) for every counted SLO.
func TestSaveMonths(t *testing.T) {
	now := time.Date(2024, 5, 2, 12, 0, 0, 0, time.UTC)
	specs, ps := Compile([]config.SLO{
		{Name: "orders", Objective: 99, Window: "30d", SLI: config.SLI{Events: &config.SLIEvents{}}},
		{Name: "prom", Objective: 99, Window: "30d", SLI: config.SLI{Prometheus: &config.SLIPrometheus{Errors: "a[{{.window}}]", Total: "b[{{.window}}]"}}},
	}, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	fm := &fakeMonths{}
	e, err := New(Options{Specs: specs, Months: fm, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.RecordEvents(context.Background(), "orders", 90, 100, time.Time{}); err != nil {
		t.Fatal(err)
	}
	e.saveMonths(context.Background())
	if len(fm.saved) != 1 {
		t.Fatalf("saved %+v, want May of orders only (April has no data; prom is not counted)", fm.saved)
	}
	m := fm.saved[0]
	// The data began this minute: 100 events in a minute project to
	// 100 * 744 * 60 over May's 744 hours.
	if m.Month != "2024-05" || m.Final || m.Total != 100 || m.Spent != 10 || !m.Projected || math.Abs(m.Expected-100*744*60) > 1e-6 {
		t.Errorf("may = %+v", m)
	}
}
