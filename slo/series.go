package slo

import (
	"sync"
	"time"
)

// recentHours is how many hours (the current one included) keep their
// per-minute detail in memory; older hours keep only their sums, and the
// minutes of an hour at the edge of a long window are read from the store
// when needed (once per hour and window). It also bounds how late an event
// may arrive (maxLateness).
const recentHours = 8

// maxLateness is how far in the past an event may be counted; later than
// this its hour has left memory's per-minute detail.
const maxLateness = time.Hour

// maxFuture is how far ahead of the clock an event's time may be.
const maxFuture = 5 * time.Minute

// HourCounts are the per-minute counts of one SLO for one hour: the unit
// the store reads and writes. Minute i of the hour is Good[i], Total[i].
type HourCounts struct {
	SLO   string
	Hour  time.Time // UTC, on the hour
	Good  [60]int64
	Total [60]int64
}

// block is the minute detail of one hour in memory.
type block [60]Counts

// series holds one SLO's counts in memory: hourly sums over the window plus
// seven days (history) and per-minute detail for the recent hours, so a
// 30-day window sums 720 hours and at most 120 minutes instead of 43,200
// minutes. All methods need mu held by the caller, except where noted.
type series struct {
	mu sync.Mutex
	// hours is a ring of hourly sums; slot h%len holds hour h when
	// newest-len < h <= newest.
	hours  []Counts
	newest int64 // the newest hour index (Unix hours) the ring holds
	// recent holds the minutes of the hours in (now-recentHours, now];
	// a missing block there means no events. edges holds minute detail of
	// older hours read back from the store, at the edges of long windows.
	recent map[int64]*block
	edges  map[int64]*block
	// own holds this writer's minutes of the recent hours: what a flush
	// stores as this writer's absolute counts. others holds the other
	// writers' minutes of the recent hours as last read from the store;
	// recent (and the ring) hold their sum.
	own    map[int64]*block
	others map[int64]*block
	// dirty are the recent hours changed since the last flush.
	dirty map[int64]bool
	// missed collects older hours whose minute detail a Sum needed but did
	// not have; it then prorated the hour's sum. The engine loads them and
	// sums again.
	missed map[int64]bool
	// pfx caches prefix sums of the ring's finished hours (all but the
	// newest), so a 30-day sum is a subtraction: pfx[i] sums the hours
	// pfxFirst .. pfxFirst+i-1. It is rebuilt when the ring advances or a
	// finished hour changes (late events, loads).
	pfx      []Counts
	pfxFirst int64
	pfxValid bool
	// Time slices, for timeslices budgeting only (slicing is nil
	// otherwise): sl is a ring beside hours holding each hour's slices,
	// slStale the hours whose minutes changed since their slices were
	// classified, pfxSl prefix sums like pfx.
	slicing *slicing
	sl      []Slices
	slStale map[int64]bool
	pfxSl   []Slices
	// first is the first minute with events still held (noData when none).
	first int64
}

// slicing is how a series cuts time into slices: k minutes each (k divides
// 60, so slices never straddle hours) and the ratio a good slice meets.
type slicing struct {
	k      int64
	target float64
}

// noData marks a series' first minute when it has none.
const noData = int64(1) << 62

func newSeries(span time.Duration, sl *slicing) *series {
	n := int(span/time.Hour) + recentHours + 2
	s := &series{
		hours:   make([]Counts, n),
		newest:  -1 << 40,
		recent:  map[int64]*block{},
		edges:   map[int64]*block{},
		own:     map[int64]*block{},
		others:  map[int64]*block{},
		dirty:   map[int64]bool{},
		missed:  map[int64]bool{},
		slicing: sl,
		first:   noData,
	}
	if sl != nil {
		s.sl = make([]Slices, n)
		s.slStale = map[int64]bool{}
	}
	return s
}

// slicingOf is the slicing of a spec's series (nil for occurrences).
func slicingOf(sp *Spec) *slicing {
	if !sp.Budgeting.Sliced() {
		return nil
	}
	return &slicing{k: int64(sp.Slice / time.Minute), target: sp.SliceTarget}
}

func unixMinute(t time.Time) int64 { return floorDiv(t.Unix(), 60) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// advance moves the ring so it holds hour h, clearing the slots it reuses.
func (s *series) advance(h int64) {
	if h <= s.newest {
		return
	}
	n := int64(len(s.hours))
	if h-s.newest >= n {
		clear(s.hours)
		clear(s.sl)
	} else {
		for x := s.newest + 1; x <= h; x++ {
			s.hours[s.slot(x)] = Counts{}
			if s.sl != nil {
				s.sl[s.slot(x)] = Slices{}
			}
		}
	}
	s.newest = h
	s.pfxValid = false
	if s.first != noData && floorDiv(s.first, 60) <= h-n {
		s.rescanFirst()
	}
}

// rescanFirst finds the first hour with events in the ring after older
// hours left it (to the hour: their minutes are no longer known).
func (s *series) rescanFirst() {
	s.first = noData
	n := int64(len(s.hours))
	for x := s.newest - n + 1; x <= s.newest; x++ {
		if s.hours[s.slot(x)].Total > 0 {
			s.first = x * 60
			return
		}
	}
}

// seen notes that minute m holds events.
func (s *series) seen(m int64) {
	if m < s.first {
		s.first = m
	}
}

// FirstData implements CountSource; mu must be held.
func (s *series) FirstData() time.Time {
	if s.first == noData {
		return time.Time{}
	}
	return time.Unix(s.first*60, 0).UTC()
}

// hourSum is the sum of hour h, zero outside the ring.
func (s *series) hourSum(h int64) Counts {
	n := int64(len(s.hours))
	if h > s.newest || h <= s.newest-n {
		return Counts{}
	}
	return s.hours[s.slot(h)]
}

// slot is the ring index of hour h.
func (s *series) slot(h int64) int64 {
	n := int64(len(s.hours))
	return ((h % n) + n) % n
}

// add counts good of total events in the minute m. It reports false when
// the minute's hour is too old to hold in memory.
func (s *series) add(m int64, good, total int64) bool {
	h := floorDiv(m, 60)
	s.advance(h)
	if h <= s.newest-recentHours {
		return false
	}
	b := blockOf(s.recent, h)
	o := blockOf(s.own, h)
	if h < s.newest {
		s.pfxValid = false
	}
	i := m - h*60
	b[i].Good += good
	b[i].Total += total
	o[i].Good += good
	o[i].Total += total
	s.hours[s.slot(h)] = s.hourSum(h).Add(Counts{good, total})
	s.dirty[h] = true
	if total > 0 {
		s.seen(m)
	}
	if s.slicing != nil {
		s.slStale[h] = true
	}
	return true
}

// blockOf returns m's block for hour h, adding an empty one.
func blockOf(m map[int64]*block, h int64) *block {
	b := m[h]
	if b == nil {
		b = new(block)
		m[h] = b
	}
	return b
}

// setOthers replaces the other writers' minutes of the hours [h0, h1]
// with those read (hours missing from got had none), adjusting the sums
// by the difference. Hours outside the recent range are left alone.
func (s *series) setOthers(h0, h1 int64, got []HourCounts) {
	byHour := make(map[int64]*HourCounts, len(got))
	for i := range got {
		byHour[floorDiv(got[i].Hour.Unix(), 3600)] = &got[i]
	}
	for h := h0; h <= h1; h++ {
		hc := byHour[h]
		old := s.others[h]
		if hc == nil && old == nil {
			continue
		}
		if hc != nil && h > s.newest {
			s.advance(h)
		}
		if h <= s.newest-recentHours {
			continue
		}
		var nb block
		if hc != nil {
			for i := range 60 {
				nb[i] = Counts{hc.Good[i], hc.Total[i]}
			}
		}
		var ob block
		if old != nil {
			ob = *old
		}
		if nb == ob {
			continue
		}
		b := blockOf(s.recent, h)
		var d Counts
		for i := range 60 {
			di := Counts{nb[i].Good - ob[i].Good, nb[i].Total - ob[i].Total}
			b[i] = b[i].Add(di)
			d = d.Add(di)
			if nb[i].Total > 0 {
				s.seen(h*60 + int64(i))
			}
		}
		if s.slicing != nil {
			s.slStale[h] = true
		}
		s.hours[s.slot(h)] = s.hourSum(h).Add(d)
		if hc == nil {
			delete(s.others, h)
		} else {
			s.others[h] = &nb
		}
		if h < s.newest {
			s.pfxValid = false
		}
	}
}

// load merges counts read from the store at start-up: minute detail is
// kept for recent hours, and own marks this writer's own counts (the base
// of its flushes) as opposed to other writers'.
func (s *series) load(hc HourCounts, keepMinutes, own bool) {
	h := floorDiv(hc.Hour.Unix(), 3600)
	if h > s.newest {
		s.advance(h)
	}
	n := int64(len(s.hours))
	if h <= s.newest-n {
		return
	}
	var sum Counts
	var b, side *block
	if keepMinutes && h > s.newest-recentHours {
		b = blockOf(s.recent, h)
		if own {
			side = blockOf(s.own, h)
		} else {
			side = blockOf(s.others, h)
		}
	}
	var minutes block
	for i := range 60 {
		c := Counts{hc.Good[i], hc.Total[i]}
		minutes[i] = c
		sum = sum.Add(c)
		if b != nil {
			b[i] = b[i].Add(c)
			side[i] = side[i].Add(c)
		}
		if c.Total > 0 {
			s.seen(h*60 + int64(i))
		}
	}
	s.hours[s.slot(h)] = s.hourSum(h).Add(sum)
	s.pfxValid = false
	if s.slicing != nil {
		if b != nil {
			s.slStale[h] = true
		} else {
			// An older hour comes summed over every writer, whole: its
			// slices are final.
			s.sl[s.slot(h)] = s.sl[s.slot(h)].Add(s.slicing.slices(&minutes, 0, 60))
		}
	}
}

// slices classifies the slices of b that start in minutes [i, j).
func (sl *slicing) slices(b *block, i, j int64) Slices {
	var out Slices
	for st := (i + sl.k - 1) / sl.k * sl.k; st < j; st += sl.k {
		var c Counts
		for m := st; m < st+sl.k && m < 60; m++ {
			c = c.Add(b[m])
		}
		out = out.Add(classifySlice(c, sl.target))
	}
	return out
}

// hourSlices returns the slices of hour h, classifying them again from
// its minutes when they changed.
func (s *series) hourSlices(h int64) Slices {
	n := int64(len(s.hours))
	if h > s.newest || h <= s.newest-n {
		return Slices{}
	}
	if s.slStale[h] {
		if b := s.recent[h]; b != nil {
			s.sl[s.slot(h)] = s.slicing.slices(b, 0, 60)
		}
		delete(s.slStale, h)
	}
	return s.sl[s.slot(h)]
}

// blockSlices returns the slices of hour h that start in minutes [i, j).
func (s *series) blockSlices(h int64, i, j int64) Slices {
	if i == 0 && j == 60 {
		return s.hourSlices(h)
	}
	if s.hourSum(h).Total == 0 {
		return Slices{}
	}
	b := s.minutes(h)
	if b == nil {
		if h > s.newest-recentHours {
			return Slices{}
		}
		s.missed[h] = true
		hs := s.hourSlices(h)
		f := float64(j-i) / 60
		return Slices{int64(float64(hs.Good)*f + 0.5), int64(float64(hs.Bad)*f + 0.5), hs.ErrorSum * f}
	}
	return s.slicing.slices(b, i, j)
}

// Slices implements CountSource over the series; mu must be held.
func (s *series) Slices(from, to time.Time) Slices {
	if s.slicing == nil {
		return Slices{}
	}
	return splitMinutes(unixMinute(from), unixMinute(to), s.blockSlices, s.rangeSlices)
}

// rangeSlices sums the slices of the whole hours lo..hi (inclusive).
func (s *series) rangeSlices(lo, hi int64) Slices {
	n := int64(len(s.hours))
	lo = max(lo, s.newest-n+1)
	hi = min(hi, s.newest)
	if hi < lo {
		return Slices{}
	}
	var c Slices
	if hi == s.newest {
		c = s.hourSlices(hi)
		hi--
		if hi < lo {
			return c
		}
	}
	if !s.pfxValid {
		s.pfxFirst, s.pfx = s.prefixHours()
		s.pfxValid = true
	}
	a, b := s.pfxSl[lo-s.pfxFirst], s.pfxSl[hi-s.pfxFirst+1]
	return c.Add(b.Sub(a))
}

// minutes returns the minute detail of hour h, or nil when it is not in
// memory (then the caller prorates and notes h in missed).
func (s *series) minutes(h int64) *block {
	if b := s.recent[h]; b != nil {
		return b
	}
	return s.edges[h]
}

// blockSum sums minutes [i, j) of hour h.
func (s *series) blockSum(h int64, i, j int64) Counts {
	hs := s.hourSum(h)
	if (i == 0 && j == 60) || hs.Total == 0 {
		if i == 0 && j == 60 {
			return hs
		}
		return Counts{}
	}
	b := s.minutes(h)
	if b == nil {
		if h > s.newest-recentHours {
			return Counts{} // recent hour without any event in these minutes
		}
		s.missed[h] = true
		f := float64(j-i) / 60
		return Counts{int64(float64(hs.Good)*f + 0.5), int64(float64(hs.Total)*f + 0.5)}
	}
	var c Counts
	for k := i; k < j; k++ {
		c = c.Add(b[k])
	}
	return c
}

// sumMinutes sums the minutes [a, b).
func (s *series) sumMinutes(a, b int64) Counts {
	return splitMinutes(a, b, s.blockSum, s.rangeHours)
}

// summable is what splitMinutes adds up: counts or slices.
type summable[T any] interface{ Add(T) T }

// splitMinutes sums the minutes [a, b) as the part of its first hour, its
// whole hours (whole) and the part of its last hour (part(h, i, j) covers
// minutes [i, j) of hour h).
func splitMinutes[T summable[T]](a, b int64, part func(h, i, j int64) T, whole func(lo, hi int64) T) T {
	var zero T
	if a >= b {
		return zero
	}
	ha, hb := floorDiv(a, 60), floorDiv(b-1, 60)
	if ha == hb {
		return part(ha, a-ha*60, b-hb*60)
	}
	c := part(ha, a-ha*60, 60)
	c = c.Add(whole(ha+1, hb-1))
	return c.Add(part(hb, 0, b-hb*60))
}

// rangeHours sums the whole hours lo..hi (inclusive) held in the ring.
func (s *series) rangeHours(lo, hi int64) Counts {
	n := int64(len(s.hours))
	lo = max(lo, s.newest-n+1)
	hi = min(hi, s.newest)
	if hi < lo {
		return Counts{}
	}
	var c Counts
	if hi == s.newest {
		c = s.hours[s.slot(hi)]
		hi--
		if hi < lo {
			return c
		}
	}
	if !s.pfxValid {
		s.pfxFirst, s.pfx = s.prefixHours()
		s.pfxValid = true
	}
	a, b := s.pfx[lo-s.pfxFirst], s.pfx[hi-s.pfxFirst+1]
	return c.Add(Counts{b.Good - a.Good, b.Total - a.Total})
}

// Sum implements CountSource over the series; mu must be held.
func (s *series) Sum(from, to time.Time) Counts {
	return s.sumMinutes(unixMinute(from), unixMinute(to))
}

// takeMissed returns and clears the hours a Sum had to prorate.
func (s *series) takeMissed() []int64 {
	if len(s.missed) == 0 {
		return nil
	}
	out := make([]int64, 0, len(s.missed))
	for h := range s.missed {
		out = append(out, h)
	}
	clear(s.missed)
	return out
}

// trim drops minute detail that is no longer recent (once flushed) and
// edge blocks that no window needs any more.
func (s *series) trim(nowHour int64) {
	for h := range s.recent {
		if h <= nowHour-recentHours && !s.dirty[h] {
			if s.slicing != nil {
				s.hourSlices(h) // classify before the minutes go
			}
			delete(s.recent, h)
			delete(s.own, h)
			delete(s.others, h)
		}
	}
	if len(s.edges) > 16 {
		clear(s.edges)
	}
}

// takeDirty returns copies of the changed hours and marks them clean.
func (s *series) takeDirty(name string) []HourCounts {
	if len(s.dirty) == 0 {
		return nil
	}
	out := make([]HourCounts, 0, len(s.dirty))
	for h := range s.dirty {
		hc := HourCounts{SLO: name, Hour: time.Unix(h*3600, 0).UTC()}
		if b := s.own[h]; b != nil {
			for i, c := range b {
				hc.Good[i], hc.Total[i] = c.Good, c.Total
			}
		}
		out = append(out, hc)
	}
	clear(s.dirty)
	return out
}

// markDirty marks hours dirty again after a failed flush.
func (s *series) markDirty(hcs []HourCounts) {
	for _, hc := range hcs {
		s.dirty[floorDiv(hc.Hour.Unix(), 3600)] = true
	}
}

// prefixHours returns cumulative sums over the ring's hours, oldest first:
// p[i] is the sum of the hours first..first+i-1, for aligned history sums.
// The slice is reused between calls.
func (s *series) prefixHours() (first int64, p []Counts) {
	n := int64(len(s.hours))
	first = s.newest - n + 1
	p = s.pfx
	if len(p) != int(n+1) {
		p = make([]Counts, n+1)
	}
	for i := int64(0); i < n; i++ {
		p[i+1] = p[i].Add(s.hours[s.slot(first+i)])
	}
	if s.slicing != nil {
		if len(s.pfxSl) != int(n+1) {
			s.pfxSl = make([]Slices, n+1)
		}
		for i := int64(0); i < n; i++ {
			s.pfxSl[i+1] = s.pfxSl[i].Add(s.hourSlices(first + i))
		}
	}
	return first, p
}
