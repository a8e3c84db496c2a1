package model

import (
	"testing"
	"time"
)

func TestSpokenFigures(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{SpokenDuration(40 * time.Second), "40 s"}, {SpokenDuration(24*time.Minute + 20*time.Second), "24 min"},
		{SpokenDuration(216 * time.Minute), "3.6 h"}, {SpokenDuration(60 * time.Hour), "2.5 d"}, {SpokenDuration(2 * time.Hour), "2 h"},
		{SpokenPercent(0.18), "18%"}, {SpokenPercent(0.005), "0.5%"}, {SpokenPercent(0.012), "1.2%"},
		{SpokenPercent(0.0004), "0.04%"}, {SpokenPercent(1), "100%"}, {SpokenPercent(-0.12), "-12%"}, {SpokenPercent(0), "0%"},
		{SpokenPercent(0.996), "99.6%"}, {SpokenPercent(0.9996), "100%"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}
