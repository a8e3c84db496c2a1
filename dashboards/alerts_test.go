package dashboards

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/model"
)

// The muted tile counts every alert that does not page: silenced,
// inhibited or held by a maintenance window, as the API's silenced does.
func TestAlertsTileCountsEveryMutedAlert(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	f.alerts.alerts = append(f.alerts.alerts,
		alerting.ActiveAlert{Alert: model.Alert{Name: "CheckoutLatency", Fingerprint: "fp4", State: model.AlertFiring, Silenced: true,
			Labels: model.Labels{"alertname": "CheckoutLatency"}, StartsAt: fixtureNow.Add(-time.Minute)}, InhibitedBy: "fp1"},
		alerting.ActiveAlert{Alert: model.Alert{Name: "DiskFull", Fingerprint: "fp5", State: model.AlertFiring, Silenced: true,
			Labels: model.Labels{"alertname": "DiskFull"}, StartsAt: fixtureNow.Add(-time.Minute)}, MaintenanceBy: []string{"w1"}})
	var buf bytes.Buffer
	if err := f.d.Alerts(context.Background(), &buf, viewerV, AlertsState{}); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<span class="label">Muted</span><br><strong class="big">(\d+)</strong> <span class="sub">([^<]*)</span>`).FindStringSubmatch(buf.String())
	if m == nil {
		t.Fatalf("no muted tile:\n%s", buf.String())
	}
	if m[1] != "3" || m[2] != "silenced, inhibited or in maintenance; not paging" {
		t.Errorf("muted tile = %q %q, want 3 (a silenced, an inhibited and a maintenance-held alert)", m[1], m[2])
	}
}
