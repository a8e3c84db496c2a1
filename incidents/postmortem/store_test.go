package postmortem_test

import (
	"testing"

	"github.com/sentinel-oss/sentinel/incidents/postmortem"
	"github.com/sentinel-oss/sentinel/incidents/postmortem/postmortemtest"
)

func TestMemoryStoreConformance(t *testing.T) {
	postmortemtest.Run(t, func(*testing.T) postmortem.Store { return postmortem.NewMemoryStore() })
}
