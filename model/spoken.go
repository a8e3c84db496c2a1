package model

import (
	"fmt"
	"math"
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

// SpokenPercent is a fraction as a percentage with the precision a reader
// needs: 0.18 is "18%", 0.012 "1.2%", 0.0004 "0.04%", 1 "100%". A fraction
// just under 1 keeps a decimal (0.996 is "99.6%", not "100%": a budget
// with something spent is not whole).
func SpokenPercent(f float64) string {
	p := f * 100
	switch a := math.Abs(p); {
	case a >= 10 && a < 100 && math.Round(a) == 100:
		return trimZeros(fmt.Sprintf("%.1f", p)) + "%"
	case a >= 10 || p == math.Trunc(p):
		return fmt.Sprintf("%.0f%%", p)
	case a >= 1:
		return trimZeros(fmt.Sprintf("%.1f", p)) + "%"
	}
	return trimZeros(fmt.Sprintf("%.2f", p)) + "%"
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
