package rum

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// ErrInvalidQuery is returned for a time window that is empty, reversed or
// too long, or a limit out of range; the web layer maps it to 400.
var ErrInvalidQuery = errors.New("invalid query")

// MaxWindow is the longest window Vitals answers for.
const MaxWindow = 90 * 24 * time.Hour

// Service answers questions about stored RUM data for the API: p75 per route
// and vital, page views and JS errors for any window, and JS error groups.
// Safe for concurrent use.
type Service struct {
	counts MinuteReader
	errs   ErrorStore
	now    func() time.Time
}

// NewService returns a Service reading from the given stores (those a
// Collector writes to).
func NewService(counts MinuteReader, errs ErrorStore, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{counts: counts, errs: errs, now: now}
}

// VitalsReport is GET /api/v1/rum/vitals: the window, every route seen in it
// and all routes together, and the limits the vitals are rated against.
type VitalsReport struct {
	From    time.Time              `json:"from"`
	To      time.Time              `json:"to"`
	Overall RouteVitals            `json:"overall"`
	Routes  []RouteVitals          `json:"routes"`
	Limits  map[string]VitalLimits `json:"limits"`
}

// VitalLimits are web-vitals' thresholds for one vital (seconds; CLS
// unitless): good up to Good, poor above Poor.
type VitalLimits struct {
	Good float64 `json:"good"`
	Poor float64 `json:"poor"`
}

func limitsReport() map[string]VitalLimits {
	out := make(map[string]VitalLimits, numVitals)
	for _, v := range Vitals() {
		g, p := v.Limits()
		out[v.Name()] = VitalLimits{g, p}
	}
	return out
}

// RouteVitals is one route's page views, JS errors (both weighted by
// sampling) and vitals in a window.
type RouteVitals struct {
	Route     string                  `json:"route"`
	PageViews float64                 `json:"page_views"`
	JSErrors  float64                 `json:"js_errors"`
	Vitals    map[string]VitalSummary `json:"vitals"`
}

// Vitals summarises [from, to) (rounded out to whole minutes). A zero from
// means to minus one hour; a zero to means now.
func (s *Service) Vitals(ctx context.Context, from, to time.Time) (VitalsReport, error) {
	if to.IsZero() {
		to = s.now()
	}
	if from.IsZero() {
		from = to.Add(-time.Hour)
	}
	if !from.Before(to) {
		return VitalsReport{}, fmt.Errorf("%w: from %s is not before to %s", ErrInvalidQuery, from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if to.Sub(from) > MaxWindow {
		return VitalsReport{}, fmt.Errorf("%w: longer than %d days", ErrInvalidQuery, int(MaxWindow.Hours()/24))
	}
	from = from.Truncate(time.Minute)
	if t := to.Truncate(time.Minute); !t.Equal(to) {
		to = t.Add(time.Minute)
	}
	rows, err := s.counts.Minutes(ctx, from, to)
	// The counts end now: a window rounded out past it is reported as
	// ending now, not at a minute still to come.
	if now := s.now(); to.After(now) {
		to = now
	}
	if err != nil {
		return VitalsReport{}, fmt.Errorf("read rum minutes: %w", err)
	}
	perRoute := map[string]*MinuteRow{}
	all := &MinuteRow{}
	for _, r := range rows {
		cur := perRoute[r.Route]
		if cur == nil {
			cur = &MinuteRow{Route: r.Route}
			perRoute[r.Route] = cur
		}
		cur.Merge(r)
		all.Merge(r)
	}
	rep := VitalsReport{From: from.UTC(), To: to.UTC(), Overall: summarize("*", all), Routes: []RouteVitals{}, Limits: limitsReport()}
	for route, r := range perRoute {
		rep.Routes = append(rep.Routes, summarize(route, r))
	}
	slices.SortFunc(rep.Routes, func(a, b RouteVitals) int {
		if a.PageViews != b.PageViews {
			if a.PageViews > b.PageViews {
				return -1
			}
			return 1
		}
		if a.Route < b.Route {
			return -1
		}
		return 1
	})
	return rep, nil
}

func summarize(route string, r *MinuteRow) RouteVitals {
	rv := RouteVitals{Route: route, PageViews: round3(r.Views), JSErrors: round3(r.Errors), Vitals: map[string]VitalSummary{}}
	for _, name := range vitalNames {
		rv.Vitals[name] = r.Vitals[name].Summary()
	}
	return rv
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
func round4(v float64) float64 { return math.Round(v*10000) / 10000 }

// ErrorsReport is GET /api/v1/rum/errors: JS error groups last seen from
// Since to To (now), the most occurrences in that window first. Each
// group's Count and its counts per route and browser run from its
// FirstSeen; CountInWindow alone is the window's.
type ErrorsReport struct {
	Since  time.Time            `json:"since"`
	To     time.Time            `json:"to"`
	Groups []ReportedErrorGroup `json:"groups"`
}

// ReportedErrorGroup is an error group with its count in a report's
// window. Groups count per UTC hour, so CountInWindow counts the whole
// hours from CountedFrom (the hour holding the window's start, or a later
// one when the group's earlier hours are not known) to CountedTo (now).
// CountInWindow is nil, and the span zero, for a group kept from before
// groups counted per hour and not seen since.
type ReportedErrorGroup struct {
	ErrorGroup
	CountInWindow *float64  `json:"count_in_window"`
	CountedFrom   time.Time `json:"counted_from,omitzero"`
	CountedTo     time.Time `json:"counted_to,omitzero"`
}

// Errors returns up to limit (1 to 1000; 0 means 100) error groups last seen
// at or after since (zero means the last 24 hours).
func (s *Service) Errors(ctx context.Context, since time.Time, limit int) (ErrorsReport, error) {
	now := s.now()
	if since.IsZero() {
		since = now.Add(-24 * time.Hour)
	}
	if limit == 0 {
		limit = 100
	}
	if limit < 0 || limit > 1000 {
		return ErrorsReport{}, fmt.Errorf("%w: limit must be between 1 and 1000", ErrInvalidQuery)
	}
	gs, err := s.errs.ErrorGroups(ctx, since, limit)
	if err != nil {
		return ErrorsReport{}, fmt.Errorf("read rum error groups: %w", err)
	}
	out := make([]ReportedErrorGroup, len(gs))
	for i, g := range gs {
		g.Count = round3(g.Count)
		if g.Hours == nil {
			g.Hours = []HourCount{}
		}
		r := ReportedErrorGroup{ErrorGroup: g}
		if n, from, to, ok := g.CountIn(since, now); ok {
			n = round3(n)
			if to.After(now) {
				to = now.UTC()
			}
			r.CountInWindow, r.CountedFrom, r.CountedTo = &n, from, to
		}
		out[i] = r
	}
	return ErrorsReport{Since: since.UTC(), To: now.UTC(), Groups: out}, nil
}
