package alerting_test

import (
	"testing"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/alerting/alertingtest"
)

func TestMemoryStoreConformance(t *testing.T) {
	alertingtest.Store(t, func(t *testing.T) (alerting.Store, func() alerting.Store) {
		s := alerting.NewMemoryStore()
		return s, func() alerting.Store { return s }
	})
}
