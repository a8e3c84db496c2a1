package store_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/probes"
	"github.com/sentinel-oss/sentinel/probes/probestest"
	"github.com/sentinel-oss/sentinel/store"
)

func TestProbeResultsConformance(t *testing.T) {
	t.Run("bolt", func(t *testing.T) {
		probestest.ResultStore(t, func(t *testing.T) probes.ResultStore {
			cfg := config.Storage{Path: filepath.Join(t.TempDir(), "s.db"), OpenTimeout: model.Duration(1e9)}
			b, err := store.OpenBolt(context.Background(), cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close() })
			return store.NewProbeResults(b)
		})
	})
	t.Run("memory", func(t *testing.T) {
		probestest.ResultStore(t, func(t *testing.T) probes.ResultStore {
			return store.NewProbeResults(store.NewMemory())
		})
	})
	t.Run("postgres", func(t *testing.T) {
		probestest.ResultStore(t, func(t *testing.T) probes.ResultStore {
			return store.NewProbeResults(openPostgres(t))
		})
	})
}
