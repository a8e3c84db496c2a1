package alerting

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// BenchmarkWebhookIngest decodes and ingests deliveries of 100 alerts:
// every group is delivered twice (the second a duplicate, as from an HA
// pair), so half the alerts go through dedupe. Reports alerts/s.
func BenchmarkWebhookIngest(b *testing.B) {
	f := newFixture(&testing.T{}, config.Alerting{})
	ctx := context.Background()
	bodies := make([][]byte, 64)
	for g := range bodies {
		w := NewWebhook(fmt.Sprintf(`{}:{alertname="A%d"}`, g), "firing", model.Labels{"alertname": fmt.Sprintf("A%d", g)})
		for i := 0; i < 100; i++ {
			w.Alerts = append(w.Alerts, WebhookAlert{Status: "firing", StartsAt: t0,
				Labels: map[string]string{"alertname": fmt.Sprintf("A%d", g), "instance": fmt.Sprintf("host-%d", i), "service": "api"}})
		}
		bodies[g], _ = EncodeWebhook(w)
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		body := bodies[(n/2)%len(bodies)]
		w, err := DecodeWebhook(bytes.NewReader(body), 1000, MatcherParser{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.svc.IngestWebhook(ctx, w); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "alerts/s")
}

// BenchmarkEvaluate1000Rules evaluates 1,000 probe rules, each over its own
// probe state, a tenth of them failing.
func BenchmarkEvaluate1000Rules(b *testing.B) {
	var cfg config.Alerting
	var probes []string
	for i := 0; i < 1000; i++ {
		name := fmt.Sprintf("p%d", i)
		probes = append(probes, name)
		cfg.Rules = append(cfg.Rules, config.AlertRule{Name: fmt.Sprintf("R%d", i), When: config.AlertCondition{Probe: name},
			For: model.Duration(time.Minute), Annotations: map[string]string{"summary": "{{ .Labels.probe }} failing"}})
	}
	rules, ps := Compile(cfg, Refs{Probes: probes})
	if len(ps) > 0 {
		b.Fatal(ps)
	}
	sink := &recordingSink{}
	clk := &clock{t: t0}
	svc, err := New(Options{Config: cfg, Rules: rules, Store: NewMemoryStore(), Sink: sink, Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i, p := range probes {
		svc.RecordProbeState(ctx, model.ProbeState{Probe: p, Location: "local", Labels: model.Labels{"service": fmt.Sprintf("s%d", i%50)}, Failing: i%10 == 0})
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		if err := svc.EvaluateAt(ctx, clk.Advance(15*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWebhookIngestNew ingests deliveries of 100 alerts that are all
// new (a fresh groupKey each time), then the same delivery again
// (duplicate). Reports alerts/s over both.
func BenchmarkWebhookIngestNew(b *testing.B) {
	f := newFixture(&testing.T{}, config.Alerting{})
	ctx := context.Background()
	mk := func(g int) Webhook {
		w := NewWebhook(fmt.Sprintf(`{}:{alertname="A%d"}`, g), "firing", nil)
		for i := 0; i < 100; i++ {
			w.Alerts = append(w.Alerts, WebhookAlert{Status: "firing", StartsAt: t0,
				Labels: map[string]string{"alertname": fmt.Sprintf("A%d", g), "instance": fmt.Sprintf("host-%d", i)}})
		}
		return w
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		body, _ := EncodeWebhook(mk(n / 2))
		w, err := DecodeWebhook(bytes.NewReader(body), 1000, MatcherParser{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.svc.IngestWebhook(ctx, w); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "alerts/s")
}

// BenchmarkEvaluateMuting evaluates 1,000 firing alerts (posted to the API
// v2) once per iteration: with nothing to mute them ("bare"), with 20
// silences ("silences", what muting cost before inhibition rules and
// maintenance windows), and with the silences plus 20 inhibition rules (one
// with a firing source) and 5 active maintenance windows ("all").
func BenchmarkEvaluateMuting(b *testing.B) {
	for _, variant := range []string{"bare", "silences", "all"} {
		cfg := config.Alerting{}
		if variant == "all" {
			for i := 0; i < 20; i++ {
				cfg.InhibitRules = append(cfg.InhibitRules, config.InhibitRule{
					SourceMatchers: []string{fmt.Sprintf(`alertname="RegionDown%d"`, i)}, TargetMatchers: []string{`severity=~"critical|warning"`}, Equal: []string{"region"}})
			}
		}
		b.Run(variant, func(b *testing.B) {
			clk := &clock{t: t0}
			svc, err := New(Options{Config: cfg, Store: NewMemoryStore(), Sink: &recordingSink{}, Announcer: &recordingSink{}, Now: clk.Now})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var posted []PostedAlert
			for i := 0; i < 1000; i++ {
				posted = append(posted, PostedAlert{EndsAt: t0.Add(1000 * time.Hour), Labels: model.Labels{"alertname": fmt.Sprintf("A%d", i%20),
					"instance": fmt.Sprintf("host-%d", i), "service": fmt.Sprintf("s%d", i%50), "region": fmt.Sprintf("r%d", i%5), "severity": "critical"}})
			}
			if variant != "bare" {
				for i := 0; i < 20; i++ {
					if _, err := svc.CreateSilence(ctx, NewSilence{Matchers: TextInputs(fmt.Sprintf("service=s%d", i), "instance=~host-1.*"), Duration: 1000 * time.Hour, Author: "b"}); err != nil {
						b.Fatal(err)
					}
				}
			}
			if variant == "all" {
				posted = append(posted, PostedAlert{EndsAt: t0.Add(1000 * time.Hour), Labels: model.Labels{"alertname": "RegionDown3", "region": "r3"}})
				for i := 0; i < 5; i++ {
					if _, err := svc.CreateMaintenance(ctx, NewSilence{Matchers: TextInputs(fmt.Sprintf("service=s%d", 20+i)), Duration: 1000 * time.Hour, Author: "b"}); err != nil {
						b.Fatal(err)
					}
				}
			}
			if _, err := svc.IngestAlerts(ctx, posted); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				if err := svc.EvaluateAt(ctx, clk.Advance(15*time.Second)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
