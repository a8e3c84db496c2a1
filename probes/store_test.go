package probes_test

import (
	"testing"

	"github.com/sentinel-oss/sentinel/probes"
	"github.com/sentinel-oss/sentinel/probes/probestest"
)

func TestMemoryStoreConformance(t *testing.T) {
	probestest.ResultStore(t, func(*testing.T) probes.ResultStore { return probes.NewMemoryStore() })
}
