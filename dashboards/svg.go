package dashboards

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// Charts are drawn on the server as inline SVG: no script, no web font, no
// outside request. Every chart carries role="img" and an aria-label that
// says in words what it shows; colours come from CSS classes (so the
// stylesheet controls contrast), and no inline style attribute is used, so a
// strict Content-Security-Policy holds.

// svgEscape escapes text placed inside SVG markup we build by hand.
func svgEscape(s string) string { return template.HTMLEscapeString(s) }

// f1 formats a coordinate compactly.
func f1(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	if s == "-0" {
		s = "0"
	}
	return s
}

func clamp(v, lo, hi float64) float64 {
	if math.IsNaN(v) {
		return lo
	}
	return math.Max(lo, math.Min(hi, v))
}

// budgetBar draws the error budget remaining as a horizontal bar; an
// overspent budget shows an empty bar in the critical colour.
func budgetBar(remaining float64, class string) template.HTML {
	w := clamp(remaining, 0, 1) * 100
	label := "error budget remaining " + pct(remaining, 1)
	return template.HTML(fmt.Sprintf( //nolint:gosec // built from numbers and escaped text
		`<svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" aria-label="%s"><rect class="bar-bg" x="0" y="0" width="100" height="8" rx="2"/><rect class="fill-%s" x="0" y="0" width="%s" height="8" rx="2"/></svg>`,
		svgEscape(label), class, f1(w)))
}

// point is one chart point: x in [0, 1] of the chart's span, y a value.
type point struct{ X, Y float64 }

// burnDownChart draws the budget remaining across the SLO window (x: the
// window from start to end; y: 100% down to 0) with the ideal straight
// burn as a dashed line; pts' X are fractions of the window.
func burnDownChart(pts []point, class, label string) template.HTML {
	const w, h = 120.0, 32.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" viewBox="0 0 %s %s" preserveAspectRatio="none" role="img" aria-label="%s">`, f1(w), f1(h), svgEscape(label))
	fmt.Fprintf(&b, `<line class="ideal" x1="0" y1="1" x2="%s" y2="%s"/>`, f1(w), f1(h-1))
	if len(pts) > 0 {
		b.WriteString(`<polyline class="line-` + class + `" fill="none" points="`)
		for i, p := range pts {
			if i > 0 {
				b.WriteByte(' ')
			}
			y := 1 + (1-clamp(p.Y, 0, 1))*(h-2)
			fmt.Fprintf(&b, "%s,%s", f1(clamp(p.X, 0, 1)*w), f1(y))
		}
		b.WriteString(`"/>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and escaped text
}

// lineChart draws a labelled line chart of values over time, with a zero
// line when the values go negative; y is formatted by yfmt.
func lineChart(times []time.Time, ys []float64, class, label string, yfmt func(float64) string, loc *time.Location) template.HTML {
	const w, h = 640.0, 200.0
	const left, right, top, bottom = 56.0, 8.0, 8.0, 24.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %s %s" role="img" aria-label="%s">`, f1(w), f1(h), svgEscape(label))
	if len(ys) == 0 {
		fmt.Fprintf(&b, `<text x="%s" y="%s" class="axis" text-anchor="middle">no data yet</text></svg>`, f1(w/2), f1(h/2))
		return template.HTML(b.String()) //nolint:gosec // constant text
	}
	lo, hi := 0.0, 1.0
	for _, y := range ys {
		lo, hi = math.Min(lo, y), math.Max(hi, y)
	}
	if lo < -1 {
		lo = math.Floor(lo)
	}
	t0, t1 := times[0], times[len(times)-1]
	span := t1.Sub(t0).Seconds()
	if span <= 0 {
		span = 1
	}
	px := func(t time.Time) float64 { return left + t.Sub(t0).Seconds()/span*(w-left-right) }
	py := func(v float64) float64 { return top + (hi-v)/(hi-lo)*(h-top-bottom) }
	// grid and y labels at hi, the middle, lo, and zero
	for _, v := range uniq([]float64{hi, (hi + lo) / 2, lo, 0}) {
		y := py(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, f1(left), f1(y), f1(w-right), f1(y))
		fmt.Fprintf(&b, `<text class="axis" x="%s" y="%s" text-anchor="end">%s</text>`, f1(left-4), f1(y+4), svgEscape(yfmt(v)))
	}
	// x labels: start, middle, end
	for _, t := range []time.Time{t0, t0.Add(t1.Sub(t0) / 2), t1} {
		anchor := "middle"
		if t.Equal(t0) {
			anchor = "start"
		} else if t.Equal(t1) {
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text class="axis" x="%s" y="%s" text-anchor="%s">%s</text>`, f1(px(t)), f1(h-6), anchor, svgEscape(t.In(loc).Format("Jan 2 15:04")))
	}
	b.WriteString(`<polyline class="line-` + class + `" fill="none" points="`)
	for i := range ys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s,%s", f1(px(times[i])), f1(py(ys[i])))
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and escaped text
}

func uniq(vs []float64) []float64 {
	var out []float64
	for _, v := range vs {
		dup := false
		for _, o := range out {
			if math.Abs(o-v) < 1e-9 {
				dup = true
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}

// phaseOrder is the order of HTTP phases in a waterfall.
var phaseOrder = []string{"resolve", "connect", "tls", "processing", "transfer"}

// waterfallStep is one row of the waterfall: where the step starts (seconds
// after the run started), its phases and its whole duration.
type waterfallStep struct {
	Name    string
	Start   float64
	Total   float64
	Phases  map[string]float64
	Success bool
}

// waterfall draws each step of a run as a row whose bar starts where the
// step started and is split into its HTTP phases (a step without phases,
// such as a browser step, is one bar).
func waterfall(steps []waterfallStep, label string) template.HTML {
	const w, rowH, left, right = 640.0, 22.0, 150.0, 70.0
	end := 0.0
	for _, s := range steps {
		end = math.Max(end, s.Start+s.Total)
	}
	if end <= 0 {
		end = 1
	}
	h := rowH*float64(len(steps)) + 24
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart waterfall" viewBox="0 0 %s %s" role="img" aria-label="%s">`, f1(w), f1(h), svgEscape(label))
	scale := (w - left - right) / end
	for i, s := range steps {
		y := float64(i) * rowH
		name := s.Name
		if len(name) > 22 {
			name = name[:21] + "…"
		}
		cls := "axis"
		if !s.Success {
			cls = "axis bad-text"
		}
		fmt.Fprintf(&b, `<text class="%s" x="0" y="%s">%s</text>`, cls, f1(y+15), svgEscape(name))
		x := left + s.Start*scale
		drawn := 0.0
		for _, ph := range phaseOrder {
			v := s.Phases[ph]
			if v <= 0 {
				continue
			}
			fmt.Fprintf(&b, `<rect class="ph-%s" x="%s" y="%s" width="%s" height="14"><title>%s %s</title></rect>`,
				ph, f1(x+drawn*scale), f1(y+4), f1(math.Max(v*scale, 0.5)), ph, svgEscape(secs(v)))
			drawn += v
		}
		if rest := s.Total - drawn; rest > 0.0005 || drawn == 0 {
			cls := "ph-other"
			if !s.Success {
				cls = "ph-failed"
			}
			fmt.Fprintf(&b, `<rect class="%s" x="%s" y="%s" width="%s" height="14"><title>%s</title></rect>`,
				cls, f1(x+drawn*scale), f1(y+4), f1(math.Max(rest*scale, 0.5)), svgEscape(secs(rest)))
		}
		fmt.Fprintf(&b, `<text class="axis" x="%s" y="%s">%s</text>`, f1(x+s.Total*scale+4), f1(y+15), svgEscape(secs(s.Total)))
	}
	fmt.Fprintf(&b, `<text class="axis" x="%s" y="%s">0</text><text class="axis" x="%s" y="%s" text-anchor="end">%s</text>`,
		f1(left), f1(h-4), f1(w-right), f1(h-4), svgEscape(secs(end)))
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and escaped text
}

// runStrip draws recent runs as squares, oldest left: green for success,
// red for failure, each with a tooltip.
func runStrip(runs []stripRun, label string) template.HTML {
	const size, gap = 10.0, 2.0
	w := float64(len(runs))*(size+gap) + gap
	if w < 20 {
		w = 20
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="strip" viewBox="0 0 %s 14" width="%s" height="14" role="img" aria-label="%s">`, f1(w), f1(w), svgEscape(label))
	for i, r := range runs {
		cls := "fill-ok"
		if !r.Success {
			cls = "fill-critical"
		}
		fmt.Fprintf(&b, `<rect class="%s" x="%s" y="2" width="%s" height="%s" rx="1"><title>%s</title></rect>`,
			cls, f1(gap+float64(i)*(size+gap)), f1(size), f1(size), svgEscape(r.Title))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and escaped text
}

// stripRun is one square of a run strip.
type stripRun struct {
	Success bool
	Title   string
}

// splitBar draws a good / needs-improvement / poor split as one stacked bar.
func splitBar(good, ni, poor float64, label string) template.HTML {
	total := good + ni + poor
	if total <= 0 {
		return template.HTML(`<span class="muted">no samples</span>`)
	}
	g, n := good/total*100, ni/total*100
	p := 100 - g - n
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="bar split" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" aria-label="%s">`, svgEscape(label))
	fmt.Fprintf(&b, `<rect class="fill-ok" x="0" y="0" width="%s" height="8"/>`, f1(g))
	fmt.Fprintf(&b, `<rect class="fill-warning" x="%s" y="0" width="%s" height="8"/>`, f1(g), f1(n))
	fmt.Fprintf(&b, `<rect class="fill-critical" x="%s" y="0" width="%s" height="8"/>`, f1(g+n), f1(math.Max(p, 0)))
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and escaped text
}
