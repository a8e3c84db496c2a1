package dashboards

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// TestAlertsPageMarksMaintenanceAndInhibition renders the alerts page over
// a real alerting service: an alert inside a one-off window is marked
// "maintenance" with the window, an inhibited one names its source, the
// windows are listed (active before pending) and the recurring one shows
// its next occurrence.
func TestAlertsPageMarksMaintenanceAndInhibition(t *testing.T) {
	ctx := context.Background()
	now := fixtureNow // Monday 2026-03-02 10:30 UTC
	cfg := config.Alerting{
		InhibitRules: []config.InhibitRule{{SourceMatchers: []string{"alertname=RegionDown"}, TargetMatchers: []string{"severity=critical"}, Equal: []string{"region"}}},
		TimeIntervals: []config.TimeIntervalSpec{{Name: "nightly", TimeIntervals: []config.TimeInterval{{
			Times: []config.TimeRange{{StartTime: "02:00", EndTime: "04:00"}}, Weekdays: []string{"monday:friday"}}}}},
		Maintenance: []config.RecurringMaintenance{{Name: "db-upgrades", TimeIntervals: []string{"nightly"}, Matchers: []string{"service=db"}}},
	}
	svc, err := alerting.New(alerting.Options{Config: cfg, Store: alerting.NewMemoryStore(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	win, err := svc.CreateMaintenance(ctx, alerting.NewSilence{Matchers: alerting.TextInputs("service=search"), Duration: 2 * time.Hour, Comment: "reindex", Author: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateMaintenance(ctx, alerting.NewSilence{Matchers: alerting.TextInputs("service=payments"), StartsAt: now.Add(24 * time.Hour),
		Duration: time.Hour, Comment: "PSP rotation", Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.IngestAlerts(ctx, []alerting.PostedAlert{
		{Labels: model.Labels{"alertname": "RegionDown", "region": "eu", "severity": "critical"}},
		{Labels: model.Labels{"alertname": "CheckoutDown", "region": "eu", "service": "checkout", "severity": "critical"}},
		{Labels: model.Labels{"alertname": "IndexLag", "service": "search", "severity": "warning"}},
	}); err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{Alerts: svc, Maintenance: svc, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := d.Alerts(ctx, &b, viewerV, AlertsState{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		`<span class="chip maint">maintenance</span> <a href="#maint" class="sub">one-off ` + win.ID[:8] + `</a>`,
		`<span class="chip nodata">inhibited</span> <span class="sub">by RegionDown</span>`,
		`<strong class="big">1</strong> <span class="sub">window active; 1 alert held</span>`,
		`<span class="chip win-active">active</span> one-off <code>` + win.ID[:8] + `</code>`,
		`<span class="chip win-pending">pending</span> one-off`,
		`<strong>db-upgrades</strong> (nightly) <code class="label">service=&#34;db&#34;</code> ; next <time datetime="2026-03-03T02:00:00Z"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("alerts page lacks %q", want)
		}
	}
	if strings.Index(page, "win-active") > strings.Index(page, "win-pending") {
		t.Error("the active window is not listed before the pending one")
	}
}
