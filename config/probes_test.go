package config

import (
	"strings"
	"testing"
)

func TestParseStatusRange(t *testing.T) {
	tests := []struct {
		in      string
		want    StatusRange
		wantErr string
	}{
		{"200", StatusRange{200, 200}, ""},
		{" 200-299 ", StatusRange{200, 299}, ""},
		{"4xx", StatusRange{400, 499}, ""},
		{"299-200", StatusRange{}, "first code is larger"},
		{"600", StatusRange{}, "100 to 599"},
		{"9xx", StatusRange{}, "status class"},
		{"abc", StatusRange{}, "invalid status"},
		{"", StatusRange{}, "invalid status"},
	}
	for _, tc := range tests {
		got, err := ParseStatusRange(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseStatusRange(%q) err = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseStatusRange(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// FuzzParseStatusRange checks that any accepted range is well-formed and
// prints back to something that parses to the same range.
func FuzzParseStatusRange(f *testing.F) {
	for _, s := range []string{"200", "200-299", "2xx", "-", "1-", "599-600", "0xx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseStatusRange(s)
		if err != nil {
			return
		}
		if r.Min < 100 || r.Max > 599 || r.Min > r.Max {
			t.Fatalf("%q gave %v", s, r)
		}
		back, err := ParseStatusRange(r.String())
		if err != nil || back != r {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, r, r.String(), back, err)
		}
	})
}
