package probes

import (
	"testing"
	"time"
)

func TestFlapSuppression(t *testing.T) {
	tests := []struct {
		name       string
		fail, pass int
		runs       string // p = pass, f = fail
		failing    string // expected Failing after each run: 0/1
		changes    int
	}{
		{"defaults: three failures fail", 3, 2, "fff", "001", 1},
		{"a pass resets the count", 3, 2, "ffpff", "00000", 0},
		{"two passes recover", 3, 2, "fffpp", "00110", 2},
		{"one pass is not enough", 3, 2, "fffpfp", "001111", 1},
		{"threshold one", 1, 1, "fpfp", "1010", 4},
		{"passing stays passing", 3, 2, "ppp", "000", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f flap
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			changes := 0
			var lastChange time.Time
			for i, r := range tc.runs {
				at := t0.Add(time.Duration(i) * time.Minute)
				if f.observe(r == 'p', at, tc.fail, tc.pass) {
					changes++
					lastChange = at
				}
				if got := f.Failing; got != (tc.failing[i] == '1') {
					t.Fatalf("after run %d (%c): failing = %v", i, r, got)
				}
			}
			if changes != tc.changes {
				t.Errorf("changes = %d, want %d", changes, tc.changes)
			}
			if changes > 0 && !f.Since.Equal(lastChange) {
				t.Errorf("since = %v, want %v", f.Since, lastChange)
			}
			if changes == 0 && !f.Since.Equal(t0) {
				t.Errorf("since = %v, want first run %v", f.Since, t0)
			}
		})
	}
}

func TestMask(t *testing.T) {
	m := newMasker(map[string]string{"k": "sk_live_1", "short": "ab"})
	tests := []struct{ in, want string }{
		{"card 4242424242424242 ok", "card <card> ok"},
		{"spaced 4242 4242 4242 4242.", "spaced <card>."},
		{"dashed 4111-1111-1111-1111", "dashed <card>"},
		{"order 1234567890123 is not a card", "order 1234567890123 is not a card"},
		{"key=sk_live_1&x=ab", "key=<secret>&x=ab"},
		{"short 42", "short 42"},
	}
	for _, tc := range tests {
		if got := m.Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIDsSortByTime(t *testing.T) {
	var g idGen
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := ""
	for i := 0; i < 1000; i++ {
		id := g.next(t0.Add(time.Duration(i/10) * time.Millisecond))
		if len(id) != 26 || id <= prev {
			t.Fatalf("id %d = %q after %q", i, id, prev)
		}
		prev = id
	}
	later := (&idGen{}).next(t0.Add(time.Hour))
	if later <= prev {
		t.Errorf("an hour later %q sorts before %q", later, prev)
	}
}
