package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/incidentstest"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/store"
)

var incT0 = time.Date(2026, 3, 25, 10, 0, 0, 0, time.UTC)

func openIncidentBolt(t testing.TB, path string) *store.Bolt {
	t.Helper()
	b, err := store.OpenBolt(t.Context(), config.Storage{Path: path, OpenTimeout: model.Duration(time.Second)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// incidentStores are the implementations of incidents.Store that must
// behave the same.
func incidentStores(t *testing.T) map[string]func(t *testing.T) incidents.Store {
	return map[string]func(t *testing.T) incidents.Store{
		"bolt": func(t *testing.T) incidents.Store {
			b := openIncidentBolt(t, filepath.Join(t.TempDir(), "s.db"))
			t.Cleanup(func() { _ = b.Close() })
			return store.NewIncidents(b)
		},
		"engine-memory": func(t *testing.T) incidents.Store { return store.NewIncidents(store.NewMemory()) },
		"postgres":      func(t *testing.T) incidents.Store { return store.NewIncidents(openPostgres(t)) },
		"incidents-memory": func(t *testing.T) incidents.Store {
			return incidents.NewMemoryStore()
		},
	}
}

func TestIncidentStoreConformance(t *testing.T) {
	for name, open := range incidentStores(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := t.Context()
			at := func(m int) *time.Time { v := incT0.Add(time.Duration(m) * time.Minute); return &v }
			// Sequential IDs, indexes kept in step.
			err := s.Update(ctx, func(tx incidents.Tx) error {
				for i := 1; i <= 5; i++ {
					id, err := tx.NextID()
					if err != nil {
						return err
					}
					if id != int64(i) {
						return fmt.Errorf("id %d, want %d", id, i)
					}
					inc := &incidents.Incident{ID: id, Status: incidents.StatusTriggered, DedupKey: "k", Severity: model.SeverityInfo, CreatedAt: incT0.Add(time.Duration(i) * time.Minute)}
					if i%2 == 0 {
						inc.Status = incidents.StatusResolved
					}
					if i == 3 {
						inc.Escalation.NextAt = at(30)
					}
					if i == 5 {
						inc.Escalation.NextAt = at(10)
					}
					if err := tx.Put(inc); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// A failed transaction leaves nothing.
			boom := errors.New("boom")
			if err := s.Update(ctx, func(tx incidents.Tx) error {
				id, _ := tx.NextID()
				_ = tx.Put(&incidents.Incident{ID: id, Status: incidents.StatusTriggered, Severity: model.SeverityInfo})
				return boom
			}); !errors.Is(err, boom) {
				t.Fatalf("update error %v", err)
			}
			err = s.View(ctx, func(tx incidents.ReadTx) error {
				if _, err := tx.Get(6); !errors.Is(err, incidents.ErrNotFound) {
					t.Errorf("rolled back incident: %v", err)
				}
				inc, err := tx.ByDedupKey("k")
				if err != nil || inc.ID != 5 {
					t.Errorf("by dedup key: %v %v", inc, err)
				}
				if inc, _ := tx.ByDedupKey("none"); inc != nil {
					t.Errorf("unknown key found %v", inc)
				}
				ids := func(l []*incidents.Incident) []int64 {
					var out []int64
					for _, i := range l {
						out = append(out, i.ID)
					}
					return out
				}
				for _, tc := range []struct {
					q    incidents.ListQuery
					want []int64
				}{
					{incidents.ListQuery{Limit: 10}, []int64{5, 4, 3, 2, 1}},
					{incidents.ListQuery{Limit: 2, Before: 4}, []int64{3, 2}},
					{incidents.ListQuery{Limit: 10, Status: "open"}, []int64{5, 3, 1}},
					{incidents.ListQuery{Limit: 1, Status: "open", Before: 5}, []int64{3}},
					{incidents.ListQuery{Limit: 10, Status: "resolved"}, []int64{4, 2}},
				} {
					got, err := tx.List(tc.q)
					if err != nil || !reflect.DeepEqual(ids(got), tc.want) {
						t.Errorf("List(%+v) = %v %v, want %v", tc.q, ids(got), err, tc.want)
					}
				}
				due, _ := tx.Due(*at(30), 10)
				if !reflect.DeepEqual(due, []int64{5, 3}) {
					t.Errorf("due %v", due)
				}
				next, ok, _ := tx.NextTimer()
				if !ok || !next.Equal(*at(10)) {
					t.Errorf("next timer %v %v", next, ok)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// Moving a timer drops the old index entry.
			err = s.Update(ctx, func(tx incidents.Tx) error {
				inc, err := tx.Get(5)
				if err != nil {
					return err
				}
				inc.Escalation.NextAt = nil
				return tx.Put(inc)
			})
			if err != nil {
				t.Fatal(err)
			}
			_ = s.View(ctx, func(tx incidents.ReadTx) error {
				due, _ := tx.Due(*at(60), 10)
				if !reflect.DeepEqual(due, []int64{3}) {
					t.Errorf("due after clearing: %v", due)
				}
				return nil
			})

			// Outbox: idempotent enqueue, claim/lease, retry, fail with fallback.
			_ = s.Update(ctx, func(tx incidents.Tx) error {
				for _, k := range []string{"a", "b", "a"} {
					_, err := tx.Enqueue(incidents.OutboxEntry{Key: k, Pager: "p", DueAt: incT0, CreatedAt: incT0})
					if err != nil {
						return err
					}
				}
				return tx.PutOverride(oncall.Override{ID: "o1", Schedule: "primary", User: "carol", Start: incT0, End: incT0.Add(time.Hour)})
			})
			got, err := s.Claim(ctx, incT0, time.Minute, 10)
			if err != nil || len(got) != 2 || got[0].Key != "a" || got[0].Attempts != 1 || got[0].Reclaimed {
				t.Fatalf("claim %+v %v", got, err)
			}
			if again, _ := s.Claim(ctx, incT0.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
				t.Fatalf("claimed during the lease: %+v", again)
			}
			if err := s.Complete(ctx, got[0].Claim(), incT0); err != nil {
				t.Fatal(err)
			}
			re, _ := s.Claim(ctx, incT0.Add(time.Minute), time.Minute, 10)
			if len(re) != 1 || re[0].Key != "b" || !re[0].Reclaimed || re[0].Attempts != 2 {
				t.Fatalf("reclaim %+v", re)
			}
			// The first claim of b was taken over: a process paused past
			// its lease must not undo the new claim, nor finish a's again.
			for _, stale := range []error{
				s.Retry(ctx, got[1].Claim(), incT0, "late"),
				s.Complete(ctx, got[1].Claim(), incT0),
				s.Fail(ctx, got[1].Claim(), incT0, "late", nil),
				s.Complete(ctx, got[0].Claim(), incT0),
			} {
				if !errors.Is(stale, incidents.ErrStaleClaim) {
					t.Fatalf("finishing a stale claim: %v, want ErrStaleClaim", stale)
				}
			}
			if again, _ := s.Claim(ctx, incT0.Add(time.Minute+time.Second), time.Minute, 10); len(again) != 0 {
				t.Fatalf("a stale finish made b claimable again: %+v", again)
			}
			if err := s.Retry(ctx, re[0].Claim(), incT0.Add(5*time.Minute), "x"); err != nil {
				t.Fatal(err)
			}
			if due, ok, _ := s.NextDue(ctx); !ok || !due.Equal(incT0.Add(5*time.Minute)) {
				t.Errorf("next due %v %v", due, ok)
			}
			re, _ = s.Claim(ctx, incT0.Add(5*time.Minute), time.Minute, 10)
			fb := &incidents.OutboxEntry{Key: "b/fallback", Pager: "fb", DueAt: incT0, CreatedAt: incT0, Fallback: true}
			if err := s.Fail(ctx, re[0].Claim(), incT0.Add(5*time.Minute), "gave up", fb); err != nil {
				t.Fatal(err)
			}
			entries, _ := s.Entries(ctx)
			var states []string
			for _, e := range entries {
				states = append(states, e.Key+"="+e.State)
			}
			if want := []string{"a=delivered", "b=failed", "b/fallback=pending"}; !reflect.DeepEqual(states, want) {
				t.Errorf("entries %v, want %v", states, want)
			}
			if err := s.Prune(ctx, incT0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			entries, _ = s.Entries(ctx)
			if len(entries) != 1 {
				t.Errorf("after prune %d entries", len(entries))
			}
			_ = s.View(ctx, func(tx incidents.ReadTx) error {
				ovs, _ := tx.Overrides(incT0)
				if len(ovs) != 1 || ovs[0].User != "carol" {
					t.Errorf("overrides %+v", ovs)
				}
				ovs, _ = tx.Overrides(incT0.Add(2 * time.Hour))
				if len(ovs) != 0 {
					t.Errorf("ended override returned %+v", ovs)
				}
				return nil
			})
			// Deleting an override returns it once; a second time finds none.
			for i, want := range []bool{true, false} {
				_ = s.Update(ctx, func(tx incidents.Tx) error {
					o, found, err := tx.DeleteOverride("o1")
					if err != nil || found != want || (found && (o.User != "carol" || !o.End.Equal(incT0.Add(time.Hour)))) {
						t.Errorf("delete %d: %+v found=%v %v, want found=%v", i+1, o, found, err, want)
					}
					return nil
				})
			}
			_ = s.View(ctx, func(tx incidents.ReadTx) error {
				if ovs, _ := tx.Overrides(incT0); len(ovs) != 0 {
					t.Errorf("deleted override still listed: %+v", ovs)
				}
				return nil
			})
		})
	}
}

// restartable returns a function that opens the bbolt file at path and an
// incident service over it, as a restart does; the caller closes the file.
func restartable(t *testing.T, path string, clock *incidentstest.Clock, pager incidents.Pager) func() (*incidents.Service, *store.Bolt) {
	return func() (*incidents.Service, *store.Bolt) {
		b := openIncidentBolt(t, path)
		svc, err := incidents.New(incidents.Options{Config: config.DefaultIncidents(), OnCall: incidentstest.MustOncall(),
			Store: store.NewIncidents(b), Pagers: []incidents.Pager{pager}, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return svc, b
	}
}

// TestRestartMidEscalation stops Sentinel (closing the bbolt file) after
// step 1 was delivered and again after step 2 fired but before it was
// delivered, reopens the same file with a new service, and checks that
// every step is paged exactly once.
func TestRestartMidEscalation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sentinel.db")
	clock := incidentstest.NewClock(incT0)
	pager := incidentstest.NewPager("test")
	start := restartable(t, path, clock, pager)
	drain := func(svc *incidents.Service) {
		t.Helper()
		if _, err := svc.RunTimers(t.Context()); err != nil {
			t.Fatal(err)
		}
		for {
			n, err := svc.DeliverDue(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
		}
	}
	svc, b := start()
	if err := svc.HandleAlertGroup(t.Context(), incidentstest.Group("checkout", model.SeverityCritical, true)); err != nil {
		t.Fatal(err)
	}
	drain(svc)
	if got := pager.Pages(); !reflect.DeepEqual(got, []string{"alice"}) {
		t.Fatalf("pages %v", got)
	}
	_ = b.Close()

	// Restart 15 minutes later: the step-2 timer fires; stop before delivery.
	clock.Advance(15 * time.Minute)
	svc, b = start()
	if n, err := svc.RunTimers(t.Context()); err != nil || n != 1 {
		t.Fatalf("timers %d %v", n, err)
	}
	_ = b.Close()

	// Restart again: step 2 is delivered once, step 1 is not repeated.
	svc, b = start()
	drain(svc)
	drain(svc)
	if got := pager.Pages(); !reflect.DeepEqual(got, []string{"alice", "carol"}) {
		t.Fatalf("pages after restart %v", got)
	}
	// Crash while step 2 of the repeat is in flight: reconciled, not resent.
	clock.Advance(10 * time.Minute)
	if _, err := svc.RunTimers(t.Context()); err != nil {
		t.Fatal(err)
	}
	claimed, err := store.NewIncidents(b).Claim(t.Context(), clock.Now(), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim %v %v", claimed, err)
	}
	_ = pager.Deliver(t.Context(), claimed[0].Notification)
	_ = b.Close()
	clock.Advance(2 * time.Minute)
	svc, b = start()
	defer b.Close()
	drain(svc)
	if got := pager.Pages(); !reflect.DeepEqual(got, []string{"alice", "carol", "alice"}) {
		t.Fatalf("pages after in-flight crash %v", got)
	}
	if pager.Reconciled != 1 {
		t.Errorf("reconciled %d", pager.Reconciled)
	}
}

// TestStillFiringCheckSurvivesRestart: the check that opens a new incident
// for an alert still firing incidents.repeat_interval after a person
// resolved is a durable timer in the bbolt store, fired through the
// replicas' locked cycle after a restart.
func TestStillFiringCheckSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sentinel.db")
	clock := incidentstest.NewClock(incT0)
	pager := incidentstest.NewPager("test")
	start := restartable(t, path, clock, pager)
	svc, b := start()
	if err := svc.HandleAlertGroup(t.Context(), incidentstest.Group("checkout", model.SeverityCritical, true)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Minute)
	if _, err := svc.Resolve(t.Context(), 1, "alice"); err != nil {
		t.Fatal(err)
	}
	_ = b.Close()

	clock.Advance(4 * time.Hour)
	svc, b = start()
	defer b.Close()
	if n, err := svc.RunTimers(t.Context()); err != nil || n != 1 {
		t.Fatalf("timers %d %v", n, err)
	}
	inc, err := svc.Get(t.Context(), 2)
	if err != nil {
		t.Fatalf("no incident #2: %v", err)
	}
	if inc.Status != incidents.StatusTriggered || !strings.Contains(inc.Timeline[0].Text, "CheckoutProbeFailing still firing 4h after #1 was resolved") {
		t.Errorf("#2 %s, starts %q", inc.Status, inc.Timeline[0].Text)
	}
	if n, err := svc.RunTimers(t.Context()); err != nil || n != 0 {
		t.Errorf("timers again %d %v, want none due", n, err)
	}
	for {
		n, err := svc.DeliverDue(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if got := pager.Pages(); !reflect.DeepEqual(got, []string{"alice", "alice"}) {
		t.Errorf("pages %v, want #1's and #2's", got)
	}
}

// TestOutboxIncidentOrder: entries of one incident and pager are claimed
// one after another (an update never overtakes its page, even when
// another replica claims), while blocked entries neither hold up other
// incidents nor count against the claim limit.
func TestOutboxIncidentOrder(t *testing.T) {
	for name, open := range incidentStores(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := t.Context()
			entry := func(key string, incident int64, pager string) incidents.OutboxEntry {
				return incidents.OutboxEntry{Key: key, Pager: pager, DueAt: incT0, CreatedAt: incT0,
					Notification: incidents.Notification{Key: key, Incident: &incidents.Incident{ID: incident, Severity: model.SeverityCritical}}}
			}
			err := s.Update(ctx, func(tx incidents.Tx) error {
				for _, e := range []incidents.OutboxEntry{
					entry("1/page", 1, "slack"), entry("1/page/webhook", 1, "webhook"),
					entry("1/update/1", 1, "slack"), entry("1/update/2", 1, "slack"), entry("1/update/3", 1, "slack"),
					entry("2/page", 2, "slack"),
				} {
					if _, err := tx.Enqueue(e); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			keys := func(es []incidents.OutboxEntry) []string {
				var out []string
				for _, e := range es {
					out = append(out, e.Key)
				}
				return out
			}
			got, err := s.Claim(ctx, incT0, time.Minute, 3)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"1/page", "1/page/webhook", "2/page"}; !reflect.DeepEqual(keys(got), want) {
				t.Fatalf("first claim %v, want %v (the updates wait for their page)", keys(got), want)
			}
			if again, _ := s.Claim(ctx, incT0, time.Minute, 10); len(again) != 0 {
				t.Fatalf("claimed %v while the page of incident 1 is in flight", keys(again))
			}
			if err := s.Complete(ctx, got[0].Claim(), incT0); err != nil {
				t.Fatal(err)
			}
			next, _ := s.Claim(ctx, incT0, time.Minute, 10)
			if want := []string{"1/update/1"}; !reflect.DeepEqual(keys(next), want) {
				t.Fatalf("after the page: claimed %v, want %v", keys(next), want)
			}
			// A retry keeps the order: update 2 waits for update 1 again.
			if err := s.Retry(ctx, next[0].Claim(), incT0.Add(time.Second), "slack down"); err != nil {
				t.Fatal(err)
			}
			if again, _ := s.Claim(ctx, incT0, time.Minute, 10); len(again) != 0 {
				t.Fatalf("claimed %v while update 1 waits to be retried", keys(again))
			}
		})
	}
}
