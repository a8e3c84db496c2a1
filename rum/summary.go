package rum

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Histogram is a sparse, mergeable histogram of one vital's values: bucket
// index to (weighted) count. Buckets are log-spaced, eight per doubling
// (about 9% wide), from 1 ms (0.0001 for CLS) upwards, with bucket 0 holding
// everything at or below that; quantiles are interpolated within a bucket,
// so a p75 over any window is within about 5% of the exact value. Summing
// two histograms' counts gives the histogram of both sets of values.
type Histogram map[int]float64

const bucketsPerDoubling = 8

// histMin is the upper bound of bucket 0 for each vital (vitalNames order).
var histMin = [len(vitalNames)]float64{0.001, 0.001, 0.0001, 0.001, 0.001}

func bucketOf(vital int, v float64) int {
	m := histMin[vital]
	if !(v > m) {
		return 0
	}
	return int(math.Ceil(math.Log2(v/m)*bucketsPerDoubling - 1e-9))
}

func bucketBounds(vital, idx int) (lo, hi float64) {
	m := histMin[vital]
	if idx <= 0 {
		return 0, m
	}
	return m * math.Exp2(float64(idx-1)/bucketsPerDoubling), m * math.Exp2(float64(idx)/bucketsPerDoubling)
}

// Add records v with weight w.
func (h Histogram) Add(vital int, v, w float64) { h[bucketOf(vital, v)] += w }

// Merge adds o's counts into h.
func (h Histogram) Merge(o Histogram) {
	for k, c := range o {
		h[k] += c
	}
}

// Count is the total weight held.
func (h Histogram) Count() float64 {
	var n float64
	for _, c := range h {
		n += c
	}
	return n
}

// Quantile returns the q-quantile (0 < q < 1) of the values held, for the
// vital with index vital, or NaN when empty.
func (h Histogram) Quantile(vital int, q float64) float64 {
	total := h.Count()
	if total <= 0 {
		return math.NaN()
	}
	keys := make([]int, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	rank := q * total
	var cum float64
	for _, k := range keys {
		c := h[k]
		if c <= 0 {
			continue
		}
		if cum+c >= rank {
			lo, hi := bucketBounds(vital, k)
			frac := (rank - cum) / c
			return lo + (hi-lo)*frac
		}
		cum += c
	}
	_, hi := bucketBounds(vital, keys[len(keys)-1])
	return hi
}

// MinuteRow is one minute's RUM summary for one site and route: weighted
// page views and JS errors, and a histogram per vital (keyed lcp, inp, cls,
// fcp, ttfb). Rows for the same (Minute, Site, Route) merge by Merge, so a
// store may add them up as deltas or keep one absolute row per writer and
// sum on read.
type MinuteRow struct {
	Minute time.Time            `json:"minute"`
	Site   string               `json:"site"`
	Route  string               `json:"route"`
	Views  float64              `json:"views"`
	Errors float64              `json:"errors"`
	Vitals map[string]Histogram `json:"vitals,omitempty"`
}

// Merge adds o into r; both must be for the same minute, site and route.
func (r *MinuteRow) Merge(o MinuteRow) {
	r.Views += o.Views
	r.Errors += o.Errors
	for name, h := range o.Vitals {
		if r.Vitals == nil {
			r.Vitals = map[string]Histogram{}
		}
		dst := r.Vitals[name]
		if dst == nil {
			dst = Histogram{}
			r.Vitals[name] = dst
		}
		dst.Merge(h)
	}
}

// Clone returns a deep copy of r.
func (r MinuteRow) Clone() MinuteRow {
	c := r
	c.Vitals = nil
	c.Merge(MinuteRow{Vitals: r.Vitals})
	return c
}

// ErrorGroup is every JS error with one fingerprint: how often (weighted),
// when first and last seen, a scrubbed sample, and up to MaxGroupRoutes of
// the routes it happened on.
type ErrorGroup struct {
	Fingerprint string    `json:"fingerprint"`
	Kind        string    `json:"kind"`
	Message     string    `json:"message"`
	SampleStack string    `json:"sample_stack"`
	SampleURL   string    `json:"sample_url"`
	Count       float64   `json:"count"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	Routes      []string  `json:"routes"`
	Sites       []string  `json:"sites"`
}

// MaxGroupRoutes bounds the routes (and sites) remembered per error group.
const MaxGroupRoutes = 20

// MergeErrorGroup adds delta (the same fingerprint) into g: counts add, the
// seen times widen, routes and sites unite (bounded), and the newest sample
// is kept. Stores use it to keep groups.
func MergeErrorGroup(g *ErrorGroup, delta ErrorGroup) {
	if g.Fingerprint == "" {
		*g = delta
		g.Routes = slices.Clone(delta.Routes)
		g.Sites = slices.Clone(delta.Sites)
		return
	}
	g.Count += delta.Count
	if !delta.FirstSeen.IsZero() && (g.FirstSeen.IsZero() || delta.FirstSeen.Before(g.FirstSeen)) {
		g.FirstSeen = delta.FirstSeen
	}
	if delta.LastSeen.After(g.LastSeen) {
		g.LastSeen = delta.LastSeen
		if delta.SampleStack != "" || delta.Message != "" {
			g.Message, g.SampleStack, g.SampleURL = delta.Message, delta.SampleStack, delta.SampleURL
		}
	}
	g.Routes = addBounded(g.Routes, delta.Routes...)
	g.Sites = addBounded(g.Sites, delta.Sites...)
}

func addBounded(set []string, items ...string) []string {
	for _, it := range items {
		if len(set) >= MaxGroupRoutes {
			break
		}
		if !slices.Contains(set, it) {
			set = append(set, it)
		}
	}
	return set
}

// sortGroups orders groups by count, then most recently seen.
func sortGroups(gs []ErrorGroup) {
	slices.SortFunc(gs, func(a, b ErrorGroup) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.Fingerprint, b.Fingerprint)
	})
}
