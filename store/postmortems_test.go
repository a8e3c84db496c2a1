package store_test

import (
	"path/filepath"
	"testing"

	"github.com/sentinel-oss/sentinel/incidents/postmortem"
	"github.com/sentinel-oss/sentinel/incidents/postmortem/postmortemtest"
	"github.com/sentinel-oss/sentinel/store"
)

func TestPostmortemStoreConformance(t *testing.T) {
	t.Run("bolt", func(t *testing.T) {
		postmortemtest.Run(t, func(t *testing.T) postmortem.Store {
			b := openIncidentBolt(t, filepath.Join(t.TempDir(), "s.db"))
			t.Cleanup(func() { _ = b.Close() })
			return store.NewPostmortems(b)
		})
	})
	t.Run("engine-memory", func(t *testing.T) {
		postmortemtest.Run(t, func(t *testing.T) postmortem.Store { return store.NewPostmortems(store.NewMemory()) })
	})
}
