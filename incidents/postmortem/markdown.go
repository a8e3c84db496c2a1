package postmortem

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Markdown renders the postmortem as a Markdown document (the export a
// team pastes into its wiki). People's sections are their own Markdown,
// included as written; every value Sentinel puts in a table is escaped so
// it cannot break the table. It is pure: the same postmortem gives the
// same bytes.
func Markdown(pm *Postmortem) []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Postmortem: #%d %s\n\n", pm.IncidentID, inline(pm.Title))
	w("| | |\n| --- | --- |\n")
	w("| Incident | #%d |\n", pm.IncidentID)
	w("| Severity | %s |\n", cell(string(pm.Severity)))
	w("| Status | %s |\n", cell(string(pm.Status)))
	if pm.Commander != "" {
		w("| Commander | %s |\n", cell(pm.Commander))
	}
	if pm.Impact.Ongoing {
		w("| Window | %s (UTC) to now, still running: the incident is open |\n", ts(pm.Impact.From))
	} else {
		w("| Window | %s to %s (UTC) |\n", ts(pm.Impact.From), ts(pm.Impact.To))
	}
	if at := pm.ReopenedAt; at != nil {
		state := "resolved again"
		if pm.Reopened() {
			state = "open again (" + string(pm.IncidentStatus) + ")"
		}
		if pm.PublishedAt != nil && pm.PublishedAt.Before(*at) {
			state += "; after publication, so the figures here end at the resolution before it"
		}
		w("| Reopened | %s (UTC), %s |\n", ts(*at), state)
	}
	w("| Last edited | %s by %s |\n", ts(pm.UpdatedAt), cell(pm.UpdatedBy))
	if pm.PublishedAt != nil {
		w("| Published | %s |\n", ts(*pm.PublishedAt))
	}
	w("\n")

	section(&b, "Summary", pm.Summary)

	w("## Impact\n\n")
	w("- Duration: %s\n", dur(pm.Impact.Duration))
	for _, s := range pm.Impact.SLOs {
		counted := s.Counted()
		if m := s.Minutes(); m != "" {
			counted += "; " + m
		}
		w("- SLO %s: %s of the error budget consumed (%s)\n", inline(s.Name), model.SpokenPercent(s.BudgetConsumed), counted)
	}
	if len(pm.Impact.SLOs) == 0 {
		w("- SLOs: none affected\n")
	}
	for _, p := range pm.Impact.Probes {
		w("- Probe %s: %d of %s failed\n", inline(p.Name), p.Failed, plural(float64(p.Runs), "run", "runs"))
	}
	if r := pm.Impact.RUM; r != nil {
		w("- Real users %s: %s, %s\n", r.Scope(), plural(r.PageViews, "page view", "page views"), plural(r.JSErrors, "JavaScript error", "JavaScript errors"))
	}
	for _, e := range pm.Impact.Errors {
		w("- Not measured: %s\n", inline(e))
	}
	w("\n")

	w("## Response times\n\n")
	w("- Time to detect: %s", optDur(pm.Times.Detect))
	if o := pm.Times.DetectedFrom; o != nil {
		w(", from %s at %s UTC", inline(o.What), ts(o.At))
	}
	w("\n")
	w("- Time to acknowledge: %s\n", optDur(pm.Times.Acknowledge))
	w("- Time to resolve: %s\n\n", optDur(pm.Times.Resolve))

	w("## Changes before the incident\n\n")
	switch {
	case pm.ChangesError != "":
		w("_Not read: %s_\n\n", inline(pm.ChangesError))
	case len(pm.Changes) == 0:
		w("_No change to its services was reported in the two hours before it started._\n\n")
	default:
		for _, c := range pm.Changes {
			w("- %s UTC: %s", ts(c.At), inline(c.Words))
			if c.URL != "" {
				w(" ([link](<%s>))", strings.NewReplacer("<", "%3C", ">", "%3E", " ", "%20").Replace(c.URL))
			}
			w("\n")
		}
		w("\n")
	}

	w("## Timeline\n\n")
	if len(pm.Timeline) == 0 {
		w("_No events._\n\n")
	} else {
		w("| Time (UTC) | Who | What |\n| --- | --- | --- |\n")
		for _, e := range pm.Timeline {
			w("| %s | %s | %s |\n", ts(e.At), cell(e.Actor), cell(e.Text))
		}
		w("\n")
	}

	section(&b, "Root cause", pm.RootCause)
	section(&b, "Contributing factors", pm.ContributingFactors)
	section(&b, "What went well", pm.WentWell)
	section(&b, "Lessons", pm.Lessons)

	w("## Action items\n\n")
	if len(pm.ActionItems) == 0 {
		w("_None yet._\n")
	} else {
		w("| ID | Item | Owner | Due | Status | Link |\n| --- | --- | --- | --- | --- | --- |\n")
		for _, a := range pm.ActionItems {
			link := ""
			if a.Link != "" {
				link = "<" + strings.NewReplacer("<", "%3C", ">", "%3E", "|", "%7C", " ", "%20").Replace(a.Link) + ">"
			}
			w("| %s | %s | %s | %s | %s | %s |\n", cell(a.ID), cell(a.Title), cell(a.Owner), cell(a.Due), cell(a.Status), link)
		}
	}
	return b.Bytes()
}

func section(b *bytes.Buffer, title, text string) {
	fmt.Fprintf(b, "## %s\n\n", title)
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text == "" {
		b.WriteString("_To be written._\n\n")
		return
	}
	b.WriteString(text)
	b.WriteString("\n\n")
}

// inline makes text safe on one Markdown line.
func inline(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cell makes text safe inside a table cell.
func cell(s string) string {
	s = inline(s)
	if s == "" {
		return "-"
	}
	return strings.NewReplacer(`\`, `\\`, "|", `\|`).Replace(s)
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func dur(secs float64) string {
	return model.Elapsed(time.Duration(secs * float64(time.Second)))
}

func optDur(secs *float64) string {
	if secs == nil {
		return "n/a"
	}
	return dur(*secs)
}

func num(f float64) string {
	if f == float64(int64(f)) {
		return grouped(int64(f)) // 12,840 as the page writes it
	}
	return fmt.Sprintf("%.1f", f)
}
