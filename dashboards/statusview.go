package dashboards

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/statuspage"
)

// statusPageView is what the status page template shows.
type statusPageView struct {
	Title, LogoURL, CSS string
	Overall             spStatus
	Components          []statusComponentView
	// Active are unresolved incidents; Past resolved ones within the
	// history (each has its own page), Recent those of the last 14 days.
	Active, Past, Recent []statusIncidentView
	InProgress, Upcoming []statusMaintView
	Updated              time.Time
	Days, RecentDays     int
	TTLSeconds           int
}

type statusComponentView struct {
	ID, Name, Description, Status, Label string
	Bar                                  template.HTML
	// Uptime is "99.95% uptime" over the days with data, or says there
	// is none yet.
	Uptime string
}

type statusIncidentView struct {
	ID, Name, Status, StatusLabel, Impact string
	Components                            string
	Started                               time.Time
	Resolved                              *time.Time
	Updates                               []statusUpdateView
}

type statusUpdateView struct {
	StatusLabel string
	Paragraphs  []string
	At          time.Time
}

type statusMaintView struct {
	Name, Body, Components string
	Start, End             time.Time
}

// statusIncidentPage is one incident's own page.
type statusIncidentPage struct {
	Page     statusPageView
	Incident statusIncidentView
}

// incidentStatusLabels are Statuspage's incident statuses as people read
// them.
var incidentStatusLabels = map[string]string{
	"investigating": "Investigating", "identified": "Identified", "monitoring": "Monitoring", "resolved": "Resolved",
	"scheduled": "Scheduled", "in_progress": "In progress", "completed": "Completed",
}

func (p *StatusPage) view(m *statusModel) statusPageView {
	v := statusPageView{Title: m.page.Title, LogoURL: m.page.LogoURL, CSS: p.StylesheetPath(), Overall: m.status,
		Updated: m.now, Days: m.page.HistoryDays, RecentDays: statusPageDays, TTLSeconds: int(p.opts.TTL.Seconds())}
	for i, cs := range m.states {
		days := m.days[i]
		cv := statusComponentView{ID: cs.ID, Name: cs.Name, Description: cs.Description, Status: string(cs.Status), Label: cs.Status.Label(),
			Bar: uptimeBar(cs.Name, days), Uptime: "No data yet"}
		if up, ok := statuspage.Uptime(days); ok {
			cv.Uptime = uptimePct(up) + " uptime"
		}
		v.Components = append(v.Components, cv)
	}
	for _, in := range m.open {
		v.Active = append(v.Active, incidentView(in))
	}
	cut := m.now.AddDate(0, 0, -statusPageDays)
	for _, in := range m.past {
		iv := incidentView(in)
		v.Past = append(v.Past, iv)
		if in.sp.ResolvedAt != nil && in.sp.ResolvedAt.After(cut) {
			v.Recent = append(v.Recent, iv)
		}
	}
	for _, mt := range m.maint {
		names := make([]string, 0, len(mt.Components))
		for _, c := range mt.Components {
			names = append(names, c.Name)
		}
		mv := statusMaintView{Name: mt.Name, Body: mt.IncidentUpdates[0].Body, Components: andList(names), Start: *mt.ScheduledFor, End: *mt.ScheduledUntil}
		if mt.Status == "in_progress" {
			v.InProgress = append(v.InProgress, mv)
		} else {
			v.Upcoming = append(v.Upcoming, mv)
		}
	}
	return v
}

func incidentView(in publicIncident) statusIncidentView {
	iv := statusIncidentView{ID: in.sp.ID, Name: in.sp.Name, Status: in.sp.Status, StatusLabel: incidentStatusLabels[in.sp.Status],
		Impact: in.sp.Impact, Components: andList(in.affected), Started: in.sp.StartedAt, Resolved: in.sp.ResolvedAt}
	for _, u := range in.sp.IncidentUpdates {
		uv := statusUpdateView{StatusLabel: incidentStatusLabels[u.Status], At: u.DisplayAt}
		for _, para := range strings.Split(strings.ReplaceAll(u.Body, "\r\n", "\n"), "\n\n") {
			if para = strings.TrimSpace(para); para != "" {
				uv.Paragraphs = append(uv.Paragraphs, para)
			}
		}
		iv.Updates = append(iv.Updates, uv)
	}
	return iv
}

// uptimePct formats an uptime with two decimals, rounded down, so a day
// with a minute of outage never reads 100%.
func uptimePct(f float64) string {
	if f >= 1 {
		return "100%"
	}
	return strconv.FormatFloat(floorTo(f, 1e4)*100, 'f', 2, 64) + "%"
}

// dayClass is the colour class of a day: the worst status recorded that
// day, or no data.
func dayClass(d statuspage.Day) string {
	if !d.HasData() {
		return "u-none"
	}
	return "u-" + statusClass(d.Worst())
}

// statusClass is a status's short CSS class.
func statusClass(s statuspage.Status) string {
	switch s {
	case statuspage.UnderMaintenance:
		return "mnt"
	case statuspage.DegradedPerformance:
		return "deg"
	case statuspage.PartialOutage:
		return "part"
	case statuspage.MajorOutage:
		return "maj"
	}
	return "ok"
}

// dayTitle says in words what one bar of the uptime chart shows.
func dayTitle(d statuspage.Day) string {
	date := d.Date.Format("Jan 2")
	up, ok := d.Uptime()
	if !d.HasData() {
		return date + ": no data"
	}
	var parts []string
	for _, st := range []statuspage.Status{statuspage.MajorOutage, statuspage.PartialOutage, statuspage.DegradedPerformance, statuspage.UnderMaintenance} {
		if n := d.Minutes[st]; n > 0 {
			parts = append(parts, human(time.Duration(n)*time.Minute)+" "+strings.ToLower(st.Label()))
		}
	}
	s := date + ": "
	if ok {
		s += uptimePct(up) + " up"
	} else {
		s += "maintenance only"
	}
	if len(parts) > 0 {
		s += "; " + strings.Join(parts, ", ")
	}
	if n := d.Observed(); n < statuspage.MinutesPerDay {
		s += " (" + human(time.Duration(n)*time.Minute) + " recorded)"
	}
	return s
}

// uptimeBar draws one bar per day, oldest on the left, each coloured by
// the worst status of its day (grey: no data) with its figures in a
// tooltip. It scales to the width of its box.
func uptimeBar(name string, days []statuspage.Day) template.HTML {
	const step, w, h = 5, 3.6, 32
	var b strings.Builder
	label := fmt.Sprintf("%d-day uptime of %s", len(days), name)
	if up, ok := statuspage.Uptime(days); ok {
		label += ": " + uptimePct(up)
	} else {
		label += ": no data yet"
	}
	fmt.Fprintf(&b, `<svg class="days" viewBox="0 0 %d %d" preserveAspectRatio="none" role="img" aria-label="%s">`, len(days)*step, h, svgEscape(label))
	for i, d := range days {
		fmt.Fprintf(&b, `<rect x="%d" width="%s" height="%d" class="%s"><title>%s</title></rect>`, i*step, f1(w), h, dayClass(d), svgEscape(dayTitle(d)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and escaped text
}

// badgeColours are the badge's right-hand fills, one per status (white
// text on each meets 4.5:1).
var badgeColours = map[statuspage.Status]string{
	statuspage.Operational:         "#1e7e45",
	statuspage.UnderMaintenance:    "#2457a6",
	statuspage.DegradedPerformance: "#8a5a00",
	statuspage.PartialOutage:       "#b1450d",
	statuspage.MajorOutage:         "#b42318",
}

// badgeTextWidth estimates the width of s at 11px Verdana-like type, the
// badge's font, from a few character classes.
func badgeTextWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case strings.ContainsRune("il.,:;'|! frtj ", r):
			w += 4
		case strings.ContainsRune("mwMW@%", r):
			w += 11
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			w += 7.6
		case r < 128:
			w += 6.6
		default:
			w += 8
		}
	}
	return w
}

// badge is a shields.io-style SVG: the component's name on grey, its
// status on the status's colour. It uses no style attribute and no
// script, so it embeds anywhere.
func badge(name string, st statuspage.Status) []byte {
	left, right := name, strings.ToLower(st.Label())
	lw, rw := math.Ceil(badgeTextWidth(left))+12, math.Ceil(badgeTextWidth(right))+12
	total := lw + rw
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="20" role="img" aria-label="%s: %s">`, f1(total), svgEscape(left), svgEscape(right))
	fmt.Fprintf(&b, `<title>%s: %s</title>`, svgEscape(left), svgEscape(right))
	fmt.Fprintf(&b, `<rect width="%s" height="20" rx="3" fill="#4a5260"/>`, f1(total))
	fmt.Fprintf(&b, `<rect x="%s" width="%s" height="20" rx="3" fill="%s"/>`, f1(lw), f1(rw), badgeColours[st])
	fmt.Fprintf(&b, `<rect x="%s" width="4" height="20" fill="%s"/>`, f1(lw), badgeColours[st])
	b.WriteString(`<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">`)
	fmt.Fprintf(&b, `<text x="%s" y="14">%s</text>`, f1(lw/2), svgEscape(left))
	fmt.Fprintf(&b, `<text x="%s" y="14">%s</text>`, f1(lw+rw/2), svgEscape(right))
	b.WriteString(`</g></svg>`)
	return []byte(b.String())
}
