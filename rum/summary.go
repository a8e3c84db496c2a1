package rum

import (
	"maps"
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

// ErrorGroup is every JS error with one fingerprint (Fingerprint): how
// often (weighted), when first and last seen, a scrubbed sample, the top
// in-app frame (Culprit), and the routes, browsers and sites it was seen
// on, with counts per route and per browser (up to MaxGroupRoutes of each;
// occurrences beyond that count in Count only).
type ErrorGroup struct {
	Fingerprint   string             `json:"fingerprint"`
	Kind          string             `json:"kind"`
	Message       string             `json:"message"`
	Culprit       string             `json:"culprit"`
	SampleStack   string             `json:"sample_stack"`
	SampleURL     string             `json:"sample_url"`
	Count         float64            `json:"count"`
	FirstSeen     time.Time          `json:"first_seen"`
	LastSeen      time.Time          `json:"last_seen"`
	Routes        []string           `json:"routes"`
	RouteCounts   map[string]float64 `json:"route_counts"`
	Browsers      []string           `json:"browsers"`
	BrowserCounts map[string]float64 `json:"browser_counts"`
	Sites         []string           `json:"sites"`
	// Hours are the counts per UTC hour, oldest first, over the last
	// GroupHours hours up to the newest one seen (hours without
	// occurrences left out); they are complete from HourlySince on: the
	// hour the group was first seen, or a later one for a group kept from
	// before groups counted per hour (zero until it is seen again) or
	// older than GroupHours.
	Hours       []HourCount `json:"hours"`
	HourlySince time.Time   `json:"hourly_since,omitzero"`
}

// MaxGroupRoutes bounds the routes, browsers and sites remembered per error
// group.
const MaxGroupRoutes = 20

// MergeErrorGroup adds delta (the same fingerprint) into g: counts add (also per hour: addHours), the
// seen times widen, routes, browsers and sites unite (bounded) with their
// counts, and the newest sample is kept. Stores use it to keep groups.
func MergeErrorGroup(g *ErrorGroup, delta ErrorGroup) {
	if g.Fingerprint == "" {
		*g = delta
		g.Routes = slices.Clone(delta.Routes)
		g.Browsers = slices.Clone(delta.Browsers)
		g.Sites = slices.Clone(delta.Sites)
		g.RouteCounts = maps.Clone(delta.RouteCounts)
		g.BrowserCounts = maps.Clone(delta.BrowserCounts)
		g.Hours = slices.Clone(delta.Hours)
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
			if delta.Culprit != "" {
				g.Culprit = delta.Culprit
			}
		}
	}
	g.Routes = addBounded(g.Routes, delta.Routes...)
	g.Browsers = addBounded(g.Browsers, delta.Browsers...)
	g.Sites = addBounded(g.Sites, delta.Sites...)
	g.RouteCounts = addCounts(g.RouteCounts, delta.RouteCounts)
	g.BrowserCounts = addCounts(g.BrowserCounts, delta.BrowserCounts)
	addHours(g, delta)
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

// addCount adds n to m[k], taking a new key only while m holds fewer than
// MaxGroupRoutes.
func addCount(m map[string]float64, k string, n float64) map[string]float64 {
	if _, ok := m[k]; !ok && len(m) >= MaxGroupRoutes {
		return m
	}
	if m == nil {
		m = map[string]float64{}
	}
	m[k] += n
	return m
}

// addCounts adds delta's counts into m, taking new keys only while m holds
// fewer than MaxGroupRoutes.
func addCounts(m, delta map[string]float64) map[string]float64 {
	for k, n := range delta {
		m = addCount(m, k, n)
	}
	return m
}
