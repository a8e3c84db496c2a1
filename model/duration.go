package model

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that also reads the day, week and year units
// operators write in SLO windows ("30d", "1w", "1y"), and prints the same way.
type Duration time.Duration

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Seconds returns the duration in seconds, the unit of every API field.
func (d Duration) Seconds() float64 { return time.Duration(d).Seconds() }

var durationUnits = []struct {
	suffix string
	unit   time.Duration
}{
	{"ms", time.Millisecond},
	{"us", time.Microsecond},
	{"µs", time.Microsecond},
	{"ns", time.Nanosecond},
	{"y", 365 * 24 * time.Hour},
	{"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
}

// ParseDuration reads durations such as "800ms", "1h30m", "30d" or "1.5s".
// A bare "0" is zero; negative durations are refused because no setting
// in Sentinel means anything by them.
func ParseDuration(s string) (Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if s == "0" {
		return 0, nil
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", orig)
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9')) {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid duration %q: expected a number such as 30s, 5m, 1h or 30d", orig)
		}
		num, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: bad number %q", orig, s[:i])
		}
		s = s[i:]
		var unit time.Duration
		for _, u := range durationUnits {
			if strings.HasPrefix(s, u.suffix) {
				unit = u.unit
				s = s[len(u.suffix):]
				break
			}
		}
		if unit == 0 {
			return 0, fmt.Errorf("invalid duration %q: missing or unknown unit (use ms, s, m, h, d, w or y)", orig)
		}
		part := math.Round(num * float64(unit)) // 4.1s is 4100000000ns, not one short
		// float64(MaxInt64) rounds up to 2^63, so >= also refuses it.
		if part >= float64(math.MaxInt64) || time.Duration(part) > math.MaxInt64-total {
			return 0, fmt.Errorf("invalid duration %q: too large", orig)
		}
		total += time.Duration(part)
	}
	return Duration(total), nil
}

// String prints whole days as days ("30d", "14d") and anything else as
// time.Duration does without zero tails ("1h30m", "800ms").
func (d Duration) String() string {
	t := time.Duration(d)
	if t == 0 {
		return "0s"
	}
	day := 24 * time.Hour
	if t%day == 0 {
		return strconv.FormatInt(int64(t/day), 10) + "d"
	}
	out := t.String() // "1h30m0s": drop the zero tails people don't write
	if strings.HasSuffix(out, "m0s") {
		out = out[:len(out)-2]
	}
	if strings.HasSuffix(out, "h0m") {
		out = out[:len(out)-2]
	}
	return out
}

// UnmarshalYAML reads a duration from a YAML scalar.
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return fmt.Errorf("a duration must be a string such as 30s, 5m or 30d")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML prints the duration as it would be written in the config.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON prints the duration in seconds, the API's unit.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.Seconds()) }

// UnmarshalJSON reads seconds (a number) or a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var secs float64
	if err := json.Unmarshal(b, &secs); err == nil {
		if secs < 0 {
			return fmt.Errorf("duration must not be negative")
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be seconds or a string such as \"5m\"")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
