package model

import (
	"testing"
	"time"
)

func TestParseAndPrintDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"800ms", 800 * time.Millisecond, "800ms"},
		{"30s", 30 * time.Second, "30s"},
		{"15m", 15 * time.Minute, "15m"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"2h", 2 * time.Hour, "2h"},
		{"30d", 30 * 24 * time.Hour, "30d"},
		{"1w", 7 * 24 * time.Hour, "7d"},
		{"1.5s", 1500 * time.Millisecond, "1.5s"},
		{"4.1s", 4100 * time.Millisecond, "4.1s"},
		{"0", 0, "0s"},
	}
	for _, c := range cases {
		d, err := ParseDuration(c.in)
		if err != nil || d.Std() != c.want {
			t.Errorf("ParseDuration(%q) = %v, %v", c.in, d.Std(), err)
			continue
		}
		if d.String() != c.out {
			t.Errorf("%q prints as %q, want %q", c.in, d.String(), c.out)
		}
	}
	for _, bad := range []string{"", "5", "5 parsecs", "-1s", "s", "1x", "99999999999999999999d", "300y", "200y100y"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30d", "1h30m", "800ms", "1.5s", "4.1s", "0.000000001s", "0", "70y77y", "106751d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("%q parsed negative", s)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, d.Std(), d.String(), back.Std(), err)
		}
	})
}
