package store

import (
	"context"
	"fmt"
	"io"
	"sync"
	"syscall"
)

// ErrInjectedDiskFull is a ready-made fault for Faulty.FailWrites: it
// wraps syscall.ENOSPC, as a write to a full disk would.
var ErrInjectedDiskFull = fmt.Errorf("injected fault: %w", syscall.ENOSPC)

// Faulty wraps an Engine and can be told to fail its writes, so tests in
// any package can check how Sentinel behaves while the store cannot write
// (readiness turning false, requests failing cleanly, recovery after).
// While failing, Update and Batch run fn and then roll back, as a commit
// that hits a full disk does; Ping fails; View and Backup keep working.
type Faulty struct {
	Engine

	mu  sync.Mutex
	err error
}

var _ Batcher = (*Faulty)(nil)

// NewFaulty wraps e; it passes everything through until FailWrites.
func NewFaulty(e Engine) *Faulty { return &Faulty{Engine: e} }

// FailWrites makes every later write fail with an error wrapping err;
// a nil err heals the engine.
func (f *Faulty) FailWrites(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

// fault returns the injected write error, or nil when healthy.
func (f *Faulty) fault() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Update runs fn and commits, unless writes are failing: then it rolls
// fn's writes back and returns the injected error.
func (f *Faulty) Update(ctx context.Context, fn func(Tx) error) error {
	return f.Engine.Update(ctx, f.wrap(fn))
}

// Batch is Update through the wrapped engine's batching when it has one.
func (f *Faulty) Batch(ctx context.Context, fn func(Tx) error) error {
	return Batch(ctx, f.Engine, f.wrap(fn))
}

func (f *Faulty) wrap(fn func(Tx) error) func(Tx) error {
	return func(tx Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if err := f.fault(); err != nil {
			return fmt.Errorf("store commit: %w", err)
		}
		return nil
	}
}

// Ping fails with the injected error while writes are failing.
func (f *Faulty) Ping(ctx context.Context) error {
	if err := f.fault(); err != nil {
		return fmt.Errorf("store ping: %w", err)
	}
	return f.Engine.Ping(ctx)
}

// Backup passes through: reads keep working while writes fail.
func (f *Faulty) Backup(ctx context.Context, w io.Writer) (int64, error) {
	return f.Engine.Backup(ctx, w)
}

// WithModuleLock passes through to the wrapped engine's lock (a plain
// Update when it has none), failing the commit while writes are failing.
func (f *Faulty) WithModuleLock(ctx context.Context, module string, fn func(Tx) error) (bool, error) {
	return WithModuleLock(ctx, f.Engine, module, f.wrap(fn))
}
