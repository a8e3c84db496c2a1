package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Keys in the meta bucket.
const (
	schemaKey = "schema_version"
	pingKey   = "ping"
)

// migration upgrades a store by one schema version. It runs inside the
// single transaction that opens the store, through the same Tx API the
// domain stores use, so a failing migration leaves the file untouched.
type migration struct {
	// name says what the migration does; it appears in logs and errors.
	name string
	up   func(Tx) error
}

// builtinMigrations lists the migrations this Sentinel knows, in order:
// the migration at index i upgrades version i+1 to version i+2. Version 1
// is the first schema, so the list starts empty; append, never edit or
// reorder, when the layout of a bucket changes.
func builtinMigrations() []migration {
	return []migration{
		{name: "rum error groups regrouped by normalised message and in-app frames", up: regroupRUMErrors},
	}
}

// schemaVersion is the version a store has after all of ms have run.
func schemaVersion(ms []migration) uint64 { return uint64(len(ms)) + 1 }

// initSchema stamps a new file with the current schema version, runs the
// missing migrations on an older one, and refuses a newer one. It returns
// the version found (0 for a new file) and the version now in the file.
func (b *Bolt) initSchema(ms []migration) (from, to uint64, err error) {
	want := schemaVersion(ms)
	if b.readOnly {
		err = b.db.View(func(tx *bolt.Tx) error {
			from, err = readSchema(tx, want)
			return err
		})
		return from, from, err
	}
	err = b.db.Update(func(tx *bolt.Tx) error {
		from, err = readSchema(tx, want)
		if err != nil {
			return err
		}
		if from == want {
			return nil
		}
		meta, err := tx.CreateBucketIfNotExists([]byte(metaBucket))
		if err != nil {
			return err
		}
		if from > 0 {
			for v := from; v < want; v++ {
				m := ms[v-1]
				t := &boltTx{tx: tx}
				err := m.up(t)
				t.finish()
				if err != nil {
					return fmt.Errorf("migrate store schema from version %d to %d (%s): %w", v, v+1, m.name, err)
				}
				b.logger.Info("migrated store schema", "from_version", v, "to_version", v+1, "migration", m.name)
			}
		}
		return meta.Put([]byte(schemaKey), Uint64Key(want))
	})
	return from, want, err
}

// readSchema returns the schema version in tx (0 for a new, empty file),
// refusing versions newer than known and files that hold buckets but no
// version (not a Sentinel store).
func readSchema(tx *bolt.Tx, known uint64) (uint64, error) {
	meta := tx.Bucket([]byte(metaBucket))
	if meta == nil {
		foreign := ""
		_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			foreign = string(name)
			return errStop
		})
		if foreign != "" {
			return 0, fmt.Errorf("the file has a bucket %q but no schema version: not a sentinel store", foreign)
		}
		return 0, nil
	}
	v, err := ParseUint64Key(meta.Get([]byte(schemaKey)))
	if err != nil || v == 0 {
		return 0, errors.New("the schema version is missing or damaged: not a sentinel store, or a damaged one")
	}
	if v > known {
		return v, newerSchemaError(v, known)
	}
	return v, nil
}

// newerSchemaError is the refusal to open a store from a newer Sentinel.
func newerSchemaError(found, known uint64) error {
	return fmt.Errorf("%w: store schema version %d is newer than this sentinel understands (%d); upgrade sentinel or restore a backup",
		ErrNewerSchema, found, known)
}

var errStop = errors.New("stop")

// bumpPing stores the ping counter after old, through put.
func bumpPing(old []byte, put func(k, v []byte) error) error {
	var n uint64
	if len(old) == 8 {
		n = binary.BigEndian.Uint64(old)
	}
	return put([]byte(pingKey), Uint64Key(n+1))
}
