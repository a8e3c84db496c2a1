package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/incidentstest"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/store"
)

// signalPager reports the time each incident's first page reached it.
type signalPager struct {
	mu      sync.Mutex
	waiters map[string]chan time.Time
}

func (p *signalPager) Name() string { return "bench" }

func (p *signalPager) wait(key string) chan time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch, ok := p.waiters[key]
	if !ok {
		ch = make(chan time.Time, 1)
		p.waiters[key] = ch
	}
	return ch
}

func (p *signalPager) Deliver(_ context.Context, n incidents.Notification) error {
	if n.Kind != incidents.KindPage || n.Incident == nil {
		return nil
	}
	select {
	case p.wait(n.Incident.DedupKey) <- time.Now():
	default:
	}
	return nil
}

// BenchmarkAlertToPager measures, on the bbolt store with 1,000 open
// incidents, the time from HandleAlertGroup for a new group to the pager
// being called by the running outbox loop. It reports p50 and p99.
func BenchmarkAlertToPager(b *testing.B) {
	e := openIncidentBolt(b, filepath.Join(b.TempDir(), "bench.db"))
	defer e.Close()
	pager := &signalPager{waiters: map[string]chan time.Time{}}
	svc, err := incidents.New(incidents.Options{Config: config.DefaultIncidents(), OnCall: incidentstest.MustOncall(),
		Store: store.NewIncidents(e), Pagers: []incidents.Pager{pager}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = svc.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	fire := func(key string) time.Time {
		g := incidentstest.Group(key, model.SeverityCritical, true)
		start := time.Now()
		if err := svc.HandleAlertGroup(ctx, g); err != nil {
			b.Fatal(err)
		}
		return start
	}
	for i := range 1000 {
		k := fmt.Sprintf("seed-%d", i)
		fire(k)
		<-pager.wait("service=" + k)
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := fmt.Sprintf("svc-%d", i)
		start := fire(k)
		got := <-pager.wait("service=" + k)
		lat = append(lat, got.Sub(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	open, _ := svc.List(ctx, incidents.ListQuery{Status: "open", Limit: incidents.MaxListLimit})
	if len(open) < incidents.MaxListLimit {
		b.Fatalf("only %d open incidents", len(open))
	}

}
