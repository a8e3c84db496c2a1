package oncall

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// maxShifts bounds the shifts Shifts walks (a schedule handing over every
// hour for eight weeks has 1344).
const maxShifts = 2000

// Shifts lists the schedule's shifts that overlap [from, to), in order,
// overrides applied; stretches with nobody on call are left out. A shift
// with no known end ends at to.
func (s *Schedule) Shifts(from, to time.Time, overrides []Override) []Shift {
	cur, _ := s.Current(from, overrides)
	var out []Shift
	for range maxShifts {
		if cur.Until.IsZero() {
			cur.Until = to
		}
		if cur.User != "" && cur.Since.Before(to) {
			out = append(out, cur)
		}
		if !cur.Until.Before(to) {
			break
		}
		at := cur.Until
		who := s.Who(at, overrides)
		cur = Shift{User: who, Since: at, Until: s.nextChange(at, who, overrides)}
	}
	return out
}

// Calendar is an iCalendar (RFC 5545) feed of on-call shifts.
type Calendar struct {
	// Name is the calendar's name, such as "On call: primary (alice)".
	Name string
	// Schedule gives the time zone and the name events carry.
	Schedule *Schedule
	// Shifts are the events, one per shift.
	Shifts []Shift
	// Stamp is when the feed was made (DTSTAMP).
	Stamp time.Time
	// URL links to the on-call page.
	URL string
}

// ICS renders the calendar: times in the schedule's own time zone (TZID,
// with a VTIMEZONE holding every offset change the shifts span), stable
// UIDs so calendar apps update events in place, CRLF line ends and lines
// folded at 75 octets.
func (c Calendar) ICS() []byte {
	var b bytes.Buffer
	line := func(s string) { foldLine(&b, s) }
	loc := c.Schedule.Location
	tzid := loc.String()
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Sentinel//On-call calendar//EN")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	line("X-WR-CALNAME:" + escapeText(c.Name))
	line("X-WR-TIMEZONE:" + tzid)
	line("REFRESH-INTERVAL;VALUE=DURATION:PT1H")
	from, to := c.Stamp, c.Stamp
	for _, s := range c.Shifts {
		if s.Since.Before(from) {
			from = s.Since
		}
		if s.Until.After(to) {
			to = s.Until
		}
	}
	writeTimezone(line, loc, from, to)
	for _, s := range c.Shifts {
		line("BEGIN:VEVENT")
		line(fmt.Sprintf("UID:%s", escapeText(fmt.Sprintf("%s-%s-%s@sentinel", c.Schedule.Name, s.User, s.Since.UTC().Format("20060102T150405Z")))))
		line("DTSTAMP:" + c.Stamp.UTC().Format("20060102T150405Z"))
		line(fmt.Sprintf("DTSTART;TZID=%s:%s", tzid, s.Since.In(loc).Format("20060102T150405")))
		line(fmt.Sprintf("DTEND;TZID=%s:%s", tzid, s.Until.In(loc).Format("20060102T150405")))
		line("SUMMARY:" + escapeText(fmt.Sprintf("On call: %s (%s)", c.Schedule.Name, s.User)))
		desc := fmt.Sprintf("%s is on call for schedule %s.", s.User, c.Schedule.Name)
		if c.URL != "" {
			desc += "\n" + c.URL
			line("URL:" + c.URL)
		}
		line("DESCRIPTION:" + escapeText(desc))
		line("TRANSP:TRANSPARENT")
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return b.Bytes()
}

// writeTimezone writes a VTIMEZONE for loc that covers [from, to]: the
// observance in force at from and one per offset change until to, each
// dated in the local time before it (as RFC 5545 wants).
func writeTimezone(line func(string), loc *time.Location, from, to time.Time) {
	line("BEGIN:VTIMEZONE")
	line("TZID:" + loc.String())
	t := from.In(loc)
	_, prev := t.Zone()
	observance := func(at time.Time, offFrom, offTo int, name string, dst bool) {
		kind := "STANDARD"
		if dst {
			kind = "DAYLIGHT"
		}
		line("BEGIN:" + kind)
		line("DTSTART:" + at.UTC().Add(time.Duration(offFrom)*time.Second).Format("20060102T150405"))
		line("TZOFFSETFROM:" + offset(offFrom))
		line("TZOFFSETTO:" + offset(offTo))
		if name != "" {
			line("TZNAME:" + escapeText(name))
		}
		line("END:" + kind)
	}
	name, _ := t.Zone()
	observance(t.Add(-time.Duration(t.Second())*time.Second-time.Duration(t.Nanosecond())), prev, prev, name, t.IsDST())
	for range 100 {
		_, end := t.ZoneBounds()
		if end.IsZero() || end.After(to) {
			break
		}
		t = end.In(loc)
		name, off := t.Zone()
		observance(end, prev, off, name, t.IsDST())
		prev = off
	}
	line("END:VTIMEZONE")
}

// offset formats seconds east of UTC as +hhmm.
func offset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	return fmt.Sprintf("%c%02d%02d", sign, sec/3600, sec%3600/60)
}

// escapeText escapes an iCalendar TEXT value.
func escapeText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// foldLine writes s with CRLF, folded so no line passes 75 octets and no
// UTF-8 character is split.
func foldLine(b *bytes.Buffer, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
}
