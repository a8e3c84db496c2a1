package dashboards

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// Time charts: a time axis with dates in the viewer's time zone, a percent
// axis with its unit, reference lines (the objective, an empty budget)
// and "now" marked, gaps where there was no data, and labels that never
// overlap. Each chart is drawn twice, for wide screens and for phones
// (fewer ticks, larger type relative to its width); the stylesheet shows
// one. Text is sized in the SVG's own units and the SVG is drawn at its
// own width, so an 11px label stays 11px.

// chartLine is one plotted series: values at times, NaN for no data.
type chartLine struct {
	Times  []time.Time
	Values []float64
	Class  string // line-ok, line-warning, line-critical, line-nodata
}

// refLine is a horizontal reference line with its label.
type refLine struct {
	Y     float64
	Label string
	Class string // ref-objective, ref-zero
}

// timeChart describes a chart.
type timeChart struct {
	Label string // what the chart says, for screen readers
	// Title names the values and their unit ("Budget left, %").
	Title    string
	From, To time.Time
	Now      time.Time
	// YMin and YMax bound the value axis; values outside are drawn at its edge.
	YMin, YMax float64
	Lines      []chartLine
	Refs       []refLine
	// Ideal, when set, draws a dashed line from (From, YMax) to (To, 0):
	// a budget spent evenly over the window.
	Ideal bool
	// NoData shades spans without data and names them.
	NoData []span
	// Marks are moments marked by a vertical line whose tooltip is the
	// mark's title: changes (deploys, flags) to the chart's service.
	Marks []chartMark
	Loc   *time.Location
}

// chartMark is one marked moment.
type chartMark struct {
	At    time.Time
	Title string
}

// span is [From, To).
type span struct{ From, To time.Time }

// chartSize is one rendering of a chart.
type chartSize struct {
	W, H           float64
	Left, Right    float64
	Top, Bottom    float64
	XTicks, YTicks int
	Font           float64
	Class          string
}

var (
	wideChart   = chartSize{W: 880, H: 240, Left: 50, Right: 14, Top: 22, Bottom: 40, XTicks: 10, YTicks: 5, Font: 12, Class: "chart chart-wide"}
	narrowChart = chartSize{W: 340, H: 210, Left: 44, Right: 10, Top: 22, Bottom: 40, XTicks: 4, YTicks: 4, Font: 11, Class: "chart chart-narrow"}
	miniChart   = chartSize{W: 220, H: 70, Left: 34, Right: 4, Top: 6, Bottom: 16, XTicks: 2, YTicks: 2, Font: 10, Class: "chart chart-mini"}
)

// render draws the chart in both sizes.
func (c timeChart) render() template.HTML {
	return template.HTML(c.draw(wideChart) + c.draw(narrowChart)) //nolint:gosec // numbers and escaped text
}

// mini draws the small chart of an overview row: the same axes with only
// their ends labelled.
func (c timeChart) mini() template.HTML {
	lines := make([]chartLine, len(c.Lines))
	for i, l := range c.Lines {
		lines[i] = thin(l, miniPoints)
	}
	c.Lines = lines
	return template.HTML(c.draw(miniChart)) //nolint:gosec // numbers and escaped text
}

// miniPoints is about how many points a mini chart's line keeps: more
// would not show at its width and would only weigh down the overview.
const miniPoints = 24

// thin keeps about n points of l, evenly spread, its first and last
// included (a gap's NaN stays where it falls).
func thin(l chartLine, n int) chartLine {
	if len(l.Times) <= n {
		return l
	}
	step := (len(l.Times) + n - 1) / n
	out := chartLine{Class: l.Class}
	for i := 0; i < len(l.Times); i++ {
		if i%step == 0 || i == len(l.Times)-1 {
			out.Times = append(out.Times, l.Times[i])
			out.Values = append(out.Values, l.Values[i])
		}
	}
	return out
}

// textWidth estimates the width of a label in the chart's font.
func textWidth(s string, font float64) float64 { return float64(len([]rune(s))) * font * 0.58 }

func (c timeChart) draw(sz chartSize) string {
	loc := c.Loc
	if loc == nil {
		loc = time.UTC
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="%s" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s">`,
		sz.Class, f1(sz.W), f1(sz.H), f1(sz.W), f1(sz.H), svgEscape(c.Label))
	fmt.Fprintf(&b, `<title>%s</title>`, svgEscape(c.Label))
	x0, x1 := sz.Left, sz.W-sz.Right
	y0, y1 := sz.Top, sz.H-sz.Bottom // y0 top, y1 bottom
	span := c.To.Sub(c.From).Seconds()
	if span <= 0 {
		span = 1
	}
	lo, hi := c.YMin, c.YMax
	if hi <= lo {
		hi = lo + 1
	}
	px := func(t time.Time) float64 { return x0 + t.Sub(c.From).Seconds()/span*(x1-x0) }
	py := func(v float64) float64 { return y0 + (hi-clamp(v, lo, hi))/(hi-lo)*(y1-y0) }
	fs := f1(sz.Font)

	// Spans without data, shaded and named where there is room.
	for _, g := range c.NoData {
		a, z := math.Max(px(g.From), x0), math.Min(px(g.To), x1)
		if z-a < 0.5 {
			continue
		}
		fmt.Fprintf(&b, `<rect class="nodata" x="%s" y="%s" width="%s" height="%s"/>`, f1(a), f1(y0), f1(z-a), f1(y1-y0))
		if label := "no data"; z-a > textWidth(label, sz.Font)+6 && sz.Class != miniChart.Class {
			fmt.Fprintf(&b, `<text class="axis nodata-text" x="%s" y="%s" text-anchor="middle" font-size="%s">%s</text>`,
				f1((a+z)/2), f1((y0+y1)/2+sz.Font/3), fs, label)
		}
	}

	// Marked moments: a line across the plot and a tick above it, with
	// the title as the tooltip (an SVG <title>) over a wider hit area.
	for _, m := range c.Marks {
		if m.At.Before(c.From) || m.At.After(c.To) {
			continue
		}
		x := f1(px(m.At))
		fmt.Fprintf(&b, `<g class="mark-change"><title>%s</title><line class="mark-hit" x1="%s" y1="%s" x2="%s" y2="%s"/><line class="mark-line" x1="%s" y1="%s" x2="%s" y2="%s"/><path class="mark-tick" d="M%s %sl-3 -5h6z"/></g>`,
			svgEscape(m.Title), x, f1(y0), x, f1(y1), x, f1(y0), x, f1(y1), x, f1(y0))
	}

	// The value axis: gridlines and labels at nice steps, never closer
	// than a line of text.
	ticks := yTicks(lo, hi, sz.YTicks)
	if sz.Class == miniChart.Class {
		ticks = []float64{hi, lo}
	} else if last := ticks[len(ticks)-1]; math.Abs(last-lo) > 1e-9 {
		// Label the axis's bottom too when a nice step misses it.
		ticks = append(ticks, lo)
	}
	lastY := math.Inf(-1)
	for _, v := range ticks {
		y := py(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, f1(x0), f1(y), f1(x1), f1(y))
		if y-lastY < sz.Font+2 && lastY != math.Inf(-1) {
			continue
		}
		fmt.Fprintf(&b, `<text class="axis" x="%s" y="%s" text-anchor="end" font-size="%s">%s</text>`,
			f1(x0-4), f1(y+sz.Font/3), fs, svgEscape(pctTick(v, ticks)))
		lastY = y
	}
	if c.Title != "" && sz.Class != miniChart.Class {
		fmt.Fprintf(&b, `<text class="axis axis-title" x="%s" y="%s" font-size="%s">%s</text>`, f1(x0), f1(sz.Font), fs, svgEscape(c.Title))
	}

	// The time axis.
	xt := timeTicks(c.From, c.To, loc, sz.XTicks)
	if sz.Class == miniChart.Class {
		xt = []tick{{c.From, shortDate(c.From.In(loc), c.To.Sub(c.From))}, {c.To, shortDate(c.To.In(loc), c.To.Sub(c.From))}}
	}
	lastEnd := math.Inf(-1)
	for _, t := range xt {
		x := px(t.At)
		if x < x0-0.5 || x > x1+0.5 {
			continue
		}
		fmt.Fprintf(&b, `<line class="tick" x1="%s" y1="%s" x2="%s" y2="%s"/>`, f1(x), f1(y1), f1(x), f1(y1+4))
		lines := strings.Split(t.Label, "\n")
		w := 0.0
		for _, l := range lines {
			w = math.Max(w, textWidth(l, sz.Font))
		}
		anchor, left := "middle", x-w/2
		switch {
		case left < 0:
			anchor, left = "start", math.Max(x, 0)
			if left+w > sz.W {
				continue
			}
		case x+w/2 > sz.W:
			anchor, left = "end", x-w
		}
		if left < lastEnd+6 {
			continue
		}
		lastEnd = left + w
		for i, l := range lines {
			fmt.Fprintf(&b, `<text class="axis" x="%s" y="%s" text-anchor="%s" font-size="%s">%s</text>`,
				f1(x), f1(y1+4+sz.Font*float64(i+1)), anchor, fs, svgEscape(l))
		}
	}
	fmt.Fprintf(&b, `<line class="axis-line" x1="%s" y1="%s" x2="%s" y2="%s"/>`, f1(x0), f1(y1), f1(x1), f1(y1))

	if c.Ideal {
		fmt.Fprintf(&b, `<line class="ideal" x1="%s" y1="%s" x2="%s" y2="%s"/>`, f1(px(c.From)), f1(py(hi)), f1(px(c.To)), f1(py(math.Max(lo, 0))))
	}
	// Reference lines, labelled at the right inside the plot.
	for _, r := range c.Refs {
		if r.Y < lo || r.Y > hi {
			continue
		}
		y := py(r.Y)
		fmt.Fprintf(&b, `<line class="%s" x1="%s" y1="%s" x2="%s" y2="%s"/>`, r.Class, f1(x0), f1(y), f1(x1), f1(y))
		if r.Label != "" && sz.Class != miniChart.Class {
			ly := y - 3
			if ly-sz.Font < y0 {
				ly = y + sz.Font
			}
			fmt.Fprintf(&b, `<text class="axis ref-text" x="%s" y="%s" text-anchor="end" font-size="%s">%s</text>`, f1(x1-2), f1(ly), fs, svgEscape(r.Label))
		}
	}
	// The lines, broken at gaps.
	for _, l := range c.Lines {
		var seg []string
		var segX0, segX1, segY1 float64
		flush := func() {
			if len(seg) > 1 {
				fmt.Fprintf(&b, `<polyline class="%s" fill="none" points="%s"/>`, l.Class, strings.Join(seg, " "))
			}
			// A run narrower than a few pixels (minutes of data in a
			// 30-day chart) would be invisible as a line: mark its end.
			if len(seg) > 0 && segX1-segX0 < 3 {
				fmt.Fprintf(&b, `<circle class="%s dot" cx="%s" cy="%s" r="2"/>`, l.Class, f1(segX1), f1(segY1))
			}
			seg = seg[:0]
		}
		for i, t := range l.Times {
			v := l.Values[i]
			if math.IsNaN(v) || t.Before(c.From) || t.After(c.To) {
				flush()
				continue
			}
			x, y := px(t), py(v)
			if len(seg) == 0 {
				segX0 = x
			}
			segX1, segY1 = x, y
			seg = append(seg, f1(x)+","+f1(y))
		}
		flush()
	}
	// Now.
	if !c.Now.IsZero() && !c.Now.Before(c.From) && !c.Now.After(c.To) {
		x := px(c.Now)
		fmt.Fprintf(&b, `<line class="now" x1="%s" y1="%s" x2="%s" y2="%s"/>`, f1(x), f1(y0-2), f1(x), f1(y1))
		if sz.Class != miniChart.Class {
			anchor := "middle"
			switch {
			case x+textWidth("now", sz.Font)/2 > sz.W:
				anchor = "end"
			case x-textWidth("now", sz.Font)/2 < textWidth(c.Title, sz.Font)+x0+4 && c.Title != "":
				anchor = "start"
			}
			fmt.Fprintf(&b, `<text class="axis now-text" x="%s" y="%s" text-anchor="%s" font-size="%s">now</text>`, f1(x), f1(y0-5), anchor, fs)
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// tick is a labelled point of the time axis.
type tick struct {
	At    time.Time
	Label string
}

// timeSteps are the spacings the time axis chooses from.
var timeSteps = []time.Duration{
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour,
}

// timeTicks places at most max ticks on [from, to] at a round spacing,
// aligned to local midnight (or the hour), labelled with the date and,
// under a day's spacing, the time.
func timeTicks(from, to time.Time, loc *time.Location, maxTicks int) []tick {
	d := to.Sub(from)
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if d/s <= time.Duration(maxTicks) {
			step = s
			break
		}
	}
	var out []tick
	lf := from.In(loc)
	var t time.Time
	if step >= 24*time.Hour {
		t = time.Date(lf.Year(), lf.Month(), lf.Day(), 0, 0, 0, 0, loc)
		if step == 7*24*time.Hour || step == 14*24*time.Hour {
			for t.Weekday() != time.Monday {
				t = t.AddDate(0, 0, 1)
			}
		}
	} else {
		h := int(step / time.Hour)
		t = time.Date(lf.Year(), lf.Month(), lf.Day(), lf.Hour()/h*h, 0, 0, 0, loc)
	}
	prevDay := -1
	for ; !t.After(to) && len(out) < 64; t = nextTick(t, step) {
		if t.Before(from) {
			continue
		}
		lt := t.In(loc)
		label := lt.Format("Jan 2")
		if step < 24*time.Hour {
			label = lt.Format("15:04")
			if lt.YearDay() != prevDay {
				label += "\n" + lt.Format("Jan 2")
			}
			prevDay = lt.YearDay()
		}
		out = append(out, tick{t, label})
	}
	return out
}

// nextTick steps in calendar days (so ticks stay on local midnight across
// daylight-saving changes) or in hours.
func nextTick(t time.Time, step time.Duration) time.Time {
	if step >= 24*time.Hour {
		return t.AddDate(0, 0, int(step/(24*time.Hour)))
	}
	return t.Add(step)
}

// shortDate labels an end of a mini chart's axis.
func shortDate(t time.Time, span time.Duration) string {
	if span <= 2*24*time.Hour {
		return t.Format("Jan 2 15:04")
	}
	return t.Format("Jan 2")
}

// yTicks returns nice values on [lo, hi], at most about max of them,
// always including both ends' nearest nice values inside.
func yTicks(lo, hi float64, maxTicks int) []float64 {
	r := hi - lo
	if r <= 0 || maxTicks < 2 {
		return []float64{hi, lo}
	}
	raw := r / float64(maxTicks-1)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw*(1-1e-9) {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(hi/step-1e-9) * step; v >= lo-1e-9; v -= step {
		if v <= hi+1e-9 {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		out = []float64{hi, lo}
	}
	return out
}

// pctTick formats a tick of a fraction axis as a percentage, with as
// many decimals as the spacing of the ticks needs.
func pctTick(v float64, ticks []float64) string {
	dec := 0
	if len(ticks) > 1 {
		step := math.Abs(ticks[0]-ticks[1]) * 100
		for dec < 4 && step < 1-1e-9 && math.Abs(step*math.Pow(10, float64(dec))-math.Round(step*math.Pow(10, float64(dec)))) > 1e-6 {
			dec++
		}
		for dec < 4 && step*math.Pow(10, float64(dec)) < 1-1e-9 {
			dec++
		}
	}
	s := strconv.FormatFloat(v*100, 'f', dec, 64)
	if s == "-0" {
		s = "0"
	}
	return s + "%"
}

// niceFloor rounds v down to a step that suits a percent axis.
func niceFloor(v float64) float64 {
	if v >= 0 {
		return 0
	}
	for _, s := range []float64{0.25, 0.5, 1, 2, 5, 10} {
		if v >= -s {
			return -s
		}
	}
	return -10
}

// sliRange is the value axis of an SLI chart: from a little under the
// objective (or the worst value, whichever is lower) to 100%.
func sliRange(objective float64, values []float64) (lo, hi float64) {
	budget := 1 - objective
	lo = objective - 2*budget
	for _, v := range values {
		if !math.IsNaN(v) && v < lo {
			lo = v
		}
	}
	ticks := yTicks(lo, 1, 5)
	step := 0.0
	if len(ticks) > 1 {
		step = ticks[0] - ticks[1]
	}
	if step > 0 {
		lo = math.Floor(lo/step+1e-9) * step
	}
	return math.Max(lo, 0), 1
}
