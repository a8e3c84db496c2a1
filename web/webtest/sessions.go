// Package webtest holds conformance suites for what the web package
// declares and others implement.
package webtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/web"
)

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func session(owner string, n int, created time.Time) model.Session {
	return model.Session{
		ID: fmt.Sprintf("%s-%04d", owner, n), Owner: owner, Role: "viewer", Credential: "c0ffee",
		CSRF: fmt.Sprintf("csrf-%s-%d", owner, n), Created: created, Expires: created.Add(time.Hour),
	}
}

// RunSessionStore checks a web.SessionStore: what is created reads back
// whole, deletes and prunes remove, and the per-owner cap ends only that
// owner's oldest sessions.
func RunSessionStore(t *testing.T, open func(t *testing.T) web.SessionStore) {
	t.Run("round trip", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		want := session("admin", 1, t0)
		if err := s.CreateSession(ctx, want, 10, t0); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Session(ctx, want.ID)
		if err != nil || !ok {
			t.Fatalf("Session = %v, %v", ok, err)
		}
		if got.ID != want.ID || got.Owner != want.Owner || got.Role != want.Role || got.Credential != want.Credential ||
			got.CSRF != want.CSRF || !got.Created.Equal(want.Created) || !got.Expires.Equal(want.Expires) {
			t.Errorf("read %+v, stored %+v", got, want)
		}
		if _, ok, err := s.Session(ctx, "no-such-session"); ok || err != nil {
			t.Errorf("missing session: %v, %v", ok, err)
		}
		if err := s.DeleteSession(ctx, want.ID); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Session(ctx, want.ID); ok {
			t.Error("a deleted session still reads")
		}
		if err := s.DeleteSession(ctx, want.ID); err != nil {
			t.Errorf("deleting a missing session: %v", err)
		}
	})
	t.Run("per-owner cap", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		admin := session("admin", 1, t0)
		if err := s.CreateSession(ctx, admin, 3, t0); err != nil {
			t.Fatal(err)
		}
		// The viewer signs in again and again: only its own oldest go.
		for i := range 8 {
			at := t0.Add(time.Duration(i+1) * time.Second)
			if err := s.CreateSession(ctx, session("manager", i, at), 3, at); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 8 {
			_, ok, err := s.Session(ctx, session("manager", i, t0).ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := i >= 5; ok != want {
				t.Errorf("manager's session %d kept = %v, want %v (the 3 newest)", i, ok, want)
			}
		}
		if _, ok, _ := s.Session(ctx, admin.ID); !ok {
			t.Error("another owner's sign-ins ended the admin's session")
		}
	})
	t.Run("expiry", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		for i := range 3 {
			if err := s.CreateSession(ctx, session("ops", i, t0), 10, t0); err != nil {
				t.Fatal(err)
			}
		}
		late := t0.Add(30 * time.Minute)
		if err := s.CreateSession(ctx, session("admin", 1, late), 10, late); err != nil {
			t.Fatal(err)
		}
		// An hour on the first three have expired; creating one for their
		// owner drops them, whatever the cap.
		now := t0.Add(time.Hour)
		if err := s.CreateSession(ctx, session("ops", 9, now), 2, now); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, ok, _ := s.Session(ctx, session("ops", i, t0).ID); ok {
				t.Errorf("expired session %d of the owner signing in was kept", i)
			}
		}
		if n, err := s.PruneSessions(ctx, t0.Add(2*time.Hour)); err != nil || n != 2 {
			t.Errorf("PruneSessions = %d, %v; want 2 (admin's and ops' last)", n, err)
		}
		if n, err := s.PruneSessions(ctx, t0.Add(2*time.Hour)); err != nil || n != 0 {
			t.Errorf("PruneSessions again = %d, %v; want 0", n, err)
		}
	})
}
