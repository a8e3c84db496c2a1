package rum

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// exactP75 is the smallest value with at least 75% of the values at or
// below it (the p75 CrUX rates by).
func exactP75(vals []float64) float64 {
	s := slices.Clone(vals)
	slices.Sort(s)
	return s[int(math.Ceil(0.75*float64(len(s))))-1]
}

func TestSketchP75WithinOnePercent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, v := range Vitals() {
		for _, n := range []int{1, 4, 10, 1000, 20000} {
			vals := make([]float64, n)
			s := Sketch{}
			for i := range vals {
				x := rng.ExpFloat64() * 2
				if v == CLS {
					x /= 20
				}
				vals[i] = x
				s.Add(v, x, 1)
			}
			exact := exactP75(vals)
			sum := s.Summary()
			got := *sum.P75
			if rel := math.Abs(got-exact) / exact; rel > RelativeAccuracy+1e-4/exact {
				t.Errorf("%s n=%d: p75 %v, exact %v (%.2f%% off)", v.Name(), n, got, exact, rel*100)
			}
			if !(*sum.P75Low <= exact && exact <= *sum.P75High) {
				t.Errorf("%s n=%d: exact p75 %v outside the stated bounds [%v, %v]", v.Name(), n, exact, *sum.P75Low, *sum.P75High)
			}
			if !(*sum.P75Low <= got && got <= *sum.P75High) {
				t.Errorf("%s n=%d: p75 %v outside its bin [%v, %v]", v.Name(), n, got, *sum.P75Low, *sum.P75High)
			}
			if want := v.Rate(exact); sum.Rating != want {
				t.Errorf("%s n=%d: rated %s, the exact p75 %v is %s", v.Name(), n, sum.Rating, exact, want)
			}
		}
	}
}

// Every vital exactly at each limit, and a hair above it: the p75 never
// exceeds the largest value, and the rating follows the share of good
// values, as web-vitals and CrUX rate them.
func TestSketchAtTheLimits(t *testing.T) {
	for _, v := range Vitals() {
		good, poor := v.Limits()
		for _, c := range []struct {
			name   string
			vals   []float64
			p75    float64
			rating string
			shares [3]float64
		}{
			{"four at good", []float64{good, good, good, good}, good, RatingGood, [3]float64{1, 0, 0}},
			{"four at poor", []float64{poor, poor, poor, poor}, poor, RatingNeedsImprovement, [3]float64{0, 1, 0}},
			{"three at good, one poor", []float64{good, good, good, poor * 3}, good, RatingGood, [3]float64{0.75, 0, 0.25}},
			{"two at good, two just above", []float64{good, good, good + 0.0001, good + 0.0001}, good + 0.0001, RatingNeedsImprovement, [3]float64{0.5, 0.5, 0}},
			{"four just above poor", []float64{poor + 0.0001, poor + 0.0001, poor + 0.0001, poor + 0.0001}, poor + 0.0001, RatingPoor, [3]float64{0, 0, 1}},
			{"one of each, at the limits", []float64{0, good, poor, poor + 0.0001}, poor, RatingNeedsImprovement, [3]float64{0.5, 0.25, 0.25}},
		} {
			s := Sketch{}
			for _, x := range c.vals {
				s.Add(v, x, 1)
			}
			sum := s.Summary()
			if sum.P75 == nil || *sum.P75 != c.p75 {
				t.Errorf("%s %s: p75 %v, want exactly %v", v.Name(), c.name, deref(sum.P75), c.p75)
			}
			if sum.P75 != nil && *sum.P75 > slices.Max(c.vals) {
				t.Errorf("%s %s: p75 %v above every sample", v.Name(), c.name, *sum.P75)
			}
			if sum.Rating != c.rating {
				t.Errorf("%s %s: rated %q, want %q", v.Name(), c.name, sum.Rating, c.rating)
			}
			if got := [3]float64{sum.Good, sum.NeedsImprovement, sum.Poor}; got != c.shares {
				t.Errorf("%s %s: shares %v, want %v", v.Name(), c.name, got, c.shares)
			}
			if sum.Samples != float64(len(c.vals)) || sum.RelativeError != RelativeAccuracy {
				t.Errorf("%s %s: samples %v, relative error %v", v.Name(), c.name, sum.Samples, sum.RelativeError)
			}
		}
	}
}

// The rating always agrees with the share of good values (good exactly
// when at least 75% are good), also with sampling weights.
func TestSketchRatingMatchesShares(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		v := Vital(rng.IntN(numVitals))
		good, poor := v.Limits()
		s := Sketch{}
		for range 1 + rng.IntN(12) {
			x := []float64{good, poor, good * rng.Float64(), good + (poor-good)*rng.Float64(), poor * (1 + rng.Float64())}[rng.IntN(5)]
			w := []float64{1, 10, 1 / 0.3, 4}[rng.IntN(4)]
			s.Add(v, x, w)
		}
		sum := s.Summary()
		want := RatingPoor
		switch {
		case sum.Good >= 0.75-1e-9:
			want = RatingGood
		case sum.Good+sum.NeedsImprovement >= 0.75-1e-9:
			want = RatingNeedsImprovement
		}
		if sum.Rating != want || v.Rate(*sum.P75) != want {
			t.Fatalf("%s %v: rating %s, p75 %v rates %s, shares say %s", v.Name(), s, sum.Rating, *sum.P75, v.Rate(*sum.P75), want)
		}
	}
}

func TestSketchWeightsMergeZerosAndEmpty(t *testing.T) {
	a, b := Sketch{}, Sketch{}
	a.Add(LCP, 1, 1)
	a.Add(LCP, 2, 1)
	b.Add(LCP, 3, 2)
	a.Merge(b)
	if got := a.Quantile(0.75); got != 3 {
		t.Errorf("merged weighted p75 %v, want 3", got)
	}
	if !math.IsNaN(Sketch{}.Quantile(0.75)) {
		t.Error("an empty sketch should give NaN")
	}
	if sum := (Sketch{}).Summary(); sum.P75 != nil || sum.Rating != "" || sum.Samples != 0 {
		t.Errorf("empty summary %+v", sum)
	}
	z := Sketch{}
	for range 10 {
		z.Add(CLS, 0, 1)
	}
	if got := z.Quantile(0.75); got != 0 {
		t.Errorf("p75 of zeros %v", got)
	}
}

func TestSketchJSONRoundTrip(t *testing.T) {
	s := Sketch{}
	for _, x := range []float64{0, 0.0001, 0.1, 0.1, 0.25, 3.2} {
		s.Add(CLS, x, 1.5)
	}
	b, err := json.Marshal(map[string]Sketch{"cls": s})
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]Sketch
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if len(back["cls"]) != len(s) {
		t.Fatalf("round trip %s: %v", b, back)
	}
	for k, v := range s {
		if back["cls"][k] != v {
			t.Errorf("bin %v: %v, want %v", k, back["cls"][k], v)
		}
	}
	for _, bad := range []string{`[[3,1,1,1,1]]`, `[[0,1,0,1,1]]`, `[[0,1,1,2,1]]`, `[[0,1,1,-1,1]]`, `[[0,1.5,1,1,1]]`, `{"1":2}`, `[[0,1,1,1]]`} {
		var s Sketch
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestSketchFromLegacy(t *testing.T) {
	// The old layout: bucket i holds (1 ms * 2^((i-1)/8), 1 ms * 2^(i/8)].
	old := map[int]float64{}
	oldBucket := func(x float64) int { return int(math.Ceil(math.Log2(x/0.001)*8 - 1e-9)) }
	vals := []float64{0.5, 1.2, 2.4, 2.6, 3.9, 4.2, 0.0005}
	for _, x := range vals {
		old[oldBucket(x)]++
	}
	s, err := SketchFromLegacy("lcp", old)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Count(); math.Abs(got-float64(len(vals))) > 1e-9 {
		t.Errorf("count %v, want %d", got, len(vals))
	}
	p := s.Quantile(0.75)
	if exact := exactP75(vals); math.Abs(p-exact)/exact > 0.1 {
		t.Errorf("legacy p75 %v, exact %v", p, exact)
	}
	if _, err := SketchFromLegacy("fid", old); err == nil {
		t.Error("unknown vital accepted")
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// The Prometheus histograms have both limits of each vital as bucket
// bounds, and a value exactly at a limit falls in the limit's bucket, so
// histogram_quantile and bucket ratios rate it as web-vitals does.
func TestPrometheusBucketsAtTheLimits(t *testing.T) {
	f := newFixture(t, nil)
	var events []string
	for _, v := range Vitals() {
		good, _ := v.Limits()
		events = append(events, fmt.Sprintf(`{"type":"vital","url":"/","name":%q,"value":%v}`, v.Name(), good))
	}
	if w := f.post(beaconWith(events...), "10.0.0.1", nil); w.Code != 202 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Vitals() {
		good, poor := v.Limits()
		if !slices.Contains(promBuckets[v], good) || !slices.Contains(promBuckets[v], poor) {
			t.Errorf("%s buckets %v lack %v or %v", v.Name(), promBuckets[v], good, poor)
		}
		name := "sentinel_rum_" + v.Name() + "_seconds"
		if v == CLS {
			name = "sentinel_rum_cls"
		}
		i := slices.IndexFunc(mfs, func(mf *dto.MetricFamily) bool { return mf.GetName() == name })
		if i < 0 {
			t.Fatalf("no %s", name)
		}
		for _, b := range mfs[i].GetMetric()[0].GetHistogram().GetBucket() {
			want := uint64(0)
			if b.GetUpperBound() >= good {
				want = 1
			}
			if b.GetCumulativeCount() != want {
				t.Errorf("%s{le=%v} = %d, want %d", name, b.GetUpperBound(), b.GetCumulativeCount(), want)
			}
		}
	}
}

// The case end to end through the collector and the service: four
// page views on a fresh route with every vital exactly at its good limit.
func TestVitalsAtTheGoodLimitsThroughTheCollector(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	for i := range 4 {
		events := []string{fmt.Sprintf(`{"type":"page_view","url":"https://shop.example.com/checkout?i=%d"}`, i)}
		for _, v := range Vitals() {
			good, _ := v.Limits()
			events = append(events, fmt.Sprintf(`{"type":"vital","url":"https://shop.example.com/checkout","name":%q,"value":%v}`, v.Name(), good))
		}
		if w := f.post(beaconWith(events...), fmt.Sprintf("10.0.0.%d", i), nil); w.Code != 202 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	if err := f.c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := f.c.Service().Vitals(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Routes) != 1 || rep.Routes[0].Route != "/checkout" || rep.Routes[0].PageViews != 4 {
		t.Fatalf("routes %+v", rep.Routes)
	}
	for _, v := range Vitals() {
		good, _ := v.Limits()
		s := rep.Routes[0].Vitals[v.Name()]
		if s.P75 == nil || *s.P75 != good || *s.P75Low != good || *s.P75High != good || s.Rating != RatingGood || s.Good != 1 || s.Samples != 4 {
			t.Errorf("%s: %+v (p75 %v), want p75 %v rated good", v.Name(), s, deref(s.P75), good)
		}
		if l := rep.Limits[v.Name()]; l.Good != good {
			t.Errorf("%s limits %+v", v.Name(), l)
		}
	}
}
