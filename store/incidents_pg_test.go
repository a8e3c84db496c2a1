package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/incidentstest"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/store/pgtest"
)

// TestPostgresReplicasPageOnce runs three incident services, as three
// replicas would, on one PostgreSQL database with one shared pager (the
// stand-in for Slack). Every replica receives every alert group (as from
// an Alertmanager HA pair) and runs the timer and outbox cycles at the
// same time; a replica that dies after claiming a delivery is taken over
// as soon as its death is known, not when the claim's lease ends.
// Each incident is opened once and each page is sent once.
func TestPostgresReplicasPageOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	clock := incidentstest.NewClock(incT0)
	pager := incidentstest.NewPager("test")
	var engines []*store.Postgres
	var svcs []*incidents.Service
	for range 3 {
		e := openPostgresAt(t, dsn)
		svc, err := incidents.New(incidents.Options{Config: config.DefaultIncidents(), OnCall: incidentstest.MustOncall(),
			Store: store.NewIncidents(e), Pagers: []incidents.Pager{pager}, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		engines, svcs = append(engines, e), append(svcs, svc)
	}
	parallel := func(fn func(i int, svc *incidents.Service) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, len(svcs))
		for i, svc := range svcs {
			wg.Go(func() {
				if err := fn(i, svc); err != nil {
					errs <- fmt.Errorf("replica %d: %w", i, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	drain := func(_ int, svc *incidents.Service) error {
		// A skipped cycle (another replica holds the lock) is fine.
		if _, err := svc.RunTimers(t.Context()); err != nil && !errors.Is(err, incidents.ErrCycleSkipped) {
			return err
		}
		for range 100 {
			n, err := svc.DeliverDue(t.Context())
			if err != nil || n == 0 {
				return err
			}
		}
		return nil
	}
	const groups = 5
	parallel(func(_ int, svc *incidents.Service) error {
		for g := range groups {
			if err := svc.HandleAlertGroup(t.Context(), incidentstest.Group(fmt.Sprintf("svc%d", g), model.SeverityCritical, true)); err != nil {
				return err
			}
		}
		return nil
	})
	parallel(drain)
	parallel(drain)
	if got := len(pager.Pages()); got != groups {
		t.Fatalf("%d pages for %d incidents: %v", got, groups, pager.Pages())
	}

	// 15 minutes on, step 2 is due for every incident. Replica 0 fires the
	// timers and claims the deliveries, then dies before sending.
	clock.Advance(15 * time.Minute)
	if _, err := svcs[0].RunTimers(t.Context()); err != nil {
		t.Fatal(err)
	}
	claimed, err := store.NewIncidents(engines[0]).Claim(t.Context(), clock.Now(), time.Minute, 100)
	if err != nil || len(claimed) != groups {
		t.Fatalf("claimed %d (%v), want %d", len(claimed), err, groups)
	}
	_ = engines[0].Close() // its liveness session ends, as when the process dies
	svcs = svcs[1:]
	// Its claims are taken over once its death is known, well before the
	// lease (a minute on the test clock, which stands still) ends.
	deadline := time.Now().Add(10 * time.Second)
	for len(pager.Pages()) < 2*groups && time.Now().Before(deadline) {
		parallel(drain)
		time.Sleep(50 * time.Millisecond)
	}
	seen := map[string]int{}
	for _, n := range pager.Got() {
		seen[n.Key]++
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("notification %s delivered %d times", k, c)
		}
	}
	if got := len(pager.Pages()); got != 2*groups {
		t.Fatalf("%d pages after escalation, want %d: %v", got, 2*groups, pager.Pages())
	}
	var list []*incidents.Incident
	err = store.NewIncidents(engines[1]).View(t.Context(), func(tx incidents.ReadTx) error {
		var err error
		list, err = tx.List(incidents.ListQuery{Limit: 100})
		return err
	})
	if err != nil || len(list) != groups {
		t.Fatalf("%d incidents (%v), want %d", len(list), err, groups)
	}
}

// TestPostgresClaimsDieWithClaimer: an outbox entry claimed by a process
// whose liveness session ends (as when it is killed) is claimed again by
// another at once, marked reclaimed; the dead claim no longer passes its
// fence, and its late outcome is refused as stale. While the claimer
// lives nobody takes its entry, lease or not.
func TestPostgresClaimsDieWithClaimer(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := openPostgresAt(t, dsn), openPostgresAt(t, dsn)
	sa, sb := store.NewIncidents(a), store.NewIncidents(b)
	ctx := t.Context()
	err := sa.Update(ctx, func(tx incidents.Tx) error {
		_, err := tx.Enqueue(incidents.OutboxEntry{Key: "page/1", Pager: "p", DueAt: incT0, CreatedAt: incT0})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sa.Claim(ctx, incT0, time.Minute, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim: %d entries, %v", len(got), err)
	}
	ida, _ := a.Incarnation()
	if got[0].Claimer != ida || got[0].Reclaimed {
		t.Fatalf("claimer %q reclaimed %v, want %q and false", got[0].Claimer, got[0].Reclaimed, ida)
	}
	if err := sa.FenceClaim(ctx, got[0]); err != nil {
		t.Fatalf("fence of a live claim: %v", err)
	}
	// Alive past the grace: nothing to take over.
	time.Sleep(1500 * time.Millisecond) // the grace is wall-clock time by design
	if again, err := sb.Claim(ctx, incT0, time.Minute, 10); err != nil || len(again) != 0 {
		t.Fatalf("claimed a live replica's entry: %v, %v", again, err)
	}

	// The claimer's liveness session ends, as it does when the process dies.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `SELECT pg_terminate_backend($1)`, int64(store.LivenessPID(a)))
	_ = conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := sa.FenceClaim(ctx, got[0]); err == nil {
		t.Fatal("fence of a claim whose claimer lost its session passed")
	}
	var re []incidents.OutboxEntry
	deadline := time.Now().Add(10 * time.Second)
	for len(re) == 0 && time.Now().Before(deadline) {
		if re, err = sb.Claim(ctx, incT0, time.Minute, 10); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	idb, _ := b.Incarnation()
	if len(re) != 1 || !re[0].Reclaimed || re[0].Claimer != idb || re[0].Attempts != 2 {
		t.Fatalf("reclaimed %+v, want the entry reclaimed by %q on attempt 2", re, idb)
	}
	if err := sa.Complete(ctx, got[0].Claim(), incT0); !errors.Is(err, incidents.ErrStaleClaim) {
		t.Fatalf("late outcome of the dead claim: %v, want ErrStaleClaim", err)
	}
	if err := sb.Complete(ctx, re[0].Claim(), incT0); err != nil {
		t.Fatal(err)
	}
	if again, err := sb.Claim(ctx, incT0, time.Minute, 10); err != nil || len(again) != 0 {
		t.Fatalf("claimed a delivered entry: %v, %v", again, err)
	}
	// The process whose session ended opens a new one, under a new name.
	deadline = time.Now().Add(10 * time.Second)
	for {
		id, err := a.Incarnation()
		if err == nil && id != ida {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new liveness session: %q, %v", id, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
