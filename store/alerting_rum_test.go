package store_test

import (
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/store/pgtest"
)

// TestAlertingRUMRuleSumsReplicas: two replicas on one PostgreSQL database
// each receive JS errors below a rule's threshold; together they are above
// it, and the rule fires on whichever evaluates. A replica restarted under
// the same writer keeps counting from its stored figures.
func TestAlertingRUMRuleSumsReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Minute).Add(30 * time.Second)
	clock := func() time.Time { return now }
	above := config.Threshold(10)
	cfg := config.Alerting{Rules: []config.AlertRule{{Name: "JSErrors", For: 0,
		When: config.AlertCondition{RUM: "js_errors_per_minute", Above: &above, Window: model.Duration(time.Minute)}}}}
	cfg = cfg.WithDefaults()
	rules, ps := alerting.Compile(cfg, alerting.Refs{})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	replica := func(e store.Engine, writer string) *alerting.Service {
		st := store.NewAlerting(e)
		svc, err := alerting.New(alerting.Options{Config: cfg, Rules: rules, Store: st, Lock: store.AlertingLock(e),
			RUMMinutes: st, Writer: writer, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	ea, eb := openPostgresAt(t, dsn), openPostgresAt(t, dsn)
	a, b := replica(ea, "a"), replica(eb, "b")
	errorsTo := func(svc *alerting.Service, n int) {
		for range n {
			svc.RecordOutcome(ctx, model.Outcome{Source: model.SourceRUM, Name: "js_error", Time: now, Total: 1})
		}
	}
	firing := func(svc *alerting.Service) bool {
		t.Helper()
		if err := svc.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
		as, err := svc.Alerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, al := range as {
			if al.Name == "JSErrors" && al.State == model.AlertFiring {
				return true
			}
		}
		return false
	}
	errorsTo(a, 6)
	errorsTo(b, 6)
	if err := a.SaveRUMFigures(ctx); err != nil {
		t.Fatal(err)
	}
	if firing(a) {
		t.Fatal("6 errors a minute fired a rule above 10")
	}
	if err := b.SaveRUMFigures(ctx); err != nil {
		t.Fatal(err)
	}
	if !firing(a) {
		t.Fatal("12 errors a minute over two replicas did not fire a rule above 10")
	}

	// Replica a restarts under the same writer: its stored 6 are kept, not
	// overwritten by the new process's count.
	a2 := replica(openPostgresAt(t, dsn), "a")
	errorsTo(a2, 1)
	if err := a2.SaveRUMFigures(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := store.NewAlerting(ea).RUMMinutes(ctx, now.Add(-time.Minute), now.Add(time.Minute), "a", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Errors != 7 || rows[0].Writer != "a" || rows[0].Rule != "JSErrors" {
		t.Fatalf("writer a's rows after a restart: %+v, want one minute of 7 errors", rows)
	}
	others, err := store.NewAlerting(ea).RUMMinutes(ctx, now.Add(-time.Minute), now.Add(time.Minute), "a", true)
	if err != nil || len(others) != 1 || others[0].Writer != "b" || others[0].Errors != 6 {
		t.Fatalf("rows of writers other than a: %+v, %v", others, err)
	}
	if err := store.NewAlerting(ea).PruneRUMMinutes(ctx, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if rows, err := store.NewAlerting(ea).RUMMinutes(ctx, now.Add(-time.Hour), now.Add(time.Hour), "", true); err != nil || len(rows) != 0 {
		t.Fatalf("rows after pruning: %+v, %v", rows, err)
	}
}
