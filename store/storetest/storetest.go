// Package storetest is the conformance suite every store.Engine must pass,
// so that domain stores behave the same on bbolt, in memory, and on any
// engine added later.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/store"
)

// Run runs the suite; open must return a new, empty engine for each call
// and arrange (with t.Cleanup) for it to be closed.
func Run(t *testing.T, open func(t *testing.T) store.Engine) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e store.Engine)
	}{
		{"GetPutDelete", testGetPutDelete},
		{"ReadYourWrites", testReadYourWrites},
		{"InvalidKeys", testInvalidKeys},
		{"ReadOnlyView", testReadOnlyView},
		{"ScanOrder", testScanOrder},
		{"ScanStops", testScanStops},
		{"Atomicity", testAtomicity},
		{"PanicRollsBack", testPanicRollsBack},
		{"Isolation", testIsolation},
		{"NextSequence", testNextSequence},
		{"Copies", testCopies},
		{"TxDone", testTxDone},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ContextRefused", testContextRefused},
		{"WriterWaitCancelled", testWriterWaitCancelled},
		{"PingAndBackup", testPingAndBackup},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// put stores key/value pairs in bucket in one Update.
func put(t *testing.T, e store.Engine, bucket string, kv ...string) {
	t.Helper()
	if len(kv)%2 != 0 {
		t.Fatalf("put: odd number of arguments")
	}
	err := e.Update(t.Context(), func(tx store.Tx) error {
		b, err := tx.Bucket(bucket)
		if err != nil {
			return err
		}
		for i := 0; i < len(kv); i += 2 {
			if err := b.Put([]byte(kv[i]), []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
}

// get reads one key in a View; ok is false when it is missing.
func get(t *testing.T, e store.Engine, bucket, key string) (value string, ok bool) {
	t.Helper()
	var v []byte
	err := e.View(t.Context(), func(tx store.Tx) error {
		b, err := tx.Bucket(bucket)
		if err != nil {
			return err
		}
		v, err = b.Get([]byte(key))
		return err
	})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	return string(v), v != nil
}

func wantValue(t *testing.T, e store.Engine, bucket, key, want string) {
	t.Helper()
	got, ok := get(t, e, bucket, key)
	if !ok {
		t.Fatalf("%s/%s missing, want %q", bucket, key, want)
	}
	if got != want {
		t.Fatalf("%s/%s = %q, want %q", bucket, key, got, want)
	}
}

func wantMissing(t *testing.T, e store.Engine, bucket, key string) {
	t.Helper()
	if got, ok := get(t, e, bucket, key); ok {
		t.Fatalf("%s/%s = %q, want missing", bucket, key, got)
	}
}

func testGetPutDelete(t *testing.T, e store.Engine) {
	wantMissing(t, e, "things", "a")
	put(t, e, "things", "a", "1", "b", "2")
	wantValue(t, e, "things", "a", "1")
	wantValue(t, e, "things", "b", "2")
	wantMissing(t, e, "other", "a")

	put(t, e, "things", "a", "one")
	wantValue(t, e, "things", "a", "one")

	put(t, e, "things", "empty", "")
	err := e.View(t.Context(), func(tx store.Tx) error {
		b, err := tx.Bucket("things")
		if err != nil {
			return err
		}
		v, err := b.Get([]byte("empty"))
		if err != nil {
			return err
		}
		if v == nil || len(v) != 0 {
			return fmt.Errorf("empty value read back as %#v, want a non-nil empty slice", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	err = e.Update(t.Context(), func(tx store.Tx) error {
		b, err := tx.Bucket("things")
		if err != nil {
			return err
		}
		if err := b.Delete([]byte("a")); err != nil {
			return err
		}
		return b.Delete([]byte("never-there"))
	})
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	wantMissing(t, e, "things", "a")
	wantValue(t, e, "things", "b", "2")
}

func testReadYourWrites(t *testing.T, e store.Engine) {
	put(t, e, "b", "k", "old")
	err := e.Update(t.Context(), func(tx store.Tx) error {
		if !tx.Writable() {
			return errors.New("Update's Tx is not writable")
		}
		b, err := tx.Bucket("b")
		if err != nil {
			return err
		}
		if err := b.Put([]byte("k"), []byte("new")); err != nil {
			return err
		}
		if err := b.Put([]byte("k2"), []byte("v2")); err != nil {
			return err
		}
		if v, _ := b.Get([]byte("k")); string(v) != "new" {
			return fmt.Errorf("read %q after writing %q in the same transaction", v, "new")
		}
		var keys []string
		err = b.Scan(nil, nil, false, func(k, _ []byte) (bool, error) {
			keys = append(keys, string(k))
			return true, nil
		})
		if err != nil {
			return err
		}
		if !slices.Equal(keys, []string{"k", "k2"}) {
			return fmt.Errorf("scan inside the writing transaction saw %q", keys)
		}
		if err := b.Delete([]byte("k2")); err != nil {
			return err
		}
		if v, _ := b.Get([]byte("k2")); v != nil {
			return fmt.Errorf("read %q after deleting it", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testInvalidKeys(t *testing.T, e store.Engine) {
	long := bytes.Repeat([]byte("k"), store.MaxKeyLen+1)
	err := e.Update(t.Context(), func(tx store.Tx) error {
		for _, name := range []string{"", "meta", string(bytes.Repeat([]byte("n"), store.MaxBucketNameLen+1))} {
			if _, err := tx.Bucket(name); !errors.Is(err, store.ErrInvalidKey) {
				return fmt.Errorf("Bucket(%.10q...) error = %v, want ErrInvalidKey", name, err)
			}
		}
		b, err := tx.Bucket("b")
		if err != nil {
			return err
		}
		for _, key := range [][]byte{nil, {}, long} {
			if err := b.Put(key, []byte("v")); !errors.Is(err, store.ErrInvalidKey) {
				return fmt.Errorf("Put(key of %d bytes) error = %v, want ErrInvalidKey", len(key), err)
			}
			if _, err := b.Get(key); !errors.Is(err, store.ErrInvalidKey) {
				return fmt.Errorf("Get(key of %d bytes) error = %v, want ErrInvalidKey", len(key), err)
			}
			if err := b.Delete(key); !errors.Is(err, store.ErrInvalidKey) {
				return fmt.Errorf("Delete(key of %d bytes) error = %v, want ErrInvalidKey", len(key), err)
			}
		}
		return b.Put(long[:store.MaxKeyLen], []byte("longest key"))
	})
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, e, "b", string(long[:store.MaxKeyLen]), "longest key")
}

func testReadOnlyView(t *testing.T, e store.Engine) {
	put(t, e, "exists", "k", "v")
	for _, name := range []string{"exists", "missing"} {
		err := e.View(t.Context(), func(tx store.Tx) error {
			if tx.Writable() {
				return errors.New("View's Tx is writable")
			}
			b, err := tx.Bucket(name)
			if err != nil {
				return fmt.Errorf("Bucket(%q) in a View: %v", name, err)
			}
			if err := b.Put([]byte("k"), []byte("x")); !errors.Is(err, store.ErrReadOnly) {
				return fmt.Errorf("Put in a View: error = %v, want ErrReadOnly", err)
			}
			if err := b.Delete([]byte("k")); !errors.Is(err, store.ErrReadOnly) {
				return fmt.Errorf("Delete in a View: error = %v, want ErrReadOnly", err)
			}
			if _, err := b.NextSequence(); !errors.Is(err, store.ErrReadOnly) {
				return fmt.Errorf("NextSequence in a View: error = %v, want ErrReadOnly", err)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("bucket %q: %v", name, err)
		}
	}
	wantValue(t, e, "exists", "k", "v")
	// A missing bucket reads as empty in a View.
	got := scan(t, e, "missing", nil, nil, false)
	if len(got) != 0 {
		t.Fatalf("scan of a missing bucket = %q", got)
	}
}

// scan returns the keys of bucket in [from, to), as Scan visits them.
func scan(t *testing.T, e store.Engine, bucket string, from, to []byte, reverse bool) []string {
	t.Helper()
	var keys []string
	err := e.View(t.Context(), func(tx store.Tx) error {
		b, err := tx.Bucket(bucket)
		if err != nil {
			return err
		}
		return b.Scan(from, to, reverse, func(k, v []byte) (bool, error) {
			if string(v) != "v"+string(k) {
				return false, fmt.Errorf("key %q has value %q", k, v)
			}
			keys = append(keys, string(k))
			return true, nil
		})
	})
	if err != nil {
		t.Fatalf("scan [%q, %q) reverse=%v: %v", from, to, reverse, err)
	}
	return keys
}

func testScanOrder(t *testing.T, e store.Engine) {
	all := []string{"a", "aa", "ab", "b", "b\x00", "ba", "c", "\xff", "\xff\xff"}
	shuffled := slices.Clone(all)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	var kv []string
	for _, k := range shuffled {
		kv = append(kv, k, "v"+k)
	}
	put(t, e, "s", kv...)

	b := func(s string) []byte { return []byte(s) }
	tests := []struct {
		name     string
		from, to []byte
		want     []string
	}{
		{"all", nil, nil, all},
		{"from existing key", b("ab"), nil, all[2:]},
		{"from between keys", b("a\x00"), nil, all[1:]},
		{"to existing key (exclusive)", nil, b("b"), all[:3]},
		{"to between keys", nil, b("bb"), all[:6]},
		{"range", b("aa"), b("ba"), all[1:5]},
		{"range of one", b("c"), b("c\x00"), []string{"c"}},
		{"empty range", b("b"), b("b"), nil},
		{"inverted range", b("c"), b("a"), nil},
		{"past the end", b("\xff\xff\xff"), nil, nil},
		{"before the start", nil, b("a"), nil},
		{"to past the end", b("c"), b("\xff\xff\xff"), all[6:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := scan(t, e, "s", tc.from, tc.to, false); !slices.Equal(got, tc.want) {
				t.Errorf("forward = %q, want %q", got, tc.want)
			}
			want := slices.Clone(tc.want)
			slices.Reverse(want)
			if got := scan(t, e, "s", tc.from, tc.to, true); !slices.Equal(got, want) {
				t.Errorf("reverse = %q, want %q", got, want)
			}
		})
	}
}

func testScanStops(t *testing.T, e store.Engine) {
	put(t, e, "s", "1", "v1", "2", "v2", "3", "v3", "4", "v4")
	boom := errors.New("boom")
	for _, reverse := range []bool{false, true} {
		var seen []string
		err := e.View(t.Context(), func(tx store.Tx) error {
			b, err := tx.Bucket("s")
			if err != nil {
				return err
			}
			err = b.Scan(nil, nil, reverse, func(k, _ []byte) (bool, error) {
				seen = append(seen, string(k))
				return len(seen) < 2, nil
			})
			if err != nil {
				return err
			}
			if len(seen) != 2 {
				return fmt.Errorf("scan went on after more=false: %q", seen)
			}
			calls := 0
			err = b.Scan(nil, nil, reverse, func(_, _ []byte) (bool, error) {
				calls++
				return true, boom
			})
			if !errors.Is(err, boom) || calls != 1 {
				return fmt.Errorf("scan after fn's error: err=%v calls=%d, want boom after 1 call", err, calls)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("reverse=%v: %v", reverse, err)
		}
	}
}

func testAtomicity(t *testing.T, e store.Engine) {
	put(t, e, "a", "k", "before")
	domainErr := errors.New("conflict")
	err := e.Update(t.Context(), func(tx store.Tx) error {
		a, err := tx.Bucket("a")
		if err != nil {
			return err
		}
		b, err := tx.Bucket("b")
		if err != nil {
			return err
		}
		if err := a.Put([]byte("k"), []byte("after")); err != nil {
			return err
		}
		if err := a.Put([]byte("k2"), []byte("new")); err != nil {
			return err
		}
		if err := b.Put([]byte("k"), []byte("new")); err != nil {
			return err
		}
		if err := a.Delete([]byte("k")); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", domainErr)
	})
	if !errors.Is(err, domainErr) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	wantValue(t, e, "a", "k", "before")
	wantMissing(t, e, "a", "k2")
	wantMissing(t, e, "b", "k")
}

func testPanicRollsBack(t *testing.T, e store.Engine) {
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic in fn was swallowed")
			}
		}()
		_ = e.Update(t.Context(), func(tx store.Tx) error {
			b, err := tx.Bucket("p")
			if err != nil {
				return err
			}
			if err := b.Put([]byte("k"), []byte("v")); err != nil {
				return err
			}
			panic("fn panics")
		})
	}()
	wantMissing(t, e, "p", "k")
	// The writer slot was released: the next Update runs.
	put(t, e, "p", "k", "v2")
	wantValue(t, e, "p", "k", "v2")
}

func testIsolation(t *testing.T, e store.Engine) {
	put(t, e, "iso", "k", "v1", "x", "1")
	inView := make(chan struct{})
	updated := make(chan error, 1)
	go func() {
		<-inView
		updated <- e.Update(context.Background(), func(tx store.Tx) error {
			b, err := tx.Bucket("iso")
			if err != nil {
				return err
			}
			if err := b.Put([]byte("k"), []byte("v2")); err != nil {
				return err
			}
			if err := b.Put([]byte("y"), []byte("2")); err != nil {
				return err
			}
			return b.Delete([]byte("x"))
		})
	}()
	err := e.View(t.Context(), func(tx store.Tx) error {
		b, err := tx.Bucket("iso")
		if err != nil {
			return err
		}
		read := func() (string, []string, error) {
			v, err := b.Get([]byte("k"))
			if err != nil {
				return "", nil, err
			}
			var keys []string
			err = b.Scan(nil, nil, false, func(k, _ []byte) (bool, error) {
				keys = append(keys, string(k))
				return true, nil
			})
			return string(v), keys, err
		}
		v, keys, err := read()
		if err != nil {
			return err
		}
		close(inView)
		if err := <-updated; err != nil {
			return fmt.Errorf("concurrent update: %w", err)
		}
		v2, keys2, err := read()
		if err != nil {
			return err
		}
		if v2 != v || !slices.Equal(keys, keys2) {
			return fmt.Errorf("view saw a concurrent commit: k %q -> %q, keys %q -> %q", v, v2, keys, keys2)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, e, "iso", "k", "v2")
	wantMissing(t, e, "iso", "x")
	wantValue(t, e, "iso", "y", "2")
}

// nextSeqs draws n sequence numbers from bucket in one Update, which then
// fails if fail is set.
func nextSeqs(t *testing.T, e store.Engine, bucket string, n int, fail bool) []uint64 {
	t.Helper()
	var got []uint64
	rollback := errors.New("rollback")
	err := e.Update(t.Context(), func(tx store.Tx) error {
		b, err := tx.Bucket(bucket)
		if err != nil {
			return err
		}
		for range n {
			s, err := b.NextSequence()
			if err != nil {
				return err
			}
			got = append(got, s)
		}
		if fail {
			return rollback
		}
		return nil
	})
	if err != nil && !(fail && errors.Is(err, rollback)) {
		t.Fatalf("NextSequence: %v", err)
	}
	return got
}

func testNextSequence(t *testing.T, e store.Engine) {
	if got := nextSeqs(t, e, "s1", 3, false); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("first sequences = %v, want [1 2 3]", got)
	}
	if got := nextSeqs(t, e, "s1", 1, false); !slices.Equal(got, []uint64{4}) {
		t.Fatalf("next transaction = %v, want [4]", got)
	}
	if got := nextSeqs(t, e, "s1", 2, true); !slices.Equal(got, []uint64{5, 6}) {
		t.Fatalf("in a failing transaction = %v, want [5 6]", got)
	}
	if got := nextSeqs(t, e, "s1", 1, false); !slices.Equal(got, []uint64{5}) {
		t.Fatalf("after a rollback = %v, want [5]", got)
	}
	if got := nextSeqs(t, e, "s2", 1, false); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("another bucket = %v, want [1]", got)
	}
}

func testCopies(t *testing.T, e store.Engine) {
	key := []byte("key")
	val := []byte("value")
	var kept []byte
	err := e.Update(t.Context(), func(tx store.Tx) error {
		b, err := tx.Bucket("c")
		if err != nil {
			return err
		}
		if err := b.Put(key, val); err != nil {
			return err
		}
		copy(key, "KEY")
		copy(val, "VALUE")
		got, err := b.Get([]byte("key"))
		if err != nil {
			return err
		}
		if string(got) != "value" {
			return fmt.Errorf("after reusing Put's buffers, Get = %q, want %q", got, "value")
		}
		copy(got, "XXXXX")
		if again, _ := b.Get([]byte("key")); string(again) != "value" {
			return fmt.Errorf("modifying Get's result changed the store: %q", again)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = e.View(t.Context(), func(tx store.Tx) error {
		b, err := tx.Bucket("c")
		if err != nil {
			return err
		}
		kept, err = b.Get([]byte("key"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Churn the store so that a value still pointing into engine memory
	// would likely change.
	for i := range 50 {
		put(t, e, "c", fmt.Sprintf("churn%03d", i), string(bytes.Repeat([]byte{'z'}, 512)))
	}
	if string(kept) != "value" {
		t.Fatalf("value kept after its transaction = %q, want %q", kept, "value")
	}
	wantValue(t, e, "c", "key", "value")
}

func testTxDone(t *testing.T, e store.Engine) {
	put(t, e, "d", "k", "v")
	var tx store.Tx
	var bucket store.Bucket
	err := e.Update(t.Context(), func(x store.Tx) error {
		tx = x
		var err error
		bucket, err = x.Bucket("d")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Bucket("d"); !errors.Is(err, store.ErrTxDone) {
		t.Errorf("Tx.Bucket after Update returned: error = %v, want ErrTxDone", err)
	}
	if _, err := bucket.Get([]byte("k")); !errors.Is(err, store.ErrTxDone) {
		t.Errorf("Get after Update returned: error = %v, want ErrTxDone", err)
	}
	if err := bucket.Put([]byte("k"), []byte("x")); !errors.Is(err, store.ErrTxDone) {
		t.Errorf("Put after Update returned: error = %v, want ErrTxDone", err)
	}
	err = e.View(t.Context(), func(x store.Tx) error {
		var err error
		bucket, err = x.Bucket("d")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := bucket.Scan(nil, nil, false, func(_, _ []byte) (bool, error) { return true, nil }); !errors.Is(err, store.ErrTxDone) {
		t.Errorf("Scan after View returned: error = %v, want ErrTxDone", err)
	}
	wantValue(t, e, "d", "k", "v")
}

func testConcurrentUpdates(t *testing.T, e store.Engine) {
	const workers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				err := e.Update(context.Background(), func(tx store.Tx) error {
					b, err := tx.Bucket("counter")
					if err != nil {
						return err
					}
					v, err := b.Get([]byte("n"))
					if err != nil {
						return err
					}
					var n uint64
					if v != nil {
						if n, err = store.ParseUint64Key(v); err != nil {
							return err
						}
					}
					return b.Put([]byte("n"), store.Uint64Key(n+1))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v, _ := get(t, e, "counter", "n")
	n, err := store.ParseUint64Key([]byte(v))
	if err != nil || n != workers*each {
		t.Fatalf("counter = %d (%v), want %d: concurrent read-modify-write lost updates", n, err, workers*each)
	}
}

func testContextRefused(t *testing.T, e store.Engine) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	fn := func(store.Tx) error { called = true; return nil }
	checks := map[string]error{
		"View":   e.View(ctx, fn),
		"Update": e.Update(ctx, fn),
		"Ping":   e.Ping(ctx),
	}
	_, checks["Backup"] = e.Backup(ctx, &bytes.Buffer{})
	for name, err := range checks {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: error = %v, want context.Canceled", name, err)
		}
	}
	if called {
		t.Error("fn ran under a cancelled context")
	}
}

func testWriterWaitCancelled(t *testing.T, e store.Engine) {
	holding := make(chan struct{})
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- e.Update(context.Background(), func(tx store.Tx) error {
			close(holding)
			<-release
			b, err := tx.Bucket("w")
			if err != nil {
				return err
			}
			return b.Put([]byte("k"), []byte("first"))
		})
	}()
	<-holding
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := e.Update(ctx, func(store.Tx) error {
		return errors.New("ran while another Update held the writer")
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("queued Update whose context ended: error = %v, want context.DeadlineExceeded", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wantValue(t, e, "w", "k", "first")
}

func testPingAndBackup(t *testing.T, e store.Engine) {
	for range 3 {
		if err := e.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	}
	put(t, e, "b", "k", "v")
	var buf bytes.Buffer
	n, err := e.Backup(t.Context(), &buf)
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if n != int64(buf.Len()) || n == 0 {
		t.Fatalf("Backup reported %d bytes and wrote %d", n, buf.Len())
	}
}

func testClosed(t *testing.T, e store.Engine) {
	put(t, e, "k", "k", "v")
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	fn := func(store.Tx) error { return nil }
	checks := map[string]error{
		"View":   e.View(t.Context(), fn),
		"Update": e.Update(t.Context(), fn),
		"Ping":   e.Ping(t.Context()),
	}
	_, checks["Backup"] = e.Backup(t.Context(), &bytes.Buffer{})
	for name, err := range checks {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: error = %v, want ErrClosed", name, err)
		}
	}
}
