package logship

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
)

// TestPrepareSwitchesFormatAndLoki reloads a running logger from text
// without Loki to JSON shipping to a receiver: a logger derived before the
// reload (With, WithGroup) writes JSON with its attributes, and the line
// reaches Loki; a bad section is refused and changes nothing.
func TestPrepareSwitchesFormatAndLoki(t *testing.T) {
	var out testutil.LockedBuffer
	l, err := New(config.Default().Logging, &out, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	start(t, l)
	log := l.Logger().With("component", "probes").WithGroup("probe")
	log.Info("before", "name", "checkout")
	if !strings.Contains(out.String(), "level=INFO msg=before component=probes probe.name=checkout") {
		t.Fatalf("text line: %s", out.String())
	}

	bad := config.Default().Logging
	bad.Format = "xml"
	if _, err := l.Prepare(bad); err == nil || !strings.Contains(err.Error(), "logging.format") {
		t.Fatalf("Prepare(xml) = %v", err)
	}

	rcv := newReceiver(t)
	next := lokiConfig(rcv.url(), "json")
	next.Level = "debug"
	commit, err := l.Prepare(next)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("after", "name", "checkout")
	if strings.Contains(out.String(), "after") {
		t.Fatal("the new section applied before commit")
	}
	commit()
	log.Debug("after", "name", "checkout")
	want := `"msg":"after","component":"probes","probe":{"name":"checkout"}`
	if !strings.Contains(out.String(), want) {
		t.Fatalf("stderr after the reload lacks %s:\n%s", want, out.String())
	}
	eventually(t, "the line at Loki", func() bool {
		for _, p := range rcv.got() {
			if strings.Contains(p.line, want) {
				return true
			}
		}
		return false
	})
}
