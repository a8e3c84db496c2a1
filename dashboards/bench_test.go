package dashboards

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// BenchmarkPages renders every page server-side with 100 SLOs (30 days of
// counts each), 1,000 incidents and 50 probes (50 runs each) stored, and
// reports each page's size. docs/performance.md ("Dashboards") holds the
// figures.
func BenchmarkPages(b *testing.B) {
	f := newFixture(b, 100, 1000, 50)
	ctx := context.Background()
	pages := []struct {
		name   string
		render func(io.Writer) error
	}{
		{"overview", func(w io.Writer) error { return f.d.Overview(ctx, w, responderV, "") }},
		// cold: no burn-down segment cached, as on the first render
		{"overview_cold", func(w io.Writer) error {
			f.d.segMu.Lock()
			clear(f.d.segments)
			f.d.segMu.Unlock()
			return f.d.Overview(ctx, w, responderV, "")
		}},
		{"slo", func(w io.Writer) error { return f.d.SLO(ctx, w, responderV, "slo-000") }},
		{"incidents", func(w io.Writer) error { return f.d.Incidents(ctx, w, responderV, "", 0) }},
		{"incident", func(w io.Writer) error { return f.d.Incident(ctx, w, responderV, f.lastInc, "") }},
		{"probes", func(w io.Writer) error { return f.d.Probes(ctx, w, responderV) }},
		{"probe", func(w io.Writer) error { return f.d.Probe(ctx, w, responderV, "journey-03") }},
		{"rum", func(w io.Writer) error { return f.d.RUM(ctx, w, responderV, "24h") }},
		{"oncall", func(w io.Writer) error { return f.d.OnCall(ctx, w, responderV) }},
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
