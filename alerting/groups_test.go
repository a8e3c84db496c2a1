package alerting

import (
	"context"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
)

// An Alertmanager group whose hand-over failed is handed over later by
// another process (a restart here; a replica sharing the store alike)
// with the group labels and source it came with, read from the store.
func TestAlertmanagerGroupLabelsFromStore(t *testing.T) {
	f := newFixture(t, config.Alerting{})
	f.sink.fail = true
	w := NewWebhook(`{}:{team="web"}`, "firing", map[string]string{"team": "web"})
	w.Alerts = []WebhookAlert{{Status: "firing", Fingerprint: "f1", StartsAt: t0,
		Labels: map[string]string{"alertname": "HighLatency", "team": "web", "service": "cart"}}}
	_, _ = f.svc.IngestWebhook(context.Background(), w) // stored; the hand-over fails
	if gs := f.sink.Groups(); len(gs) != 0 {
		t.Fatalf("groups %+v handed over by a failing sink", gs)
	}
	f.sink.fail = false
	f.svc = f.build(t) // a new process over the same store
	f.eval(t)
	gs := f.sink.Groups()
	if len(gs) != 1 {
		t.Fatalf("groups %+v, want the Alertmanager group once", gs)
	}
	if g := gs[0]; g.Key != w.GroupKey || g.Source != SourceAlertmanager || len(g.Labels) != 1 || g.Labels["team"] != "web" {
		t.Errorf("group %q source %q labels %v, want %q from alertmanager with {team=web}", g.Key, g.Source, g.Labels, w.GroupKey)
	}
}
