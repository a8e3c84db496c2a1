package dashboards

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/sentinel-oss/sentinel/model"
)

// BenchmarkPages renders every page server-side with 100 SLOs (30 days of
// counts each), 1,000 incidents and 50 probes (50 runs each) stored, and
// reports each page's size. docs/performance.md ("Dashboards") holds the
// figures.
func BenchmarkPages(b *testing.B) {
	f := newFixture(b, 100, 1000, 50)
	f.alerts.grow(100, 20)
	ctx := context.Background()
	pages := []struct {
		name   string
		render func(io.Writer) error
	}{
		{"overview", func(w io.Writer) error { return f.d.Overview(ctx, w, responderV, "") }},
		{"slo", func(w io.Writer) error { return f.d.SLO(ctx, w, responderV, "slo-000") }},
		{"incidents", func(w io.Writer) error { return f.d.Incidents(ctx, w, responderV, "", 0) }},
		{"incident", func(w io.Writer) error { return f.d.Incident(ctx, w, responderV, f.lastInc, "") }},
		{"probes", func(w io.Writer) error { return f.d.Probes(ctx, w, responderV) }},
		{"probe", func(w io.Writer) error { return f.d.Probe(ctx, w, responderV, "journey-03") }},
		{"rum", func(w io.Writer) error { return f.d.RUM(ctx, w, responderV, "24h") }},
		{"oncall", func(w io.Writer) error { return f.d.OnCall(ctx, w, responderV, "") }},
		// a resolved incident: its page also reads the postmortem's state
		{"incident_resolved", func(w io.Writer) error { return f.d.Incident(ctx, w, responderV, f.lastInc-5, "") }},
		{"postmortem", func(w io.Writer) error { return f.d.Postmortem(ctx, w, responderV, f.lastInc-5, PostmortemState{}) }},
		{"alerts", func(w io.Writer) error { return f.d.Alerts(ctx, w, responderV, AlertsState{}) }},
		{"runbook", func(w io.Writer) error { return f.d.Runbook(ctx, w, responderV, "checkout-down") }},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var buf bytes.Buffer
			size := 0
			for b.Loop() {
				buf.Reset()
				if err := p.render(&buf); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
}

// grow adds firing alerts (every fourth silenced) and active silences, so
// the alerts page is measured with as many as a bad day brings.
func (f *fakeAlerts) grow(alerts, silences int) {
	tmpl, sil := f.alerts[0], f.silences[0]
	for i := range alerts {
		a := tmpl
		a.Fingerprint = fmt.Sprintf("fp-%04d", i)
		a.Labels = model.Labels{"alertname": "CheckoutProbeFailing", "service": "checkout", "probe": fmt.Sprintf("journey-%03d", i), "location": "eu-1"}
		if i%4 == 0 {
			a.SilencedBy = []string{sil.ID}
		}
		f.alerts = append(f.alerts, a)
	}
	for i := range silences {
		s := sil
		s.ID = fmt.Sprintf("%016x", i+1)
		f.silences = append(f.silences, s)
	}
}
