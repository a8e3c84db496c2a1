package dashboards

import (
	"bytes"
	"context"
	"html/template"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/slo"
)

// SLIs are cut, not rounded (99.9996% never reads 100%), but float error in
// the scaling does not cut a decimal off an exact figure (23/40 is 57.5%).
func TestSLIPercent(t *testing.T) {
	for f, want := range map[float64]string{
		23.0 / 40.0:    "57.500%",
		0.29:           "29.000%",
		0.57:           "57.000%",
		0.999996:       "99.999%",
		0.9993:         "99.930%",
		1 - 1e-12:      "99.999%",
		1:              "100%",
		0:              "0.000%",
		1.0 / 3.0:      "33.333%",
		2.0 / 3.0:      "66.666%",
		999.0 / 1000.0: "99.900%",
	} {
		if got := sliPct(f); got != want {
			t.Errorf("sliPct(%v) = %s, want %s", f, got, want)
		}
	}
}

// The note beside every SLI says they are cut, and its example is what
// sliPct writes; the SLO pages and the monthly report carry it.
func TestSLINoteIsTrueAndShown(t *testing.T) {
	if got := sliPct(0.994999); got != "99.499%" || !strings.Contains(sliNote, "99.4999% shows as 99.499%, not 99.500%") {
		t.Errorf("sliPct(0.994999) = %s; note: %s", got, sliNote)
	}
	if got := sliPct(23.0 / 30.0); got != "76.666%" {
		t.Errorf("sliPct(23/30) = %s, want 76.666%%", got)
	}
	f := newFixture(t, 1, 1, 0)
	ctx := context.Background()
	for name, render := range map[string]func(io.Writer) error{
		"overview": func(w io.Writer) error { return f.d.Overview(ctx, w, viewerV, "") },
		"slo":      func(w io.Writer) error { return f.d.SLO(ctx, w, viewerV, "slo-000") },
		"report":   func(w io.Writer) error { return f.d.SLOReportPage(ctx, w, viewerV, "2026-02") },
	} {
		var buf bytes.Buffer
		if err := render(&buf); err != nil {
			t.Fatal(name, err)
		}
		if !strings.Contains(buf.String(), `title="`+sliNote+`"`) {
			t.Errorf("%s: no SLI note", name)
		}
	}
}

// Counts of one read in the singular on the pages and in the report.
func TestCountsOfOneAreSingular(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	f.probes.runs["journey-00"] = f.probes.runs["journey-00"][:1]
	ctx := context.Background()
	for name, tc := range map[string]struct {
		render func(io.Writer) error
		want   []string
	}{
		"overview": {func(w io.Writer) error { return f.d.Overview(ctx, w, viewerV, "") },
			[]string{"</span> SLO<br>", "</span> open incident<br>", "of 1 probe failing"}},
		"probes": {func(w io.Writer) error { return f.d.Probes(ctx, w, viewerV) }, []string{"1 probe, "}},
		"probe":  {func(w io.Writer) error { return f.d.Probe(ctx, w, viewerV, "journey-00") }, []string{"of the last 1 run passed"}},
		"report": {func(w io.Writer) error { return f.d.SLOReportMarkdown(ctx, w, "2026-02") }, []string{"of 1 SLO."}},
	} {
		var buf bytes.Buffer
		if err := tc.render(&buf); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s lacks %q", name, w)
			}
		}
	}
	for _, tc := range []struct {
		n    any
		want string
	}{{0, "runs"}, {1, "run"}, {int64(1), "run"}, {1.0, "run"}, {2.5, "runs"}, {"1", "run"}, {"1,200", "runs"}} {
		if got := plural(tc.n, "run", "runs"); got != tc.want {
			t.Errorf("plural(%v) = %s, want %s", tc.n, got, tc.want)
		}
	}
}

func TestBudgetTextOneEventSeen(t *testing.T) {
	st := slo.Status{Spec: &slo.Spec{Objective: 99}, Window: slo.Counts{Good: 1, Total: 1},
		Budget: slo.Budget{Unit: "events", Projected: true, Expected: 720, Allowed: 7.2}}
	if got := budgetText(st); !strings.Contains(got, "1 event seen so far") {
		t.Errorf("budgetText = %q", got)
	}
}

// The end of counted minutes keeps its seconds when the counts end at the
// time of reading, so the minute it falls in is not read as left out.
func TestMinutesToKeepsSecondsOffTheMinute(t *testing.T) {
	f := newFixture(t, 1, 0, 0)
	minutesTo := f.d.funcs(time.UTC)["minutesTo"].(func(time.Time) template.HTML)
	now := f.d.now()
	for at, want := range map[time.Time]string{
		now.Add(-4 * time.Minute):  ">Mar 2 10:26 UTC</time>",
		now.Add(-13 * time.Second): ">Mar 2 10:29:47 UTC</time>",
	} {
		if got := string(minutesTo(at)); !strings.HasSuffix(got, want) {
			t.Errorf("minutesTo(%v) = %s, want it to end %s", at, got, want)
		}
	}
}

// "Empty in" says over what the rate was measured: the last hour, or the
// part of it with data while the SLO is younger than an hour.
func TestTimeToExhaustionSaysItsBasis(t *testing.T) {
	f := newFixture(t, 1, 0, 0)
	st, err := f.engine.Status(context.Background(), "slo-000")
	if err != nil {
		t.Fatal(err)
	}
	tte := 8*time.Hour + 20*time.Minute
	st.TimeToExhaustion = &tte
	for _, c := range []struct {
		observed time.Duration
		want     string
	}{
		{time.Hour, "at the last hour's rate"},
		{2*time.Minute + 13*time.Second, "at the rate of the last 2m13s, all the data there is"},
	} {
		st.HourObserved = c.observed
		r := f.d.sloRow(context.Background(), viewerV, st, health{})
		if r.TTE != "8h20m" || r.TTEBasis != c.want {
			t.Errorf("observed %s: %q %q, want 8h20m %q", c.observed, r.TTE, r.TTEBasis, c.want)
		}
	}
}
