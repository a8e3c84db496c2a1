package store_test

import (
	"path/filepath"
	"testing"

	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
	"github.com/sentinel-oss/sentinel/web/webtest"
)

func TestSessions(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) store.Engine{
		"bolt": func(t *testing.T) store.Engine {
			b := openIncidentBolt(t, filepath.Join(t.TempDir(), "s.db"))
			t.Cleanup(func() { _ = b.Close() })
			return b
		},
		"memory":   func(*testing.T) store.Engine { return store.NewMemory() },
		"postgres": func(t *testing.T) store.Engine { return openPostgres(t) },
	} {
		t.Run(name, func(t *testing.T) {
			webtest.RunSessionStore(t, func(t *testing.T) web.SessionStore { return store.NewSessions(open(t)) })
		})
	}
}
