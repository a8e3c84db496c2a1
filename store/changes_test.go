package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/changes"
	"github.com/sentinel-oss/sentinel/store"
)

// TestChangesStore: the changes of a service in a range come newest first
// with their IDs; several services merge; pruning drops what is old; a
// reopened bbolt file keeps them.
func TestChangesStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	b := openIncidentBolt(t, path)
	st := store.NewChanges(b)
	ctx := t.Context()
	t0 := time.Date(2026, 3, 25, 10, 0, 0, 0, time.UTC)
	add := func(svc, title string, at time.Time) changes.Change {
		t.Helper()
		c, err := st.Add(ctx, changes.Change{Service: svc, Title: title, Kind: changes.KindDeploy, At: at})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	old := add("checkout", "v40", t0.Add(-100*24*time.Hour))
	add("checkout", "v41", t0.Add(-3*time.Hour))
	add("checkout", "v42", t0.Add(-12*time.Minute))
	add("payments", "pool size 1", t0.Add(-30*time.Minute))
	add("checkout-ui", "v7", t0.Add(-5*time.Minute)) // a longer name, not a prefix match
	if old.ID != 1 {
		t.Fatalf("first ID = %d", old.ID)
	}
	titles := func(cs []changes.Change) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Title)
		}
		return out
	}
	got, err := st.List(ctx, []string{"checkout"}, t0.Add(-2*time.Hour), t0, 10)
	if err != nil || len(got) != 1 || got[0].Title != "v42" || got[0].ID != 3 {
		t.Fatalf("checkout in 2 h = %v, %v", titles(got), err)
	}
	got, _ = st.List(ctx, []string{"checkout", "payments"}, t0.Add(-4*time.Hour), t0, 10)
	if want := []string{"v42", "pool size 1", "v41"}; len(got) != 3 || titles(got)[0] != want[0] || titles(got)[1] != want[1] || titles(got)[2] != want[2] {
		t.Fatalf("two services = %v, want %v", titles(got), want)
	}
	got, _ = st.List(ctx, nil, t0.Add(-4*time.Hour), t0, 2)
	if len(got) != 2 || got[0].Title != "v7" || got[1].Title != "v42" {
		t.Fatalf("every service, limit 2 = %v", titles(got))
	}
	n, err := st.Prune(ctx, t0.Add(-90*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("prune = %d, %v", n, err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openIncidentBolt(t, path)
	t.Cleanup(func() { _ = b.Close() })
	got, _ = store.NewChanges(b).List(ctx, nil, t0.Add(-200*24*time.Hour), t0, 100)
	if len(got) != 4 {
		t.Fatalf("after reopening: %v", titles(got))
	}
}
