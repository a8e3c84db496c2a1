package dashboards

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/changes"
)

// fakeChanges answers a changes query as the changes service does: the
// service's changes in [From, To), newest first.
type fakeChanges struct {
	all     []changes.Change
	queries []changes.Query
}

func (f *fakeChanges) List(_ context.Context, q changes.Query) ([]changes.Change, error) {
	f.queries = append(f.queries, q)
	var out []changes.Change
	for i := len(f.all) - 1; i >= 0; i-- {
		c := f.all[i]
		if c.Service == q.Service && !c.At.Before(q.From) && c.At.Before(q.To) {
			out = append(out, c)
		}
	}
	return out, nil
}

// TestChartMarkPosition: a mark halfway through a chart's span is drawn
// halfway across its plot (x0 50 and x1 866 on the wide chart: 458),
// with its title as the tooltip; one outside the span is not drawn.
func TestChartMarkPosition(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	c := timeChart{From: from, To: from.Add(10 * time.Hour), YMin: 0, YMax: 1, Marks: []chartMark{
		{At: from.Add(5 * time.Hour), Title: "deploy: checkout <v42>"},
		{At: from.Add(11 * time.Hour), Title: "later"},
	}}
	svg := c.draw(wideChart)
	want := `<g class="mark-change"><title>deploy: checkout &lt;v42&gt;</title><line class="mark-hit" x1="458" y1="22" x2="458" y2="200"/><line class="mark-line" x1="458" y1="22" x2="458" y2="200"/>`
	if !strings.Contains(svg, want) {
		t.Fatalf("the mark is not drawn at 458 with its title:\n%s", svg)
	}
	if strings.Contains(svg, "later") || strings.Count(svg, `class="mark-change"`) != 1 {
		t.Fatalf("a mark outside the chart was drawn:\n%s", svg)
	}
}

// TestSLOChartsMarkChanges: the SLO page's charts mark the changes to the
// SLO's service within each chart's span, titled with kind, title, time
// and reporter; another service's changes are not marked.
func TestSLOChartsMarkChanges(t *testing.T) {
	f := newFixture(t, 1, 0, 0) // slo-000 of service checkout
	fc := &fakeChanges{all: []changes.Change{
		{ID: 1, Service: "checkout", Title: "checkout v41", Kind: changes.KindDeploy, At: fixtureNow.Add(-10 * 24 * time.Hour), RecordedBy: "ci"},
		{ID: 2, Service: "checkout", Title: "checkout v42", Kind: changes.KindDeploy, At: fixtureNow.Add(-2*24*time.Hour + 12*time.Minute), RecordedBy: "ci"},
		{ID: 3, Service: "search", Title: "search v7", Kind: changes.KindDeploy, At: fixtureNow.Add(-24 * time.Hour)},
	}}
	f.d.opts.Changes = fc
	var b bytes.Buffer
	if err := f.d.SLO(context.Background(), &b, Viewer{}, "slo-000"); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	// v42 is in the burn-down and both 7-day charts, each drawn wide and
	// narrow; v41, 10 days ago, only in the 30-day burn-down.
	v42 := "<title>deploy: checkout v42 (Feb 28 10:42 UTC), reported by ci</title>"
	v41 := "<title>deploy: checkout v41 (Feb 20 10:30 UTC), reported by ci</title>"
	if n := strings.Count(page, v42); n != 6 {
		t.Errorf("v42 marked %d times, want 6 (3 charts, 2 sizes)", n)
	}
	if n := strings.Count(page, v41); n != 2 {
		t.Errorf("v41 marked %d times, want 2 (the burn-down, 2 sizes)", n)
	}
	if strings.Contains(page, "search v7") {
		t.Error("another service's change is marked")
	}
	if len(fc.queries) != 1 || fc.queries[0].Service != "checkout" {
		t.Errorf("queries %+v, want one for checkout", fc.queries)
	}
}
