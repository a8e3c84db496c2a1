package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/store/pgtest"
)

// TestHoldModuleLock: while one replica holds a module's lock, another
// skips (without wait) or waits for it; the holder keeps it past the idle
// timeout by its keep-alive; claims of one slot have one winner.
func TestHoldModuleLock(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := openPostgresAt(t, dsn, store.WithIdleInTxTimeout(300*time.Millisecond))
	b := openPostgresAt(t, dsn, store.WithIdleInTxTimeout(300*time.Millisecond))
	ctx := t.Context()
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := a.HoldModuleLock(ctx, "m", false, func(ctx context.Context, fence store.Fence) error {
			close(holding)
			<-release
			return fence() // held past the idle timeout, kept alive
		})
		done <- err
	}()
	<-holding
	ran, err := b.HoldModuleLock(ctx, "m", false, func(context.Context, store.Fence) error { return nil })
	if err != nil || ran {
		t.Fatalf("second holder without wait: ran %v err %v", ran, err)
	}
	waited := make(chan bool, 1)
	go func() {
		ran, err := b.HoldModuleLock(ctx, "m", true, func(context.Context, store.Fence) error { return nil })
		if err != nil {
			t.Error(err)
		}
		waited <- ran
	}()
	time.Sleep(time.Second) // past the idle timeout: the keep-alive must hold the lock
	select {
	case <-waited:
		t.Fatal("the waiting replica got the lock while it was held")
	default:
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("holder: %v", err)
	}
	if !<-waited {
		t.Fatal("the waiting replica never ran")
	}

	// Probe run claims: of replicas claiming one slot together, one wins.
	slot := time.Now().Truncate(time.Second)
	wins := make(chan bool, 3)
	for _, e := range []store.Engine{a, b, a} {
		go func() {
			ok, err := store.NewProbeClaims(e).ClaimRun(ctx, "checkout", "local", slot)
			if err != nil {
				t.Error(err)
			}
			wins <- ok
		}()
	}
	n := 0
	for range 3 {
		if <-wins {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d claims of one slot won, want 1", n)
	}
	// Hand-off claims: of two replicas, one announces a shift start.
	if ok, err := store.NewHandOffClaims(a).ClaimHandOff(ctx, "checkout", "message", slot); err != nil || !ok {
		t.Fatalf("first hand-off claim = %v, %v", ok, err)
	}
	if ok, err := store.NewHandOffClaims(b).ClaimHandOff(ctx, "checkout", "message", slot); err != nil || ok {
		t.Fatalf("second hand-off claim = %v, %v", ok, err)
	}
	// Given back after Slack refused the message: the next look wins it,
	// and the probe's own claim of the same slot is untouched.
	if err := store.NewHandOffClaims(a).ReleaseHandOff(ctx, "checkout", "message", slot); err != nil {
		t.Fatal(err)
	}
	if ok, err := store.NewHandOffClaims(b).ClaimHandOff(ctx, "checkout", "message", slot); err != nil || !ok {
		t.Fatalf("hand-off claim after the release = %v, %v", ok, err)
	}
	if ok, err := store.NewProbeClaims(b).ClaimRun(ctx, "checkout", "local", slot); err != nil || ok {
		t.Fatalf("a run claim of the same slot after the release = %v, %v, want still held", ok, err)
	}
	// The channel note is a part of its own, claimed apart from the message.
	if ok, err := store.NewHandOffClaims(a).ClaimHandOff(ctx, "checkout", "note", slot); err != nil || !ok {
		t.Fatalf("the note's claim while the message's is held = %v, %v", ok, err)
	}
	if ok, err := store.NewHandOffClaims(b).ClaimHandOff(ctx, "checkout", "note", slot); err != nil || ok {
		t.Fatalf("a second note claim = %v, %v", ok, err)
	}
	// Slack delivery claims: one replica acts on a redelivered event,
	// apart from the runs and hand-offs of the same time.
	if ok, err := store.NewDeliveryClaims(a).ClaimDelivery(ctx, "event|Ev1", slot); err != nil || !ok {
		t.Fatalf("first delivery claim = %v, %v", ok, err)
	}
	if ok, err := store.NewDeliveryClaims(b).ClaimDelivery(ctx, "event|Ev1", slot); err != nil || ok {
		t.Fatalf("the redelivery's claim on the other replica = %v, %v, want lost", ok, err)
	}
	if ok, err := store.NewDeliveryClaims(b).ClaimDelivery(ctx, "event|Ev2", slot); err != nil || !ok {
		t.Fatalf("another event's claim = %v, %v", ok, err)
	}
	if err := store.NewProbeClaims(a).PruneClaims(ctx, slot.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if ok, err := store.NewProbeClaims(b).ClaimRun(ctx, "checkout", "local", slot); err != nil || !ok {
		t.Errorf("claim after prune: %v %v", ok, err)
	}
	if ok, err := store.NewDeliveryClaims(b).ClaimDelivery(ctx, "event|Ev1", slot); err != nil || !ok {
		t.Errorf("delivery claim after prune: %v %v", ok, err)
	}
}
