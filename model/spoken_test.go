package model

import (
	"testing"
	"time"
)

func TestSpokenFigures(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{SpokenDuration(40 * time.Second), "40 s"}, {SpokenDuration(24*time.Minute + 20*time.Second), "24 min"},
		{SpokenDuration(216 * time.Minute), "3.6 h"}, {SpokenDuration(60 * time.Hour), "2.5 d"}, {SpokenDuration(2 * time.Hour), "2 h"},
		{Elapsed(59600 * time.Millisecond), "1m"}, {Elapsed(85 * time.Second), "1m25s"}, {Elapsed(59 * time.Second), "59s"},
		{Elapsed(0), "0s"}, {Elapsed(12 * time.Minute), "12m"}, {Elapsed(59*time.Minute + 59*time.Second + 600*time.Millisecond), "1h"},
		{Elapsed(2*time.Hour + 5*time.Minute + 20*time.Second), "2h5m"}, {Elapsed(23*time.Hour + 59*time.Minute + 40*time.Second), "1d"},
		{Elapsed(76*time.Hour + 20*time.Minute), "3d4h"}, {Elapsed(-90 * time.Second), "1m30s"},
		{SpokenPercent(0.18), "18%"}, {SpokenPercent(0.005), "0.5%"}, {SpokenPercent(0.012), "1.2%"},
		{SpokenPercent(0.0004), "0.04%"}, {SpokenPercent(1), "100%"}, {SpokenPercent(-0.12), "-12%"}, {SpokenPercent(0), "0%"},
		{SpokenPercent(0.996), "99.6%"}, {SpokenPercent(0.9996), "99.96%"}, {SpokenPercent(0.9999999), "99.999%"},
		{SpokenPercent(0.0000001), "0.001%"}, {SpokenPercent(0.00004), "0.004%"},
		// As the pages show it: one decimal, not "99%" beside a page's 99.5%.
		{SpokenPercent(0.9946), "99.5%"}, {SpokenPercent(0.987), "98.7%"}, {SpokenPercent(0.1362), "13.6%"},
		// A fraction strictly between 0 and 1 never reads as 0 or 100.
		{FixedPercent(0.9996, 1), "99.96%"}, {FixedPercent(0.99942, 1), "99.9%"}, {FixedPercent(0.00004, 1), "0.004%"},
		{FixedPercent(0.0000001, 1), "0.001%"}, {FixedPercent(0.99999999, 1), "99.999%"},
		{FixedPercent(1, 1), "100.0%"}, {FixedPercent(0, 1), "0.0%"}, {FixedPercent(0.5, 0), "50%"},
		{FixedPercent(1.2, 0), "120%"}, {FixedPercent(-0.3, 1), "-30.0%"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}

// CountedMinutes names the whole minutes per-minute counts cover: the day
// once, again when it changes; seconds when the end is the time of
// reading; nothing when an end is unknown.
func TestCountedMinutes(t *testing.T) {
	d := func(day, h, m, s int) time.Time { return time.Date(2026, 12, day, h, m, s, 0, time.UTC) }
	berlin := time.FixedZone("CET", 3600)
	for _, c := range []struct {
		from, to time.Time
		want     string
	}{
		{d(6, 3, 22, 0), d(6, 3, 26, 0), "counted over the whole minutes 2026-12-06 03:22 to 03:26 UTC"},
		{d(6, 3, 22, 0), d(6, 3, 25, 47), "counted over the whole minutes 2026-12-06 03:22 to 03:25:47 UTC"},
		{d(6, 23, 58, 0), d(7, 0, 2, 0), "counted over the whole minutes 2026-12-06 23:58 to 2026-12-07 00:02 UTC"},
		{d(6, 3, 22, 0).In(berlin), d(6, 3, 26, 0).In(berlin), "counted over the whole minutes 2026-12-06 03:22 to 03:26 UTC"},
		{time.Time{}, d(6, 3, 26, 0), ""},
		{d(6, 3, 22, 0), time.Time{}, ""},
	} {
		if got := CountedMinutes(c.from, c.to); got != c.want {
			t.Errorf("CountedMinutes(%s, %s) = %q, want %q", c.from, c.to, got, c.want)
		}
	}
}
