package dashboards

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"time"

	"github.com/sentinel-oss/sentinel/rum"
)

// Vital is one web vital with the web-vitals package's thresholds (6.2.x):
// good up to Good, poor above Poor, needs improvement between; seconds,
// except CLS which is unitless.
type Vital struct {
	Name, Label string
	Good, Poor  float64
	// index is the vital's position in rum's histogram bucket layout
	// (lcp, inp, cls, fcp, ttfb), needed by rum.Histogram.Quantile.
	index int
}

// Vitals are the five web vitals in the order the RUM page shows them.
var Vitals = []Vital{
	{"lcp", "LCP", 2.5, 4, 0},
	{"inp", "INP", 0.2, 0.5, 1},
	{"cls", "CLS", 0.1, 0.25, 2},
	{"fcp", "FCP", 1.8, 3, 3},
	{"ttfb", "TTFB", 0.8, 1.8, 4},
}

// Rate classifies a measured value: "good", "needs-improvement" or "poor".
func (v Vital) Rate(x float64) string {
	switch {
	case x <= v.Good:
		return "good"
	case x <= v.Poor:
		return "needs-improvement"
	}
	return "poor"
}

// format shows a value in the vital's unit.
func (v Vital) format(x float64) string {
	if v.Name == "cls" {
		return fmt.Sprintf("%.3f", x)
	}
	return secs(x)
}

// fractionAtOrBelow estimates the share of a histogram's weight at or
// below x by bisecting its quantile function, which is monotonic; the
// result is as precise as the histogram's buckets (about 9% wide).
func fractionAtOrBelow(h rum.Histogram, vital int, x float64) float64 {
	if h.Count() <= 0 {
		return 0
	}
	lo, hi := 0.0, 1.0
	if h.Quantile(vital, 1e-9) > x {
		return 0
	}
	if h.Quantile(vital, 1-1e-9) <= x {
		return 1
	}
	for range 24 {
		mid := (lo + hi) / 2
		if h.Quantile(vital, mid) <= x {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// Split is the share of measurements that were good, needed improvement
// or were poor.
type Split struct{ Good, NeedsImprovement, Poor float64 }

// SplitOf computes a vital's split from its histogram.
func SplitOf(v Vital, h rum.Histogram) Split {
	if h.Count() <= 0 {
		return Split{}
	}
	g := fractionAtOrBelow(h, v.index, v.Good)
	p := 1 - fractionAtOrBelow(h, v.index, v.Poor)
	return Split{Good: g, NeedsImprovement: math.Max(0, 1-g-p), Poor: p}
}

type vitalCell struct {
	Vital   Vital
	P75     string
	Rating  string
	Samples string
	Split   Split
	Bar     template.HTML
	Has     bool
}

type routeRow struct {
	Route     string
	PageViews string
	JSErrors  string
	Cells     []vitalCell
}

type rumData struct {
	Configured bool
	Window     string
	Windows    []filterLink
	Overall    routeRow
	Routes     []routeRow
	Errors     []rum.ErrorGroup
	From, To   time.Time
	Vitals     []Vital
}

// rumWindows are the windows the RUM page offers.
var rumWindows = []struct {
	Name string
	D    time.Duration
}{{"1h", time.Hour}, {"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}}

// maxRUMRoutes and maxRUMErrors bound the RUM page.
const (
	maxRUMRoutes = 50
	maxRUMErrors = 10
)

// RUM renders real-user monitoring over a window ("1h", "24h" or "7d";
// "" means 24h): the p75 of each vital per route with its good /
// needs-improvement / poor split, page views, and the top JS errors.
func (d *Dashboards) RUM(ctx context.Context, w io.Writer, v Viewer, window string) error {
	if window == "" {
		window = "24h"
	}
	i := slices.IndexFunc(rumWindows, func(x struct {
		Name string
		D    time.Duration
	}) bool {
		return x.Name == window
	})
	if i < 0 {
		return fmt.Errorf("%w: window must be 1h, 24h or 7d", ErrInvalid)
	}
	data := rumData{Window: window, Vitals: Vitals}
	for _, x := range rumWindows {
		data.Windows = append(data.Windows, filterLink{Value: x.Name, Label: "Last " + x.Name, Current: x.Name == window})
	}
	if d.opts.RUM != nil {
		data.Configured = true
		to := d.now()
		from := to.Add(-rumWindows[i].D)
		rep, err := d.opts.RUM.Vitals(ctx, from, to)
		if err != nil {
			return fmt.Errorf("rum vitals: %w", err)
		}
		data.From, data.To = rep.From, rep.To
		hists := d.rumHistograms(ctx, rep.From, rep.To)
		data.Overall = routeRowOf(rep.Overall, hists["*"])
		data.Overall.Route = "All routes"
		for j, r := range rep.Routes {
			if j == maxRUMRoutes {
				break
			}
			data.Routes = append(data.Routes, routeRowOf(r, hists[r.Route]))
		}
		errs, err := d.opts.RUM.Errors(ctx, from, maxRUMErrors)
		if err != nil {
			return fmt.Errorf("rum errors: %w", err)
		}
		data.Errors = errs.Groups
	}
	return d.render(w, "rum", page{Title: "Real users", Nav: "rum", Viewer: v, Data: data})
}

// rumHistograms merges the stored minutes of [from, to) per route (and
// over all routes, under "*"); nil when the minutes cannot be read, and the
// page then shows p75s without splits.
func (d *Dashboards) rumHistograms(ctx context.Context, from, to time.Time) map[string]map[string]rum.Histogram {
	if d.opts.RUMMinutes == nil {
		return nil
	}
	rows, err := d.opts.RUMMinutes.Minutes(ctx, from, to)
	if err != nil {
		d.log.Warn("read rum minutes for the split", "err", err)
		return nil
	}
	out := map[string]map[string]rum.Histogram{"*": {}}
	for _, r := range rows {
		m := out[r.Route]
		if m == nil {
			m = map[string]rum.Histogram{}
			out[r.Route] = m
		}
		for name, h := range r.Vitals {
			for _, dst := range []map[string]rum.Histogram{m, out["*"]} {
				if dst[name] == nil {
					dst[name] = rum.Histogram{}
				}
				dst[name].Merge(h)
			}
		}
	}
	return out
}

func routeRowOf(r rum.RouteVitals, hists map[string]rum.Histogram) routeRow {
	row := routeRow{Route: r.Route, PageViews: count(r.PageViews), JSErrors: count(r.JSErrors)}
	for _, v := range Vitals {
		c := vitalCell{Vital: v, P75: "–", Samples: "0"}
		if s, ok := r.Vitals[v.Name]; ok && s.P75 != nil {
			c.Has = true
			c.P75 = v.format(*s.P75)
			c.Rating = v.Rate(*s.P75)
			c.Samples = count(s.Samples)
		}
		if h := hists[v.Name]; h != nil && h.Count() > 0 {
			c.Split = SplitOf(v, h)
			c.Bar = splitBar(c.Split.Good, c.Split.NeedsImprovement, c.Split.Poor,
				fmt.Sprintf("%s: %s good, %s needs improvement, %s poor", v.Label, pct(c.Split.Good, 0), pct(c.Split.NeedsImprovement, 0), pct(c.Split.Poor, 0)))
		}
		row.Cells = append(row.Cells, c)
	}
	return row
}
