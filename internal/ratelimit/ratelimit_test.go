package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

func TestKeyed(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	k := NewKeyed(2, 3, 2)
	for i := range 3 {
		if !k.Allow("a", t0) {
			t.Fatalf("request %d within the burst refused", i+1)
		}
	}
	if k.Allow("a", t0) {
		t.Fatal("a fourth request at once passed a burst of 3")
	}
	if !k.Allow("a", t0.Add(500*time.Millisecond)) {
		t.Fatal("a token did not come back after half a second at 2/s")
	}
	if !k.Allow("b", t0) || k.Len() != 2 {
		t.Fatal("a second key shares the first's bucket")
	}
	for i := range 10 {
		k.Allow("c"+strconv.Itoa(i), t0)
	}
	if k.Len() != 2 {
		t.Fatalf("holds %d buckets, want at most 2", k.Len())
	}
	if !k.Allow("a", t0) {
		t.Fatal("a forgotten key did not start with a full bucket")
	}
}
