package model

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Figures as pages and alerts say them to people. Alert summaries, Slack
// messages, emails and postmortems share these, so one figure reads the
// same everywhere.

// SpokenDuration is a duration as people say it: "40 s", "24 min",
// "3.6 h", "2.5 d" (to a tenth past an hour).
func SpokenDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int64(math.Round(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int64(math.Round(d.Minutes())))
	case d < 48*time.Hour:
		return trimZeros(fmt.Sprintf("%.1f", d.Hours())) + " h"
	}
	return trimZeros(fmt.Sprintf("%.1f", d.Hours()/24)) + " d"
}

// Elapsed is how long something took, as response times are read: to the
// second under an hour ("59s", "1m25s", "12m"), to the minute under a day
// ("2h5m"), then to the hour ("3d4h"). Rounded, never cut: 59.6 s is "1m".
func Elapsed(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d.Round(time.Second) < time.Hour:
		d = d.Round(time.Second)
		m, s := int64(d/time.Minute), int64(d%time.Minute/time.Second)
		switch {
		case m == 0:
			return fmt.Sprintf("%ds", s)
		case s == 0:
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%ds", m, s)
	case d.Round(time.Minute) < 24*time.Hour:
		d = d.Round(time.Minute)
		return unitsOf(int64(d/time.Hour), "h", int64(d%time.Hour/time.Minute), "m")
	}
	d = d.Round(time.Hour)
	return unitsOf(int64(d/(24*time.Hour)), "d", int64(d%(24*time.Hour)/time.Hour), "h")
}

// unitsOf writes a figure in two units, leaving out a zero second one.
func unitsOf(a int64, ua string, b int64, ub string) string {
	if b == 0 {
		return fmt.Sprintf("%d%s", a, ua)
	}
	return fmt.Sprintf("%d%s%d%s", a, ua, b, ub)
}

// SpokenPercent is a fraction as a percentage with the precision the pages
// show it with, so a message and a page agree: 0.18 is "18%", 0.9946
// "99.5%" (not "99%"), 0.012 "1.2%", 0.0004 "0.04%", 1 "100%". A fraction
// strictly between 0 and 1 never reads "0%" or "100%" (0.996 is "99.6%",
// 0.9996 "99.96%": a budget with something spent is not whole; see
// FixedPercent).
func SpokenPercent(f float64) string {
	p := f * 100
	decimals := 2
	switch a := math.Abs(p); {
	case p == math.Trunc(p):
		decimals = 0
	case a >= 1:
		decimals = 1
	}
	s := FixedPercent(f, decimals)
	return trimZeros(strings.TrimSuffix(s, "%")) + "%"
}

// maxDecimals is how far FixedPercent goes to keep a fraction off 0% and
// 100%: a thousandth of a percent.
const maxDecimals = 3

// FixedPercent formats fraction f as a percentage with decimals decimals,
// adding more (up to three in all) where rounding would make a fraction
// strictly between 0 and 1 read as 0 or 100 ("100.0%" for a budget with 0.04% spent,
// "0.0%" for one with a little spent). A fraction closer still is shown as
// the nearest figure at that precision that is not 0 or 100 (99.999%).
func FixedPercent(f float64, decimals int) string {
	s := strconv.FormatFloat(f*100, 'f', decimals, 64)
	if !(f > 0 && f < 1) {
		return s + "%"
	}
	d := decimals
	for d < maxDecimals && wholeOrNone(s) {
		d++
		s = strconv.FormatFloat(f*100, 'f', d, 64)
	}
	if wholeOrNone(s) {
		step := math.Pow(10, -float64(d))
		v := step
		if f > 0.5 {
			v = 100 - step
		}
		s = strconv.FormatFloat(v, 'f', d, 64)
	}
	return s + "%"
}

// wholeOrNone reports whether a formatted percentage reads 0 or 100.
func wholeOrNone(s string) bool {
	v, err := strconv.ParseFloat(s, 64)
	return err == nil && (v == 0 || v == 100)
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// Clip cuts text to at most n characters (n >= 1), marking a cut with an
// ellipsis, so a long error or summary cannot swell a message.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// MinuteSpan writes the minutes [from, to) per-minute counts cover:
// "2026-12-06 03:22 to 03:26 UTC", the day repeated when it changes. An
// end cut at the time of reading keeps its seconds ("to 03:25:47 UTC"),
// so the minute it ends in is not read as left out.
func MinuteSpan(from, to time.Time) string {
	from, to = from.UTC(), to.UTC()
	layout := "15:04"
	if !to.Truncate(time.Minute).Equal(to) {
		layout = "15:04:05"
	}
	if from.YearDay() != to.YearDay() || from.Year() != to.Year() {
		layout = "2006-01-02 " + layout
	}
	return fmt.Sprintf("%s to %s UTC", from.Format("2006-01-02 15:04"), to.Format(layout))
}

// CountedMinutes says which whole minutes a figure from per-minute counts
// covers, as incidents, pagers and postmortems write it: "counted over the
// whole minutes 2026-12-06 03:22 to 03:26 UTC"; "" when either end is
// unknown.
func CountedMinutes(from, to time.Time) string {
	if from.IsZero() || to.IsZero() {
		return ""
	}
	return "counted over the whole minutes " + MinuteSpan(from, to)
}
