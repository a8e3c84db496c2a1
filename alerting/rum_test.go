package alerting

import (
	"context"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

func TestWeightedP75(t *testing.T) {
	ones := func(vs ...float64) []weighted {
		out := make([]weighted, len(vs))
		for i, v := range vs {
			out[i] = weighted{v, 1}
		}
		return out
	}
	for name, tc := range map[string]struct {
		in   []weighted
		want float64
	}{
		// Nearest rank: the ceil(0.75 n)-th smallest.
		"one":          {ones(7), 7},
		"four":         {ones(4, 1, 3, 2), 3},
		"five":         {ones(5, 4, 3, 2, 1), 4},
		"eight":        {ones(1, 2, 3, 4, 5, 6, 7, 8), 6},
		"heavy low":    {[]weighted{{1, 3}, {10, 1}}, 1},
		"heavy high":   {[]weighted{{1, 1}, {10, 3}}, 10},
		"sample of 4k": {[]weighted{{1, 2000}, {2, 1000}, {3, 1000}}, 2},
	} {
		if got := p75(tc.in); got != tc.want {
			t.Errorf("%s: p75 = %v, want %v", name, got, tc.want)
		}
	}
}

// A JS error rule is known before Sentinel has run a whole window when
// the errors counted so far already exceed the threshold.
func TestRUMJSErrorsKnownWhenAlreadyAbove(t *testing.T) {
	above := config.Threshold(10)
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{{Name: "JSErrors",
		When: config.AlertCondition{RUM: "js_errors_per_minute", Above: &above}}}})
	ctx := context.Background()
	send := func(n int64) {
		f.svc.RecordOutcome(ctx, model.Outcome{Source: model.SourceRUM, Name: "js_error", Time: f.clock.Now(), Total: n})
	}
	f.clock.Advance(time.Minute)
	send(40) // 40 over the 5-minute window: 8 a minute, not yet known
	f.clock.Advance(time.Second)
	f.eval(t)
	if as := f.alerts(t); len(as) != 0 {
		t.Fatalf("alerts %+v after a minute below the threshold", as)
	}
	send(20) // 60 over 5 minutes: 12 a minute already
	f.eval(t)
	if as := f.alerts(t); len(as) != 1 || as[0].State != model.AlertFiring {
		t.Fatalf("alerts %+v, want the rule firing", as)
	}
}

// A replica that saves its RUM figures but never evaluates forgets the
// minutes older than every window once they are saved.
func TestRUMWindowsTrim(t *testing.T) {
	above := config.Threshold(10)
	rules, ps := Compile(config.Alerting{Rules: []config.AlertRule{{Name: "JSErrors",
		When: config.AlertCondition{RUM: "js_errors_per_minute", Above: &above, Window: model.Duration(time.Minute)}}}}, Refs{})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	w := newRUMWindows(rules, t0)
	w.shared = true
	for i := range 10 {
		w.add(model.Outcome{Source: model.SourceRUM, Name: "js_error", Time: t0.Add(time.Duration(i) * time.Minute), Total: 1})
	}
	w.trim(t0.Add(9 * time.Minute))
	if n := len(w.series["JSErrors"]); n != 10 {
		t.Fatalf("%d minutes kept before saving, want all 10 (unsaved)", n)
	}
	if rows := w.takeDirty("a"); len(rows) != 10 {
		t.Fatalf("%d rows to save, want 10", len(rows))
	}
	w.trim(t0.Add(9 * time.Minute))
	if n := len(w.series["JSErrors"]); n != 4 {
		t.Errorf("%d minutes kept after saving, want 4 (the 1-minute window and 2 more, back from minute 9)", n)
	}
}
