package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/store/pgtest"
	"github.com/sentinel-oss/sentinel/store/storetest"
)

// pgConfig returns storage settings for dsn.
func pgConfig(dsn string) config.Storage {
	return config.Storage{Driver: config.DriverPostgres, DSN: config.NewSecret(dsn), OpenTimeout: model.Duration(5 * time.Second)}
}

// openPostgresAt opens an engine on dsn, closed when t ends: one replica.
func openPostgresAt(t testing.TB, dsn string, opts ...store.Option) *store.Postgres {
	t.Helper()
	p, err := store.OpenPostgres(t.Context(), pgConfig(dsn), nil, opts...)
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// openPostgres opens an engine on a new, empty database.
func openPostgres(t testing.TB, opts ...store.Option) *store.Postgres {
	t.Helper()
	return openPostgresAt(t, pgtest.DSN(t), opts...)
}

func TestPostgresConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Engine { return openPostgres(t) })
}

// counterUpdate increments bucket c key n by one, reading then writing.
func counterUpdate(tx store.Tx) error {
	b, err := tx.Bucket("c")
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
}

func TestPostgresReplicasNoLostUpdates(t *testing.T) {
	dsn := pgtest.DSN(t)
	replicas := []*store.Postgres{openPostgresAt(t, dsn), openPostgresAt(t, dsn), openPostgresAt(t, dsn)}
	const each = 30
	var wg sync.WaitGroup
	errs := make(chan error, len(replicas))
	for _, r := range replicas {
		wg.Go(func() {
			for range each {
				if err := r.Update(context.Background(), counterUpdate); err != nil {
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
	var n uint64
	err := replicas[0].View(t.Context(), func(tx store.Tx) error {
		b, _ := tx.Bucket("c")
		v, err := b.Get([]byte("n"))
		if err != nil {
			return err
		}
		n, err = store.ParseUint64Key(v)
		return err
	})
	if err != nil || n != uint64(len(replicas)*each) {
		t.Fatalf("counter = %d (%v), want %d: serializable retries lost an update", n, err, len(replicas)*each)
	}
}

func TestPostgresModuleLock(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := openPostgresAt(t, dsn), openPostgresAt(t, dsn)
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		ran, err := a.WithModuleLock(context.Background(), "alerting", func(tx store.Tx) error {
			close(holding)
			<-release
			return counterUpdate(tx)
		})
		if err == nil && !ran {
			err = errors.New("the first replica did not get a free lock")
		}
		done <- err
	}()
	<-holding
	ran, err := b.WithModuleLock(t.Context(), "alerting", counterUpdate)
	if err != nil || ran {
		t.Fatalf("second replica while the lock is held: ran=%v err=%v, want a skip", ran, err)
	}
	// Another module's lock is independent.
	if ran, err := b.WithModuleLock(t.Context(), "incidents", func(store.Tx) error { return nil }); err != nil || !ran {
		t.Fatalf("other module: ran=%v err=%v", ran, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ran, err := b.WithModuleLock(t.Context(), "alerting", counterUpdate); err != nil || !ran {
		t.Fatalf("after release: ran=%v err=%v", ran, err)
	}
	// The generic helper uses the lock on a Locker and a plain Update elsewhere.
	if ran, err := store.WithModuleLock(t.Context(), store.NewMemory(), "alerting", counterUpdate); err != nil || !ran {
		t.Fatalf("memory: ran=%v err=%v", ran, err)
	}
}

func TestPostgresPausedHolderLosesLock(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := openPostgresAt(t, dsn, store.WithIdleInTxTimeout(300*time.Millisecond))
	b := openPostgresAt(t, dsn)
	holding, resume := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := a.WithModuleLock(context.Background(), "incidents", func(tx store.Tx) error {
			close(holding)
			<-resume // paused (a GC stall, a frozen VM) inside the cycle
			return counterUpdate(tx)
		})
		done <- err
	}()
	<-holding
	deadline := time.Now().Add(10 * time.Second)
	for {
		ran, err := b.WithModuleLock(t.Context(), "incidents", counterUpdate)
		if err != nil {
			t.Fatal(err)
		}
		if ran {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the paused replica's lock was never released")
		}
		time.Sleep(20 * time.Millisecond) // polling the condition
	}
	close(resume)
	if err := <-done; err == nil {
		t.Fatal("the paused replica's cycle committed after its session was ended")
	}
	var v []byte
	_ = b.View(t.Context(), func(tx store.Tx) error {
		bk, _ := tx.Bucket("c")
		v, _ = bk.Get([]byte("n"))
		return nil
	})
	if n, _ := store.ParseUint64Key(v); n != 1 {
		t.Fatalf("counter = %d, want 1: only the live replica's cycle may count", n)
	}
}

func TestPostgresBackupRestoresIntoBolt(t *testing.T) {
	p := openPostgres(t)
	err := p.Update(t.Context(), func(tx store.Tx) error {
		b, err := tx.Bucket("things")
		if err != nil {
			return err
		}
		for i := range 3000 { // more than one page
			if err := b.Put(store.Uint64Key(uint64(i)), []byte(fmt.Sprint(i))); err != nil {
				return err
			}
		}
		s, err := tx.Bucket("seq")
		if err != nil {
			return err
		}
		for range 7 {
			if _, err := s.NextSequence(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := store.BackupFile(t.Context(), p, path); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Path = path
	b, err := store.OpenBolt(t.Context(), cfg, nil)
	if err != nil {
		t.Fatalf("open the backup as a bbolt store: %v", err)
	}
	defer b.Close()
	err = b.Update(t.Context(), func(tx store.Tx) error {
		bk, _ := tx.Bucket("things")
		n := 0
		if err := bk.Scan(nil, nil, false, func(k, v []byte) (bool, error) {
			if string(v) != fmt.Sprint(n) {
				return false, fmt.Errorf("key %x = %q, want %d", k, v, n)
			}
			n++
			return true, nil
		}); err != nil {
			return err
		}
		if n != 3000 {
			return fmt.Errorf("%d keys in the backup, want 3000", n)
		}
		s, _ := tx.Bucket("seq")
		if seq, err := s.NextSequence(); err != nil || seq != 8 {
			return fmt.Errorf("sequence after restore = %d (%v), want 8", seq, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPostgresRefusesNewerSchema(t *testing.T) {
	dsn := pgtest.DSN(t)
	p := openPostgresAt(t, dsn)
	_ = p.Close()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `UPDATE schema_version SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := store.OpenPostgres(t.Context(), pgConfig(dsn), nil); !errors.Is(err, store.ErrNewerSchema) {
		t.Fatalf("OpenPostgres on a newer schema: %v, want ErrNewerSchema", err)
	}
	if _, err := conn.Exec(t.Context(), `UPDATE schema_version SET version = version - 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), `UPDATE kv SET value = $1 WHERE bucket = 'meta' AND key = 'schema_version'::bytea`,
		store.Uint64Key(store.CurrentSchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.OpenPostgres(t.Context(), pgConfig(dsn), nil); !errors.Is(err, store.ErrNewerSchema) {
		t.Fatalf("OpenPostgres on a newer data layout: %v, want ErrNewerSchema", err)
	}
}

func TestPostgresBadDSNNotLeaked(t *testing.T) {
	_, err := store.OpenPostgres(t.Context(), pgConfig("postgres://u:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=1"), nil)
	if err == nil {
		t.Fatal("opened a database nobody listens for")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error shows the password: %v", err)
	}
}

func TestCopyAllFromBolt(t *testing.T) {
	b := openBolt(t)
	err := b.Update(t.Context(), func(tx store.Tx) error {
		for _, name := range []string{"incidents", "outbox"} {
			bk, err := tx.Bucket(name)
			if err != nil {
				return err
			}
			for i := range 2500 {
				if err := bk.Put(store.Uint64Key(uint64(i)), []byte(name)); err != nil {
					return err
				}
			}
			if _, err := bk.NextSequence(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p := openPostgres(t)
	n, err := store.CopyAll(t.Context(), b, p)
	if err != nil || n != 5000 {
		t.Fatalf("CopyAll = %d, %v; want 5000 keys", n, err)
	}
	err = p.Update(t.Context(), func(tx store.Tx) error {
		bk, _ := tx.Bucket("outbox")
		v, err := bk.Get(store.Uint64Key(2499))
		if err != nil || string(v) != "outbox" {
			return fmt.Errorf("outbox/2499 = %q, %v", v, err)
		}
		if seq, err := bk.NextSequence(); err != nil || seq != 2 {
			return fmt.Errorf("sequence = %d, %v; want 2", seq, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CopyAll(t.Context(), b, p); err == nil {
		t.Fatal("a second copy into a non-empty database was accepted")
	}
}

// BenchmarkPostgresUpdate measures one small read-modify-write Update
// (one replica, local server, fsync off): the per-replica write rate.
func BenchmarkPostgresUpdate(b *testing.B) {
	p := openPostgres(b)
	ctx := context.Background()
	for b.Loop() {
		if err := p.Update(ctx, counterUpdate); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
}

// BenchmarkPostgresUpdateThreeReplicas runs the same Update from three
// replicas on one key, the worst case for serialization conflicts.
func BenchmarkPostgresUpdateThreeReplicas(b *testing.B) {
	dsn := pgtest.DSN(b)
	rs := []*store.Postgres{openPostgresAt(b, dsn), openPostgresAt(b, dsn), openPostgresAt(b, dsn)}
	ctx := context.Background()
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rs[next.Add(1)%3]
		for pb.Next() {
			if err := r.Update(ctx, counterUpdate); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
}

// BenchmarkPostgresModuleLockCycle is one empty engine cycle under a
// module lock: the fixed cost each loop pays per cycle.
func BenchmarkPostgresModuleLockCycle(b *testing.B) {
	p := openPostgres(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := p.WithModuleLock(ctx, "alerting", func(store.Tx) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
