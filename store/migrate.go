package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	bolt "go.etcd.io/bbolt"
)

// CurrentSchemaVersion is the data layout version this Sentinel writes.
func CurrentSchemaVersion() uint64 { return schemaVersion(builtinMigrations()) }

// CopyAll copies every bucket of src (keys, values and sequences; not the
// meta bucket, which dst keeps its own of) into dst in one PostgreSQL
// transaction, so a failed copy leaves dst as it was. dst must hold no
// Sentinel data yet. It returns the number of keys copied.
func CopyAll(ctx context.Context, src *Bolt, dst *Postgres) (int, error) {
	if src.SchemaVersion() != dst.SchemaVersion() {
		return 0, fmt.Errorf("copy store: source schema version %d differs from the database's %d", src.SchemaVersion(), dst.SchemaVersion())
	}
	n := 0
	err := src.db.View(func(btx *bolt.Tx) error {
		return pgx.BeginFunc(ctx, dst.pool, func(tx pgx.Tx) error {
			var existing int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM kv WHERE bucket <> $1 LIMIT 1) AS x`, metaBucket).Scan(&existing); err != nil {
				return err
			}
			if existing > 0 {
				return errors.New("the database already holds sentinel data; migrate into an empty database")
			}
			return btx.ForEach(func(name []byte, b *bolt.Bucket) error {
				if string(name) == metaBucket {
					return nil
				}
				rows := make([][]any, 0, 1000)
				flush := func() error {
					if len(rows) == 0 {
						return nil
					}
					if _, err := tx.CopyFrom(ctx, pgx.Identifier{"kv"}, []string{"bucket", "key", "value"}, pgx.CopyFromRows(rows)); err != nil {
						return err
					}
					n += len(rows)
					rows = rows[:0]
					return nil
				}
				err := b.ForEach(func(k, v []byte) error {
					if v == nil {
						return fmt.Errorf("bucket %q holds a nested bucket under %q: not a sentinel store", name, k)
					}
					rows = append(rows, []any{string(name), clone(k), clone(v)})
					if len(rows) == cap(rows) {
						return flush()
					}
					return nil
				})
				if err != nil {
					return fmt.Errorf("copy bucket %q: %w", name, err)
				}
				if err := flush(); err != nil {
					return fmt.Errorf("copy bucket %q: %w", name, err)
				}
				if seq := b.Sequence(); seq > 0 {
					if _, err := tx.Exec(ctx, `INSERT INTO sequences (bucket, seq) VALUES ($1, $2)
						ON CONFLICT (bucket) DO UPDATE SET seq = EXCLUDED.seq`, string(name), int64(seq)); err != nil {
						return fmt.Errorf("copy sequence of %q: %w", name, err)
					}
				}
				return nil
			})
		})
	})
	if err != nil {
		return 0, fmt.Errorf("copy store: %w", err)
	}
	return n, nil
}
