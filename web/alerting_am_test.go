package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/alerting/alertingtest"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
)

// groupRecorder is a GroupSink that keeps every group handed over.
type groupRecorder struct {
	mu     sync.Mutex
	groups []model.AlertGroup
}

func (g *groupRecorder) HandleAlertGroup(_ context.Context, grp model.AlertGroup) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.groups = append(g.groups, grp)
	return nil
}

func (g *groupRecorder) all() []model.AlertGroup {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]model.AlertGroup(nil), g.groups...)
}

// TestRealAlertmanagerOneGroupDespiteDuplicates runs Debian's
// prometheus-alertmanager with a webhook receiver pointing at Sentinel's
// handler (bearer token in http_config): its repeated notifications and a
// replayed delivery make exactly one group, and resolving resolves it.
func TestRealAlertmanagerOneGroupDespiteDuplicates(t *testing.T) {
	bin := testutil.RequireTool(t, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	f := newFixture(t, func(o *Options) { o.Server.MaxBodyBytes = 1 << 20 })
	sink := &groupRecorder{}
	svc, err := alerting.New(alerting.Options{Config: config.Alerting{}, Store: alerting.NewMemoryStore(), Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	MountAlerting(f.srv.Routes(), svc, AlertingLimits{WebhookMaxBytes: 1 << 20, WebhookMaxAlerts: 1000})

	var mu sync.Mutex
	var deliveries [][]byte
	var codes []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(rec, r)
		mu.Lock()
		deliveries = append(deliveries, body)
		codes = append(codes, rec.Code)
		mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	defer srv.Close()

	am := alertingtest.StartAlertmanager(t, bin, srv.URL+"/api/v1/alertmanager", tokIngest)
	start := time.Now().UTC().Add(-time.Minute)
	labels := map[string]string{"alertname": "CheckoutDown", "service": "checkout", "severity": "critical"}
	am.PostAlert(t, labels, start, time.Time{})

	testutil.Eventually(t, 20*time.Second, "two deliveries of the firing group", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(deliveries) >= 2
	})
	mu.Lock()
	first := deliveries[0]
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("delivery %d answered %d", i, c)
		}
	}
	mu.Unlock()
	// The same notification once more, as the second peer of an HA pair would.
	rec := f.do(t, "POST", "/api/v1/alertmanager", tokIngest, bytes.NewReader(first), "Content-Type", "application/json")
	if rec.Code != http.StatusOK {
		t.Fatalf("replay: %d %s", rec.Code, rec.Body)
	}
	gs := sink.all()
	if len(gs) != 1 || !gs[0].Firing || gs[0].Source != "alertmanager" || len(gs[0].Alerts) != 1 {
		t.Fatalf("groups %+v, want exactly one firing group", gs)
	}
	key := gs[0].Key

	am.PostAlert(t, labels, start, time.Now().UTC().Add(-time.Second))
	testutil.Eventually(t, 20*time.Second, "the group to resolve", func() bool {
		gs := sink.all()
		return len(gs) >= 2 && !gs[len(gs)-1].Firing
	})
	gs = sink.all()
	if len(gs) != 2 || gs[1].Key != key || gs[1].Alerts[0].State != model.AlertResolved {
		t.Fatalf("groups %+v, want the same group resolved", gs)
	}
	if as, _ := svc.Alerts(context.Background()); len(as) != 0 {
		t.Fatalf("alerts still active: %+v", as)
	}
}
