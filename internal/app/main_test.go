package app

import (
	"os"
	"testing"

	"github.com/sentinel-oss/sentinel/store/pgtest"
)

// TestMain stops the PostgreSQL cluster the replica tests start (once per
// test binary, on first use); other tests never start one.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
