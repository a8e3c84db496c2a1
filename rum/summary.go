package rum

import (
	"cmp"
	"slices"
	"time"
)

// MinuteRow is one minute's RUM summary for one site and route: weighted
// page views and JS errors, and a sketch per vital (keyed lcp, inp, cls,
// fcp, ttfb). Rows for the same (Minute, Site, Route) merge by Merge, so a
// store may add them up as deltas or keep one absolute row per writer and
// sum on read.
type MinuteRow struct {
	Minute time.Time         `json:"minute"`
	Site   string            `json:"site"`
	Route  string            `json:"route"`
	Views  float64           `json:"views"`
	Errors float64           `json:"errors"`
	Vitals map[string]Sketch `json:"vitals,omitempty"`
}

// Merge adds o into r; both must be for the same minute, site and route.
func (r *MinuteRow) Merge(o MinuteRow) {
	r.Views += o.Views
	r.Errors += o.Errors
	for name, h := range o.Vitals {
		if r.Vitals == nil {
			r.Vitals = map[string]Sketch{}
		}
		dst := r.Vitals[name]
		if dst == nil {
			dst = Sketch{}
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
