package oncall

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/config"
)

// Shift is one person's stretch on call: [Since, Until). A zero Until means
// no change is known within the search horizon.
type Shift struct {
	User  string    `json:"user"`
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
}

// Override puts User on call for Schedule in [Start, End). Later-starting
// overrides win where they overlap.
type Override struct {
	ID       string    `json:"id,omitempty"`
	Schedule string    `json:"schedule"`
	User     string    `json:"user"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	// CreatedBy is who added it through the API ("config" for the file).
	CreatedBy string `json:"created_by,omitempty"`
}

// Covers reports whether the override is in force at t.
func (o Override) Covers(t time.Time) bool { return !t.Before(o.Start) && t.Before(o.End) }

// Schedule is a compiled schedule: layers evaluated in its time zone.
type Schedule struct {
	Name     string
	Location *time.Location
	layers   []layer
}

type layer struct {
	name     string
	rot      rotation
	restrict *restriction
}

// rotation hands over every `days` days at hh:mm local time, starting on
// the civil date (y, m, d) with members[0].
type rotation struct {
	days    int
	hh, mm  int
	y, d    int
	m       time.Month
	members []string
}

// restriction is a daily window [from, to) in minutes after midnight; to <=
// from spans midnight. days[w] is true for weekdays the window starts on.
type restriction struct {
	from, to int
	days     [7]bool
}

// searchSteps bounds how many boundaries Current walks to find where the
// person on call changes.
const searchSteps = 2000

// dayNum is a civil date's day number (days since 1970-01-01).
func dayNum(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// handoff is the n-th hand-off: wall-clock arithmetic with time.Date, so a
// shift that spans a DST change is 167 or 169 hours long, never shifted.
func (r rotation) handoff(n int64, loc *time.Location) time.Time {
	return time.Date(r.y, r.m, r.d+int(n)*r.days, r.hh, r.mm, 0, 0, loc)
}

// index returns the shift number in force at t and its bounds.
func (r rotation) index(t time.Time, loc *time.Location) (n int64, since, until time.Time) {
	lt := t.In(loc)
	dn := dayNum(lt.Date()) - dayNum(r.y, r.m, r.d)
	n = floorDiv(dn, int64(r.days))
	since = r.handoff(n, loc)
	for t.Before(since) {
		n--
		since = r.handoff(n, loc)
	}
	until = r.handoff(n+1, loc)
	for !t.Before(until) {
		n++
		since, until = until, r.handoff(n+1, loc)
	}
	return n, since, until
}

func (r rotation) member(n int64) string {
	k := int64(len(r.members))
	return r.members[((n%k)+k)%k]
}

// windows returns the restriction's windows starting on local days around t.
func (rs *restriction) windows(t time.Time, loc *time.Location, before, after int) [][2]time.Time {
	lt := t.In(loc)
	y, m, d := lt.Date()
	var out [][2]time.Time
	for i := -before; i <= after; i++ {
		start := time.Date(y, m, d+i, rs.from/60, rs.from%60, 0, 0, loc)
		if !rs.days[start.In(loc).Weekday()] {
			continue
		}
		endDay := d + i
		if rs.to <= rs.from {
			endDay++
		}
		end := time.Date(y, m, endDay, rs.to/60, rs.to%60, 0, 0, loc)
		out = append(out, [2]time.Time{start, end})
	}
	return out
}

func (rs *restriction) active(t time.Time, loc *time.Location) bool {
	for _, w := range rs.windows(t, loc, 1, 0) {
		if !t.Before(w[0]) && t.Before(w[1]) {
			return true
		}
	}
	return false
}

// whoLayers is the person on call at t from the layers alone: the last
// layer that is active wins.
func (s *Schedule) whoLayers(t time.Time) string {
	for i := len(s.layers) - 1; i >= 0; i-- {
		l := s.layers[i]
		if l.restrict != nil && !l.restrict.active(t, s.Location) {
			continue
		}
		n, _, _ := l.rot.index(t, s.Location)
		return l.rot.member(n)
	}
	return ""
}

// Who returns the person on call at t, overrides first ("" for nobody).
func (s *Schedule) Who(t time.Time, overrides []Override) string {
	var best *Override
	for i := range overrides {
		o := &overrides[i]
		if o.Schedule != s.Name || !o.Covers(t) {
			continue
		}
		if best == nil || o.Start.After(best.Start) {
			best = o
		}
	}
	if best != nil {
		return best.User
	}
	return s.whoLayers(t)
}

// edges returns the latest boundary at or before t and the earliest one
// after t where the answer of Who might change.
func (s *Schedule) edges(t time.Time, overrides []Override) (prev, next time.Time) {
	consider := func(c time.Time) {
		if !c.After(t) {
			if prev.IsZero() || c.After(prev) {
				prev = c
			}
		} else if next.IsZero() || c.Before(next) {
			next = c
		}
	}
	for _, l := range s.layers {
		_, since, until := l.rot.index(t, s.Location)
		consider(since)
		consider(until)
		if l.restrict != nil {
			for _, w := range l.restrict.windows(t, s.Location, 8, 8) {
				consider(w[0])
				consider(w[1])
			}
		}
	}
	for _, o := range overrides {
		if o.Schedule == s.Name {
			consider(o.Start)
			consider(o.End)
		}
	}
	return prev, next
}

// Current returns the shift in force at t and the one after it.
func (s *Schedule) Current(t time.Time, overrides []Override) (cur, next Shift) {
	who := s.Who(t, overrides)
	cur = Shift{User: who}
	// Walk back to where the person started.
	at := t
	for i := 0; i < searchSteps; i++ {
		prev, _ := s.edges(at, overrides)
		if prev.IsZero() {
			break
		}
		cur.Since = prev
		before := prev.Add(-time.Nanosecond)
		if s.Who(before, overrides) != who {
			break
		}
		at = before
	}
	cur.Until = s.nextChange(t, who, overrides)
	if cur.Until.IsZero() {
		return cur, Shift{}
	}
	nw := s.Who(cur.Until, overrides)
	next = Shift{User: nw, Since: cur.Until, Until: s.nextChange(cur.Until, nw, overrides)}
	return cur, next
}

// nextChange is the first boundary after t where someone other than who is
// on call.
func (s *Schedule) nextChange(t time.Time, who string, overrides []Override) time.Time {
	at := t
	for i := 0; i < searchSteps; i++ {
		_, next := s.edges(at, overrides)
		if next.IsZero() {
			return time.Time{}
		}
		if s.Who(next, overrides) != who {
			return next
		}
		at = next
	}
	return time.Time{}
}

// Members lists everyone who takes turns in the schedule.
func (s *Schedule) Members() []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range s.layers {
		for _, m := range l.rot.members {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday, "mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tuesday": time.Tuesday, "wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thursday": time.Thursday, "fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
}

// parseClock reads "HH:MM" as minutes after midnight.
func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("invalid time of day %q (want HH:MM, such as 09:00)", s)
	}
	return hh*60 + mm, nil
}

// parseHandoff reads "09:00" or "Mon 09:00".
func parseHandoff(s string) (wd *time.Weekday, minutes int, err error) {
	fields := strings.Fields(s)
	switch len(fields) {
	case 1:
		minutes, err = parseClock(fields[0])
		return nil, minutes, err
	case 2:
		w, ok := weekdays[strings.ToLower(fields[0])]
		if !ok {
			return nil, 0, fmt.Errorf("unknown weekday %q in handoff %q (want Mon, Tue, ...)", fields[0], s)
		}
		minutes, err = parseClock(fields[1])
		return &w, minutes, err
	}
	return nil, 0, fmt.Errorf("invalid handoff %q (want \"09:00\" or \"Mon 09:00\")", s)
}

// compileRotation checks and compiles one rotation.
func compileRotation(r config.Rotation, people *Directory, path string, ps *config.Problems) (rotation, bool) {
	ok := true
	var out rotation
	day := 24 * time.Hour
	every := r.Every.Std()
	if every <= 0 || every%day != 0 {
		ps.Add(config.JoinPath(path, "every"), "must be a whole number of days, such as 1d or 1w (got %s)", r.Every)
		ok = false
	} else {
		out.days = int(every / day)
	}
	wd, minutes, err := parseHandoff(r.Handoff)
	if r.Handoff == "" {
		wd, minutes, err = nil, 9*60, nil
	}
	if err != nil {
		ps.Add(config.JoinPath(path, "handoff"), "%v", err)
		ok = false
	}
	out.hh, out.mm = minutes/60, minutes%60
	if wd != nil && out.days%7 != 0 {
		ps.Add(config.JoinPath(path, "handoff"), "a handoff on a weekday needs every to be whole weeks (got %s)", r.Every)
		ok = false
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // a Monday
	if r.Start != "" {
		st, err := time.Parse("2006-01-02", r.Start)
		if err != nil {
			ps.Add(config.JoinPath(path, "start"), "invalid date %q (want YYYY-MM-DD)", r.Start)
			ok = false
		} else {
			start = st
			if wd != nil && st.Weekday() != *wd {
				ps.Add(config.JoinPath(path, "start"), "%s is a %s, but handoff is on %s", r.Start, st.Weekday(), *wd)
				ok = false
			}
		}
	} else if wd != nil {
		for start.Weekday() != *wd {
			start = start.AddDate(0, 0, 1)
		}
	}
	out.y, out.m, out.d = start.Date()
	if len(r.Members) == 0 {
		ps.Add(config.JoinPath(path, "members"), "at least one member is required")
		ok = false
	}
	for i, m := range r.Members {
		p, found := people.Resolve(m)
		if !found {
			ps.Add(fmt.Sprintf("%s.members[%d]", path, i), "unknown person %q: not in people: and not an email address", m)
			ok = false
			continue
		}
		out.members = append(out.members, p.Name)
	}
	return out, ok
}

func compileRestrict(r *config.Restrict, path string, ps *config.Problems) (*restriction, bool) {
	if r == nil {
		return nil, true
	}
	ok := true
	out := &restriction{}
	var err error
	if out.from, err = parseClock(r.From); err != nil {
		ps.Add(config.JoinPath(path, "from"), "%v", err)
		ok = false
	}
	if out.to, err = parseClock(r.To); err != nil {
		ps.Add(config.JoinPath(path, "to"), "%v", err)
		ok = false
	}
	if len(r.Days) == 0 {
		for i := range out.days {
			out.days[i] = true
		}
	}
	for i, d := range r.Days {
		w, found := weekdays[strings.ToLower(d)]
		if !found {
			ps.Add(fmt.Sprintf("%s.days[%d]", path, i), "unknown weekday %q (want Mon, Tue, ...)", d)
			ok = false
			continue
		}
		out.days[w] = true
	}
	return out, ok
}

// compileSchedule checks and compiles one schedule.
func compileSchedule(sc config.Schedule, people *Directory, path string, ps *config.Problems) (*Schedule, bool) {
	ok := true
	s := &Schedule{Name: sc.Name, Location: time.UTC}
	if sc.Name == "" {
		ps.Add(config.JoinPath(path, "name"), "missing name")
		ok = false
	}
	if sc.Timezone != "" {
		loc, err := time.LoadLocation(sc.Timezone)
		if err != nil {
			ps.Add(config.JoinPath(path, "timezone"), "unknown time zone %q (want an IANA name such as Europe/Berlin)", sc.Timezone)
			ok = false
		} else {
			s.Location = loc
		}
	}
	switch {
	case sc.Rotation != nil && len(sc.Layers) > 0:
		ps.Add(path, "set either rotation or layers, not both")
		return nil, false
	case sc.Rotation != nil:
		r, rok := compileRotation(*sc.Rotation, people, config.JoinPath(path, "rotation"), ps)
		ok = ok && rok
		s.layers = append(s.layers, layer{name: "rotation", rot: r})
	case len(sc.Layers) > 0:
		for i, l := range sc.Layers {
			lp := fmt.Sprintf("%s.layers[%d]", path, i)
			r, rok := compileRotation(l.Rotation, people, config.JoinPath(lp, "rotation"), ps)
			rs, sok := compileRestrict(l.Restrict, config.JoinPath(lp, "restrict"), ps)
			ok = ok && rok && sok
			name := l.Name
			if name == "" {
				name = fmt.Sprintf("layer %d", i+1)
			}
			s.layers = append(s.layers, layer{name: name, rot: r, restrict: rs})
		}
	default:
		ps.Add(path, "a schedule needs a rotation or layers")
		ok = false
	}
	return s, ok
}

// sortOverrides orders overrides by start time.
func sortOverrides(os []Override) {
	sort.SliceStable(os, func(i, j int) bool { return os[i].Start.Before(os[j].Start) })
}
