package dashboards

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/sentinel-oss/sentinel/rum"
)

// Vital is one web vital with the web-vitals package's thresholds (6.2.x),
// as rum defines them: good up to Good, poor above Poor, needs
// improvement between; seconds, except CLS which is unitless.
type Vital struct {
	Name, Label string
	Good, Poor  float64
	rv          rum.Vital
}

// Vitals are the five web vitals in the order the RUM page shows them.
var Vitals = func() []Vital {
	labels := map[rum.Vital]string{rum.LCP: "LCP", rum.INP: "INP", rum.CLS: "CLS", rum.FCP: "FCP", rum.TTFB: "TTFB"}
	var out []Vital
	for _, v := range rum.Vitals() {
		good, poor := v.Limits()
		out = append(out, Vital{Name: v.Name(), Label: labels[v], Good: good, Poor: poor, rv: v})
	}
	return out
}()

// Rate classifies a measured value: "good", "needs-improvement" or "poor".
func (v Vital) Rate(x float64) string { return v.rv.Rate(x) }

// format shows a value in the vital's unit, rounded down (so a p75 shown
// never exceeds the values it comes from), with more digits where fewer
// would put it on the other side of a limit (2.5001 s is "2.5001s", not
// "2.50s").
func (v Vital) format(x float64) string { return v.formatRounded(x, math.Floor) }

// formatUp is format rounding up, for the upper end of a range.
func (v Vital) formatUp(x float64) string { return v.formatRounded(x, math.Ceil) }

func (v Vital) formatRounded(x float64, round func(float64) float64) string {
	var s string
	for extra := range 4 {
		var shown float64
		s, shown = v.formatDigits(x, extra, round)
		if v.Rate(shown) == v.Rate(x) {
			break
		}
	}
	return s
}

// formatDigits formats x with extra more decimals than usual, rounded by
// round (math.Floor or math.Ceil), and returns the value the text shows.
func (v Vital) formatDigits(x float64, extra int, round func(float64) float64) (string, float64) {
	slack := 1e-9 // so 0.29 s is 290ms, not 289ms after float scaling
	if round(0.5) == 1 {
		slack = -slack
	}
	at := func(x float64, decimals int) float64 {
		p := math.Pow10(decimals)
		return round(x*p+slack) / p
	}
	switch {
	case v.Name == "cls":
		d := 3 + extra
		y := at(x, d)
		return strconv.FormatFloat(y, 'f', d, 64), y
	case x < 0.01:
		d := 1 + extra
		y := at(x*1000, d)
		return strconv.FormatFloat(y, 'f', d, 64) + "ms", y / 1000
	case x < 1:
		d := extra
		y := at(x*1000, d)
		return strconv.FormatFloat(y, 'f', d, 64) + "ms", y / 1000
	case x < 60:
		d := 2 + extra
		y := at(x, d)
		return strconv.FormatFloat(y, 'f', d, 64) + "s", y
	}
	return secs(x), x
}

// Split is the share of measurements that were good, needed improvement
// or were poor.
type Split struct{ Good, NeedsImprovement, Poor float64 }

type vitalCell struct {
	Vital   Vital
	P75     string
	Bounds  string
	Rating  string
	Samples string // "1 sample", "12 samples"
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
	Errors     []rum.ReportedErrorGroup
	// ErrorsFrom is where the error groups' counts in the window start:
	// the whole hour holding From (groups count per hour).
	ErrorsFrom time.Time
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
		data.Overall = routeRowOf(rep.Overall)
		data.Overall.Route = "All routes"
		for j, r := range rep.Routes {
			if j == maxRUMRoutes {
				break
			}
			data.Routes = append(data.Routes, routeRowOf(r))
		}
		errs, err := d.opts.RUM.Errors(ctx, from, maxRUMErrors)
		if err != nil {
			return fmt.Errorf("rum errors: %w", err)
		}
		data.Errors = errs.Groups
		data.ErrorsFrom = from.UTC().Truncate(time.Hour)
	}
	return d.render(w, "rum", page{Title: "Real users", Nav: "rum", Viewer: v, Data: data})
}

// samples says how many measurements a figure comes from: "1 sample",
// "12 samples" (weighted by sampling, so possibly "2.5 samples").
func samples(n float64) string {
	if n == 1 {
		return "1 sample"
	}
	return count(n) + " samples"
}

func routeRowOf(r rum.RouteVitals) routeRow {
	row := routeRow{Route: r.Route, PageViews: count(r.PageViews), JSErrors: count(r.JSErrors)}
	for _, v := range Vitals {
		c := vitalCell{Vital: v, P75: "–", Samples: samples(0)}
		if s, ok := r.Vitals[v.Name]; ok && s.P75 != nil {
			c.Has = true
			c.P75 = v.format(*s.P75)
			c.Rating = s.Rating
			c.Samples = samples(s.Samples)
			if s.P75Low != nil && s.P75High != nil {
				c.Bounds = fmt.Sprintf("exact p75 between %s and %s, within %s of %s", v.format(*s.P75Low), v.formatUp(*s.P75High), pct(s.RelativeError, 0), c.P75)
			}
			c.Split = Split{Good: s.Good, NeedsImprovement: s.NeedsImprovement, Poor: s.Poor}
			c.Bar = splitBar(c.Split.Good, c.Split.NeedsImprovement, c.Split.Poor,
				fmt.Sprintf("%s: %s good, %s needs improvement, %s poor", v.Label, pct(c.Split.Good, 0), pct(c.Split.NeedsImprovement, 0), pct(c.Split.Poor, 0)))
		}
		row.Cells = append(row.Cells, c)
	}
	return row
}
