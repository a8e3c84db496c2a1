package audit

import (
	"context"
	"testing"
	"time"
)

// cutStore records the cut Prune was asked for.
type cutStore struct{ cut time.Time }

func (s *cutStore) Append(_ context.Context, e Entry) (Entry, error) { return e, nil }
func (s *cutStore) List(context.Context, int64, int, func(Entry) bool) ([]Entry, error) {
	return nil, nil
}
func (s *cutStore) Prune(_ context.Context, cut time.Time) (int, error) { s.cut = cut; return 0, nil }

func TestPruneUsesTheRetention(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	st := &cutStore{}
	l := New(st, nil, func() time.Time { return now })
	if _, err := l.Prune(t.Context()); err != nil || !st.cut.Equal(now.Add(-400*24*time.Hour)) {
		t.Fatalf("default cut = %v, %v", st.cut, err)
	}
	l.SetRetention(30 * 24 * time.Hour)
	if _, err := l.Prune(t.Context()); err != nil || !st.cut.Equal(time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("30-day cut = %v, %v", st.cut, err)
	}
}
