package store_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/store/pgtest"
)

// checkDeliveryClaimsWithin: copies of one delivery sent less than the
// window apart are claimed once across a and b (two replicas, or one
// engine twice), also across a window's boundary; a released claim lets
// the next copy win; claims of other keys, probe runs and prunes behave
// as for ClaimDelivery.
func checkDeliveryClaimsWithin(t *testing.T, a, b store.Engine) {
	ctx := t.Context()
	const within = 10 * time.Minute
	ca, cb := store.NewDeliveryClaims(a), store.NewDeliveryClaims(b)
	window := time.Date(2026, 12, 6, 10, 40, 0, 0, time.UTC)
	first := window.Add(within - time.Second) // 10:49:59, the window's last second
	claim := func(c *store.DeliveryClaims, key string, sent time.Time) bool {
		t.Helper()
		ok, err := c.ClaimDeliveryWithin(ctx, key, sent, within)
		if err != nil {
			t.Fatalf("claim %s at %s: %v", key, sent.Format(time.TimeOnly), err)
		}
		return ok
	}
	if !claim(ca, "view|V1", first) {
		t.Fatal("the first copy's claim lost")
	}
	for _, later := range []time.Duration{0, time.Second, 2 * time.Second, within - time.Second} {
		if claim(cb, "view|V1", first.Add(later)) {
			t.Errorf("a copy sent %s after the first, on the other replica, won", later)
		}
	}
	if !claim(cb, "view|V2", first) {
		t.Error("another view's claim lost")
	}
	// Copies arrive in any order: one sent later (in the next window) is
	// claimed first, and the earlier copy, arriving after it, loses.
	if !claim(ca, "view|V5", first.Add(2*time.Second)) {
		t.Fatal("the later copy's claim lost")
	}
	if claim(cb, "view|V5", first) {
		t.Error("an earlier copy arriving after a later one won")
	}
	// Three windows on: another submission.
	if !claim(cb, "view|V1", window.Add(3*within)) {
		t.Error("a copy sent three windows on lost")
	}

	// Acting on a copy failed: its claim is given back, and the next
	// copy (in the next window, on the other replica) wins.
	if err := ca.ReleaseDeliveryWithin(ctx, "view|V1", first, within); err != nil {
		t.Fatal(err)
	}
	retry := first.Add(2 * time.Second) // 10:50:01
	if !claim(cb, "view|V1", retry) {
		t.Fatal("the copy after a released claim lost")
	}
	if claim(ca, "view|V1", retry.Add(time.Second)) {
		t.Error("a copy of the retry won too")
	}
	// Releasing a claim that is not there changes nothing.
	if err := ca.ReleaseDeliveryWithin(ctx, "view|V9", first, within); err != nil {
		t.Fatal(err)
	}
	// The claims live beside ClaimDelivery's and the probes' runs of the
	// same time without touching them.
	if ok, err := ca.ClaimDelivery(ctx, "event|Ev2", window); err != nil || !ok {
		t.Errorf("an event's claim at the window's start = %v, %v", ok, err)
	}
	if ok, err := store.NewProbeClaims(a).ClaimRun(ctx, "checkout", "local", window); err != nil || !ok {
		t.Errorf("a probe run claim of the window's start = %v, %v", ok, err)
	}
	// Pruned with the probes' claims: gone once the window is before the
	// prune's bound.
	if err := store.NewProbeClaims(a).PruneClaims(ctx, window.Add(within)); err != nil {
		t.Fatal(err)
	}
	if !claim(cb, "view|V2", window.Add(time.Minute)) {
		t.Error("a claim of a pruned window still held")
	}
	if claim(cb, "view|V1", retry) {
		t.Error("the retry's claim, in a window not pruned, was lost by the prune")
	}

	// Bad input.
	for _, w := range []time.Duration{0, -time.Second} {
		if _, err := ca.ClaimDeliveryWithin(ctx, "view|V3", first, w); err == nil {
			t.Errorf("a claim with window %s was accepted", w)
		}
		if err := ca.ReleaseDeliveryWithin(ctx, "view|V3", first, w); err == nil {
			t.Errorf("a release with window %s was accepted", w)
		}
	}
	// A copy without a sending time counts as sent now.
	if !claim(ca, "view|V4", time.Time{}) {
		t.Error("the first copy without a time lost")
	}
	if claim(cb, "view|V4", time.Now()) {
		t.Error("a copy sent now won after one without a time")
	}
}

func TestBoltDeliveryClaimsWithin(t *testing.T) {
	e := openBolt(t)
	checkDeliveryClaimsWithin(t, e, e)
}

func TestPostgresDeliveryClaimsWithin(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := openPostgresAt(t, dsn), openPostgresAt(t, dsn)
	checkDeliveryClaimsWithin(t, a, b)

	// Replicas claiming copies of one submission together, some on each
	// side of a window's boundary: one wins.
	ctx := t.Context()
	boundary := time.Now().Truncate(10 * time.Minute)
	wins := make(chan bool, 4)
	for i, e := range []store.Engine{a, b, a, b} {
		sent := boundary.Add(time.Duration(i-2) * time.Second) // 2 s before to 1 s after
		go func() {
			ok, err := store.NewDeliveryClaims(e).ClaimDeliveryWithin(ctx, "view|Vrace", sent, 10*time.Minute)
			if err != nil {
				t.Error(err)
			}
			wins <- ok
		}()
	}
	n := 0
	for range 4 {
		if <-wins {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d claims of one submission won, want 1", n)
	}
}

// A store that cannot write answers the claim and the release with an
// error naming the delivery, and keeps nothing.
func TestDeliveryClaimsWithinStoreFailure(t *testing.T) {
	f := store.NewFaulty(openBolt(t))
	c := store.NewDeliveryClaims(f)
	ctx := t.Context()
	sent := time.Date(2026, 12, 6, 10, 41, 0, 0, time.UTC)
	f.FailWrites(store.ErrInjectedDiskFull)
	if ok, err := c.ClaimDeliveryWithin(ctx, "view|V1", sent, 10*time.Minute); err == nil || ok || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("claim on a full disk = %v, %v", ok, err)
	}
	if err := c.ReleaseDeliveryWithin(ctx, "view|V1", sent, 10*time.Minute); err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("release on a full disk = %v", err)
	}
	f.FailWrites(nil)
	if ok, err := c.ClaimDeliveryWithin(ctx, "view|V1", sent, 10*time.Minute); err != nil || !ok {
		t.Fatalf("claim after the disk healed = %v, %v (the failed claim was kept)", ok, err)
	}
}
