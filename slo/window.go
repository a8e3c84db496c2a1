package slo

import (
	"fmt"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Limits of rolling windows: shorter than an hour leaves burn tiers
// meaningless, longer than a year makes no promise anyone tracks.
const (
	minWindow = time.Hour
	maxWindow = 366 * 24 * time.Hour
)

// windowKind says whether a window rolls or follows the calendar.
type windowKind uint8

const (
	rolling windowKind = iota
	calendarMonth
	calendarWeek
)

// Window is the period an SLO promises its objective over: a rolling
// duration ending now, or the current calendar month or week (weeks start
// on Monday) in a time zone.
type Window struct {
	kind   windowKind
	length time.Duration
	loc    *time.Location
}

// ParseWindow reads "30d", "28d", "4w" (rolling) or "month", "week"
// (calendar, in the IANA zone tz; "" is UTC).
func ParseWindow(s, tz string) (Window, error) {
	loc := time.UTC
	if tz != "" && tz != "UTC" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return Window{}, fmt.Errorf("unknown time zone %q (want an IANA name such as Europe/Berlin)", tz)
		}
		loc = l
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return Window{}, fmt.Errorf("missing window: write a rolling duration such as 30d, or month or week")
	case "month", "calendar_month":
		return Window{kind: calendarMonth, loc: loc}, nil
	case "week", "calendar_week":
		return Window{kind: calendarWeek, loc: loc}, nil
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		return Window{}, fmt.Errorf("%v; write a rolling duration such as 30d, or month or week", err)
	}
	switch {
	case d.Std() < minWindow:
		return Window{}, fmt.Errorf("window %s is shorter than 1h", s)
	case d.Std() > maxWindow:
		return Window{}, fmt.Errorf("window %s is longer than 366d", s)
	case d.Std()%time.Minute != 0:
		return Window{}, fmt.Errorf("window %s is not a whole number of minutes", s)
	}
	return Window{kind: rolling, length: d.Std(), loc: time.UTC}, nil
}

// Rolling returns a rolling window of length d (tests and importers).
func Rolling(d time.Duration) Window { return Window{kind: rolling, length: d, loc: time.UTC} }

// Calendar reports whether the window follows the calendar.
func (w Window) Calendar() bool { return w.kind != rolling }

// Location is the time zone of a calendar window (UTC for rolling ones).
func (w Window) Location() *time.Location {
	if w.loc == nil {
		return time.UTC
	}
	return w.loc
}

// String prints the window as it is configured: "30d", "month", "week".
func (w Window) String() string {
	switch w.kind {
	case calendarMonth:
		return "month"
	case calendarWeek:
		return "week"
	}
	return model.Duration(w.length).String()
}

// Bounds returns the start of the window that holds now and the length of
// its period: for a rolling window now-length and length; for a calendar
// window the start of the current month or week and that month's or
// week's full length (so a burn rate of 1 spends the budget exactly at the
// period's end, whatever the month).
func (w Window) Bounds(now time.Time) (start time.Time, period time.Duration) {
	switch w.kind {
	case calendarMonth:
		t := now.In(w.Location())
		start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, w.Location())
		end := start.AddDate(0, 1, 0)
		return start, end.Sub(start)
	case calendarWeek:
		t := now.In(w.Location())
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		start = time.Date(t.Year(), t.Month(), t.Day()-back, 0, 0, 0, 0, w.Location())
		end := start.AddDate(0, 0, 7)
		return start, end.Sub(start)
	}
	return now.Add(-w.length), w.length
}

// Nominal is the period used where no calendar exists (Prometheus rules,
// memory sizing): the rolling length, 30d for month, 7d for week.
func (w Window) Nominal() time.Duration {
	switch w.kind {
	case calendarMonth:
		return 30 * 24 * time.Hour
	case calendarWeek:
		return 7 * 24 * time.Hour
	}
	return w.length
}

// Longest is the longest period the window can span (31 days for a month),
// which bounds how far back counts are kept.
func (w Window) Longest() time.Duration {
	switch w.kind {
	case calendarMonth:
		return 31*24*time.Hour + 2*time.Hour // DST changes lengthen a month by an hour
	case calendarWeek:
		return 7*24*time.Hour + 2*time.Hour
	}
	return w.length
}
