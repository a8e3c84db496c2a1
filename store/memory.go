package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Memory is an Engine that keeps everything in memory, for tests and
// throwaway runs. Committed state is immutable and swapped atomically, so
// a View reads a true snapshot while Updates commit, as with bbolt. Each
// Update copies the buckets it writes to, so it suits small data sets.
type Memory struct {
	// writer is a one-slot semaphore: Updates run one at a time.
	writer chan struct{}
	state  atomic.Pointer[memState]
	closed atomic.Bool
}

var _ Engine = (*Memory)(nil)

// memState is one committed version of the whole store; never modified
// once published.
type memState struct {
	buckets map[string]*memBucket
}

// memBucket holds a bucket's entries sorted by key.
type memBucket struct {
	entries []memEntry
	seq     uint64
}

type memEntry struct {
	key, value []byte
}

// NewMemory returns an empty in-memory store at the current schema version.
func NewMemory() *Memory {
	m := &Memory{writer: make(chan struct{}, 1)}
	meta := &memBucket{}
	meta.put([]byte(schemaKey), Uint64Key(schemaVersion(builtinMigrations())))
	m.state.Store(&memState{buckets: map[string]*memBucket{metaBucket: meta}})
	return m
}

// View runs fn against the latest committed snapshot; see Engine.
func (m *Memory) View(ctx context.Context, fn func(Tx) error) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if err := checkCtx(ctx); err != nil {
		return err
	}
	t := &memTx{base: m.state.Load()}
	defer t.finish()
	return fn(t)
}

// Update runs fn on a private copy of what it touches and publishes the
// result when fn returns nil; see Engine.
func (m *Memory) Update(ctx context.Context, fn func(Tx) error) error {
	return m.update(ctx, func(t *memTx) error { return fn(t) })
}

func (m *Memory) update(ctx context.Context, fn func(*memTx) error) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if err := checkCtx(ctx); err != nil {
		return err
	}
	select {
	case m.writer <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("store: waiting for the writer: %w", ctx.Err())
	}
	defer func() { <-m.writer }()
	if m.closed.Load() {
		return ErrClosed
	}
	t := &memTx{base: m.state.Load(), dirty: map[string]*memBucket{}}
	err := func() error {
		defer t.finish()
		return fn(t)
	}()
	if err != nil {
		return err
	}
	if len(t.dirty) == 0 {
		return nil
	}
	next := &memState{buckets: maps.Clone(t.base.buckets)}
	maps.Copy(next.buckets, t.dirty)
	m.state.Store(next)
	return nil
}

// Ping writes the ping counter; it fails only once the store is closed.
func (m *Memory) Ping(ctx context.Context) error {
	err := m.update(ctx, func(t *memTx) error {
		meta := t.writeBucket(metaBucket)
		return bumpPing(meta.get([]byte(pingKey)), func(k, v []byte) error {
			meta.put(k, v)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("store ping: %w", err)
	}
	return nil
}

// Backup writes the current snapshot to w as a bbolt file, so a memory
// store's backup opens with OpenBolt. It builds the file in a temporary
// directory, removed afterwards.
func (m *Memory) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if m.closed.Load() {
		return 0, ErrClosed
	}
	if err := checkCtx(ctx); err != nil {
		return 0, err
	}
	snap := m.state.Load()
	dir, err := os.MkdirTemp("", "sentinel-backup-")
	if err != nil {
		return 0, fmt.Errorf("store backup: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	db, err := bolt.Open(filepath.Join(dir, "backup.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return 0, fmt.Errorf("store backup: %w", err)
	}
	defer func() { _ = db.Close() }()
	err = db.Update(func(tx *bolt.Tx) error {
		for name, mb := range snap.buckets {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			for _, e := range mb.entries {
				if err := b.Put(e.key, e.value); err != nil {
					return err
				}
			}
			if err := b.SetSequence(mb.seq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store backup: %w", err)
	}
	var n int64
	err = db.View(func(tx *bolt.Tx) error {
		n, err = tx.WriteTo(ctxWriter{ctx: ctx, w: w})
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store backup: %w", err)
	}
	return n, nil
}

// Close makes every later call fail with ErrClosed; see Engine.
func (m *Memory) Close() error {
	m.closed.Store(true)
	return nil
}

// memTx is a transaction over one snapshot; dirty is nil in a View and
// holds the buckets copied for writing in an Update.
type memTx struct {
	txState
	base  *memState
	dirty map[string]*memBucket
}

func (t *memTx) Writable() bool { return t.dirty != nil }

func (t *memTx) Bucket(name string) (Bucket, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := checkBucketName(name); err != nil {
		return nil, err
	}
	if t.dirty == nil {
		b := t.base.buckets[name]
		if b == nil {
			return emptyBucket{state: &t.txState}, nil
		}
		return &memBucketView{tx: t, b: b}, nil
	}
	return &memBucketView{tx: t, b: t.writeBucket(name)}, nil
}

// writeBucket returns the transaction's private copy of a bucket, making
// it on first use.
func (t *memTx) writeBucket(name string) *memBucket {
	if b, ok := t.dirty[name]; ok {
		return b
	}
	b := &memBucket{}
	if old := t.base.buckets[name]; old != nil {
		b.seq = old.seq
		b.entries = slices.Clone(old.entries)
	}
	t.dirty[name] = b
	return b
}

// find returns the index of key, or where it would be inserted.
func (b *memBucket) find(key []byte) (int, bool) {
	return slices.BinarySearchFunc(b.entries, key, func(e memEntry, k []byte) int {
		return bytes.Compare(e.key, k)
	})
}

func (b *memBucket) get(key []byte) []byte {
	if i, ok := b.find(key); ok {
		return b.entries[i].value
	}
	return nil
}

// put stores key and value, which the caller must not modify afterwards.
func (b *memBucket) put(key, value []byte) {
	i, ok := b.find(key)
	if ok {
		b.entries[i].value = value
		return
	}
	b.entries = slices.Insert(b.entries, i, memEntry{key: key, value: value})
}

// memBucketView is a Bucket handed out by a memTx.
type memBucketView struct {
	tx *memTx
	b  *memBucket
}

func (v *memBucketView) Get(key []byte) ([]byte, error) {
	if err := v.tx.check(); err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	val := v.b.get(key)
	if val == nil {
		return nil, nil
	}
	out := make([]byte, len(val))
	copy(out, val)
	return out, nil
}

func (v *memBucketView) Put(key, value []byte) error {
	if err := v.writable(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	val := make([]byte, len(value))
	copy(val, value)
	v.b.put(clone(key), val)
	return nil
}

func (v *memBucketView) Delete(key []byte) error {
	if err := v.writable(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if i, ok := v.b.find(key); ok {
		v.b.entries = slices.Delete(v.b.entries, i, i+1)
	}
	return nil
}

func (v *memBucketView) NextSequence() (uint64, error) {
	if err := v.writable(); err != nil {
		return 0, err
	}
	v.b.seq++
	return v.b.seq, nil
}

func (v *memBucketView) writable() error {
	if err := v.tx.check(); err != nil {
		return err
	}
	if !v.tx.Writable() {
		return ErrReadOnly
	}
	return nil
}

func (v *memBucketView) Scan(from, to []byte, reverse bool, fn func(k, v []byte) (bool, error)) error {
	if err := v.tx.check(); err != nil {
		return err
	}
	lo := 0
	if from != nil {
		lo, _ = v.b.find(from)
	}
	hi := len(v.b.entries)
	if to != nil {
		hi, _ = v.b.find(to)
	}
	if lo >= hi {
		return nil
	}
	// Iterate over a copy of the slice header's range with copied bytes,
	// so that fn can neither corrupt the store nor see its own writes.
	entries := v.b.entries[lo:hi]
	visit := func(e memEntry) (bool, error) {
		return fn(clone(e.key), clone(e.value))
	}
	if !reverse {
		for _, e := range entries {
			if more, err := visit(e); err != nil || !more {
				return err
			}
		}
		return nil
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if more, err := visit(entries[i]); err != nil || !more {
			return err
		}
	}
	return nil
}
