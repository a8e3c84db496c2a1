package store_test

import (
	"errors"
	"syscall"
	"testing"

	"github.com/sentinel-oss/sentinel/store"
)

func TestFaultyFailsWritesAndRecovers(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    store.Engine
	}{
		{"bolt", openBolt(t)},
		{"memory", store.NewMemory()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := store.NewFaulty(tc.e)
			putValue(t, f, "b", "k", "before")
			if err := f.Ping(t.Context()); err != nil {
				t.Fatalf("healthy Ping: %v", err)
			}

			f.FailWrites(store.ErrInjectedDiskFull)
			if err := f.Ping(t.Context()); !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Ping while failing: error = %v, want ENOSPC", err)
			}
			ran := false
			write := func(tx store.Tx) error {
				ran = true
				b, err := tx.Bucket("b")
				if err != nil {
					return err
				}
				return b.Put([]byte("k"), []byte("during"))
			}
			if err := f.Update(t.Context(), write); !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Update while failing: error = %v, want ENOSPC", err)
			}
			if !ran {
				t.Fatal("fn did not run: the fault should hit the commit, not skip the work")
			}
			if err := store.Batch(t.Context(), f, write); !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Batch while failing: error = %v, want ENOSPC", err)
			}
			// Reads carry on, and nothing from the failed writes is there.
			if got := getValue(t, f, "b", "k"); got != "before" {
				t.Fatalf("value after failed writes = %q, want %q", got, "before")
			}

			f.FailWrites(nil)
			if err := f.Ping(t.Context()); err != nil {
				t.Fatalf("Ping after healing: %v", err)
			}
			putValue(t, f, "b", "k", "after")
			if got := getValue(t, f, "b", "k"); got != "after" {
				t.Fatalf("value after healing = %q", got)
			}
		})
	}
}
