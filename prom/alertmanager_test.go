package prom

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/alerting/alertingtest"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
)

type staticSource []model.Alert

func (s staticSource) OutgoingAlerts(context.Context) ([]model.Alert, error) { return s, nil }

var now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func TestPushPayloadAndAuth(t *testing.T) {
	var got []struct {
		Labels       model.Labels `json:"labels"`
		EndsAt       time.Time    `json:"endsAt"`
		GeneratorURL string       `json:"generatorURL"`
	}
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/alerts" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		auth = r.Header.Get("Authorization")
		_ = json.NewDecoder(r.Body).Decode(&got)
	}))
	defer srv.Close()
	src := staticSource{
		{Name: "A", Labels: model.Labels{"alertname": "A", "service": "checkout"}, State: model.AlertFiring, GroupKey: "service=checkout", StartsAt: now.Add(-time.Hour)},
		{Name: "B", Labels: model.Labels{"alertname": "B"}, State: model.AlertResolved, GroupKey: "alertname=B", StartsAt: now.Add(-time.Hour), EndsAt: now.Add(-time.Minute)},
	}
	p, err := NewPusher(PusherOptions{Config: config.AlertmanagerOut{URL: srv.URL + "/", Interval: model.Duration(time.Minute), BearerToken: config.NewSecret("s3cret")},
		Source: src, ExternalURL: "http://sentinel:8080", Registerer: prometheus.NewRegistry(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	if auth != "Bearer s3cret" || len(got) != 2 {
		t.Fatalf("auth %q, alerts %+v", auth, got)
	}
	if got[0].Labels[alerting.GroupKeyLabel] != "service=checkout" || !got[0].EndsAt.Equal(now.Add(4*time.Minute)) ||
		got[0].GeneratorURL != "http://sentinel:8080/api/v1/alerts" {
		t.Fatalf("firing alert %+v", got[0])
	}
	if !got[1].EndsAt.Equal(now.Add(-time.Minute)) {
		t.Fatalf("resolved alert %+v", got[1])
	}
}

func TestPushErrors(t *testing.T) {
	if _, err := NewPusher(PusherOptions{Config: config.AlertmanagerOut{URL: "ftp://x"}, Source: staticSource{}}); err == nil {
		t.Fatal("ftp URL accepted")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad alerts", http.StatusBadRequest)
	}))
	defer srv.Close()
	p, err := NewPusher(PusherOptions{Config: config.AlertmanagerOut{URL: srv.URL}, Source: staticSource{{Labels: model.Labels{"a": "b"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Push(context.Background()); err == nil || !strings.Contains(err.Error(), "status 400: bad alerts") {
		t.Fatalf("a 400 gave %v", err)
	}
}

type groups struct {
	mu sync.Mutex
	gs []model.AlertGroup
}

func (g *groups) HandleAlertGroup(_ context.Context, grp model.AlertGroup) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gs = append(g.gs, grp)
	return nil
}

func (g *groups) all() []model.AlertGroup {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]model.AlertGroup(nil), g.gs...)
}

// TestRoundTripThroughRealAlertmanager pushes a Sentinel alert to a real
// Alertmanager whose webhook points back at Sentinel: the delivery joins
// the group the alert came from and opens no new one.
func TestRoundTripThroughRealAlertmanager(t *testing.T) {
	bin := testutil.RequireTool(t, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	sink := &groups{}
	rules, ps := alerting.Compile(config.Alerting{Rules: []config.AlertRule{{Name: "CheckoutProbeFailing", When: config.AlertCondition{Probe: "checkout"}, Severity: model.SeverityCritical}}},
		alerting.Refs{Probes: []string{"checkout"}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	svc, err := alerting.New(alerting.Options{Rules: rules, Store: alerting.NewMemoryStore(), Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var results []alerting.IngestResult
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer ingest-token-0123456789" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		wh, err := alerting.DecodeWebhook(r.Body, 1000, alerting.MatcherParser{})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := svc.IngestWebhook(r.Context(), wh)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		results = append(results, res)
		mu.Unlock()
	}))
	defer hook.Close()
	am := alertingtest.StartAlertmanager(t, bin, hook.URL, "ingest-token-0123456789")

	svc.RecordProbeState(context.Background(), model.ProbeState{Probe: "checkout", Location: "local", Labels: model.Labels{"service": "checkout"}, Failing: true})
	if gs := sink.all(); len(gs) != 1 || gs[0].Key != "service=checkout" {
		t.Fatalf("groups %+v", gs)
	}
	p, err := NewPusher(PusherOptions{Config: config.AlertmanagerOut{URL: am.URL}, Source: svc})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 20*time.Second, "Alertmanager to deliver the pushed alert back", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(results) >= 2
	})
	mu.Lock()
	for _, r := range results {
		if r.New != 0 || r.Unchanged != 1 {
			t.Errorf("delivery %+v, want the echo recognised", r)
		}
	}
	mu.Unlock()
	if gs := sink.all(); len(gs) != 1 {
		t.Fatalf("the echo changed the groups: %+v", gs)
	}
	as, _ := svc.Alerts(context.Background())
	if len(as) != 1 {
		t.Fatalf("alerts %+v", as)
	}
}
