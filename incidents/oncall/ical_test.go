package oncall

import (
	"bytes"
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"
)

// TestCalendarParsesWithARealParser: eight weeks of a Berlin weekly
// rotation across the spring clock change, with an override, rendered as
// iCalendar and read back by go-ical: every event starts and ends at the
// shift's instants, hand-offs stay at 09:00 Berlin time, the VTIMEZONE
// carries the change, and no line passes 75 octets.
func TestCalendarParsesWithARealParser(t *testing.T) {
	c := mustCompile(t, berlinWeekly("2026-03-23"))
	s, _ := c.Schedule("primary")
	from := utc("2026-03-20T12:00:00Z")
	ovs := []Override{{Schedule: "primary", User: "carol", Start: utc("2026-04-01T10:00:00Z"), End: utc("2026-04-01T12:00:00Z")}}
	shifts := s.Shifts(from, from.Add(8*7*24*time.Hour), ovs)
	want := []struct{ who, since, until string }{
		{"bob", "2026-03-16T08:00:00Z", "2026-03-23T08:00:00Z"},
		{"alice", "2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z"},
		{"bob", "2026-03-30T07:00:00Z", "2026-04-01T10:00:00Z"},
		{"carol", "2026-04-01T10:00:00Z", "2026-04-01T12:00:00Z"},
		{"bob", "2026-04-01T12:00:00Z", "2026-04-06T07:00:00Z"},
	}
	if len(shifts) != 11 {
		t.Fatalf("%d shifts, want 11: %+v", len(shifts), shifts)
	}
	for i, w := range want {
		if shifts[i].User != w.who || !shifts[i].Since.Equal(utc(w.since)) || !shifts[i].Until.Equal(utc(w.until)) {
			t.Errorf("shift %d = %+v, want %+v", i, shifts[i], w)
		}
	}
	cal := Calendar{Name: "On call: primary, a schedule with a long name that must be folded over several lines (bob)", Schedule: s,
		Shifts: shifts, Stamp: from, URL: "https://sentinel.example.com/oncall"}
	raw := cal.ICS()
	for _, l := range strings.Split(strings.TrimSuffix(string(raw), "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Errorf("line of %d octets: %q", len(l), l)
		}
	}
	parsed, err := ical.NewDecoder(bytes.NewReader(raw)).Decode()
	if err != nil {
		t.Fatalf("go-ical: %v\n%s", err, raw)
	}
	if name, _ := parsed.Props.Text("X-WR-CALNAME"); name != cal.Name {
		t.Errorf("calendar name %q", name)
	}
	events := parsed.Events()
	if len(events) != len(shifts) {
		t.Fatalf("%d events for %d shifts", len(events), len(shifts))
	}
	berlin := s.Location
	for i, ev := range events {
		start, err1 := ev.DateTimeStart(nil)
		end, err2 := ev.DateTimeEnd(nil)
		if err1 != nil || err2 != nil || !start.Equal(shifts[i].Since) || !end.Equal(shifts[i].Until) {
			t.Errorf("event %d = [%s, %s) (%v %v), want [%s, %s)", i, start, end, err1, err2, shifts[i].Since, shifts[i].Until)
		}
		if start.Location().String() != "Europe/Berlin" {
			t.Errorf("event %d starts in %s", i, start.Location())
		}
		if sum, _ := ev.Props.Text("SUMMARY"); sum != "On call: primary ("+shifts[i].User+")" {
			t.Errorf("event %d summary %q", i, sum)
		}
		if uid, _ := ev.Props.Text("UID"); !strings.HasPrefix(uid, "primary-"+shifts[i].User+"-") {
			t.Errorf("event %d uid %q", i, uid)
		}
		if !start.Equal(ovs[0].Start) && !start.Equal(ovs[0].End) && start.In(berlin).Hour() != 9 {
			t.Errorf("hand-off at %s Berlin time, want 09:00", start.In(berlin))
		}
	}
	var tz []string
	for _, comp := range parsed.Children {
		if comp.Name == ical.CompTimezone {
			for _, o := range comp.Children {
				from, to := o.Props.Get("TZOFFSETFROM").Value, o.Props.Get("TZOFFSETTO").Value
				start := o.Props.Get("DTSTART").Value
				tz = append(tz, o.Name+" "+start+" "+from+">"+to)
			}
		}
	}
	if got := strings.Join(tz, "; "); got != "STANDARD 20260316T090000 +0100>+0100; DAYLIGHT 20260329T020000 +0100>+0200" {
		t.Errorf("VTIMEZONE observances = %s", got)
	}
}
