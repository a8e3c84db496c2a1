package dashboards

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/postmortem"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slo"
)

// The monthly SLO report: for each SLO, whether the month kept its
// objective, how much of the month's error budget was spent and by which
// incidents, and the trend over the months before. Every figure comes from
// the slo package's budget model (slo.MonthSummary); the report only
// arranges it.

// trendMonths is how many months the trend shows, the report's month
// included.
const trendMonths = 6

// reportIncidentScan bounds the incidents read for one report.
const reportIncidentScan = incidents.MaxListLimit

// ReportSource is the incident report (GET /api/v1/reports/incidents).
type ReportSource interface {
	Report(ctx context.Context, from, to time.Time) (postmortem.Report, error)
}

// SLOReport is the monthly report's content.
type SLOReport struct {
	Month      string // "2024-05"
	MonthTitle string // "May 2024"
	Prev, Next string // neighbouring months; Next empty for the current one
	Final      bool   // the month is over
	Months     []string
	Rows       []reportRow
	Met        int
	Missed     int
	Open       int
	Configured bool
	// Generated is when the report was computed.
	Generated time.Time
}

// reportRow is one SLO in the report.
type reportRow struct {
	Name, Service, Objective, Window string
	Summary                          slo.MonthSummary
	Outcome                          string
	SLI                              string
	Spent                            string // "0.8%"
	SpentOf                          string // "20 of 2,592 allowed failed probe runs"
	Coverage                         string
	Incidents                        []reportIncident
	// Unattributed is the share of the budget spent outside any incident.
	Unattributed string
	Trend        []trendCell
}

// reportIncident is an incident that spent an SLO's budget in the month.
type reportIncident struct {
	ID       int64
	Title    string
	Severity string
	Started  time.Time
	Ended    *time.Time
	Share    float64
	ShareStr string
}

// trendCell is one month of an SLO's trend.
type trendCell struct {
	Month    string
	Outcome  string
	SLI      string
	Spent    string
	Class    string
	Coverage string
}

// monthTitle spells "2024-05" as "May 2024".
func monthTitle(year int, month time.Month) string {
	return time.Date(year, month, 1, 0, 0, 0, 0, time.UTC).Format("January 2006")
}

// BuildSLOReport computes the report of the month "YYYY-MM" (empty: the
// current month in UTC). A malformed or future month wraps ErrInvalid.
func (d *Dashboards) BuildSLOReport(ctx context.Context, month string) (SLOReport, error) {
	now := d.now()
	if month == "" {
		month = now.UTC().Format("2006-01")
	}
	year, mon, err := slo.ParseMonth(month)
	if err != nil {
		return SLOReport{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	first := time.Date(year, mon, 1, 0, 0, 0, 0, time.UTC)
	if first.After(now) {
		return SLOReport{}, fmt.Errorf("%w: %s has not begun", ErrInvalid, month)
	}
	r := SLOReport{Month: month, MonthTitle: monthTitle(year, mon), Prev: first.AddDate(0, -1, 0).Format("2006-01"), Generated: now}
	if next := first.AddDate(0, 1, 0); !next.After(now) {
		r.Next = next.Format("2006-01")
	}
	r.Final = !now.Before(first.AddDate(0, 1, 0))
	for i := trendMonths - 1; i >= 0; i-- {
		r.Months = append(r.Months, first.AddDate(0, -i, 0).Format("2006-01"))
	}
	if d.opts.SLOs == nil {
		return r, nil
	}
	r.Configured = true
	incs := d.monthIncidents(ctx, first)
	for _, st := range d.opts.SLOs.Statuses(ctx) {
		sp := st.Spec
		m, err := d.opts.SLOs.Month(ctx, sp.Name, year, mon)
		if err != nil {
			return SLOReport{}, fmt.Errorf("SLO %s: %w", sp.Name, err)
		}
		row := reportRow{Name: sp.Name, Service: sp.Service, Objective: trimFloat(sp.Objective) + "%", Window: sp.Window.String(),
			Summary: m, Outcome: m.Outcome(), SLI: monthSLI(m), Spent: spentPct(m), Coverage: monthCoverage(m)}
		if m.Allowed > 0 {
			row.SpentOf = spentOfMonth(m)
		}
		switch {
		case !m.Final || m.NoData:
			r.Open++
		case m.Met():
			r.Met++
		default:
			r.Missed++
		}
		attributed := 0.0
		for _, inc := range incs {
			if !d.incidentAffects(ctx, inc, sp.Name) {
				continue
			}
			from, to := postmortem.Window(inc, now)
			share, ok, err := d.opts.SLOs.MonthSpent(ctx, m, from, to)
			if err != nil {
				d.log.Warn("budget an incident spent", "slo", sp.Name, "incident", inc.ID, "err", err)
				continue
			}
			if ok && share == 0 {
				continue // open in the month, but it spent none of it
			}
			ri := reportIncident{ID: inc.ID, Title: inc.Title, Severity: string(inc.Severity), Started: inc.CreatedAt, Ended: inc.ResolvedAt, Share: share, ShareStr: "counts no longer kept"}
			if ok {
				ri.ShareStr = sharePct(share)
				attributed += share
			}
			row.Incidents = append(row.Incidents, ri)
		}
		sort.SliceStable(row.Incidents, func(i, j int) bool { return row.Incidents[i].Share > row.Incidents[j].Share })
		if !m.NoData && m.FromCounts {
			// Incidents may overlap; never show a negative rest.
			row.Unattributed = sharePct(math.Max(m.Consumed-attributed, 0))
		}
		for _, key := range r.Months {
			y, mo, _ := slo.ParseMonth(key)
			tm, err := d.opts.SLOs.Month(ctx, sp.Name, y, mo)
			cell := trendCell{Month: time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC).Format("Jan 2006"), Outcome: "no data", SLI: "–", Spent: "–", Class: "nodata"}
			if err == nil && !tm.NoData {
				cell.Outcome, cell.SLI, cell.Spent = tm.Outcome(), monthSLI(tm), spentPct(tm)
				cell.Class = outcomeClass(tm.Outcome())
				if tm.Coverage < 1 {
					cell.Coverage = fmt.Sprintf("data for %s", spanText(time.Duration(tm.Coverage*float64(tm.To.Sub(tm.From))), tm.To.Sub(tm.From)))
				}
			}
			row.Trend = append(row.Trend, cell)
		}
		r.Rows = append(r.Rows, row)
	}
	return r, nil
}

// outsideNote says how "spent outside incidents" is counted: incidents'
// shares come from per-minute counts, so each holds whole minutes.
const outsideNote = "the month's spend less the incidents' shares; SLO counts are kept per minute, so each share counts every whole minute its incident touches"

// monthIncidents lists the incidents that were open at some time in the
// month starting at first (UTC; SLOs with their own zone are clipped by
// the budget model).
func (d *Dashboards) monthIncidents(ctx context.Context, first time.Time) []*incidents.Incident {
	if d.opts.Incidents == nil {
		return nil
	}
	from, to := first.AddDate(0, 0, -32), first.AddDate(0, 1, 1)
	list, err := d.opts.Incidents.List(ctx, incidents.ListQuery{From: from, To: to, Limit: reportIncidentScan})
	if err != nil {
		d.log.Warn("list incidents for the SLO report", "err", err)
		return nil
	}
	var out []*incidents.Incident
	for _, inc := range list {
		if inc.ResolvedAt != nil && inc.ResolvedAt.Before(first.Add(-14*time.Hour)) {
			continue
		}
		out = append(out, inc)
	}
	return out
}

// incidentAffects reports whether inc counts against SLO name: it names
// the SLO, or the incident service's budget source ties it to it.
func (d *Dashboards) incidentAffects(ctx context.Context, inc *incidents.Incident, name string) bool {
	for _, n := range inc.SLONames {
		if n == name {
			return true
		}
	}
	if len(inc.SLONames) > 0 {
		return false
	}
	for _, im := range d.opts.Incidents.SLOImpact(ctx, inc) {
		if im.Name == name {
			return true
		}
	}
	return false
}

func outcomeClass(o string) string {
	switch o {
	case "met", "on track":
		return "ok"
	case "missed", "spent":
		return "critical"
	}
	return "nodata"
}

// monthSLI formats a month's SLI, "–" without data.
func monthSLI(m slo.MonthSummary) string {
	if m.NoData || math.IsNaN(m.SLI) {
		return "–"
	}
	return sliPct(m.SLI)
}

// spentPct is the share of the month's budget spent.
func spentPct(m slo.MonthSummary) string {
	if m.NoData {
		return "–"
	}
	return sharePct(m.Consumed)
}

// sharePct formats a share of a budget as every page does (pct, one
// decimal, more for a share that would read 0%), so a report and the page
// it links to say the same figure.
func sharePct(v float64) string { return pct(v, 1) }

// monthCoverage says how much of a month had data, empty when all of it.
func monthCoverage(m slo.MonthSummary) string {
	if m.NoData {
		if !m.FromCounts && m.Final {
			return "no data kept for this month"
		}
		return "no data"
	}
	period := m.To.Sub(m.From)
	if m.Coverage >= 1 || period <= 0 {
		return ""
	}
	observed := time.Duration(m.Coverage * float64(period))
	what := "data for " + spanText(observed, period)
	if !m.Final {
		what += " (the month is not over)"
	}
	return what
}

// spentOfMonth says what was spent of what in a month.
func spentOfMonth(m slo.MonthSummary) string {
	words := map[string]string{"runs": "failed probe runs", "slices": "bad time slices", "events": "bad events"}
	w := words[m.Unit]
	if w == "" {
		w = "bad events"
	}
	s := fmt.Sprintf("%s of %s allowed %s", amount(m.Spent), amount(m.Allowed), w)
	if m.Projected {
		s += ", projected from the traffic seen"
	}
	return s
}

// SLOReportPage renders the monthly SLO report.
func (d *Dashboards) SLOReportPage(ctx context.Context, w io.Writer, v Viewer, month string) error {
	r, err := d.BuildSLOReport(ctx, month)
	if err != nil {
		return err
	}
	return d.render(w, "report_slos", page{Title: "SLO report " + r.MonthTitle, Nav: "reports", Viewer: v, Data: r})
}

// SLOReportCSV writes the report as CSV: one row per SLO.
func (d *Dashboards) SLOReportCSV(ctx context.Context, w io.Writer, month string) error {
	r, err := d.BuildSLOReport(ctx, month)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	head := []string{"month", "slo", "service", "objective_percent", "window", "outcome", "month_final", "sli",
		"budget_spent_ratio", "budget_unit", "budget_allowed", "budget_spent", "budget_projected", "coverage_ratio", "incidents"}
	for _, m := range r.Months[:len(r.Months)-1] {
		head = append(head, "outcome_"+m)
	}
	_ = cw.Write(head)
	for _, row := range r.Rows {
		m := row.Summary
		var incs []string
		for _, inc := range row.Incidents {
			incs = append(incs, fmt.Sprintf("#%d %s (%s)", inc.ID, inc.Title, inc.ShareStr))
		}
		rec := []string{r.Month, row.Name, row.Service, strings.TrimSuffix(row.Objective, "%"), row.Window, row.Outcome,
			strconv.FormatBool(m.Final), csvNum(m.SLI, m.NoData), csvNum(m.Consumed, m.NoData), m.Unit,
			csvNum(m.Allowed, m.NoData), csvNum(m.Spent, m.NoData), strconv.FormatBool(m.Projected),
			csvNum(m.Coverage, false), strings.Join(incs, "; ")}
		for _, c := range row.Trend[:len(row.Trend)-1] {
			rec = append(rec, c.Outcome)
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func csvNum(v float64, none bool) string {
	if none || math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 8, 64)
}

// SLOReportMarkdown writes the report as Markdown for pasting into a
// document or a ticket.
func (d *Dashboards) SLOReportMarkdown(ctx context.Context, w io.Writer, month string) error {
	r, err := d.BuildSLOReport(ctx, month)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# SLO report: %s\n\n", r.MonthTitle)
	if !r.Final {
		fmt.Fprintf(&b, "The month is not over: figures run to %s UTC.\n\n", r.Generated.UTC().Format("2006-01-02 15:04"))
	}
	fmt.Fprintf(&b, "%d met, %d missed, %d not final or without data, of %d %s.\n\n", r.Met, r.Missed, r.Open, len(r.Rows), plural(len(r.Rows), "SLO", "SLOs"))
	b.WriteString(sliNote + "\n\n")
	b.WriteString("| SLO | Objective | Outcome | SLI | Budget spent | Incidents |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "| %s | %s over %s | %s | %s | %s | %d |\n", mdCell(row.Name), row.Objective, row.Window, row.Outcome,
			row.SLI, row.Spent, len(row.Incidents))
	}
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "\n## %s\n\n", mdCell(row.Name))
		if row.SpentOf != "" {
			fmt.Fprintf(&b, "Budget spent: %s (%s).", row.Spent, row.SpentOf)
		} else {
			fmt.Fprintf(&b, "Budget spent: %s.", row.Spent)
		}
		if row.Coverage != "" {
			fmt.Fprintf(&b, " Coverage: %s.", row.Coverage)
		}
		b.WriteString("\n\n")
		if len(row.Incidents) > 0 {
			b.WriteString("| Incident | Severity | Started (UTC) | Budget spent |\n| --- | --- | --- | --- |\n")
			for _, inc := range row.Incidents {
				fmt.Fprintf(&b, "| #%d %s | %s | %s | %s |\n", inc.ID, mdCell(inc.Title), inc.Severity,
					inc.Started.UTC().Format("2006-01-02 15:04"), inc.ShareStr)
			}
			if row.Unattributed != "" {
				fmt.Fprintf(&b, "\nSpent outside incidents: %s (%s).\n", row.Unattributed, outsideNote)
			}
		} else {
			b.WriteString("No incident spent this budget.\n")
		}
		b.WriteString("\n| Month | Outcome | SLI | Budget spent |\n| --- | --- | --- | --- |\n")
		for _, c := range row.Trend {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Month, c.Outcome, c.SLI, c.Spent)
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// mdCell keeps text from breaking a Markdown table.
func mdCell(s string) string {
	s = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
	return s
}

// incidentReportData is the incident report page's content.
type incidentReportData struct {
	Configured bool
	From, To   time.Time
	FromStr    string
	ToStr      string
	Report     postmortem.Report
	MTTA, MTTR string
	Weeks      []weekRow
	Severities []string
}

type weekRow struct {
	Week   time.Time
	Count  int
	BySev  []int
	BarPct float64
}

// IncidentReport is the report IncidentReportPage shows, as GET
// /api/v1/reports/incidents returns it (for the page's JSON link, which a
// browser follows with its session, not a bearer token).
func (d *Dashboards) IncidentReport(ctx context.Context, from, to time.Time) (postmortem.Report, error) {
	if d.opts.Reports == nil {
		return postmortem.Report{}, fmt.Errorf("incident report: %w (incidents are not configured)", ErrNotFound)
	}
	return d.opts.Reports.Report(ctx, from, to)
}

// IncidentReportPage renders the incident report between from and to:
// counts by severity and week, MTTA, MTTR and the budget each SLO lost
// while incidents were open.
func (d *Dashboards) IncidentReportPage(ctx context.Context, w io.Writer, v Viewer, from, to time.Time) error {
	loc := d.zoneOf(v)
	data := incidentReportData{From: from, To: to, FromStr: from.In(loc).Format("2006-01-02"), ToStr: to.Add(-time.Nanosecond).In(loc).Format("2006-01-02"),
		Severities: []string{"critical", "warning", "info"}}
	if d.opts.Reports != nil {
		data.Configured = true
		rep, err := d.opts.Reports.Report(ctx, from, to)
		if err != nil {
			return err
		}
		data.Report = rep
		data.MTTA, data.MTTR = "–", "–"
		if rep.MTTA != nil {
			data.MTTA = model.Elapsed(time.Duration(*rep.MTTA * float64(time.Second)))
		}
		if rep.MTTR != nil {
			data.MTTR = model.Elapsed(time.Duration(*rep.MTTR * float64(time.Second)))
		}
		most := 1
		for _, wk := range rep.Weeks {
			most = max(most, wk.Count)
		}
		for _, wk := range rep.Weeks {
			row := weekRow{Week: wk.Week, Count: wk.Count, BarPct: float64(wk.Count) / float64(most) * 100}
			for _, s := range data.Severities {
				row.BySev = append(row.BySev, wk.BySeverity[s])
			}
			data.Weeks = append(data.Weeks, row)
		}
	}
	return d.render(w, "report_incidents", page{Title: "Incident report", Nav: "reports", Viewer: v, Data: data})
}

// settingsData is the settings page's content.
type settingsData struct {
	Zone     string
	Auto     bool
	Zones    []string
	Saved    bool
	Problem  string
	Returned string
}

// commonZones are offered in the settings form's list; any IANA name may
// be typed.
var commonZones = []string{
	"UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Amsterdam",
	"Europe/Madrid", "Europe/Rome", "Europe/Stockholm", "Europe/Warsaw", "Europe/Athens", "Europe/Helsinki",
	"Europe/Istanbul", "Europe/Moscow", "Africa/Johannesburg", "Africa/Lagos", "Asia/Dubai", "Asia/Kolkata",
	"Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo", "Asia/Seoul", "Australia/Sydney", "Australia/Perth",
	"Pacific/Auckland", "America/Sao_Paulo", "America/Argentina/Buenos_Aires", "America/Mexico_City",
	"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage",
	"America/Toronto", "America/Vancouver", "Pacific/Honolulu",
}

// Settings renders the viewer's settings: the time zone pages use.
func (d *Dashboards) Settings(w io.Writer, v Viewer, saved bool, problem string) error {
	data := settingsData{Zone: d.zoneOf(v).String(), Auto: v.ZoneAuto || v.Zone == nil, Zones: commonZones, Saved: saved, Problem: problem}
	return d.render(w, "settings", page{Title: "Settings", Nav: "settings", Viewer: v, Data: data})
}
