package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/store"
)

// transfer is one write of the backup workload: it moves one unit from
// bucket "from" to bucket "to" and logs it, so that in every committed
// state from + to == total and the log has exactly `to` entries.
func transfer(ctx context.Context, e store.Engine) error {
	return e.Update(ctx, func(tx store.Tx) error {
		from, err := tx.Bucket("from")
		if err != nil {
			return err
		}
		to, err := tx.Bucket("to")
		if err != nil {
			return err
		}
		log, err := tx.Bucket("log")
		if err != nil {
			return err
		}
		a, err := counter(from)
		if err != nil {
			return err
		}
		b, err := counter(to)
		if err != nil {
			return err
		}
		seq, err := log.NextSequence()
		if err != nil {
			return err
		}
		if err := log.Put(store.Uint64Key(seq), bytes.Repeat([]byte{'x'}, 200)); err != nil {
			return err
		}
		if err := from.Put([]byte("n"), store.Uint64Key(a-1)); err != nil {
			return err
		}
		return to.Put([]byte("n"), store.Uint64Key(b+1))
	})
}

func counter(b store.Bucket) (uint64, error) {
	v, err := b.Get([]byte("n"))
	if err != nil || v == nil {
		return 0, err
	}
	return store.ParseUint64Key(v)
}

const total = 1 << 20

// checkInvariant opens a backup and checks the transfer invariant; it
// returns how many transfers the backup holds.
func checkInvariant(t *testing.T, path string) uint64 {
	t.Helper()
	b, err := store.OpenBolt(t.Context(), config.Storage{Path: path}, nil, store.ReadOnly())
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer func() { _ = b.Close() }()
	var moved uint64
	err = b.View(t.Context(), func(tx store.Tx) error {
		from, _ := tx.Bucket("from")
		to, _ := tx.Bucket("to")
		log, _ := tx.Bucket("log")
		a, err := counter(from)
		if err != nil {
			return err
		}
		moved, err = counter(to)
		if err != nil {
			return err
		}
		if a+moved != total {
			return fmt.Errorf("from %d + to %d = %d, want %d", a, moved, a+moved, total)
		}
		var entries uint64
		if err := log.Scan(nil, nil, false, func(_, _ []byte) (bool, error) { entries++; return true, nil }); err != nil {
			return err
		}
		if entries != moved {
			return fmt.Errorf("log has %d entries for %d transfers", entries, moved)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("backup %s is inconsistent: %v", filepath.Base(path), err)
	}
	return moved
}

func TestBackupWhileWriting(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) store.Engine
	}{
		{"bolt", func(t *testing.T) store.Engine { return openBolt(t) }},
		{"memory", func(t *testing.T) store.Engine { return store.NewMemory() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.open(t)
			if err := e.Update(t.Context(), func(tx store.Tx) error {
				from, err := tx.Bucket("from")
				if err != nil {
					return err
				}
				return from.Put([]byte("n"), store.Uint64Key(total))
			}); err != nil {
				t.Fatal(err)
			}

			const writers, backups = 3, 4
			var done atomic.Bool
			var writes atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for range writers {
				wg.Go(func() {
					for !done.Load() {
						if err := transfer(context.Background(), e); err != nil {
							errs <- err
							return
						}
						writes.Add(1)
					}
				})
			}
			dir := t.TempDir()
			var paths []string
			for i := range backups {
				// Wait for writes between backups, so each one is taken
				// mid-stream.
				target := writes.Load() + 20
				waitFor(t, func() bool { return writes.Load() >= target || len(errs) > 0 })
				p := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
				if err := store.BackupFile(t.Context(), e, p); err != nil {
					t.Fatalf("BackupFile: %v", err)
				}
				paths = append(paths, p)
			}
			done.Store(true)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("writer: %v", err)
			}
			var last uint64
			for _, p := range paths {
				moved := checkInvariant(t, p)
				if moved < last {
					t.Fatalf("a later backup holds fewer transfers (%d < %d)", moved, last)
				}
				last = moved
			}
			if last == 0 || last >= uint64(writes.Load()) {
				t.Fatalf("last backup holds %d of %d transfers; want a copy taken while writing", last, writes.Load())
			}
			entries, _ := os.ReadDir(dir)
			for _, de := range entries {
				if strings.HasSuffix(de.Name(), ".tmp") {
					t.Fatalf("temporary file %s left behind", de.Name())
				}
			}
		})
	}
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline instead of hanging.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 30s")
		}
		runtime.Gosched()
	}
}

func TestBackupFileRefusesLiveStore(t *testing.T) {
	b := openBolt(t)
	putValue(t, b, "k", "k", "v")
	err := store.BackupFile(t.Context(), b, b.Path())
	if err == nil || !strings.Contains(err.Error(), "live store file") {
		t.Fatalf("error = %v, want a refusal to overwrite the live store", err)
	}
	if got := getValue(t, b, "k", "k"); got != "v" {
		t.Fatalf("store damaged: %q", got)
	}
}

func TestBackupFileFailureKeepsOldBackup(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(out, []byte("previous backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := store.NewMemory()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := store.BackupFile(ctx, m, out); !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	got, _ := os.ReadFile(out)
	if string(got) != "previous backup" {
		t.Fatalf("failed backup replaced the old one: %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("files left behind: %v", entries)
	}
}

func TestBackupRestores(t *testing.T) {
	// A backup, put in place of the store file, opens as the store with
	// its data and sequences (restore = stop, copy, start).
	for _, tc := range []struct {
		name string
		e    store.Engine
	}{
		{"bolt", openBolt(t)},
		{"memory", store.NewMemory()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			putValue(t, tc.e, "incidents", "42", "checkout down")
			if err := tc.e.Update(t.Context(), func(tx store.Tx) error {
				b, err := tx.Bucket("incidents")
				if err != nil {
					return err
				}
				_, err = b.NextSequence()
				return err
			}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "restored.db")
			if err := store.BackupFile(t.Context(), tc.e, path); err != nil {
				t.Fatal(err)
			}
			r, err := store.OpenBolt(t.Context(), config.Storage{Path: path}, nil)
			if err != nil {
				t.Fatalf("open restored store: %v", err)
			}
			defer func() { _ = r.Close() }()
			if got := getValue(t, r, "incidents", "42"); got != "checkout down" {
				t.Fatalf("restored value %q", got)
			}
			var seq uint64
			if err := r.Update(t.Context(), func(tx store.Tx) error {
				b, err := tx.Bucket("incidents")
				if err != nil {
					return err
				}
				seq, err = b.NextSequence()
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if seq != 2 {
				t.Fatalf("sequence after restore = %d, want 2", seq)
			}
		})
	}
}
