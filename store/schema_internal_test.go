package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

func schemaConfig(t *testing.T) config.Storage {
	return config.Storage{Path: filepath.Join(t.TempDir(), "s.db"), OpenTimeout: model.Duration(time.Second)}
}

func openWith(t *testing.T, cfg config.Storage, ms []migration) (*Bolt, error) {
	t.Helper()
	b, err := OpenBolt(t.Context(), cfg, nil, withMigrations(ms))
	if err == nil {
		t.Cleanup(func() { _ = b.Close() })
	}
	return b, err
}

// readRaw reads one key straight from the file, bypassing the engine.
func readRaw(t *testing.T, path, bucket, key string) []byte {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	var v []byte
	_ = db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(bucket)); b != nil {
			v = clone(b.Get([]byte(key)))
		}
		return nil
	})
	return v
}

func TestBuiltinSchema(t *testing.T) {
	cfg := schemaConfig(t)
	b, err := OpenBolt(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := schemaVersion(builtinMigrations())
	if b.SchemaVersion() != want {
		t.Fatalf("SchemaVersion() = %d, want %d", b.SchemaVersion(), want)
	}
	_ = b.Close()
	if v, _ := ParseUint64Key(readRaw(t, cfg.Path, metaBucket, schemaKey)); v != want {
		t.Fatalf("schema_version in the file = %d, want %d", v, want)
	}
	// The in-memory engine starts at the same version.
	m := NewMemory()
	if v, _ := ParseUint64Key(m.state.Load().buckets[metaBucket].get([]byte(schemaKey))); v != want {
		t.Fatalf("memory schema_version = %d, want %d", v, want)
	}
}

// Test migrations: v1 stores names as "first last"; v2 splits them into two
// buckets; v3 counts them.
var (
	migSplit = migration{name: "split names", up: func(tx Tx) error {
		people, err := tx.Bucket("people")
		if err != nil {
			return err
		}
		last, err := tx.Bucket("last_names")
		if err != nil {
			return err
		}
		type kv struct{ k, v []byte }
		var all []kv
		err = people.Scan(nil, nil, false, func(k, v []byte) (bool, error) {
			all = append(all, kv{clone(k), clone(v)})
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, p := range all {
			first, rest, _ := strings.Cut(string(p.v), " ")
			if err := people.Put(p.k, []byte(first)); err != nil {
				return err
			}
			if err := last.Put(p.k, []byte(rest)); err != nil {
				return err
			}
		}
		return nil
	}}
	migCount = migration{name: "count people", up: func(tx Tx) error {
		people, err := tx.Bucket("people")
		if err != nil {
			return err
		}
		n := uint64(0)
		if err := people.Scan(nil, nil, false, func(_, _ []byte) (bool, error) { n++; return true, nil }); err != nil {
			return err
		}
		stats, err := tx.Bucket("stats")
		if err != nil {
			return err
		}
		return stats.Put([]byte("people"), Uint64Key(n))
	}}
)

func TestMigrations(t *testing.T) {
	cfg := schemaConfig(t)
	v1, err := openWith(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v1.SchemaVersion() != 1 {
		t.Fatalf("fresh store at version %d, want 1", v1.SchemaVersion())
	}
	err = v1.Update(t.Context(), func(tx Tx) error {
		b, err := tx.Bucket("people")
		if err != nil {
			return err
		}
		if err := b.Put([]byte("1"), []byte("Ada Lovelace")); err != nil {
			return err
		}
		return b.Put([]byte("2"), []byte("Alan Turing"))
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = v1.Close()

	// A migration that fails leaves the file exactly as it was.
	boom := errors.New("boom")
	failing := migration{name: "explodes", up: func(tx Tx) error { return boom }}
	_, err = openWith(t, cfg, []migration{migSplit, failing})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "from version 2 to 3 (explodes)") {
		t.Fatalf("failing migration: error = %v", err)
	}
	if got := string(readRaw(t, cfg.Path, "people", "1")); got != "Ada Lovelace" {
		t.Fatalf("after a failed migration people/1 = %q: the first migration was not rolled back", got)
	}
	if v, _ := ParseUint64Key(readRaw(t, cfg.Path, metaBucket, schemaKey)); v != 1 {
		t.Fatalf("after a failed migration schema_version = %d, want 1", v)
	}

	// Both missing migrations run, in order, in one go.
	v3, err := openWith(t, cfg, []migration{migSplit, migCount})
	if err != nil {
		t.Fatal(err)
	}
	if v3.SchemaVersion() != 3 {
		t.Fatalf("SchemaVersion() = %d, want 3", v3.SchemaVersion())
	}
	for bucket, want := range map[string]string{"people": "Alan", "last_names": "Turing"} {
		var got []byte
		err := v3.View(t.Context(), func(tx Tx) error {
			b, err := tx.Bucket(bucket)
			if err != nil {
				return err
			}
			got, err = b.Get([]byte("2"))
			return err
		})
		if err != nil || string(got) != want {
			t.Fatalf("%s/2 = %q (%v), want %q", bucket, got, err, want)
		}
	}
	_ = v3.Close()
	if n, _ := ParseUint64Key(readRaw(t, cfg.Path, "stats", "people")); n != 2 {
		t.Fatalf("stats/people = %d, want 2", n)
	}

	// Reopening at the same version runs nothing again.
	ran := false
	again := migration{name: "must not run", up: func(Tx) error { ran = true; return nil }}
	if _, err := openWith(t, cfg, []migration{again, again}); err != nil || ran {
		t.Fatalf("reopen at the current version: err=%v, ran=%v", err, ran)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	cfg := schemaConfig(t)
	b, err := openWith(t, cfg, []migration{migSplit, migCount})
	if err != nil {
		t.Fatal(err)
	}
	_ = b.Close()
	for _, opts := range [][]Option{nil, {ReadOnly()}} {
		_, err = OpenBolt(t.Context(), cfg, nil, append(opts, withMigrations([]migration{migSplit}))...)
		if !errors.Is(err, ErrNewerSchema) {
			t.Fatalf("error = %v, want ErrNewerSchema", err)
		}
		want := "store schema version 3 is newer than this sentinel understands (2); upgrade sentinel or restore a backup"
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not say %q", err, want)
		}
	}
	// The refusal did not touch the file.
	if v, _ := ParseUint64Key(readRaw(t, cfg.Path, metaBucket, schemaKey)); v != 3 {
		t.Fatalf("schema_version = %d after a refused open, want 3", v)
	}
}

func TestForeignBoltFileRefused(t *testing.T) {
	cfg := schemaConfig(t)
	db, err := bolt.Open(cfg.Path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("someone-elses"))
		return err
	})
	_ = db.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenBolt(context.Background(), cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "not a sentinel store") {
		t.Fatalf("error = %v, want a refusal naming it not a sentinel store", err)
	}
}

func TestSchemaVersionOfMigrations(t *testing.T) {
	for n := range 4 {
		ms := make([]migration, n)
		if got := schemaVersion(ms); got != uint64(n+1) {
			t.Errorf("schemaVersion(%d migrations) = %d, want %d", n, got, n+1)
		}
	}
}
