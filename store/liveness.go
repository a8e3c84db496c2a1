package store

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Liveness of the processes sharing a PostgreSQL store. Each process holds
// a session-level advisory lock, keyed by an ID of this start of the
// process (its incarnation), on a connection of its own. PostgreSQL drops
// the lock the moment that session ends: at once when the process dies
// (its socket closes with it), and within about ten seconds when its
// machine dies or the network to it fails (the keepalive settings below).
// Work a process claims names its incarnation, so that others can tell
// that a claim's owner is gone without waiting out a lease.
//
// A new incarnation is taken every time the session is (re)opened: a lock
// once seen missing never comes back, so a claim found dead stays dead.

// Tuning of the liveness session.
const (
	// livenessPing is how often the holder checks its own session (and
	// opens a new one when it is gone).
	livenessPing = time.Second
	// livenessCheckTimeout bounds one check of the holder's own session.
	livenessCheckTimeout = 2 * time.Second
	// livenessGrace is how long a claimer's lock must have been seen
	// missing before its claims count as dead: a request the claimer sent
	// just before it died has that long to land (Slack's history is read
	// before anything is sent again).
	livenessGrace = time.Second
)

// livenessParams make the server notice a vanished peer quickly: TCP
// keepalives after 5 s of silence, every second, 5 unanswered probes; and
// unacknowledged data gives up after 10 s. The holder speaks every second,
// so a live one is never idle that long.
var livenessParams = map[string]string{
	"tcp_keepalives_idle":     "5",
	"tcp_keepalives_interval": "1",
	"tcp_keepalives_count":    "5",
	"tcp_user_timeout":        "10000",
	"application_name":        "sentinel-liveness",
}

// ErrLivenessLost means this process's liveness session is gone (being
// reopened): what it claimed may be taken over by other replicas, so it
// must not act on those claims.
var ErrLivenessLost = errors.New("store: this replica's liveness session is lost; its claims may be taken over")

// liveness holds this process's lock and answers whether others hold
// theirs.
type liveness struct {
	cfg     *pgx.ConnConfig
	replica string
	log     *slog.Logger
	now     func() time.Time

	// mu guards the fields below and the connection, which runs one
	// statement at a time.
	mu      sync.Mutex
	conn    *pgx.Conn
	id      string
	missing map[string]time.Time // claimer -> first seen without its lock

	cancel context.CancelFunc
	done   chan struct{}
}

// lockKey is the advisory lock key of an incarnation.
func lockKey(id string) int64 {
	sum := sha256.Sum256([]byte("sentinel-liveness/" + id))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

func newIncarnation(replica string) string {
	var b [8]byte
	_, _ = crand.Read(b[:])
	return replica + "/" + hex.EncodeToString(b[:])
}

// startLiveness opens the liveness session (failing when it cannot) and
// keeps it checked and, when lost, reopened until stop.
func startLiveness(ctx context.Context, base *pgx.ConnConfig, replica string, logger *slog.Logger) (*liveness, error) {
	cfg := base.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	for k, v := range livenessParams {
		cfg.RuntimeParams[k] = v
	}
	l := &liveness{cfg: cfg, replica: replica, log: logger, now: time.Now, missing: map[string]time.Time{}, done: make(chan struct{})}
	if err := l.open(ctx); err != nil {
		return nil, fmt.Errorf("open liveness session: %w", err)
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel = cancel
	go l.run(lctx)
	return l, nil
}

// open connects and takes the lock of a new incarnation.
func (l *liveness) open(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return err
	}
	for range 3 {
		id := newIncarnation(l.replica)
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, lockKey(id)).Scan(&got); err != nil {
			_ = conn.Close(context.WithoutCancel(ctx))
			return err
		}
		if got {
			l.mu.Lock()
			l.conn, l.id = conn, id
			l.mu.Unlock()
			l.log.Info("liveness session open", "incarnation", id)
			return nil
		}
	}
	_ = conn.Close(context.WithoutCancel(ctx))
	return errors.New("three incarnation IDs in a row were locked already")
}

func (l *liveness) run(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(livenessPing)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.mu.Lock()
		id := l.id
		l.mu.Unlock()
		if id != "" {
			if l.check(ctx, id) == nil {
				continue
			}
		}
		if err := l.open(ctx); err != nil && ctx.Err() == nil {
			l.log.Warn("liveness session could not be reopened; trying again in a second", "err", err)
		}
	}
}

// check runs a statement on the session of incarnation id; when it fails
// the session is dropped (and reopened under a new incarnation by run).
func (l *liveness) check(ctx context.Context, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.id == "" || l.id != id {
		return ErrLivenessLost
	}
	cctx, cancel := context.WithTimeout(ctx, livenessCheckTimeout)
	defer cancel()
	if _, err := l.conn.Exec(cctx, `SELECT 1`); err != nil {
		l.log.Warn("liveness session lost; claims made under it may be taken over", "incarnation", l.id, "err", err)
		_ = l.conn.Close(context.WithoutCancel(ctx))
		l.conn, l.id = nil, ""
		return fmt.Errorf("%w: %w", ErrLivenessLost, err)
	}
	return nil
}

// current is the live incarnation, or ErrLivenessLost.
func (l *liveness) current() (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.id == "" {
		return "", ErrLivenessLost
	}
	return l.id, nil
}

// dead reports which of ids are dead: their lock has been missing for at
// least livenessGrace (the first call that finds one missing starts the
// clock). held lists the keys of the advisory locks granted now.
func (l *liveness) dead(ids []string, held map[int64]bool) map[string]bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]bool{}
	next := make(map[string]time.Time, len(ids))
	for _, id := range ids {
		if held[lockKey(id)] {
			continue
		}
		first, ok := l.missing[id]
		if !ok {
			first = now
		}
		next[id] = first
		if now.Sub(first) >= livenessGrace {
			out[id] = true
		}
	}
	l.missing = next // only the claimers asked about: bounded
	return out
}

func (l *liveness) stop() {
	if l.cancel != nil {
		l.cancel()
		<-l.done
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = l.conn.Close(ctx)
		cancel()
		l.conn, l.id = nil, ""
	}
}

// Incarnation names this start of this process for claims that must die
// with it; ErrLivenessLost while its liveness session is being reopened.
func (p *Postgres) Incarnation() (string, error) {
	if p.closed.Load() {
		return "", ErrClosed
	}
	return p.live.current()
}

// CheckAlive returns nil when id is this process's incarnation and its
// liveness session answers now, so that no other replica can have found
// it dead; call it right before acting on a claim made under id.
func (p *Postgres) CheckAlive(ctx context.Context, id string) error {
	if p.closed.Load() {
		return ErrClosed
	}
	return p.live.check(ctx, id)
}

// DeadClaimers returns which of the incarnations ids are dead: their
// liveness lock has been missing from pg_locks for at least a second.
func (p *Postgres) DeadClaimers(ctx context.Context, ids []string) (map[string]bool, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if p.closed.Load() {
		return nil, ErrClosed
	}
	// A bigint advisory lock shows its high 32 bits as classid and its low
	// 32 bits as objid, with objsubid 1.
	rows, err := p.pool.Query(ctx, `SELECT classid::bigint, objid::bigint FROM pg_locks
		WHERE locktype = 'advisory' AND objsubid = 1 AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	if err != nil {
		return nil, p.mapErr("read liveness locks", err)
	}
	held := map[int64]bool{}
	for rows.Next() {
		var hi, lo int64
		if err := rows.Scan(&hi, &lo); err != nil {
			rows.Close()
			return nil, p.mapErr("read liveness locks", err)
		}
		held[int64(uint64(hi)<<32|uint64(lo)&0xffffffff)] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, p.mapErr("read liveness locks", err)
	}
	return p.live.dead(ids, held), nil
}
