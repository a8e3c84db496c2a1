package store

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/sentinel-oss/sentinel/config"
)

// PostgreSQL error codes the engine acts on.
const (
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
	pgLockNotAvailable     = "55P03"
	pgInFailedTx           = "25P02"
)

// Tuning of the PostgreSQL engine.
const (
	// pgIdleInTxTimeout is set on every session, so that a paused or dead
	// replica's transaction (and the module lock it holds) is ended by the
	// server within seconds.
	pgIdleInTxTimeout = 5 * time.Second
	// pgMaxAttempts bounds how often an Update runs fn when PostgreSQL
	// reports a serialization failure or a deadlock.
	pgMaxAttempts = 25
	// pgBackoffBase and pgBackoffMax bound the jittered wait between
	// attempts.
	pgBackoffBase = 2 * time.Millisecond
	pgBackoffMax  = 250 * time.Millisecond
	// pgFirstPage and pgMaxPage bound a Scan's fetches: small first (most
	// scans stop early), doubling for long ones, never the whole bucket.
	pgFirstPage = 32
	pgMaxPage   = 1024
	// pgDefaultConnectTimeout replaces a zero storage.open_timeout.
	pgDefaultConnectTimeout = 5 * time.Second
	// pgMigrationLock is the advisory lock key that serialises schema
	// migrations of replicas starting together.
	pgMigrationLock = 0x53454e54 // "SENT"
)

// pgMigrations are the SQL schema versions, in order: index i brings the
// database from version i to version i+1. Append, never edit.
var pgMigrations = []string{
	// 1: the key-value model every domain store runs on, sequences,
	// module locks, and readiness pings.
	`CREATE TABLE kv (
		bucket text NOT NULL,
		key bytea NOT NULL,
		value bytea NOT NULL,
		PRIMARY KEY (bucket, key)
	);
	CREATE TABLE sequences (
		bucket text PRIMARY KEY,
		seq bigint NOT NULL
	);
	CREATE TABLE module_locks (
		module text PRIMARY KEY
	);
	CREATE TABLE pings (
		replica text PRIMARY KEY,
		n bigint NOT NULL,
		at timestamptz NOT NULL
	);`,
}

// Postgres is the networked store: the same buckets and keys as Bolt, kept
// in one PostgreSQL table (kv) that several Sentinel replicas share. It
// implements Engine and Locker.
//
// Update runs fn in a SERIALIZABLE transaction and runs it again (up to
// pgMaxAttempts times, with jittered backoff) when PostgreSQL reports a
// serialization failure or a deadlock, so fn must be a pure function of
// the transaction: it must not keep state from a previous attempt. Within
// one process Updates run one at a time, as on bbolt, so conflicts arise
// only between replicas. View runs in REPEATABLE READ READ ONLY.
type Postgres struct {
	pool    *pgxpool.Pool
	logger  *slog.Logger
	replica string
	schema  uint64
	// writer is a one-slot semaphore: Updates of this process run one at
	// a time, and a queued Update gives up when its context ends.
	writer  chan struct{}
	closed  atomic.Bool
	metrics *metrics
	pgm     *pgMetrics
	// locksMade remembers the module_locks rows known to exist.
	locksMade sync.Map
	// holds maps a module to the one-slot semaphore of HoldModuleLock.
	holds sync.Map
	// idleInTx is the sessions' idle_in_transaction_session_timeout.
	idleInTx time.Duration
	// live holds this process's liveness lock (liveness.go).
	live *liveness
}

var _ interface {
	Engine
	Locker
} = (*Postgres)(nil)

// pgMetrics are the series only the networked engine has.
type pgMetrics struct {
	retries   *prometheus.CounterVec
	lockSkips *prometheus.CounterVec
}

func newPGMetrics(reg prometheus.Registerer) (*pgMetrics, error) {
	m := &pgMetrics{
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_store_tx_retries_total",
			Help: "Transactions run again after PostgreSQL reported a serialization failure or a deadlock, by kind.",
		}, []string{"kind"}),
		lockSkips: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_store_module_lock_skips_total",
			Help: "Engine cycles skipped because another replica held the module's lock, by module.",
		}, []string{"module"}),
	}
	if err := reg.Register(m.retries); err != nil {
		return nil, fmt.Errorf("register store metrics: %w", err)
	}
	if err := reg.Register(m.lockSkips); err != nil {
		reg.Unregister(m.retries)
		return nil, fmt.Errorf("register store metrics: %w", err)
	}
	return m, nil
}

// WithReplicaID names this process in the pings table; OpenPostgres
// otherwise uses storage.replica_id or a random ID.
func WithReplicaID(id string) Option {
	return func(o *options) { o.replica = id }
}

// WithIdleInTxTimeout replaces the 5 s idle_in_transaction_session_timeout
// of the PostgreSQL sessions: how soon the server ends the transaction,
// and releases the module lock, of a replica that paused or died in it.
func WithIdleInTxTimeout(d time.Duration) Option {
	return func(o *options) { o.idleInTx = d }
}

// NewReplicaID returns a random replica ID of the form host-hex, for a
// process that was not given one.
func NewReplicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "sentinel"
	}
	if len(host) > 40 {
		host = host[:40]
	}
	var b [6]byte
	_, _ = crand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}

// OpenPostgres connects to the database named by cfg.DSN, applies the
// missing schema migrations (refusing a database written by a newer
// Sentinel with ErrNewerSchema), and returns the store.
func OpenPostgres(ctx context.Context, cfg config.Storage, logger *slog.Logger, opts ...Option) (*Postgres, error) {
	o := options{migrations: builtinMigrations()}
	for _, opt := range opts {
		opt(&o)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "store")
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if o.readOnly {
		return nil, errors.New("open postgres store: read-only mode is not supported; use sentinel backup against the running store")
	}
	dsn := cfg.DSN.Reveal()
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("open postgres store: storage.dsn is empty")
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included: keep it out.
		return nil, errors.New("open postgres store: storage.dsn: " + dsnError(err))
	}
	timeout := cfg.OpenTimeout.Std()
	if timeout <= 0 {
		timeout = pgDefaultConnectTimeout
	}
	if pc.ConnConfig.ConnectTimeout == 0 || pc.ConnConfig.ConnectTimeout > timeout {
		pc.ConnConfig.ConnectTimeout = timeout
	}
	if pc.ConnConfig.RuntimeParams == nil {
		pc.ConnConfig.RuntimeParams = map[string]string{}
	}
	idle := pgIdleInTxTimeout
	if o.idleInTx > 0 {
		idle = o.idleInTx
	}
	pc.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = fmt.Sprint(idle.Milliseconds())
	if pc.ConnConfig.RuntimeParams["application_name"] == "" {
		pc.ConnConfig.RuntimeParams["application_name"] = "sentinel"
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	replica := o.replica
	if replica == "" {
		replica = cfg.ReplicaID
	}
	if replica == "" {
		replica = NewReplicaID()
	}
	p := &Postgres{pool: pool, logger: logger, replica: replica, writer: make(chan struct{}, 1), idleInTx: idle}
	octx, cancel := context.WithTimeout(ctx, timeout+10*time.Second)
	defer cancel()
	from, to, err := p.migrate(octx, o.migrations)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store %s: %w", describeDSN(pc), err)
	}
	p.schema = to
	if p.live, err = startLiveness(octx, pc.ConnConfig, replica, logger); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store %s: %w", describeDSN(pc), err)
	}
	if o.reg != nil {
		m, err := newMetrics(o.reg, p.size)
		if err != nil {
			p.live.stop()
			pool.Close()
			return nil, fmt.Errorf("open postgres store: %w", err)
		}
		pm, err := newPGMetrics(o.reg)
		if err != nil {
			p.live.stop()
			pool.Close()
			return nil, fmt.Errorf("open postgres store: %w", err)
		}
		p.metrics, p.pgm = m, pm
	}
	logger.Info("opened postgres store", "database", describeDSN(pc), "replica", replica, "from_version", from, "schema_version", to)
	return p, nil
}

// describeDSN names the database without its password, for logs and
// errors.
func describeDSN(pc *pgxpool.Config) string { return describeConn(pc.ConnConfig) }

// Replica returns the ID this process writes its pings under.
func (p *Postgres) Replica() string { return p.replica }

// SchemaVersion returns the data layout version of the database (the
// same numbering as Bolt's).
func (p *Postgres) SchemaVersion() uint64 { return p.schema }

// migrate brings the SQL schema and the data layout up to date in one
// transaction under an advisory lock, so replicas starting together take
// turns. It returns the data layout version found (0 for a new database)
// and the version now stored.
func (p *Postgres) migrate(ctx context.Context, ms []migration) (from, to uint64, err error) {
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pgMigrationLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			id int PRIMARY KEY CHECK (id = 1),
			version bigint NOT NULL
		)`); err != nil {
			return err
		}
		var sqlVersion int64
		err := tx.QueryRow(ctx, `SELECT version FROM schema_version WHERE id = 1`).Scan(&sqlVersion)
		if errors.Is(err, pgx.ErrNoRows) {
			sqlVersion = 0
		} else if err != nil {
			return err
		}
		if sqlVersion > int64(len(pgMigrations)) {
			return fmt.Errorf("%w: database schema version %d is newer than this sentinel understands (%d); upgrade sentinel",
				ErrNewerSchema, sqlVersion, len(pgMigrations))
		}
		for v := sqlVersion; v < int64(len(pgMigrations)); v++ {
			if _, err := tx.Exec(ctx, pgMigrations[v]); err != nil {
				return fmt.Errorf("migrate database schema from version %d to %d: %w", v, v+1, err)
			}
			p.logger.Info("migrated database schema", "from_version", v, "to_version", v+1)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_version (id, version) VALUES (1, $1)
			ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version`, int64(len(pgMigrations))); err != nil {
			return err
		}

		// The data layout: the same meta/schema_version key and the same
		// migrations as a bbolt file, run through the Tx API.
		want := schemaVersion(ms)
		var raw []byte
		err = tx.QueryRow(ctx, `SELECT value FROM kv WHERE bucket = $1 AND key = $2`, metaBucket, []byte(schemaKey)).Scan(&raw)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			from = 0
		case err != nil:
			return err
		default:
			if from, err = ParseUint64Key(raw); err != nil || from == 0 {
				return errors.New("the stored schema version is damaged")
			}
		}
		if from > want {
			return newerSchemaError(from, want)
		}
		if from > 0 {
			for v := from; v < want; v++ {
				m := ms[v-1]
				t := &pgTx{ctx: ctx, tx: tx, writable: true}
				err := m.up(t)
				t.finish()
				if err != nil {
					return fmt.Errorf("migrate store schema from version %d to %d (%s): %w", v, v+1, m.name, err)
				}
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO kv (bucket, key, value) VALUES ($1, $2, $3)
			ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value`, metaBucket, []byte(schemaKey), Uint64Key(want))
		to = want
		return err
	})
	return from, to, err
}

// View runs fn in a REPEATABLE READ READ ONLY transaction; see Engine.
func (p *Postgres) View(ctx context.Context, fn func(Tx) error) error {
	start := time.Now()
	engineErr := false
	err := p.view(ctx, fn, &engineErr)
	p.metrics.observe("view", start, engineErr)
	return err
}

func (p *Postgres) view(ctx context.Context, fn func(Tx) error, engineErr *bool) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if err := checkCtx(ctx); err != nil {
		return err
	}
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		*engineErr = true
		return p.mapErr("begin", err)
	}
	t := &pgTx{ctx: ctx, tx: tx}
	defer func() {
		t.finish()
		// A read-only transaction has nothing to keep: roll back always.
		_ = tx.Rollback(context.WithoutCancel(ctx))
	}()
	return fn(t)
}

// Update runs fn in a SERIALIZABLE transaction, again after a
// serialization failure or deadlock; see Postgres and Engine.
func (p *Postgres) Update(ctx context.Context, fn func(Tx) error) error {
	start := time.Now()
	engineErr := false
	_, err := p.update(ctx, "update", "", fn, &engineErr)
	p.metrics.observe("update", start, engineErr)
	return err
}

// WithModuleLock runs fn in an Update whose first statement takes module's
// row in module_locks with FOR UPDATE NOWAIT; when another replica holds
// it, fn does not run and ran is false. See Locker.
func (p *Postgres) WithModuleLock(ctx context.Context, module string, fn func(Tx) error) (ran bool, err error) {
	if module == "" || !utf8.ValidString(module) || strings.IndexByte(module, 0) >= 0 || len(module) > MaxBucketNameLen {
		return false, fmt.Errorf("%w: module lock name %q", ErrInvalidKey, module)
	}
	if p.closed.Load() {
		return false, ErrClosed
	}
	if err := checkCtx(ctx); err != nil {
		return false, err
	}
	if _, ok := p.locksMade.Load(module); !ok {
		if _, err := p.pool.Exec(ctx, `INSERT INTO module_locks (module) VALUES ($1) ON CONFLICT DO NOTHING`, module); err != nil {
			return false, p.mapErr("module lock", err)
		}
		p.locksMade.Store(module, true)
	}
	start := time.Now()
	engineErr := false
	ran, err = p.update(ctx, "update", module, fn, &engineErr)
	p.metrics.observe("update", start, engineErr)
	if !ran && err == nil && p.pgm != nil {
		p.pgm.lockSkips.WithLabelValues(module).Inc()
	}
	return ran, err
}

// update runs fn in a SERIALIZABLE transaction until it commits, fails
// for good, or runs out of attempts. With a module, the transaction first
// takes that module's lock; ran is false when another replica holds it.
func (p *Postgres) update(ctx context.Context, kind, module string, fn func(Tx) error, engineErr *bool) (ran bool, err error) {
	if p.closed.Load() {
		return false, ErrClosed
	}
	if err := checkCtx(ctx); err != nil {
		return false, err
	}
	select {
	case p.writer <- struct{}{}:
	case <-ctx.Done():
		return false, fmt.Errorf("store: waiting for the writer: %w", ctx.Err())
	}
	defer func() { <-p.writer }()
	for attempt := 1; ; attempt++ {
		if p.closed.Load() {
			return false, ErrClosed
		}
		ran, retry, err := p.attempt(ctx, module, fn, engineErr)
		if !retry {
			return ran, err
		}
		if attempt >= pgMaxAttempts {
			*engineErr = true
			return false, fmt.Errorf("store commit: gave up after %d attempts: %w", attempt, err)
		}
		if p.pgm != nil {
			p.pgm.retries.WithLabelValues(kind).Inc()
		}
		wait := min(pgBackoffBase<<(attempt-1), pgBackoffMax)
		wait = wait/2 + rand.N(wait/2+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, fmt.Errorf("store: retrying a conflicting transaction: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// attempt runs fn once. retry reports a serialization failure or deadlock
// (fn's writes are rolled back and fn may run again).
func (p *Postgres) attempt(ctx context.Context, module string, fn func(Tx) error, engineErr *bool) (ran, retry bool, err error) {
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		*engineErr = true
		return false, false, p.mapErr("begin", err)
	}
	bg := context.WithoutCancel(ctx)
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback(bg)
		}
	}()
	if module != "" {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM module_locks WHERE module = $1 FOR UPDATE NOWAIT`, module).Scan(&one)
		switch {
		case pgCode(err) == pgLockNotAvailable:
			return false, false, nil
		case isRetryable(err):
			return false, true, err
		case err != nil:
			*engineErr = true
			return false, false, p.mapErr("module lock", err)
		}
	}
	t := &pgTx{ctx: ctx, tx: tx, writable: true}
	fnErr := func() error {
		defer t.finish()
		return fn(t)
	}()
	if t.retryErr != nil {
		// The transaction was doomed by a conflict, whatever fn made of
		// the error it saw.
		return true, true, t.retryErr
	}
	if fnErr != nil {
		if isRetryable(fnErr) {
			return true, true, fnErr
		}
		return true, false, fnErr
	}
	if err := tx.Commit(ctx); err != nil {
		if isRetryable(err) {
			return true, true, err
		}
		*engineErr = true
		return true, false, p.mapErr("commit", err)
	}
	committed = true
	return true, false, nil
}

// Ping upserts this replica's row in the pings table; see Engine.
func (p *Postgres) Ping(ctx context.Context) error {
	if p.closed.Load() {
		return fmt.Errorf("store ping: %w", ErrClosed)
	}
	if err := checkCtx(ctx); err != nil {
		return fmt.Errorf("store ping: %w", err)
	}
	start := time.Now()
	_, err := p.pool.Exec(ctx, `INSERT INTO pings (replica, n, at) VALUES ($1, 1, now())
		ON CONFLICT (replica) DO UPDATE SET n = pings.n + 1, at = now()`, p.replica)
	p.metrics.observe("update", start, err != nil)
	if err != nil {
		return fmt.Errorf("store ping: %w", p.mapErr("write", err))
	}
	return nil
}

// Backup copies every bucket, its keys and its sequence from one
// REPEATABLE READ snapshot into a temporary bbolt file and streams that
// file to w, so the result restores into the embedded store; see Engine.
func (p *Postgres) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	if err := checkCtx(ctx); err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp("", "sentinel-backup-")
	if err != nil {
		return 0, fmt.Errorf("store backup: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	db, err := bolt.Open(filepath.Join(dir, "backup.db"), 0o600, &bolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		return 0, fmt.Errorf("store backup: %w", err)
	}
	defer func() { _ = db.Close() }()
	engineErr := false
	err = p.view(ctx, func(t Tx) error {
		return copyAll(ctx, t.(*pgTx).tx, db)
	}, &engineErr)
	if err != nil {
		return 0, fmt.Errorf("store backup: %w", p.mapErr("read", err))
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

// copyAll copies every row of kv and sequences read through tx into db,
// committing to db every few thousand rows so memory stays bounded.
func copyAll(ctx context.Context, tx pgx.Tx, db *bolt.DB) error {
	const chunk = 5000
	var lastBucket string
	var lastKey []byte
	first := true
	for {
		var rows pgx.Rows
		var err error
		if first {
			rows, err = tx.Query(ctx, `SELECT bucket, key, value FROM kv ORDER BY bucket, key LIMIT $1`, chunk)
		} else {
			rows, err = tx.Query(ctx, `SELECT bucket, key, value FROM kv WHERE (bucket, key) > ($1, $2) ORDER BY bucket, key LIMIT $3`,
				lastBucket, lastKey, chunk)
		}
		if err != nil {
			return err
		}
		type row struct {
			bucket     string
			key, value []byte
		}
		var page []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.bucket, &r.key, &r.value); err != nil {
				rows.Close()
				return err
			}
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		first = false
		lastBucket, lastKey = page[len(page)-1].bucket, page[len(page)-1].key
		err = db.Update(func(btx *bolt.Tx) error {
			for _, r := range page {
				b, err := btx.CreateBucketIfNotExists([]byte(r.bucket))
				if err != nil {
					return err
				}
				if err := b.Put(r.key, r.value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(page) < chunk {
			break
		}
	}
	rows, err := tx.Query(ctx, `SELECT bucket, seq FROM sequences ORDER BY bucket`)
	if err != nil {
		return err
	}
	seqs := map[string]uint64{}
	for rows.Next() {
		var name string
		var seq int64
		if err := rows.Scan(&name, &seq); err != nil {
			rows.Close()
			return err
		}
		seqs[name] = uint64(seq)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return db.Update(func(btx *bolt.Tx) error {
		for name, seq := range seqs {
			b, err := btx.CreateBucketIfNotExists([]byte(name))
			if err != nil {
				return err
			}
			if err := b.SetSequence(seq); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close closes the connection pool after the transactions running finish;
// see Engine.
func (p *Postgres) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	p.live.stop()
	p.pool.Close()
	p.logger.Info("closed postgres store")
	return nil
}

// size is the size of the kv table with its index, for the size metric.
func (p *Postgres) size() float64 {
	if p.closed.Load() {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var n int64
	if err := p.pool.QueryRow(ctx, `SELECT pg_total_relation_size('kv')`).Scan(&n); err != nil {
		return 0
	}
	return float64(n)
}

// mapErr turns driver errors into this package's, keeping the cause.
func (p *Postgres) mapErr(op string, err error) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("store %s: %w", op, err)
	}
	return fmt.Errorf("store %s: postgres: %w", op, err)
}

// pgCode returns the SQLSTATE of a PostgreSQL error, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// isRetryable reports whether err means the transaction lost a conflict
// and may simply run again.
func isRetryable(err error) bool {
	switch pgCode(err) {
	case pgSerializationFailure, pgDeadlockDetected:
		return true
	}
	return false
}

// pgTx adapts a pgx transaction to Tx.
type pgTx struct {
	txState
	ctx      context.Context
	tx       pgx.Tx
	writable bool
	// retryErr is the first serialization failure or deadlock a statement
	// hit; the transaction is then doomed even if fn ignores the error.
	retryErr error
}

func (t *pgTx) Writable() bool { return t.writable }

func (t *pgTx) Bucket(name string) (Bucket, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := checkBucketName(name); err != nil {
		return nil, err
	}
	if !utf8.ValidString(name) || strings.IndexByte(name, 0) >= 0 {
		return nil, fmt.Errorf("%w: bucket name %q is not valid UTF-8 text", ErrInvalidKey, name)
	}
	return &pgBucket{t: t, name: name}, nil
}

// note records a statement's error and returns it wrapped.
func (t *pgTx) note(op string, err error) error {
	if err == nil {
		return nil
	}
	if isRetryable(err) || pgCode(err) == pgInFailedTx {
		if t.retryErr == nil && isRetryable(err) {
			t.retryErr = err
		}
	}
	return fmt.Errorf("store %s: %w", op, err)
}

// pgBucket is a Bucket handed out by a pgTx: every call is one statement.
type pgBucket struct {
	t    *pgTx
	name string
}

func (b *pgBucket) Get(key []byte) ([]byte, error) {
	if err := b.t.check(); err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	var v []byte
	err := b.t.tx.QueryRow(b.t.ctx, `SELECT value FROM kv WHERE bucket = $1 AND key = $2`, b.name, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, b.t.note("get", err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

func (b *pgBucket) Put(key, value []byte) error {
	if err := b.writable(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	_, err := b.t.tx.Exec(b.t.ctx, `INSERT INTO kv (bucket, key, value) VALUES ($1, $2, $3)
		ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value`, b.name, key, value)
	return b.t.note("put", err)
}

func (b *pgBucket) Delete(key []byte) error {
	if err := b.writable(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := b.t.tx.Exec(b.t.ctx, `DELETE FROM kv WHERE bucket = $1 AND key = $2`, b.name, key)
	return b.t.note("delete", err)
}

func (b *pgBucket) NextSequence() (uint64, error) {
	if err := b.writable(); err != nil {
		return 0, err
	}
	var n int64
	err := b.t.tx.QueryRow(b.t.ctx, `INSERT INTO sequences (bucket, seq) VALUES ($1, 1)
		ON CONFLICT (bucket) DO UPDATE SET seq = sequences.seq + 1 RETURNING seq`, b.name).Scan(&n)
	if err != nil {
		return 0, b.t.note("next sequence", err)
	}
	return uint64(n), nil
}

func (b *pgBucket) writable() error {
	if err := b.t.check(); err != nil {
		return err
	}
	if !b.t.writable {
		return ErrReadOnly
	}
	return nil
}

// Scan fetches [from, to) a page at a time (keyset pagination on the
// primary key), reading each page whole before calling fn, so fn may use
// the transaction and a huge bucket is never loaded at once.
func (b *pgBucket) Scan(from, to []byte, reverse bool, fn func(k, v []byte) (bool, error)) error {
	if err := b.t.check(); err != nil {
		return err
	}
	if from != nil && to != nil && string(from) >= string(to) {
		return nil
	}
	lo, hi := from, to
	loIncl := true
	limit := pgFirstPage
	for {
		var sb strings.Builder
		args := []any{b.name}
		sb.WriteString(`SELECT key, value FROM kv WHERE bucket = $1`)
		if lo != nil {
			args = append(args, lo)
			if loIncl {
				fmt.Fprintf(&sb, ` AND key >= $%d`, len(args))
			} else {
				fmt.Fprintf(&sb, ` AND key > $%d`, len(args))
			}
		}
		if hi != nil {
			args = append(args, hi)
			fmt.Fprintf(&sb, ` AND key < $%d`, len(args))
		}
		if reverse {
			sb.WriteString(` ORDER BY key DESC`)
		} else {
			sb.WriteString(` ORDER BY key`)
		}
		args = append(args, limit)
		fmt.Fprintf(&sb, ` LIMIT $%d`, len(args))
		rows, err := b.t.tx.Query(b.t.ctx, sb.String(), args...)
		if err != nil {
			return b.t.note("scan", err)
		}
		var keys, vals [][]byte
		for rows.Next() {
			var k, v []byte
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return b.t.note("scan", err)
			}
			if v == nil {
				v = []byte{}
			}
			keys, vals = append(keys, k), append(vals, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return b.t.note("scan", err)
		}
		for i := range keys {
			if more, err := fn(keys[i], vals[i]); err != nil || !more {
				return err
			}
			if err := b.t.check(); err != nil {
				return err
			}
		}
		if len(keys) < limit {
			return nil
		}
		last := keys[len(keys)-1]
		if reverse {
			hi = last
		} else {
			lo, loIncl = last, false
		}
		limit = min(limit*2, pgMaxPage)
	}
}
