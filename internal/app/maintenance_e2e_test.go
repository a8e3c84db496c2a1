package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// movingClock is the app's clock, moved by the test.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movingClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// TestInhibitionAndMaintenanceKeepPagesFromGoingOut runs Sentinel with the
// fake Slack on Tuesday 02:30 UTC, inside the recurring window "nightly"
// (02:00 to 04:00, Monday to Friday): of four alerts posted through the
// Alertmanager API, the one an inhibition rule holds and the one in the
// maintenance window do not page; the other two do. Slack is told the
// window started; at 04:00 it is told the window ended, and the alert the
// window held pages.
func TestInhibitionAndMaintenanceKeepPagesFromGoingOut(t *testing.T) {
	fake := slacktest.New()
	defer fake.Close()
	clk := &movingClock{t: time.Date(2026, 3, 3, 2, 30, 0, 0, time.UTC)}
	const ingestTok = "maint-ingest-token-0123456789"
	cfg, err := config.Parse("maint.yaml", []byte(`server: {listen: 127.0.0.1:0}
storage: {path: `+t.TempDir()+`/s.db}
auth:
  tokens:
    - {name: admin, token: `+adminToken+`, role: admin}
    - {name: prometheus, token: `+ingestTok+`, role: ingest}
alerting:
  evaluation_interval: 1s
  inhibit_rules:
    - source_matchers: [alertname="RegionDown"]
      target_matchers: ['severity=~"critical|warning"']
      equal: [region]
  time_intervals:
    - name: nightly
      time_intervals:
        - times: [{start_time: "02:00", end_time: "04:00"}]
          weekdays: ["monday:friday"]
  maintenance:
    - {name: db-upgrades, time_intervals: [nightly], matchers: ["service=checkout"], comment: nightly DB upgrades}
incidents: {group_by: [service]}
slack:
  token: xoxb-test
  signing_secret: 0123456789abcdef0123456789abcdef
  api_url: `+fake.APIURL()+`
  channel: "#incidents"
  pace: 10ms
`), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), Options{Config: cfg, Stderr: io.Discard, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	started(t, a)

	ends := clk.now().Add(4 * time.Hour).Format(time.RFC3339) // firing throughout
	body := `[
 {"labels": {"alertname": "RegionDown", "region": "eu", "severity": "critical"}, "annotations": {"summary": "eu-west unreachable"}, "endsAt": "` + ends + `"},
 {"labels": {"alertname": "CartDown", "region": "eu", "service": "cart", "severity": "critical"}, "annotations": {"summary": "cart down"}, "endsAt": "` + ends + `"},
 {"labels": {"alertname": "CheckoutDBSlow", "service": "checkout", "severity": "critical"}, "annotations": {"summary": "checkout DB slow"}, "endsAt": "` + ends + `"},
 {"labels": {"alertname": "SearchDown", "region": "us", "service": "search", "severity": "critical"}, "annotations": {"summary": "search down"}, "endsAt": "` + ends + `"}]`
	req, _ := http.NewRequest(http.MethodPost, a.URL()+"/api/v2/alerts", bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+ingestTok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post alerts: %d", resp.StatusCode)
	}

	transcript := func() string {
		var b strings.Builder
		for _, m := range fake.Posted("") {
			b.WriteString(m.Text + "\n")
		}
		return b.String()
	}
	testutil.Eventually(t, 15*time.Second, "pages for RegionDown and SearchDown and the window's start", func() bool {
		s := transcript()
		return strings.Contains(s, "eu-west unreachable") && strings.Contains(s, "search down") && strings.Contains(s, "db-upgrades")
	})
	// Let two more evaluation cycles pass: nothing else may page.
	evals := func() float64 { return metricValue(t, a, "sentinel_alert_evaluation_duration_seconds_count") }
	n := evals()
	testutil.Eventually(t, 10*time.Second, "two more evaluations", func() bool { return evals() >= n+2 })
	s := transcript()
	t.Logf("Slack at 02:30:\n%s", s)
	if strings.Contains(s, "cart down") || strings.Contains(s, "checkout DB slow") {
		t.Fatalf("an inhibited or maintenance-held alert paged:\n%s", s)
	}
	if !strings.Contains(s, "Maintenance window db-upgrades") || !strings.Contains(s, "has started") {
		t.Fatalf("the window's start was not announced:\n%s", s)
	}
	_, inc := get(t, a.URL()+"/api/v1/incidents", adminToken)
	var list struct {
		Incidents []struct {
			DedupKey string `json:"dedup_key"`
		}
	}
	_ = json.Unmarshal([]byte(inc), &list)
	if len(list.Incidents) != 2 {
		t.Fatalf("incidents: %s", inc)
	}

	// 04:00: the window ends; its alert pages.
	clk.set(time.Date(2026, 3, 3, 4, 0, 30, 0, time.UTC))
	testutil.Eventually(t, 15*time.Second, "the window's end and the held alert's page", func() bool {
		s := transcript()
		return strings.Contains(s, "has ended") && strings.Contains(s, "checkout DB slow")
	})
	t.Logf("Slack after 04:00:\n%s", transcript())
	if strings.Contains(transcript(), "cart down") {
		t.Fatal("the inhibited alert paged while its source still fires")
	}
}

// metricValue reads one series from the app's registry (0 when absent).
func metricValue(t *testing.T, a *App, name string) float64 {
	t.Helper()
	mfs, err := a.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case mf.GetName() == name && m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case mf.GetName()+"_count" == name && m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}
