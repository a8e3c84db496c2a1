package rum

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/DataDog/sketches-go/ddsketch/mapping"
)

// RelativeAccuracy is the sketches' guaranteed relative error: a quantile
// read from a Sketch lies within 1% of the exact quantile of the values
// added (DDSketch's guarantee), and also between the smallest and the
// largest value of the bin it comes from.
const RelativeAccuracy = 0.01

// ddMapping is DDSketch's logarithmic index mapping at RelativeAccuracy:
// bin i holds the values in [γ^i, γ^(i+1)) with γ = 1.01/0.99 (about 2%
// wide), and its representative value is within 1% of each of them. It is
// never modified.
var ddMapping = func() *mapping.LogarithmicMapping {
	m, err := mapping.NewLogarithmicMapping(RelativeAccuracy)
	if err != nil {
		panic(err) // a constant accuracy in (0, 1) cannot fail
	}
	return m
}()

// zeroIndex is the bin of values below what the mapping can index (0).
const zeroIndex = math.MinInt32

// binKey names one bin: DDSketch's index, split where a vital's good and
// poor limits cross it, so that no bin holds values on both sides of a
// limit. It packs the zone (0 good, 1 needs improvement, 2 poor) above the
// index (sign bit flipped), so keys order like the values they hold and
// hash as plain integers.
type binKey uint64

func makeBinKey(zone int8, index int32) binKey {
	return binKey(uint64(zone)<<32 | uint64(uint32(index)^1<<31))
}

func (k binKey) zone() int8   { return int8(k >> 32) }
func (k binKey) index() int32 { return int32(uint32(k) ^ 1<<31) }

// binStat is a bin's weighted count and the smallest and largest value
// added to it.
type binStat struct{ n, min, max float64 }

// Sketch is a mergeable summary of one vital's values: DDSketch bins at
// 1% relative accuracy, cut at the vital's good and poor limits, each
// with its weighted count and its smallest and largest value. So the
// shares of good, needs-improvement and poor values are exact, and the
// p75 read from it is within 1% of the exact p75, never outside the
// values its bin saw, and on the same side of each limit as the exact
// p75. Adding two sketches' bins gives the sketch of both sets of values,
// so stores keep one per minute and sum any window. Not safe for
// concurrent use.
type Sketch map[binKey]binStat

func binOf(v Vital, x float64) binKey {
	index := int32(zeroIndex)
	if x >= ddMapping.MinIndexableValue() {
		index = int32(ddMapping.Index(x))
	}
	return makeBinKey(v.zone(x), index)
}

// Add records value x of vital v with weight w (> 0).
func (s Sketch) Add(v Vital, x, w float64) {
	s.addBin(binOf(v, x), binStat{w, x, x})
}

func (s Sketch) addBin(k binKey, b binStat) {
	cur, ok := s[k]
	if !ok {
		s[k] = b
		return
	}
	cur.n += b.n
	cur.min = min(cur.min, b.min)
	cur.max = max(cur.max, b.max)
	s[k] = cur
}

// Merge adds o's bins into s.
func (s Sketch) Merge(o Sketch) {
	for k, b := range o {
		s.addBin(k, b)
	}
}

// Count is the total weight held.
func (s Sketch) Count() float64 {
	var n float64
	for _, b := range s {
		n += b.n
	}
	return n
}

type bin struct {
	binKey
	binStat
}

func (s Sketch) sorted() []bin {
	out := make([]bin, 0, len(s))
	for k, b := range s {
		out = append(out, bin{k, b})
	}
	slices.SortFunc(out, func(a, b bin) int { return cmp.Compare(a.binKey, b.binKey) })
	return out
}

// rankSlack absorbs float rounding when weights (1 / sample rate) are
// summed in a different order.
const rankSlack = 1e-9

// quantileBin returns the bin holding the q-quantile: the smallest value
// with at least q of the weight at or below it (so the p75 is good exactly
// when at least 75% of the weight is good, as CrUX rates).
func (s Sketch) quantileBin(q float64) (bin, bool) {
	bins := s.sorted()
	var total float64
	for _, b := range bins {
		total += b.n
	}
	if total <= 0 {
		return bin{}, false
	}
	target := (q - rankSlack) * total
	var cum float64
	for _, b := range bins {
		cum += b.n
		if cum >= target {
			return b, true
		}
	}
	return bins[len(bins)-1], true
}

// estimate is DDSketch's representative value of the bin, kept within the
// values the bin saw.
func (b bin) estimate() float64 {
	if b.index() == zeroIndex {
		return b.min
	}
	return min(max(ddMapping.Value(int(b.index())), b.min), b.max)
}

// Quantile returns the q-quantile (0 < q < 1) of the values held, or NaN
// when empty.
func (s Sketch) Quantile(q float64) float64 {
	b, ok := s.quantileBin(q)
	if !ok {
		return math.NaN()
	}
	return b.estimate()
}

// Shares returns the shares of the weight that is good, needs improvement
// and poor (zeros when empty); they are exact, since no bin straddles a
// limit.
func (s Sketch) Shares() (good, needsImprovement, poor float64) {
	var z [3]float64
	var total float64
	for k, b := range s {
		z[k.zone()] += b.n
		total += b.n
	}
	if total <= 0 {
		return 0, 0, 0
	}
	return z[0] / total, z[1] / total, z[2] / total
}

// VitalSummary is one vital over a window: the weighted number of
// measurements, the shares of good, needs-improvement and poor ones
// against web-vitals' limits, and the 75th percentile (seconds; CLS
// unitless) with its bounds. The exact p75 lies between P75Low and
// P75High (the smallest and largest value of its bin) and within
// RelativeError of P75. Rating is the p75's rating, which is "good"
// exactly when at least 75% of the measurements are good. P75 fields are
// null and Rating empty without measurements.
type VitalSummary struct {
	P75              *float64 `json:"p75"`
	P75Low           *float64 `json:"p75_low"`
	P75High          *float64 `json:"p75_high"`
	RelativeError    float64  `json:"relative_error"`
	Samples          float64  `json:"samples"`
	Good             float64  `json:"good"`
	NeedsImprovement float64  `json:"needs_improvement"`
	Poor             float64  `json:"poor"`
	Rating           string   `json:"rating,omitempty"`
}

// Summary summarises the sketch.
func (s Sketch) Summary() VitalSummary {
	vs := VitalSummary{RelativeError: RelativeAccuracy, Samples: round3(s.Count())}
	b, ok := s.quantileBin(0.75)
	if !ok {
		return vs
	}
	// Rounding to 0.1 ms (what the snippet sends) must not move the p75
	// outside the values of its bin.
	p := round4(b.estimate())
	p = min(max(p, b.min), b.max)
	lo, hi := b.min, b.max
	vs.P75, vs.P75Low, vs.P75High = &p, &lo, &hi
	vs.Good, vs.NeedsImprovement, vs.Poor = s.Shares()
	vs.Good, vs.NeedsImprovement, vs.Poor = round4(vs.Good), round4(vs.NeedsImprovement), round4(vs.Poor)
	vs.Rating = zoneRatings[b.zone()]
	return vs
}

// MarshalJSON writes the bins in value order as [zone, index, count, min,
// max] arrays.
func (s Sketch) MarshalJSON() ([]byte, error) {
	out := []byte{'['}
	for i, b := range s.sorted() {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '[')
		out = strconv.AppendInt(out, int64(b.zone()), 10)
		out = append(out, ',')
		out = strconv.AppendInt(out, int64(b.index()), 10)
		for _, f := range [3]float64{b.n, b.min, b.max} {
			out = append(out, ',')
			out = strconv.AppendFloat(out, f, 'g', -1, 64)
		}
		out = append(out, ']')
	}
	return append(out, ']'), nil
}

// UnmarshalJSON reads what MarshalJSON writes, refusing bins that cannot
// be (a zone other than 0 to 2, a count that is not positive, min above
// max, values that are not finite or negative).
func (s *Sketch) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		*s = nil
		return nil
	}
	var raw [][5]json.Number
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("sketch: %w", err)
	}
	out := make(Sketch, len(raw))
	for i, r := range raw {
		zone, err1 := strconv.ParseInt(string(r[0]), 10, 8)
		index, err2 := strconv.ParseInt(string(r[1]), 10, 32)
		n, err3 := r[2].Float64()
		lo, err4 := r[3].Float64()
		hi, err5 := r[4].Float64()
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
			return fmt.Errorf("sketch bin %d: %w", i, err)
		}
		switch {
		case zone < 0 || zone > 2:
			return fmt.Errorf("sketch bin %d: zone %d is not 0, 1 or 2", i, zone)
		case !(n > 0) || math.IsInf(n, 0):
			return fmt.Errorf("sketch bin %d: count %g is not a positive number", i, n)
		case !(lo >= 0) || !(hi >= lo) || math.IsInf(hi, 0):
			return fmt.Errorf("sketch bin %d: min %g and max %g are not 0 <= min <= max", i, lo, hi)
		}
		out.addBin(makeBinKey(int8(zone), int32(index)), binStat{n, lo, hi})
	}
	*s = out
	return nil
}

// legacyMin is the upper bound of bucket 0 of the histograms stored
// before sketches (vitalNames order).
var legacyMin = [numVitals]float64{0.001, 0.001, 0.0001, 0.001, 0.001}

// SketchFromLegacy converts a vital's histogram as stored before sketches
// (log buckets, eight per doubling from 1 ms, or 0.0001 for CLS, bucket 0
// holding everything up to that) into a Sketch. Those buckets did not keep
// the values they saw, so each bucket's count is spread evenly over the
// range it covered, cut at the sketch's bins and the vital's limits, and
// each part's bounds are the bounds of its share of that range: the p75 of
// converted minutes is no more precise than it was (about 5%).
func SketchFromLegacy(name string, buckets map[int]float64) (Sketch, error) {
	v, ok := VitalNamed(name)
	if !ok {
		return nil, fmt.Errorf("unknown vital %q", name)
	}
	s := Sketch{}
	m := legacyMin[v]
	good, poor := v.Limits()
	for idx, c := range buckets {
		if !(c > 0) || math.IsInf(c, 0) {
			continue
		}
		if idx <= 0 {
			s.addBin(binOf(v, m), binStat{c, 0, m})
			continue
		}
		lo := m * math.Exp2(float64(idx-1)/8)
		hi := m * math.Exp2(float64(idx)/8)
		cuts := []float64{lo, hi}
		for _, l := range []float64{good, poor} {
			if l > lo && l < hi {
				cuts = append(cuts, l)
			}
		}
		for k := ddMapping.Index(lo) + 1; k <= ddMapping.Index(hi); k++ {
			if b := ddMapping.LowerBound(k); b > lo && b < hi {
				cuts = append(cuts, b)
			}
		}
		slices.Sort(cuts)
		left := c // the last part takes what rounding left, so counts add up
		for i := 0; i+1 < len(cuts); i++ {
			a, b := cuts[i], cuts[i+1]
			if b <= a {
				continue
			}
			n := c * (b - a) / (hi - lo)
			if i+2 == len(cuts) {
				n = left
			}
			left -= n
			// The part (a, b] holds no limit inside; a limit at a belongs
			// to the zone below.
			s.addBin(binOf(v, (a+b)/2), binStat{n, math.Nextafter(a, math.Inf(1)), b})
		}
	}
	return s, nil
}
