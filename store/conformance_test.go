package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/store/storetest"
)

// testConfig returns storage settings for a fresh file under t's temporary
// directory.
func testConfig(t testing.TB) config.Storage {
	return config.Storage{
		Path:        filepath.Join(t.TempDir(), "data", "sentinel.db"),
		OpenTimeout: model.Duration(time.Second),
	}
}

// openBolt opens a fresh bbolt store closed at the end of the test.
func openBolt(t testing.TB, opts ...store.Option) *store.Bolt {
	t.Helper()
	b, err := store.OpenBolt(t.Context(), testConfig(t), nil, opts...)
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestBoltConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Engine { return openBolt(t) })
}

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Engine {
		m := store.NewMemory()
		t.Cleanup(func() { _ = m.Close() })
		return m
	})
}

func TestFaultyConformance(t *testing.T) {
	// A healthy Faulty must be indistinguishable from what it wraps.
	storetest.Run(t, func(t *testing.T) store.Engine {
		f := store.NewFaulty(openBolt(t))
		return f
	})
}
