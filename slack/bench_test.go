package slack_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
	"github.com/sentinel-oss/sentinel/store"
)

func report(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	if len(d) == 0 {
		return
	}
	q := func(p float64) float64 {
		return float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50_ms")
	b.ReportMetric(q(0.99), "p99_ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkIncidentToFirstPost measures an alert group opening an incident
// until Slack (the fake, on loopback) receives the first chat.postMessage
// attempt, through the outbox and the pager. Incidents are opened one at a
// time, so the per-channel pace does not bind (a burst of N incidents
// waits up to N × slack.pace by design).
func BenchmarkIncidentToFirstPost(b *testing.B) {
	for _, st := range []string{"memory", "bbolt"} {
		b.Run(st, func(b *testing.B) { benchFirstPost(b, benchStore(b, st)) })
	}
}

func benchStore(b *testing.B, kind string) incidents.Store {
	if kind == "memory" {
		return incidents.NewMemoryStore()
	}
	db, err := store.OpenBolt(context.Background(), config.Storage{Path: filepath.Join(b.TempDir(), "s.db"), OpenTimeout: model.Duration(time.Second)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return store.NewIncidents(db)
}

func benchFirstPost(b *testing.B, st incidents.Store) {
	e := newEnv(b, envOptions{store: st, slack: func(c *config.Slack) { c.Pace = 0 }})
	posts := e.fake.Watch("chat.postMessage")
	ctx := context.Background()
	var d []time.Duration
	i := 0
	for b.Loop() {
		i++
		start := time.Now()
		if err := e.svc.HandleAlertGroup(ctx, firing(fmt.Sprintf("service=s%d", i))); err != nil {
			b.Fatal(err)
		}
		select {
		case <-posts:
		case <-time.After(10 * time.Second):
			b.Fatal("no chat.postMessage within 10s")
		}
		d = append(d, time.Since(start))
	}
	report(b, d)
}

// BenchmarkInteractionAnswered measures a signed Acknowledge click over
// loopback HTTP until Sentinel answers Slack (signature check, payload
// parse, the incident change committed).
func BenchmarkInteractionAnswered(b *testing.B) {
	for _, st := range []string{"memory", "bbolt"} {
		b.Run(st, func(b *testing.B) { benchInteraction(b, benchStore(b, st)) })
	}
}

func benchInteraction(b *testing.B, st incidents.Store) {
	e := newEnv(b, envOptions{store: st, noRun: true})
	ctx := context.Background()
	var d []time.Duration
	for b.Loop() {
		b.StopTimer()
		inc, err := e.svc.Declare(ctx, incidents.DeclareRequest{Title: "bench", Severity: model.SeverityWarning}, "bench")
		if err != nil {
			b.Fatal(err)
		}
		payload := slacktest.BlockActions(slacktest.Click{ActionID: slack.ActionAcknowledge, Value: fmt.Sprint(inc.ID), UserID: "U024BE7LH", UserName: "carol", ChannelID: "C0INCIDENTS", MessageTS: "1.1"})
		b.StartTimer()
		start := time.Now()
		r, err := e.client.Interaction(ctx, e.srv.URL+"/slack/interactions", payload)
		d = append(d, time.Since(start))
		if err != nil || r.Status != http.StatusOK {
			b.Fatalf("%v %+v", err, r)
		}
	}
	report(b, d)
}

// BenchmarkAlertJoinToRedraw measures a second alert joining an open
// incident until Slack (the fake, on loopback) receives the chat.update
// that redraws its message: the incident transaction with its update
// entry, the outbox loop's wake-up and claim, the blocks built, and the
// call (the thread reply follows it). Each iteration opens a fresh
// incident first (not timed), so incidents stay the size they have in life.
func BenchmarkAlertJoinToRedraw(b *testing.B) {
	for _, st := range []string{"memory", "bbolt"} {
		b.Run(st, func(b *testing.B) {
			e := newEnv(b, envOptions{store: benchStore(b, st), slack: func(c *config.Slack) { c.Pace = 0 }})
			ctx := context.Background()
			posts := e.fake.Watch("chat.postMessage")
			updates := e.fake.Watch("chat.update")
			wait := func(ch <-chan slacktest.Call, what string) {
				select {
				case <-ch:
				case <-time.After(10 * time.Second):
					b.Fatalf("no %s within 10s", what)
				}
			}
			var d []time.Duration
			i := 0
			for b.Loop() {
				i++
				g := firing(fmt.Sprintf("service=s%d", i))
				if err := e.svc.HandleAlertGroup(ctx, g); err != nil {
					b.Fatal(err)
				}
				wait(posts, "page") // the page; the DM, if any, is drained below
				g.Alerts = append(g.Alerts, model.Alert{Name: "SLOErrorBudgetBurn", Fingerprint: fmt.Sprintf("fp-burn-%d", i), State: model.AlertFiring,
					Severity: model.SeverityCritical, Labels: model.Labels{"service": "checkout", "slo": "checkout-availability", "tier": "page"}})
				start := time.Now()
				if err := e.svc.HandleAlertGroup(ctx, g); err != nil {
					b.Fatal(err)
				}
				wait(updates, "chat.update")
				d = append(d, time.Since(start))
				wait(posts, "thread reply")
			drain:
				for {
					select {
					case <-posts:
					case <-time.After(5 * time.Millisecond):
						break drain
					}
				}
			}
			report(b, d)
		})
	}
}
