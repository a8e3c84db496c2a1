package rum

import (
	"cmp"
	"slices"
	"time"
)

// HourCount is an error group's weighted count in one UTC hour.
type HourCount struct {
	Hour  time.Time `json:"hour"`
	Count float64   `json:"count"`
}

// GroupHours is how many hours of counts an error group keeps: 14 days,
// the longest period Sentry's issue list counts by default. It bounds a
// group's record to GroupHours entries.
const GroupHours = 14 * 24

// legacyGroup reports whether g was kept from before groups counted per
// hour: it has a count but no hourly record.
func legacyGroup(g *ErrorGroup) bool { return g.HourlySince.IsZero() }

// addHours adds delta's hourly counts into g and drops the hours that fall
// out of the last GroupHours (counting back from g's newest hour). A group
// kept from before hourly counts starts counting with delta, from the hour
// after delta's first (that first hour's earlier occurrences are in Count
// only).
func addHours(g *ErrorGroup, delta ErrorGroup) {
	if len(delta.Hours) == 0 {
		return
	}
	switch {
	case legacyGroup(g):
		g.HourlySince = delta.Hours[0].Hour.Add(time.Hour)
	case !delta.HourlySince.IsZero() && delta.HourlySince.Before(g.HourlySince):
		g.HourlySince = delta.HourlySince
	}
	for _, h := range delta.Hours {
		g.Hours = addHour(g.Hours, h.Hour, h.Count)
	}
	cut := g.Hours[len(g.Hours)-1].Hour.Add(-(GroupHours - 1) * time.Hour)
	if i := slices.IndexFunc(g.Hours, func(h HourCount) bool { return !h.Hour.Before(cut) }); i > 0 {
		g.Hours = slices.Delete(g.Hours, 0, i)
	}
	if g.HourlySince.Before(cut) { // counts before cut are no longer kept
		g.HourlySince = cut
	}
}

// addHour adds n to the count of the hour holding t, keeping hours sorted
// (new counts are almost always for the newest hour).
func addHour(hours []HourCount, t time.Time, n float64) []HourCount {
	hour := t.UTC().Truncate(time.Hour)
	i, found := slices.BinarySearchFunc(hours, hour, func(h HourCount, t time.Time) int { return h.Hour.Compare(t) })
	if found {
		hours[i].Count += n
		return hours
	}
	return slices.Insert(hours, i, HourCount{Hour: hour, Count: n})
}

// CountIn is g's count over the whole UTC hours that [from, to) touches,
// and the hours it counted: from the hour holding from (or HourlySince,
// when the group was seen before it and its earlier hours are not
// known) to the end of the hour holding the instant before to. ok is
// false for a group kept from before groups counted per hour and not seen
// since, whose count in a window is unknown.
func (g ErrorGroup) CountIn(from, to time.Time) (n float64, countedFrom, countedTo time.Time, ok bool) {
	if legacyGroup(&g) {
		return 0, time.Time{}, time.Time{}, false
	}
	countedFrom = from.UTC().Truncate(time.Hour)
	if countedFrom.Before(g.HourlySince) && g.FirstSeen.Before(g.HourlySince) {
		countedFrom = g.HourlySince
	}
	countedTo = to.UTC().Add(-time.Nanosecond).Truncate(time.Hour).Add(time.Hour)
	for _, h := range g.Hours {
		if !h.Hour.Before(countedFrom) && h.Hour.Before(countedTo) {
			n += h.Count
		}
	}
	return n, countedFrom, countedTo, true
}

// endOfTime is after every hour a group counts.
var endOfTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// SortErrorGroups orders groups the way the error lists show them: the
// most occurrences in the hours from the one holding since on first
// (groups without hourly counts after the others), then the most since
// first seen, then the most recently seen.
func SortErrorGroups(gs []ErrorGroup, since time.Time) {
	type ranked struct {
		n  float64
		ok bool
	}
	rank := make(map[string]ranked, len(gs))
	for _, g := range gs {
		n, _, _, ok := g.CountIn(since, endOfTime)
		rank[g.Fingerprint] = ranked{n, ok}
	}
	slices.SortFunc(gs, func(a, b ErrorGroup) int {
		ra, rb := rank[a.Fingerprint], rank[b.Fingerprint]
		if ra.ok != rb.ok {
			if ra.ok {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(rb.n, ra.n); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.Fingerprint, b.Fingerprint)
	})
}
