package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/store"
)

// openEngine opens the store that storage.driver names: the embedded
// bbolt file (the default) or a PostgreSQL database shared by replicas.
func openEngine(ctx context.Context, cfg config.Storage, log *slog.Logger, reg prometheus.Registerer) (store.Engine, error) {
	switch cfg.Driver {
	case config.DriverPostgres:
		return store.OpenPostgres(ctx, cfg, log, store.WithRegisterer(reg))
	case config.DriverBolt, "":
		return store.OpenBolt(ctx, cfg, log, store.WithRegisterer(reg))
	}
	return nil, fmt.Errorf("storage.driver: unknown driver %q", cfg.Driver)
}

// MigrateStore copies every bucket of the bbolt store at from into the
// PostgreSQL database at dsn, for `sentinel store migrate`. The database
// must hold no Sentinel data yet (a partial earlier copy is refused), and
// the file must not be in use. It returns the number of keys copied.
func MigrateStore(ctx context.Context, from, dsn string, log *slog.Logger) (int, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if _, err := os.Stat(from); err != nil {
		return 0, fmt.Errorf("no store to migrate at %s: %w", from, err)
	}
	src, err := store.OpenBolt(ctx, config.Storage{Path: from, OpenTimeout: config.Default().Storage.OpenTimeout}, log, store.ReadOnly())
	if err != nil {
		if errors.Is(err, store.ErrInUse) {
			return 0, fmt.Errorf("%w: stop the sentinel using %s before migrating it", err, from)
		}
		return 0, err
	}
	defer func() { _ = src.Close() }()
	if src.SchemaVersion() != store.CurrentSchemaVersion() {
		return 0, fmt.Errorf("store %s has schema version %d, this sentinel writes %d: open it once with `sentinel serve` to migrate it first",
			from, src.SchemaVersion(), store.CurrentSchemaVersion())
	}
	pcfg := config.Default().Storage
	pcfg.Driver, pcfg.DSN = config.DriverPostgres, config.NewSecret(dsn)
	dst, err := store.OpenPostgres(ctx, pcfg, log)
	if err != nil {
		return 0, err
	}
	defer func() { _ = dst.Close() }()
	return store.CopyAll(ctx, src, dst)
}

// backupPostgres writes a bbolt-format copy of the PostgreSQL store, taken
// from one snapshot while the replicas keep running.
func backupPostgres(ctx context.Context, cfg config.Storage, out string) (int64, error) {
	pg, err := store.OpenPostgres(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return 0, err
	}
	defer func() { _ = pg.Close() }()
	if err := store.BackupFile(ctx, pg, out); err != nil {
		return 0, err
	}
	st, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
