package dashboards

import (
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// pct formats a fraction as a percentage with the given decimals, or more
// where rounding would make a fraction between 0 and 1 read 0% or 100%.
func pct(f float64, decimals int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "–"
	}
	return model.FixedPercent(f, decimals)
}

// sliNote tells the reader that SLIs are cut, not rounded (sliPct).
const sliNote = "SLIs are cut to three decimals, never rounded up, so an SLI just under its objective never reads as meeting it (99.4999% shows as 99.499%, not 99.500%)."

// sliPct formats an SLI with enough decimals to compare it with its
// objective (99.93%, not 100%), cut rather than rounded so it never reads
// as meeting an objective it misses.
func sliPct(f float64) string {
	if f >= 1 {
		return "100%"
	}
	return pct(floorTo(f, 1e5), 3)
}

// floorTo cuts f down to a multiple of 1/scale, a fraction below 1 staying
// below 1. The slack keeps float error in f*scale (0.29*1e5 is 28999.99…)
// from cutting a whole step off an exact figure.
func floorTo(f, scale float64) float64 {
	if v := math.Floor(f*scale+1e-6) / scale; v < 1 || f >= 1 {
		return v
	}
	return math.Floor(f*scale) / scale
}

// secs formats seconds as a short duration (850ms, 1.24s, 3m5s).
func secs(v float64) string {
	switch {
	case v < 0:
		return "–"
	case v < 0.01:
		return strconv.FormatFloat(v*1000, 'f', 1, 64) + "ms"
	case v < 1:
		return strconv.FormatFloat(v*1000, 'f', 0, 64) + "ms"
	case v < 60:
		return strconv.FormatFloat(v, 'f', 2, 64) + "s"
	}
	return human(time.Duration(v * float64(time.Second)))
}

// human formats a duration coarsely: 45s, 12m, 3h10m, 4d2h.
func human(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		h := int(d.Hours())
		m := int(d.Minutes()) - h*60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	days := int(d.Hours()) / 24
	h := int(d.Hours()) - days*24
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, h)
}

// rate formats a burn rate (1.0 spends the budget exactly over the window).
func rate(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case v == 0:
		return "0"
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64) + "×"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "×"
}

// count formats a (possibly weighted) count without needless decimals.
func count(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return group(strconv.FormatInt(int64(v), 10))
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// group puts thousands separators into a whole number.
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// plural is one when n is 1 and many otherwise (0 SLOs, 1 SLO, 2.5 samples).
func plural(n any, one, many string) string {
	switch v := n.(type) {
	case int:
		if v == 1 {
			return one
		}
	case int64:
		if v == 1 {
			return one
		}
	case float64:
		if v == 1 {
			return one
		}
	case string: // a count already formatted
		if v == "1" {
			return one
		}
	}
	return many
}

// funcs are the helpers templates call.
func (d *Dashboards) funcs(loc *time.Location) template.FuncMap {
	// when renders a time as a <time> element: the local time as text,
	// the exact instant as its datetime, and how long ago as a title.
	when := func(t time.Time, layout string) template.HTML {
		if t.IsZero() {
			return "–"
		}
		now := d.now()
		rel := human(now.Sub(t)) + " ago"
		if t.After(now) {
			rel = "in " + human(t.Sub(now))
		}
		return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s">%s</time>`, //nolint:gosec // formatted times
			t.UTC().Format(time.RFC3339), template.HTMLEscapeString(rel), template.HTMLEscapeString(t.In(loc).Format(layout))))
	}
	return template.FuncMap{
		"pct":           func(f float64) string { return pct(f, 1) },
		"projectedNote": func() string { return projectedNote },
		"sliNote":       func() string { return sliNote },
		"outsideNote":   func() string { return outsideNote },
		// spoken is a percentage as alerts and Slack say it (0.06%, 12%).
		"spoken": model.SpokenPercent,
		"sli":    sliPct,
		"secs":   secs,
		"rate":   rate,
		"count":  count,
		"int":    func(v int64) string { return group(strconv.FormatInt(v, 10)) },
		"when":   func(t time.Time) template.HTML { return when(t, "Jan 2 15:04 MST") },
		// minutesTo is the end of the whole minutes per-minute counts cover,
		// as when; with its seconds when the counts end at the time of
		// reading rather than on a minute, so that minute is not read as
		// left out.
		"minutesTo": func(t time.Time) template.HTML {
			if t.Truncate(time.Minute).Equal(t) {
				return when(t, "Jan 2 15:04 MST")
			}
			return when(t, "Jan 2 15:04:05 MST")
		},
		"ago": func(t time.Time) string {
			if t.IsZero() {
				return "–"
			}
			return human(d.now().Sub(t)) + " ago"
		},
		"dur":          human,
		"outcomeClass": outcomeClass,
		// bar draws a share (0-100) as a small horizontal bar.
		"bar": func(p float64) template.HTML {
			return template.HTML(fmt.Sprintf( //nolint:gosec // a number
				`<svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true"><rect class="bar-bg" x="0" y="0" width="100" height="8" rx="2"/><rect class="fill-info" x="0" y="0" width="%s" height="8" rx="2"/></svg>`, f1(clamp(p, 0, 100))))
		},
		// plural picks the word for a count: {{.N}} {{plural .N "SLO" "SLOs"}}.
		"plural": plural,
		"path":   url.PathEscape,
		"query": func(kv ...string) string {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] != "" {
					v.Set(kv[i], kv[i+1])
				}
			}
			if len(v) == 0 {
				return ""
			}
			return "?" + v.Encode()
		},
		"title": func(s string) string {
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
	}
}
