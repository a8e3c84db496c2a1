package app

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/store"
)

// With one process on bbolt, probe runs are not claimed, but Slack
// deliveries are: their claims are pruned a day after the time they are
// kept under, as on a shared store, instead of piling up forever.
func TestClaimsArePrunedWithOneProcess(t *testing.T) {
	ctx := context.Background()
	a, err := New(ctx, Options{Config: testConfig(t, ""), Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if store.Shared(a.engine) {
		t.Fatal("the test config's bbolt store reads as shared")
	}
	claims := store.NewDeliveryClaims(a.engine)
	now := time.Now()
	for _, c := range []struct {
		key  string
		sent time.Time
	}{{"click|old", now.Add(-25 * time.Hour)}, {"click|recent", now.Add(-23 * time.Hour)}} {
		if won, err := claims.ClaimDelivery(ctx, c.key, c.sent); err != nil || !won {
			t.Fatalf("claim %s: %v %v", c.key, won, err)
		}
	}
	started(t, a)
	// The prune runs when the process starts: the day-old claim is gone
	// (claiming it again wins), the 23-hour-old one holds.
	testutil.Eventually(t, 5*time.Second, "the day-old claim pruned", func() bool {
		won, err := claims.ClaimDelivery(ctx, "click|old", now.Add(-25*time.Hour))
		return err == nil && won
	})
	if won, err := claims.ClaimDelivery(ctx, "click|recent", now.Add(-23*time.Hour)); err != nil || won {
		t.Errorf("the 23-hour-old claim: won again %v (%v), want still held", won, err)
	}
}
