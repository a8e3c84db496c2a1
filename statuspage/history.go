package statuspage

import (
	"maps"
	"time"
)

// partialWeight is how much a minute of partial outage counts as downtime,
// as Statuspage's uptime showcase weighs it (a major outage counts whole,
// degraded performance not at all).
const partialWeight = 0.3

// Day is one component's history for one UTC day.
type Day struct {
	Date time.Time // 00:00 UTC
	// Minutes counts the minutes recorded in each status.
	Minutes map[Status]int
	// raw is the day's minutes, for finding when a status began.
	raw []byte
}

// Observed is how many minutes of the day were recorded.
func (d Day) Observed() int {
	n := 0
	for _, m := range d.Minutes {
		n += m
	}
	return n
}

// WithCurrent is the day with the status that holds now counted as one
// more minute when none of the day's recorded minutes has it yet: today's
// bar then shows an outage that began after the last recorded minute (at
// most a minute ago, or since a start) instead of no data.
func (d Day) WithCurrent(st Status) Day {
	if d.Minutes[st] > 0 {
		return d
	}
	m := maps.Clone(d.Minutes)
	if m == nil {
		m = map[Status]int{}
	}
	m[st]++
	d.Minutes = m
	return d
}

// HasData reports whether anything was recorded that day.
func (d Day) HasData() bool { return d.Observed() > 0 }

// counted are the minutes uptime is computed over: those recorded, less
// planned maintenance (which neither helps nor hurts).
func (d Day) counted() int { return d.Observed() - d.Minutes[UnderMaintenance] }

// downtime is the weighted minutes of outage.
func (d Day) downtime() float64 {
	return float64(d.Minutes[MajorOutage]) + partialWeight*float64(d.Minutes[PartialOutage])
}

// Uptime is the share of the day's counted minutes that were up: a major
// outage minute counts as down, a partial outage minute as 0.3 down;
// false when no minute outside maintenance was recorded.
func (d Day) Uptime() (float64, bool) {
	n := d.counted()
	if n == 0 {
		return 0, false
	}
	return (float64(n) - d.downtime()) / float64(n), true
}

// Worst is the worst status recorded that day (operational when none).
func (d Day) Worst() Status {
	w := Operational
	for st, n := range d.Minutes {
		if n > 0 && st.Worse(w) {
			w = st
		}
	}
	return w
}

// Uptime is the share of up time over days, weighted by the minutes each
// recorded; false when none recorded any outside maintenance.
func Uptime(days []Day) (float64, bool) {
	var n, down float64
	for _, d := range days {
		n += float64(d.counted())
		down += d.downtime()
	}
	if n == 0 {
		return 0, false
	}
	return (n - down) / n, true
}

// FirstRecorded is the first recorded minute of the day; false when none.
func (d Day) FirstRecorded() (time.Time, bool) {
	for m, b := range d.raw {
		if _, ok := statusOfCode(b); ok {
			return d.Date.Add(time.Duration(m) * time.Minute), true
		}
	}
	return time.Time{}, false
}

// Since finds when the run of minutes in status st that ends at the last
// recorded minute began, looking back over days (oldest first); false when
// the last recorded minute is not st. Unrecorded minutes inside the run
// (Sentinel was down) do not break it.
func Since(days []Day, st Status) (time.Time, bool) {
	var since time.Time
	found := false
	for i := len(days) - 1; i >= 0; i-- {
		d := days[i]
		for m := len(d.raw) - 1; m >= 0; m-- {
			got, ok := statusOfCode(d.raw[m])
			if !ok {
				continue
			}
			if got != st {
				return since, found
			}
			since, found = d.Date.Add(time.Duration(m)*time.Minute), true
		}
	}
	return since, found
}

// dayOf is the UTC midnight of t's day.
func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// newDay summarises one stored day.
func newDay(date time.Time, raw []byte) Day {
	d := Day{Date: date, Minutes: map[Status]int{}, raw: raw}
	for _, b := range raw {
		if st, ok := statusOfCode(b); ok {
			d.Minutes[st]++
		}
	}
	return d
}
