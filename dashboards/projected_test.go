package dashboards

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/slo"
)

// projectedFixture has two events SLOs at 99% with two days of data:
// "fresh" over 30 days (its budget is projected) and "full" over one day
// (counted: its data began before its window).
func projectedFixture(t *testing.T) *Dashboards {
	t.Helper()
	yml := `slos:
  - {name: fresh, service: shop, objective: 99, window: 30d, sli: {events: {}}}
  - {name: full, service: shop, objective: 99, window: 1d, sli: {events: {}}}
`
	cfg, err := config.Parse("projected.yaml", []byte(yml), config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	specs, ps := slo.Compile(cfg.SLOs, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	clock := fixtureNow.Add(-48 * time.Hour)
	now := func() time.Time { return clock }
	eng, err := slo.New(slo.Options{Specs: specs, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for ; clock.Before(fixtureNow); clock = clock.Add(time.Minute) {
		for _, name := range []string{"fresh", "full"} {
			if err := eng.RecordEvents(t.Context(), name, 997, 1000, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Half a minute into the last minute with data: a clock on a minute's
	// first instant would read that minute as empty.
	clock = fixtureNow.Add(-30 * time.Second)
	d, err := New(Options{SLOs: eng, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rowOf is the overview's table row of one SLO.
func rowOf(t *testing.T, page, name string) string {
	t.Helper()
	i := strings.Index(page, `<a href="/slos/`+name+`">`)
	if i < 0 {
		t.Fatalf("no row for %s", name)
	}
	j := strings.Index(page[i:], "</tr>")
	return page[i : i+j]
}

func TestProjectedBudgetIsMarkedOnlyWhenProjected(t *testing.T) {
	d := projectedFixture(t)
	ctx := t.Context()
	var buf bytes.Buffer
	if err := d.Overview(ctx, &buf, viewerV, ""); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	// fresh: 2,880,000 events in 48 hours less 30 seconds project to
	// 43,207,501 over 30 days; 1% of them, 432,075, may be bad; 8,640
	// were: 2.0% spent, 98.0% left.
	fresh := rowOf(t, page, "fresh")
	for _, want := range []string{`<span class="num">98.0%</span> <span class="projected"`, ">(projected)</span>",
		`title="Projected: the window&#39;s allowance is projected from the traffic seen so far`, "8,640 of 432,075 allowed bad events"} {
		if !strings.Contains(fresh, want) {
			t.Errorf("fresh row lacks %q:\n%s", want, fresh)
		}
	}
	// full: the day holds 1,440 minutes of 1,000 events, 4,320 bad of the
	// 14,400 allowed: 70.0% left, counted, not projected.
	full := rowOf(t, page, "full")
	if !strings.Contains(full, `<span class="num">70.0%</span><span class="sub">4,320 of 14,400 allowed bad events</span>`) || strings.Contains(full, "projected") {
		t.Errorf("full row should read 70.0%% without a projection mark:\n%s", full)
	}
	note := `<p class="sub" id="projected-note">(projected): the window&#39;s allowance is projected from the traffic seen so far, so the budget left can change as traffic comes in, even without new bad events.</p>`
	if !strings.Contains(page, note) {
		t.Errorf("overview lacks the footnote %s", note)
	}

	buf.Reset()
	if err := d.Overview(ctx, &buf, viewerV, "other"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "projected") {
		t.Error("an overview with no projected row explains the mark")
	}

	buf.Reset()
	if err := d.SLO(ctx, &buf, viewerV, "fresh"); err != nil {
		t.Fatal(err)
	}
	if want := `<span class="num">98.0%</span> <span class="projected"`; !strings.Contains(buf.String(), want) {
		t.Errorf("fresh's page lacks %s", want)
	}
	if want := "98.0% left now (projected: the window"; !strings.Contains(buf.String(), want) {
		t.Errorf("fresh's burn-down label lacks %q", want)
	}
	buf.Reset()
	if err := d.SLO(ctx, &buf, viewerV, "full"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "(projected") {
		t.Error("full's page marks a counted budget as projected")
	}
}
