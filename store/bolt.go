package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/sentinel-oss/sentinel/config"
)

// defaultOpenTimeout replaces a zero storage.open_timeout, because bbolt
// would otherwise wait for the file lock forever.
const defaultOpenTimeout = time.Second

// initialMmapSize is mapped up front so that commits rarely need to remap
// the file, which would wait for open readers such as a running backup.
// It costs address space, not memory or disk.
const initialMmapSize = 256 << 20

// batchDelay is how long Batch waits for other callers to join a commit.
const batchDelay = 2 * time.Millisecond

// Bolt is the embedded store: one bbolt file, locked against other
// processes for as long as it is open. It implements Engine and Batcher.
type Bolt struct {
	db       *bolt.DB
	path     string
	logger   *slog.Logger
	readOnly bool
	schema   uint64
	// writer is a one-slot semaphore taken before bbolt's own writer
	// lock, so that a queued Update gives up when its context ends.
	writer  chan struct{}
	closed  atomic.Bool
	metrics *metrics
}

var _ interface {
	Engine
	Batcher
} = (*Bolt)(nil)

// Option adjusts OpenBolt.
type Option func(*options)

type options struct {
	reg        prometheus.Registerer
	readOnly   bool
	migrations []migration
	replica    string
	idleInTx   time.Duration
}

// WithRegisterer registers the store's metrics (transaction durations and
// failures, file size) with reg.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(o *options) { o.reg = reg }
}

// ReadOnly opens an existing store with a shared lock, without creating,
// migrating or writing it; for `sentinel backup` against a store no
// running Sentinel holds. Update and Ping then fail with ErrReadOnly.
func ReadOnly() Option {
	return func(o *options) { o.readOnly = true }
}

// withMigrations replaces the built-in migrations; tests use it.
func withMigrations(ms []migration) Option {
	return func(o *options) { o.migrations = ms }
}

// OpenBolt opens (creating it and its directory if needed) the bbolt file
// at cfg.Path, brings its schema up to date, and returns the store.
//
// If another process holds the file, it waits at most cfg.OpenTimeout (or
// until ctx ends) and returns an error wrapping ErrInUse. A store written
// by a newer Sentinel is refused with an error wrapping ErrNewerSchema.
func OpenBolt(ctx context.Context, cfg config.Storage, logger *slog.Logger, opts ...Option) (*Bolt, error) {
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
	path := cfg.Path
	if path == "" {
		return nil, errors.New("open store: storage.path is empty")
	}
	timeout := cfg.OpenTimeout.Std()
	if timeout <= 0 {
		timeout = defaultOpenTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return nil, fmt.Errorf("open store %s: %w", path, context.DeadlineExceeded)
		}
		timeout = min(timeout, left)
	}
	if o.readOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	} else if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open store %s: create directory: %w", path, err)
	}

	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         timeout,
		ReadOnly:        o.readOnly,
		InitialMmapSize: initialMmapSize,
		FreelistType:    bolt.FreelistMapType,
	})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("open store %s: %w (gave up after %s; probably another sentinel is running with the same storage.path)",
			path, ErrInUse, timeout)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrChecksum):
		return nil, fmt.Errorf("open store %s: not a store file, or a damaged one: %w", path, err)
	case err != nil:
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}

	// bbolt's default 10ms wait for more callers dominates a batch's
	// commit on a local disk; 2ms still gathers concurrent writers.
	db.MaxBatchDelay = batchDelay
	b := &Bolt{
		db:       db,
		path:     path,
		logger:   logger,
		readOnly: o.readOnly,
		writer:   make(chan struct{}, 1),
	}
	from, to, err := b.initSchema(o.migrations)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	b.schema = to
	if o.reg != nil {
		m, err := newMetrics(o.reg, b.size)
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
		b.metrics = m
	}
	switch {
	case from == 0 && !o.readOnly:
		logger.Info("created store", "path", path, "schema_version", to)
	case from < to && !o.readOnly:
		logger.Info("migrated store", "path", path, "from_version", from, "schema_version", to)
	default:
		logger.Info("opened store", "path", path, "schema_version", from, "read_only", o.readOnly)
	}
	return b, nil
}

// Path returns the file the store lives in.
func (b *Bolt) Path() string { return b.path }

// SchemaVersion returns the schema version of the open file.
func (b *Bolt) SchemaVersion() uint64 { return b.schema }

// View runs fn in a read-only transaction; see Engine.
func (b *Bolt) View(ctx context.Context, fn func(Tx) error) error {
	start := time.Now()
	engineErr := false
	err := b.view(ctx, func(tx *bolt.Tx) error {
		t := &boltTx{tx: tx}
		defer t.finish()
		return fn(t)
	}, &engineErr)
	b.metrics.observe("view", start, engineErr)
	return err
}

func (b *Bolt) view(ctx context.Context, fn func(*bolt.Tx) error, engineErr *bool) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if err := checkCtx(ctx); err != nil {
		return err
	}
	fnFailed := false
	err := b.db.View(func(tx *bolt.Tx) error {
		err := fn(tx)
		fnFailed = err != nil
		return err
	})
	if err != nil && !fnFailed {
		*engineErr = true
		return mapBoltErr("view", err)
	}
	return err
}

// Update runs fn in a read-write transaction; see Engine.
func (b *Bolt) Update(ctx context.Context, fn func(Tx) error) error {
	start := time.Now()
	engineErr := false
	err := b.update(ctx, func(tx *bolt.Tx) error {
		t := &boltTx{tx: tx}
		defer t.finish()
		return fn(t)
	}, &engineErr)
	b.metrics.observe("update", start, engineErr)
	return err
}

func (b *Bolt) update(ctx context.Context, fn func(*bolt.Tx) error, engineErr *bool) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if b.readOnly {
		return fmt.Errorf("%w: the store was opened read-only", ErrReadOnly)
	}
	if err := checkCtx(ctx); err != nil {
		return err
	}
	select {
	case b.writer <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("store: waiting for the writer: %w", ctx.Err())
	}
	defer func() { <-b.writer }()
	fnFailed := false
	err := b.db.Update(func(tx *bolt.Tx) error {
		err := fn(tx)
		fnFailed = err != nil
		return err
	})
	if err != nil && !fnFailed {
		*engineErr = true
		return mapBoltErr("commit", err)
	}
	return err
}

// Batch runs fn in a write transaction shared with concurrent Batch calls
// (bbolt's group commit); fn may run more than once. See Batcher.
func (b *Bolt) Batch(ctx context.Context, fn func(Tx) error) error {
	start := time.Now()
	engineErr := false
	err := b.batch(ctx, fn, &engineErr)
	b.metrics.observe("batch", start, engineErr)
	return err
}

func (b *Bolt) batch(ctx context.Context, fn func(Tx) error, engineErr *bool) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if b.readOnly {
		return fmt.Errorf("%w: the store was opened read-only", ErrReadOnly)
	}
	if err := checkCtx(ctx); err != nil {
		return err
	}
	var fnErr error
	err := b.db.Batch(func(tx *bolt.Tx) error {
		t := &boltTx{tx: tx}
		defer t.finish()
		fnErr = fn(t)
		return fnErr
	})
	if err != nil && (fnErr == nil || !errors.Is(err, fnErr)) {
		*engineErr = true
		return mapBoltErr("commit", err)
	}
	return err
}

// Ping writes a counter in the meta bucket and reports whether it
// committed; see Engine.
func (b *Bolt) Ping(ctx context.Context) error {
	start := time.Now()
	engineErr := false
	err := b.update(ctx, func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists([]byte(metaBucket))
		if err != nil {
			return err
		}
		return bumpPing(meta.Get([]byte(pingKey)), meta.Put)
	}, &engineErr)
	b.metrics.observe("update", start, engineErr || err != nil)
	if err != nil {
		return fmt.Errorf("store ping: %w", err)
	}
	return nil
}

// Backup streams a consistent copy of the file to w from one read
// transaction, so writers carry on meanwhile; see Engine.
func (b *Bolt) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	engineErr := false
	err := b.view(ctx, func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx: ctx, w: w})
		return err
	}, &engineErr)
	if err != nil {
		return n, fmt.Errorf("store backup: %w", err)
	}
	return n, nil
}

// Close closes the file and releases its lock; see Engine.
func (b *Bolt) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", b.path, err)
	}
	b.logger.Info("closed store", "path", b.path)
	return nil
}

// size returns the size of the data in the file, for the size metric.
func (b *Bolt) size() float64 {
	if b.closed.Load() {
		return 0
	}
	var n int64
	_ = b.db.View(func(tx *bolt.Tx) error {
		n = tx.Size()
		return nil
	})
	return float64(n)
}

// mapBoltErr turns bbolt's errors into this package's.
func mapBoltErr(op string, err error) error {
	switch {
	case errors.Is(err, bolterrors.ErrDatabaseNotOpen):
		return ErrClosed
	case errors.Is(err, bolterrors.ErrTxNotWritable), errors.Is(err, bolterrors.ErrDatabaseReadOnly):
		return fmt.Errorf("store %s: %w", op, ErrReadOnly)
	case errors.Is(err, bolterrors.ErrTxClosed):
		return ErrTxDone
	}
	return fmt.Errorf("store %s: %w", op, err)
}

// ctxWriter stops a long copy once its context ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// txState is shared by a transaction and the buckets it handed out, so
// that both refuse use after the transaction's function returned.
type txState struct {
	done bool
}

func (s *txState) finish() { s.done = true }

func (s *txState) check() error {
	if s.done {
		return ErrTxDone
	}
	return nil
}

// boltTx adapts *bolt.Tx to Tx.
type boltTx struct {
	txState
	tx *bolt.Tx
}

func (t *boltTx) Writable() bool { return t.tx.Writable() }

func (t *boltTx) Bucket(name string) (Bucket, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := checkBucketName(name); err != nil {
		return nil, err
	}
	b := t.tx.Bucket([]byte(name))
	if b == nil {
		if !t.tx.Writable() {
			return emptyBucket{state: &t.txState}, nil
		}
		var err error
		if b, err = t.tx.CreateBucket([]byte(name)); err != nil {
			return nil, mapBoltErr("create bucket "+name, err)
		}
	}
	return &boltBucket{state: &t.txState, b: b}, nil
}

// boltBucket adapts *bolt.Bucket to Bucket.
type boltBucket struct {
	state *txState
	b     *bolt.Bucket
}

func (b *boltBucket) Get(key []byte) ([]byte, error) {
	if err := b.state.check(); err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	k, v := b.b.Cursor().Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil, nil
	}
	out := make([]byte, len(v))
	copy(out, v)
	return out, nil
}

func (b *boltBucket) Put(key, value []byte) error {
	if err := b.writable(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	v := make([]byte, len(value))
	copy(v, value)
	if err := b.b.Put(clone(key), v); err != nil {
		return mapBoltErr("put", err)
	}
	return nil
}

func (b *boltBucket) Delete(key []byte) error {
	if err := b.writable(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if err := b.b.Delete(key); err != nil {
		return mapBoltErr("delete", err)
	}
	return nil
}

func (b *boltBucket) NextSequence() (uint64, error) {
	if err := b.writable(); err != nil {
		return 0, err
	}
	n, err := b.b.NextSequence()
	if err != nil {
		return 0, mapBoltErr("next sequence", err)
	}
	return n, nil
}

func (b *boltBucket) writable() error {
	if err := b.state.check(); err != nil {
		return err
	}
	if !b.b.Writable() {
		return ErrReadOnly
	}
	return nil
}

func (b *boltBucket) Scan(from, to []byte, reverse bool, fn func(k, v []byte) (bool, error)) error {
	if err := b.state.check(); err != nil {
		return err
	}
	c := b.b.Cursor()
	if !reverse {
		var k, v []byte
		if from == nil {
			k, v = c.First()
		} else {
			k, v = c.Seek(from)
		}
		for ; k != nil && (to == nil || bytes.Compare(k, to) < 0); k, v = c.Next() {
			if more, err := fn(k, v); err != nil || !more {
				return err
			}
		}
		return nil
	}
	var k, v []byte
	if to == nil {
		k, v = c.Last()
	} else if k, v = c.Seek(to); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && (from == nil || bytes.Compare(k, from) >= 0); k, v = c.Prev() {
		if more, err := fn(k, v); err != nil || !more {
			return err
		}
	}
	return nil
}

// emptyBucket is what a View sees for a bucket that does not exist.
type emptyBucket struct{ state *txState }

func (e emptyBucket) Get(key []byte) ([]byte, error) {
	if err := e.state.check(); err != nil {
		return nil, err
	}
	return nil, checkKey(key)
}

func (e emptyBucket) Put(_, _ []byte) error { return e.readOnly() }

func (e emptyBucket) Delete(_ []byte) error { return e.readOnly() }

func (e emptyBucket) NextSequence() (uint64, error) { return 0, e.readOnly() }

func (e emptyBucket) Scan(_, _ []byte, _ bool, _ func(k, v []byte) (bool, error)) error {
	return e.state.check()
}

func (e emptyBucket) readOnly() error {
	if err := e.state.check(); err != nil {
		return err
	}
	return ErrReadOnly
}
