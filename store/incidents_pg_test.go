package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

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
// same time; a replica that dies after claiming a delivery is taken over.
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
	_ = engines[0].Close()
	survivors := svcs[1:]
	svcs = survivors
	// Before the lease ends nobody sends; after it, one replica does.
	parallel(drain)
	if got := len(pager.Pages()); got != groups {
		t.Fatalf("pages sent while the dead replica's lease held: %d", got-groups)
	}
	clock.Advance(2 * time.Minute)
	parallel(drain)
	parallel(drain)
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
