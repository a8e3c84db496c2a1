package dashboards

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/incidents/postmortem"
)

// The fixture counts 1,000 events at half past each hour from 31 January
// 10:30 to 2 March 10:30 (now), h%3 of them bad in hour h (h = 0 at the
// start), and 40 bad in every hour after h = 600 for slo-000. February is
// hours 14..685: 672 hours, 672,000 events, 99.5% objective so 3,360 may
// be bad.
//   - slo-001: 224 cycles of 0+1+2 bad = 672: 20.0% spent, met.
//   - slo-000: hours 14..600 spend 587 (195 cycles of 3, then 2 and 0),
//     hours 601..685 spend 85 * 40 = 3,400: 3,987 of 3,360, missed.
func TestSLOReportFebruary(t *testing.T) {
	f := newFixture(t, 2, 40, 1)
	r, err := f.d.BuildSLOReport(context.Background(), "2026-02")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Final || r.Met != 1 || r.Missed != 1 || r.Next != "2026-03" || r.Prev != "2026-01" || r.MonthTitle != "February 2026" {
		t.Fatalf("report = %+v", r)
	}
	rows := map[string]reportRow{}
	for _, row := range r.Rows {
		rows[row.Name] = row
	}
	burn, calm := rows["slo-000"], rows["slo-001"]
	if calm.Outcome != "met" || calm.Spent != "20.0%" || calm.SLI != "99.900%" || calm.Summary.Total != 672_000 || calm.Summary.Allowed != 3360 {
		t.Errorf("slo-001 = %+v", calm)
	}
	if burn.Outcome != "missed" || burn.Summary.Spent != 3987 || burn.Spent != "118.7%" || burn.SpentOf != "3,987 of 3,360 allowed bad events" {
		t.Errorf("slo-000 = %+v %+v", burn, burn.Summary)
	}
	if len(burn.Incidents) != 0 || burn.Coverage != "" {
		t.Errorf("February had no incident and full data: %+v", burn)
	}
	// The trend: September to December without data, January with 13.5
	// hours of it (hours 0..13 spend 13), February missed.
	tr := burn.Trend
	if len(tr) != 6 || tr[0].Month != "Sep 2025" || tr[0].Outcome != "no data" || tr[4].Outcome != "met" ||
		tr[4].Coverage != "data for 13 hours of 31 days" || tr[5].Outcome != "missed" || tr[5].Spent != "118.7%" {
		t.Errorf("trend = %+v", tr)
	}

	var buf bytes.Buffer
	if err := f.d.SLOReportCSV(context.Background(), &buf, "2026-02"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("csv = %v %v", recs, err)
	}
	head := strings.Join(recs[0], ",")
	if !strings.HasPrefix(head, "month,slo,service,objective_percent,window,outcome,month_final,sli,budget_spent_ratio") ||
		!strings.HasSuffix(head, "outcome_2026-01") {
		t.Errorf("csv header = %s", head)
	}
	if got := strings.Join(recs[1][:10], ","); got != "2026-02,slo-000,checkout,99.5,30d,missed,true,0.99406696,1.1866071,events" {
		t.Errorf("csv row = %s", got)
	}
	buf.Reset()
	if err := f.d.SLOReportMarkdown(context.Background(), &buf, "2026-02"); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{"# SLO report: February 2026", "1 met, 1 missed, 0 not final or without data, of 2 SLOs.\n\nSLIs are cut to three decimals, never rounded up,",
		"| slo-000 | 99.5% over 30d | missed | 99.406% | 118.7% | 0 |", "Budget spent: 20.0% (672 of 3,360 allowed bad events).", "| Jan 2026 | met |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// March, not over: 34 hours of 40 bad for slo-000 (hours 686..719), 1,360
// of 34,000 events, over 34.5 of March's 744 hours: projected to
// 34,000 * 744/34.5 events, 0.5% of them allowed. Incident #39, open since
// 09:16, holds the 40 bad events of 09:30: 40 of the allowed.
func TestSLOReportCurrentMonthIncidents(t *testing.T) {
	f := newFixture(t, 2, 40, 1)
	r, err := f.d.BuildSLOReport(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Month != "2026-03" || r.Final || r.Next != "" || r.Open != 2 {
		t.Fatalf("report = %+v", r)
	}
	row := r.Rows[0]
	allowed := 0.005 * 34000 * 744 / 34.5
	if row.Outcome != "on track" || !row.Summary.Projected || math.Abs(row.Summary.Allowed-allowed) > 1e-6 || row.Summary.Spent != 1360 {
		t.Errorf("slo-000 = %+v %+v", row, row.Summary)
	}
	if row.Coverage != "data for 1 of 31 days (the month is not over)" {
		t.Errorf("coverage = %q", row.Coverage)
	}
	var found bool
	for _, inc := range row.Incidents {
		if inc.ID == 39 {
			found = true
			if math.Abs(inc.Share-40/allowed) > 1e-9 || inc.ShareStr != "1.1%" {
				t.Errorf("incident 39 = %+v, want a share of %v", inc, 40/allowed)
			}
		}
		if inc.Share == 0 {
			t.Errorf("incident %d spent nothing but is listed", inc.ID)
		}
	}
	if !found {
		t.Errorf("incidents = %+v", row.Incidents)
	}
	var page bytes.Buffer
	if err := f.d.SLOReportPage(context.Background(), &page, viewerV, "2026-03"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SLO report: March 2026", "is not over", "/reports/slos.csv?month=2026-03", "/reports/slos.md?month=2026-03",
		"#39 Checkout errors", "on track", "The last 6 months", "Spent outside incidents",
		"(the month&#39;s spend less the incidents&#39; shares; SLO counts are kept per minute, so each share counts every whole minute its incident touches)"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestSLOReportBadMonth(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	for _, m := range []string{"2026-13", "March", "2026-3", "2027-01", "2026-03-01"} {
		if _, err := f.d.BuildSLOReport(context.Background(), m); !errors.Is(err, ErrInvalid) {
			t.Errorf("month %q: err = %v, want ErrInvalid", m, err)
		}
	}
}

func TestIncidentReportPage(t *testing.T) {
	f := newFixture(t, 1, 10, 1)
	f.d.opts.Reports = f.pm
	var buf bytes.Buffer
	from := fixtureNow.Add(-24 * time.Hour)
	if err := f.d.IncidentReportPage(context.Background(), &buf, viewerV, from, fixtureNow); err != nil {
		t.Fatal(err)
	}
	// The JSON link is one the session can follow (the API takes only
	// bearer tokens); the API path is text.
	jsonLink := fmt.Sprintf(`<a href="/reports/incidents.json?from=%s&amp;to=%s">`, from.Format("2006-01-02"), fixtureNow.Add(-time.Nanosecond).Format("2006-01-02"))
	for _, want := range []string{"Incident report", "<span class=\"big\">10</span> incidents", "Mean time to acknowledge", "4m", "Incidents per week", "slo-000",
		jsonLink, "<code>GET /api/v1/reports/incidents?from="} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(buf.String(), `href="/api/`) {
		t.Error("page links the API, which a browser cannot call")
	}
	rep, err := f.d.IncidentReport(context.Background(), from, fixtureNow)
	if err != nil || rep.Count != 10 {
		t.Errorf("report = %+v, %v", rep, err)
	}
	f.d.opts.Reports = nil
	if _, err := f.d.IncidentReport(context.Background(), from, fixtureNow); !errors.Is(err, ErrNotFound) {
		t.Errorf("report without incidents: err = %v, want ErrNotFound", err)
	}
}

// Charts: the time axis carries dates in the viewer's zone, labels do not
// overlap, the objective and now are marked, and a gap breaks the line.
func TestTimeChart(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var times []time.Time
	var vals []float64
	for h := 0; h <= 7*24; h++ {
		times = append(times, from.Add(time.Duration(h)*time.Hour))
		v := 0.999
		if h > 50 && h < 90 {
			v = math.NaN()
		}
		vals = append(vals, v)
	}
	c := timeChart{Label: "SLI", Title: "SLI per hour", From: from, To: times[len(times)-1], Now: times[len(times)-1],
		YMin: 0.99, YMax: 1, Loc: berlin, NoData: []span{{times[50], times[90]}},
		Lines: []chartLine{{Times: times, Values: vals, Class: "line-ok"}},
		Refs:  []refLine{{Y: 0.995, Label: "objective 99.5%", Class: "ref-objective"}}}
	for _, sz := range []chartSize{wideChart, narrowChart} {
		svg := c.draw(sz)
		for _, want := range []string{">Mar ", "objective 99.5%", ">now<", "no data", ">99.5", ">100.0", `class="ref-objective"`} {
			if !strings.Contains(svg, want) {
				t.Errorf("%s: lacks %q", sz.Class, want)
			}
		}
		if n := strings.Count(svg, "<polyline"); n != 2 {
			t.Errorf("%s: %d line segments, want 2 (broken by the gap)", sz.Class, n)
		}
		// x labels: each starts after the previous ended.
		xs := labelXs(svg, `text-anchor="middle"`)
		for i := 1; i < len(xs); i++ {
			if xs[i]-xs[i-1] < 30 {
				t.Errorf("%s: x labels %v too close", sz.Class, xs)
			}
		}
	}
}

// Four minutes of data at the end of a 30-day burn-down are narrower than a
// pixel: the line ends in a dot so the reader sees where the budget is now.
func TestTimeChartMarksAShortRun(t *testing.T) {
	to := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	from := to.Add(-30 * 24 * time.Hour)
	var times []time.Time
	var vals []float64
	for m := 4; m >= 0; m-- {
		times = append(times, to.Add(-time.Duration(m)*time.Minute))
		vals = append(vals, 0.986)
	}
	c := timeChart{Label: "Budget", Title: "Budget left", From: from, To: to, Now: to, YMin: 0, YMax: 1, Loc: time.UTC,
		Lines: []chartLine{{Times: times, Values: vals, Class: "line-critical"}}}
	svg := c.draw(wideChart)
	if !strings.Contains(svg, `<circle class="line-critical dot"`) {
		t.Errorf("a 4-minute run in a 30-day chart has no dot:\n%s", svg)
	}
	// A run wide enough to see stays a plain line.
	c.From = to.Add(-10 * time.Minute)
	if svg := c.draw(wideChart); strings.Contains(svg, "dot") {
		t.Errorf("a run across half the chart got a dot:\n%s", svg)
	}
}

// labelXs returns the x of the axis labels with the given anchor, in order.
func labelXs(svg, anchor string) []float64 {
	var out []float64
	for _, part := range strings.Split(svg, `<text class="axis" x="`)[1:] {
		end := strings.Index(part, `"`)
		if !strings.Contains(part[:strings.Index(part, ">")], anchor) || !strings.Contains(part, `y="`) {
			continue
		}
		if x, err := strconv.ParseFloat(part[:end], 64); err == nil {
			out = append(out, x)
		}
	}
	return out
}

func TestTicks(t *testing.T) {
	got := yTicks(0.99, 1, 5)
	want := []float64{1, 0.9975, 0.995, 0.9925, 0.99}
	if len(got) != len(want) {
		t.Fatalf("yTicks = %v", got)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Errorf("yTicks = %v, want %v", got, want)
		}
	}
	if s := pctTick(0.9975, got); s != "99.75%" {
		t.Errorf("pctTick = %q", s)
	}
	if s := pctTick(0.5, []float64{1, 0.5, 0}); s != "50%" {
		t.Errorf("pctTick = %q", s)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// Across the end of daylight saving time, day ticks stay on local midnight.
	ticks := timeTicks(time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 28, 0, 0, 0, 0, time.UTC), berlin, 10)
	for _, tk := range ticks {
		if lt := tk.At.In(berlin); lt.Hour() != 0 || lt.Minute() != 0 {
			t.Errorf("tick %s is not local midnight", lt)
		}
	}
	if len(ticks) != 8 || ticks[0].Label != "Oct 21" || ticks[7].Label != "Oct 28" {
		t.Errorf("ticks = %+v", ticks)
	}
}

// FuzzZone: the zone cookie comes from the browser. Any value is either
// refused or names a zone that loads; none panics.
func FuzzZone(f *testing.F) {
	d, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"Europe/Berlin", "UTC", "../../etc/passwd", "America/Argentina/Buenos_Aires", "Etc/GMT+1", "", "A/B/C/D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		loc, ok := d.Zone(name)
		if ok && (loc == nil || strings.Contains(name, "..")) {
			t.Fatalf("Zone(%q) = %v, %v", name, loc, ok)
		}
	})
}

type fixedReport postmortem.Report

func (r fixedReport) Report(context.Context, time.Time, time.Time) (postmortem.Report, error) {
	return postmortem.Report(r), nil
}

// The reports write a share of a budget as the SLO and incident pages do
// (model.FixedPercent through pct), so a small share reads "0.01%" in the
// report and on the page it links to, never "<0.1%".
func TestReportSharesReadAsPagesDo(t *testing.T) {
	f := newFixture(t, 2, 40, 1)
	pctOf := f.d.funcs(time.UTC)["pct"].(func(float64) string)
	for in, want := range map[float64]string{0.0001: "0.01%", 0.00004: "0.004%", 0.0004: "0.04%", 0.012: "1.2%", 0: "0.0%"} {
		if got, page := sharePct(in), pctOf(in); got != want || page != want {
			t.Errorf("share %v reads %q in reports and %q on pages, want %q", in, got, page, want)
		}
	}

	f.d.opts.Reports = fixedReport{From: fixtureNow.Add(-24 * time.Hour), To: fixtureNow, Count: 1,
		SLOs: []postmortem.SLOBudget{{Name: "slo-000", Incidents: 1, BudgetConsumed: 0.0001}}}
	var buf bytes.Buffer
	if err := f.d.IncidentReportPage(context.Background(), &buf, viewerV, fixtureNow.Add(-24*time.Hour), fixtureNow); err != nil {
		t.Fatal(err)
	}
	if want := `<a href="/slos/slo-000">slo-000</a></th><td class="num">1</td><td class="num">0.01%</td>`; !strings.Contains(buf.String(), want) {
		t.Errorf("incident report lacks %s:\n%s", want, buf.String())
	}

	// The monthly report: incident #39's share reads alike on the page and
	// in the Markdown.
	r, err := f.d.BuildSLOReport(context.Background(), "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	row := r.Rows[0]
	if row.Spent != pctOf(row.Summary.Consumed) {
		t.Errorf("spent %q, want %q", row.Spent, pctOf(row.Summary.Consumed))
	}
	var share string
	for _, inc := range row.Incidents {
		if inc.ID == 39 {
			share = inc.ShareStr
		}
	}
	if share != "1.1%" {
		t.Fatalf("incident 39 share %q, want 1.1%%", share)
	}
	buf.Reset()
	if err := f.d.SLOReportPage(context.Background(), &buf, viewerV, "2026-03"); err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := f.d.SLOReportMarkdown(context.Background(), &md, "2026-03"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| #39 Checkout errors above threshold (38) | critical | 2026-03-02 09:16 | 1.1% |") {
		t.Errorf("markdown lacks incident 39 at 1.1%%:\n%s", md.String())
	}
	if !regexp.MustCompile(`#39 Checkout errors above threshold \(38\)</a>.*?<td class="num" data-label="Budget spent">1\.1%</td>`).MatchString(buf.String()) {
		t.Errorf("page lacks incident 39 at 1.1%%")
	}
}

// The incident report says which whole minutes each SLO's budget consumed
// counts: one span as the incident page writes it, several as their
// number of minutes with the spans listed (09:00 to 09:11 is 11; 10:20 to
// 10:22:31 touches 10:20, 10:21 and 10:22: 14 in all).
func TestIncidentReportNamesTheMinutesCounted(t *testing.T) {
	f := newFixture(t, 2, 40, 1)
	one := []postmortem.CountedSpan{{CountedFrom: fixtureNow.Add(-90 * time.Minute), CountedTo: fixtureNow.Add(-79 * time.Minute)}}
	two := append(one, postmortem.CountedSpan{CountedFrom: fixtureNow.Add(-10 * time.Minute), CountedTo: fixtureNow.Add(-7*time.Minute - 29*time.Second)})
	f.d.opts.Reports = fixedReport{From: fixtureNow.Add(-24 * time.Hour), To: fixtureNow, Count: 3, SLOs: []postmortem.SLOBudget{
		{Name: "slo-000", Incidents: 1, BudgetConsumed: 0.0021, Counted: one, CountedMinutes: 11},
		{Name: "slo-001", Incidents: 2, BudgetConsumed: 0.0034, Counted: two, CountedMinutes: 14},
		{Name: "slo-002", Incidents: 1, Counted: []postmortem.CountedSpan{}},
	}}
	var buf bytes.Buffer
	if err := f.d.IncidentReportPage(context.Background(), &buf, viewerV, fixtureNow.Add(-24*time.Hour), fixtureNow); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		`<td class="num">0.21%</td><td><time datetime="2026-03-02T09:00:00Z" title="1h30m ago">Mar 2 09:00 UTC</time> to <time datetime="2026-03-02T09:11:00Z" title="1h19m ago">Mar 2 09:11 UTC</time> (whole minutes)</td>`,
		`<td class="num">0.34%</td><td><details><summary>14 whole minutes, in 2 spans</summary><ul><li><time datetime="2026-03-02T09:00:00Z"`,
		`<li><time datetime="2026-03-02T10:20:00Z" title="10m ago">Mar 2 10:20 UTC</time> to <time datetime="2026-03-02T10:22:31Z" title="7m ago">Mar 2 10:22:31 UTC</time></li></ul></details>`,
		`<a href="/slos/slo-002">slo-002</a></th><td class="num">1</td><td class="num">0%</td><td>–</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("incident report lacks %s:\n%s", want, page)
		}
	}
}
