package store

import "context"

// Locker is implemented by engines shared by several Sentinel replicas
// (Postgres): it lets one replica at a time run a module's engine cycle
// (rule evaluation, escalation timers, outbox claims, probe scheduling).
type Locker interface {
	// WithModuleLock runs fn in an Update that first takes module's lock
	// without waiting. When another replica holds it, fn does not run and
	// ran is false (skip the cycle; the holder is doing the work). The
	// lock is released when the transaction ends, and by the server when
	// the holder's session dies or idles in the transaction.
	WithModuleLock(ctx context.Context, module string, fn func(Tx) error) (ran bool, err error)
}

// WithModuleLock runs fn under module's lock when e is a Locker, and as a
// plain Update otherwise (on bbolt and in memory one process owns the
// store, and Updates already run one at a time), then ran is true unless
// the Update failed before fn could run.
func WithModuleLock(ctx context.Context, e Engine, module string, fn func(Tx) error) (ran bool, err error) {
	if l, ok := e.(Locker); ok {
		return l.WithModuleLock(ctx, module, fn)
	}
	fnRan := false
	err = e.Update(ctx, func(tx Tx) error {
		fnRan = true
		return fn(tx)
	})
	return fnRan, err
}
