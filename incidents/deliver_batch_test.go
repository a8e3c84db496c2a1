package incidents

import (
	"testing"
	"time"
)

func TestBatchFitsInLease(t *testing.T) {
	for _, c := range []struct {
		lease, timeout time.Duration
		want           int
	}{
		{time.Minute, 10 * time.Second, 5},
		{3 * time.Second, 2 * time.Second, 1},
		{time.Hour, time.Second, claimBatch},
		{time.Minute, 0, claimBatch},
	} {
		if got := batchFor(c.lease, c.timeout); got != c.want {
			t.Errorf("batchFor(%v, %v) = %d, want %d", c.lease, c.timeout, got, c.want)
		}
	}
}
