package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/alerting/alertingtest"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/store/pgtest"
)

func TestAlertingConformance(t *testing.T) {
	t.Run("bolt", func(t *testing.T) {
		alertingtest.Store(t, func(t *testing.T) (alerting.Store, func() alerting.Store) {
			cfg := config.Storage{Path: filepath.Join(t.TempDir(), "s.db"), OpenTimeout: model.Duration(time.Second)}
			b, err := store.OpenBolt(context.Background(), cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			cur := b
			t.Cleanup(func() { _ = cur.Close() })
			return store.NewAlerting(b), func() alerting.Store {
				// A real restart: close the file and open it again.
				if err := cur.Close(); err != nil {
					t.Fatal(err)
				}
				nb, err := store.OpenBolt(context.Background(), cfg, slog.New(slog.DiscardHandler))
				if err != nil {
					t.Fatal(err)
				}
				cur = nb
				return store.NewAlerting(nb)
			}
		})
	})
	t.Run("memory", func(t *testing.T) {
		alertingtest.Store(t, func(t *testing.T) (alerting.Store, func() alerting.Store) {
			s := store.NewAlerting(store.NewMemory())
			return s, func() alerting.Store { return s }
		})
	})
	t.Run("postgres", func(t *testing.T) {
		alertingtest.Store(t, func(t *testing.T) (alerting.Store, func() alerting.Store) {
			dsn := pgtest.DSN(t)
			s := store.NewAlerting(openPostgresAt(t, dsn))
			// Another replica (a new connection pool) sees what was written.
			return s, func() alerting.Store { return store.NewAlerting(openPostgresAt(t, dsn)) }
		})
	})
}

// BenchmarkAlertmanagerIngestBolt ingests Alertmanager deliveries of 100
// alerts into the alerting service on the bbolt store: each group is new
// once (one commit) and then delivered again (a duplicate, no write).
// Reports alerts/s.
func BenchmarkAlertmanagerIngestBolt(b *testing.B) {
	cfg := config.Storage{Path: filepath.Join(b.TempDir(), "s.db"), OpenTimeout: model.Duration(time.Second)}
	db, err := store.OpenBolt(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc, err := alerting.New(alerting.Options{Store: store.NewAlerting(db)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		w := alerting.NewWebhook(fmt.Sprintf("g%d", n/2), "firing", nil)
		for i := 0; i < 100; i++ {
			w.Alerts = append(w.Alerts, alerting.WebhookAlert{Status: "firing", Fingerprint: fmt.Sprintf("%d-%d", n/2, i),
				Labels: map[string]string{"alertname": "A", "instance": fmt.Sprint(i)}})
		}
		if _, err := svc.IngestWebhook(ctx, w); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "alerts/s")
}
