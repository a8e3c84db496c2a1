package store_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/sentinel-oss/sentinel/store"
)

// smallPut is the unit of work in the benchmarks: one ~100-byte value.
func smallPut(n uint64) func(store.Tx) error {
	value := make([]byte, 100)
	return func(tx store.Tx) error {
		b, err := tx.Bucket("bench")
		if err != nil {
			return err
		}
		return b.Put(store.Uint64Key(n), value)
	}
}

// BenchmarkBoltUpdate is one small put per transaction, each committed
// (and fsynced) on its own.
func BenchmarkBoltUpdate(b *testing.B) {
	e := openBolt(b)
	ctx := context.Background()
	var n uint64
	for b.Loop() {
		n++
		if err := e.Update(ctx, smallPut(n)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoltUpdateParallel is many goroutines each committing their own
// small put: Updates queue for the one writer.
func BenchmarkBoltUpdateParallel(b *testing.B) {
	e := openBolt(b)
	var n atomic.Uint64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := e.Update(context.Background(), smallPut(n.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkBoltBatch is the same concurrent load through Batch, which
// merges the puts into shared commits.
func BenchmarkBoltBatch(b *testing.B) {
	e := openBolt(b)
	var n atomic.Uint64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := e.Batch(context.Background(), smallPut(n.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkBoltView is a point read in its own transaction.
func BenchmarkBoltView(b *testing.B) {
	e := openBolt(b)
	ctx := context.Background()
	if err := e.Update(ctx, smallPut(1)); err != nil {
		b.Fatal(err)
	}
	key := store.Uint64Key(1)
	for b.Loop() {
		err := e.View(ctx, func(tx store.Tx) error {
			bk, err := tx.Bucket("bench")
			if err != nil {
				return err
			}
			_, err = bk.Get(key)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoryUpdate is BenchmarkBoltUpdate on the in-memory engine.
func BenchmarkMemoryUpdate(b *testing.B) {
	e := store.NewMemory()
	ctx := context.Background()
	var n uint64
	for b.Loop() {
		n++
		if err := e.Update(ctx, smallPut(n%1000)); err != nil {
			b.Fatal(err)
		}
	}
}
