// Package postmortemtest is the conformance suite every postmortem.Store
// implementation passes, so the bbolt store and the in-memory one (and a
// later networked one) behave the same.
package postmortemtest

import (
	"errors"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/incidents/postmortem"
)

// Run checks the Store contract on stores made by open.
func Run(t *testing.T, open func(t *testing.T) postmortem.Store) {
	t0 := time.Date(2026, 3, 25, 10, 0, 0, 0, time.UTC)
	t.Run("create get update each", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		if _, err := s.Get(ctx, 1); !postmortem.IsNotFound(err) {
			t.Fatalf("get missing: %v, want not found", err)
		}
		for _, id := range []int64{3, 1, 2, 300} {
			created, err := s.Create(ctx, &postmortem.Postmortem{IncidentID: id, Status: postmortem.StatusDraft, Title: "t", CreatedAt: t0})
			if err != nil || !created {
				t.Fatalf("create %d: %v %v", id, created, err)
			}
		}
		created, err := s.Create(ctx, &postmortem.Postmortem{IncidentID: 1, Title: "other"})
		if err != nil || created {
			t.Fatalf("second create: %v %v, want false nil", created, err)
		}
		pm, err := s.Get(ctx, 1)
		if err != nil || pm.Title != "t" || !pm.CreatedAt.Equal(t0) {
			t.Fatalf("get: %+v %v", pm, err)
		}
		pm.Title = "changed locally"
		if again, _ := s.Get(ctx, 1); again.Title != "t" {
			t.Fatal("the store handed out its own copy")
		}
		err = s.Update(ctx, 1, func(p *postmortem.Postmortem) (*postmortem.Postmortem, error) {
			p.RootCause = "a bad deploy"
			p.ActionItems = []postmortem.ActionItem{{ID: "A1", Title: "roll back faster", Due: "2026-04-01", Status: postmortem.ItemOpen}}
			p.Reminded = map[string]time.Time{"draft": t0}
			p.Version++
			return p, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		pm, _ = s.Get(ctx, 1)
		if pm.RootCause != "a bad deploy" || len(pm.ActionItems) != 1 || pm.Version != 1 || !pm.Reminded["draft"].Equal(t0) {
			t.Fatalf("after update: %+v", pm)
		}
		boom := errors.New("boom")
		err = s.Update(ctx, 1, func(p *postmortem.Postmortem) (*postmortem.Postmortem, error) {
			p.RootCause = "lost"
			return nil, boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("update error: %v, want boom unchanged", err)
		}
		if pm, _ = s.Get(ctx, 1); pm.RootCause != "a bad deploy" {
			t.Fatal("a failed update was kept")
		}
		if err := s.Update(ctx, 9, func(p *postmortem.Postmortem) (*postmortem.Postmortem, error) { return p, nil }); !postmortem.IsNotFound(err) {
			t.Fatalf("update missing: %v", err)
		}
		var ids []int64
		if err := s.Each(ctx, func(p *postmortem.Postmortem) bool { ids = append(ids, p.IncidentID); return true }); err != nil {
			t.Fatal(err)
		}
		if len(ids) != 4 || ids[0] != 1 || ids[1] != 2 || ids[2] != 3 || ids[3] != 300 {
			t.Fatalf("each order: %v", ids)
		}
		n := 0
		_ = s.Each(ctx, func(*postmortem.Postmortem) bool { n++; return n < 2 })
		if n != 2 {
			t.Fatalf("each did not stop: %d", n)
		}
	})
	t.Run("many", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		for id := int64(1); id <= 600; id++ {
			if _, err := s.Create(ctx, &postmortem.Postmortem{IncidentID: id, Status: postmortem.StatusDraft}); err != nil {
				t.Fatal(err)
			}
		}
		var last int64
		n := 0
		if err := s.Each(ctx, func(p *postmortem.Postmortem) bool {
			if p.IncidentID <= last {
				t.Fatalf("out of order: %d after %d", p.IncidentID, last)
			}
			last = p.IncidentID
			n++
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if n != 600 {
			t.Fatalf("each saw %d, want 600", n)
		}
	})
}
