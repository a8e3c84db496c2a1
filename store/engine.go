package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Engine is a transactional key-value store of named buckets; domain stores
// are written against it so that they run on every engine.
//
// All methods are safe for concurrent use. View and Update take a context
// that is checked before the transaction starts (and, for Update, while
// waiting for the single writer slot); a done context is refused with an
// error wrapping ctx.Err().
type Engine interface {
	// View runs fn in a read-only transaction that sees one consistent
	// snapshot, unaffected by Updates that commit while it runs. fn must
	// not wait for an Update to finish: bbolt may need to remap its file
	// to commit, which waits for open readers.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction that commits atomically
	// when fn returns nil. When fn returns an error, or panics, nothing fn
	// wrote is kept and fn's error is returned unchanged, so callers can
	// test it with errors.Is. Updates run one at a time.
	Update(ctx context.Context, fn func(Tx) error) error
	// Backup writes a consistent copy of the whole store to w while
	// reads and writes continue, and returns the number of bytes written.
	// Bolt and Memory both write a bbolt file, which restores into the
	// embedded store.
	Backup(ctx context.Context, w io.Writer) (int64, error)
	// Ping performs a tiny real write and fails while the store cannot
	// write (a full disk, a closed store); readiness checks use it.
	Ping(ctx context.Context) error
	// Close releases the store. Transactions running at the time finish
	// first; afterwards every method returns ErrClosed. Closing twice is
	// harmless.
	Close() error
}

// Tx is one transaction; it is valid only inside the function given to
// View or Update and must not be used from several goroutines at once.
type Tx interface {
	// Bucket returns the named bucket. In an Update it is created on
	// demand; in a View a bucket that does not exist reads as empty.
	// Names must be non-empty, at most MaxBucketNameLen bytes, and not
	// the reserved "meta".
	Bucket(name string) (Bucket, error)
	// Writable reports whether the transaction can write.
	Writable() bool
}

// Bucket is an ordered map of byte keys to byte values inside one
// transaction. Keys must be 1 to MaxKeyLen bytes long.
type Bucket interface {
	// Get returns a copy of the value stored under key, still valid after
	// the transaction ends; nil, nil when the key is missing. A stored
	// empty value comes back as a non-nil empty slice.
	Get(key []byte) ([]byte, error)
	// Put stores value under key, replacing what was there. Key and value
	// are copied, so the caller may reuse its buffers.
	Put(key, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(key []byte) error
	// NextSequence returns the bucket's next sequence number: 1 for a new
	// bucket, then increasing by one per call; a rolled-back transaction
	// rolls its calls back too.
	NextSequence() (uint64, error)
	// Scan calls fn for each key in [from, to) in byte order, or in
	// reverse order when reverse is true; nil from or to leaves that end
	// open. It stops when fn returns more == false or an error, and
	// returns that error. k and v are valid only until fn returns and
	// must not be modified; fn must not write to the bucket being
	// scanned (collect the keys and write after Scan returns).
	Scan(from, to []byte, reverse bool, fn func(k, v []byte) (more bool, err error)) error
}

// Batcher is implemented by engines that can merge concurrent small
// writes into one commit (bbolt's group commit).
type Batcher interface {
	// Batch runs fn in a write transaction that may be shared with other
	// concurrent Batch calls. fn may run more than once when another
	// function in the same batch fails, so it must be idempotent.
	Batch(ctx context.Context, fn func(Tx) error) error
}

// Limits shared by every engine, so that a domain store that works on one
// works on all.
const (
	// MaxKeyLen is the longest key a Bucket accepts (bbolt's limit).
	MaxKeyLen = 32768
	// MaxBucketNameLen is the longest bucket name.
	MaxBucketNameLen = 255
)

// metaBucket holds the schema version and the ping counter; domain code
// cannot open it.
const metaBucket = "meta"

// Errors returned by every engine; test them with errors.Is.
var (
	// ErrInUse means the store file is locked by another process.
	ErrInUse = errors.New("the store file is already in use by another process")
	// ErrNewerSchema means the store (or a value in it) was written by a
	// newer Sentinel than this one.
	ErrNewerSchema = errors.New("store written by a newer sentinel")
	// ErrClosed means the engine has been closed.
	ErrClosed = errors.New("store is closed")
	// ErrReadOnly means a write was attempted in a read-only transaction
	// or on a store opened read-only.
	ErrReadOnly = errors.New("store: write in a read-only transaction")
	// ErrTxDone means a Tx or Bucket was used after its function returned.
	ErrTxDone = errors.New("store: transaction already finished")
	// ErrInvalidKey means a key or bucket name is empty, too long or
	// reserved.
	ErrInvalidKey = errors.New("store: invalid key")
)

// Batch runs fn through e's Batch when e supports it and through Update
// otherwise; fn must be idempotent (see Batcher).
func Batch(ctx context.Context, e Engine, fn func(Tx) error) error {
	if b, ok := e.(Batcher); ok {
		return b.Batch(ctx, fn)
	}
	return e.Update(ctx, fn)
}

// BackupFile writes a consistent backup of e to path: it streams into a
// temporary file beside path, syncs it, and renames it into place, so path
// holds either the previous file or a complete new backup. It refuses to
// overwrite the live store file itself.
func BackupFile(ctx context.Context, e Engine, path string) error {
	if path == "" {
		return fmt.Errorf("backup: empty output path")
	}
	if p, ok := e.(interface{ Path() string }); ok {
		if same, _ := sameFile(p.Path(), path); same {
			return fmt.Errorf("backup to %s: that is the live store file; choose another path", path)
		}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	keep := false
	defer func() {
		if !keep {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := e.Backup(ctx, tmp); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("backup to %s: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	keep = true
	syncDir(dir)
	return nil
}

// sameFile reports whether a and b name the same existing file.
func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

// syncDir makes a rename in dir durable where the platform allows it;
// failure only weakens durability, so it is ignored.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// checkCtx refuses a context that is already done.
func checkCtx(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// checkKey validates a key against the limits shared by every engine.
func checkKey(key []byte) error {
	if len(key) == 0 {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: key of %d bytes is longer than %d", ErrInvalidKey, len(key), MaxKeyLen)
	}
	return nil
}

// checkBucketName validates a bucket name opened through Tx.Bucket.
func checkBucketName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty bucket name", ErrInvalidKey)
	case len(name) > MaxBucketNameLen:
		return fmt.Errorf("%w: bucket name of %d bytes is longer than %d", ErrInvalidKey, len(name), MaxBucketNameLen)
	case name == metaBucket:
		return fmt.Errorf("%w: bucket name %q is reserved", ErrInvalidKey, name)
	}
	return nil
}

// clone returns a copy of b that is nil only when b is nil.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	c := make([]byte, len(b))
	copy(c, b)
	return c
}
