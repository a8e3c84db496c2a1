package dashboards

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/changes"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slo"
)

// burnRateWindow is the burn rate the overview shows as "current": the
// one-hour rate, the hour whose spend time to exhaustion projects.
const burnRateWindow = "1h"

// health is an SLO's (or probe's) colour and its word, so colour is never
// the only signal.
type health struct {
	Class string // ok, warning, critical, nodata
	Text  string
}

func sloHealth(st slo.Status) health {
	if st.Budget.NoData {
		return health{"nodata", "No data"}
	}
	for _, t := range st.Tiers {
		if t.Firing && t.Severity == model.SeverityCritical {
			return health{"critical", "Burning fast"}
		}
	}
	if st.Exhausted || st.BudgetRemaining <= 0 {
		return health{"critical", "Budget spent"}
	}
	for _, t := range st.Tiers {
		if t.Firing {
			return health{"warning", "Burning"}
		}
	}
	if st.BudgetRemaining < 0.25 {
		return health{"warning", "Budget low"}
	}
	return health{"ok", "Healthy"}
}

// sloRow is one SLO on the overview.
type sloRow struct {
	Name, Service, Indicator, Window string
	Objective                        string
	SLI                              string
	// Coverage says how much of the window has data ("data for 3 of 30
	// days"), empty when all of it has.
	Coverage  string
	Remaining float64
	// Spent says what was spent of what in the budget's units.
	Spent string
	// Projected is true when the budget's allowance is extrapolated from
	// the traffic seen so far (event SLIs early in their window), so the
	// figures move as traffic comes in.
	Projected bool
	Burn      float64
	// TTE is when the budget runs out at the rate the last hour spent it;
	// TTEBasis says over what: the hour, or the part of it with data.
	TTE, TTEBasis string
	Health        health
	Bar, BurnDown template.HTML
}

// summary is the strip at the top of the overview: what needs attention.
type summary struct {
	SLOs, SLOsAtRisk         int
	OpenIncidents, Triggered int
	HasIncidents             bool
	Probes, FailingProbes    int
	HasProbes                bool
	OnCall                   []string
}

type overviewData struct {
	Configured bool
	Services   []string
	Service    string
	Rows       []sloRow
	Summary    summary
	// ReportMonth is the month the report link opens (the current one).
	ReportMonth string
	// Projected is true when some row's budget is projected: the page then
	// explains the mark under the table.
	Projected bool
}

// projectedNote explains a budget marked "(projected)".
const projectedNote = "the window's allowance is projected from the traffic seen so far, so the budget left can change as traffic comes in, even without new bad events"

// Overview renders the SLO overview (also the home page): every SLO with
// its objective, SLI, budget bar, burn-down over the window, current burn
// rate and status, optionally only those of one service, under a summary of
// open incidents, failing probes and who is on call.
func (d *Dashboards) Overview(ctx context.Context, w io.Writer, v Viewer, service string) error {
	data := overviewData{Service: service, ReportMonth: d.now().In(d.zoneOf(v)).Format("2006-01")}
	if d.opts.SLOs != nil {
		data.Configured = true
		services := map[string]bool{}
		for _, st := range d.opts.SLOs.Statuses(ctx) {
			if st.Spec.Service != "" {
				services[st.Spec.Service] = true
			}
			h := sloHealth(st)
			data.Summary.SLOs++
			if h.Class == "critical" || h.Class == "warning" {
				data.Summary.SLOsAtRisk++
			}
			if service != "" && st.Spec.Service != service {
				continue
			}
			r := d.sloRow(ctx, v, st, h)
			data.Projected = data.Projected || r.Projected
			data.Rows = append(data.Rows, r)
		}
		for s := range services {
			data.Services = append(data.Services, s)
		}
		slices.Sort(data.Services)
	}
	d.fillSummary(ctx, &data.Summary)
	title := "SLO overview"
	if service != "" {
		title = "SLOs of " + service
	}
	return d.render(w, "slos", page{Title: title, Nav: "slos", Viewer: v, Data: data})
}

func (d *Dashboards) sloRow(ctx context.Context, v Viewer, st slo.Status, h health) sloRow {
	sp := st.Spec
	r := sloRow{
		Name: sp.Name, Service: sp.Service, Indicator: sp.SLIText(), Window: sp.Window.String(),
		Objective: trimFloat(sp.Objective) + "%", SLI: sliPct(st.SLI), Remaining: st.BudgetRemaining,
		Burn: st.BurnRates[burnRateWindow], Health: h, TTE: "–",
		Coverage: coverageText(st.Budget), Spent: spentText(st.Budget), Projected: st.Budget.Projected,
	}
	if st.TimeToExhaustion != nil {
		r.TTE = human(*st.TimeToExhaustion)
		r.TTEBasis = "at the last hour's rate"
		if st.HourObserved > 0 && st.HourObserved < time.Hour {
			r.TTEBasis = "at the rate of the last " + model.Elapsed(st.HourObserved) + ", all the data there is"
		}
	}
	if st.Budget.NoData {
		r.SLI = "–"
	}
	r.Bar = budgetBar(st.BudgetRemaining, h.Class)
	r.BurnDown = d.burnDownChart(ctx, v, st, h).mini()
	return r
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.4f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// burnDownChart draws the budget left across the current window, from the
// first data to now, against an even burn; the time before the first data
// is marked as having none.
func (d *Dashboards) burnDownChart(ctx context.Context, v Viewer, st slo.Status, h health) timeChart {
	left := pct(st.BudgetRemaining, 1) + " left now"
	if st.Budget.Projected {
		left += " (projected: " + projectedNote + ")"
	}
	c := timeChart{
		Label: fmt.Sprintf("Error budget left over the %s window, from %s to %s: %s",
			st.Spec.Window.String(), st.WindowStart.In(d.zoneOf(v)).Format("Jan 2"),
			st.WindowStart.Add(st.Period).In(d.zoneOf(v)).Format("Jan 2"), left),
		Title: "Budget left",
		From:  st.WindowStart, To: st.WindowStart.Add(st.Period), Now: st.At, YMin: 0, YMax: 1, Ideal: true,
		Refs: []refLine{{Y: 0, Label: "budget spent", Class: "ref-zero"}},
		Loc:  d.zoneOf(v),
	}
	_, pts, err := d.opts.SLOs.BurnDown(ctx, st.Spec.Name)
	if err != nil {
		d.log.Debug("burn-down", "slo", st.Spec.Name, "err", err)
	}
	if len(pts) == 0 {
		c.NoData = []span{{st.WindowStart, st.At}}
		return c
	}
	line := chartLine{Class: "line-" + h.Class}
	for _, p := range pts {
		line.Times = append(line.Times, p.At)
		line.Values = append(line.Values, p.Remaining)
		c.YMin = math.Min(c.YMin, niceFloor(p.Remaining))
	}
	c.Lines = []chartLine{line}
	if pts[0].At.After(st.WindowStart) {
		c.NoData = []span{{st.WindowStart, pts[0].At}}
	}
	return c
}

// coverageText says how much of a window has data, when not all of it:
// "data for 3 of 30 days", "data for 30 seconds of 30 days".
func coverageText(b slo.Budget) string {
	if b.NoData && b.Observed == 0 {
		return "no data yet"
	}
	if b.Coverage >= 1 {
		return ""
	}
	return "data for " + spanText(b.Observed, b.Period)
}

// spanText spells "3 of 30 days" or "5 hours of 30 days".
func spanText(part, whole time.Duration) string {
	pn, pu := spell(part)
	wn, wu := spell(whole)
	if strings.TrimSuffix(pu, "s") == strings.TrimSuffix(wu, "s") {
		return fmt.Sprintf("%s of %s %s", pn, wn, wu)
	}
	return fmt.Sprintf("%s %s of %s %s", pn, pu, wn, wu)
}

// spell rounds d down to its largest unit: ("3", "days"), ("1", "hour").
func spell(d time.Duration) (string, string) {
	units := []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}}
	for _, u := range units {
		if d >= u.d || u.d == time.Second {
			n := int64(d / u.d)
			if n == 1 {
				return "1", u.name
			}
			return group(strconv.FormatInt(n, 10)), u.name + "s"
		}
	}
	return "0", "seconds"
}

// unitWords names a budget's units: singular and plural of a bad one.
func unitWords(b slo.Budget) (one, many string) {
	switch b.Unit {
	case "runs":
		return "failed probe run", "failed probe runs"
	case "slices":
		if m, ok := b.Minutes(1); ok && m == 1 {
			return "bad minute", "bad minutes"
		} else if ok {
			return fmt.Sprintf("bad %s slice", human(time.Duration(m*float64(time.Minute)))), fmt.Sprintf("bad %s slices", human(time.Duration(m*float64(time.Minute))))
		}
	}
	return "bad event", "bad events"
}

// spentText says what was spent of what: "20 of 2,592 allowed failed
// probe runs".
func spentText(b slo.Budget) string {
	if b.Allowed <= 0 {
		return ""
	}
	_, many := unitWords(b)
	return fmt.Sprintf("%s of %s allowed %s", amount(b.Spent), amount(b.Allowed), many)
}

// amount formats a count of units: whole numbers grouped, fractions to
// one decimal (a 99.9% budget of 432 slices allows 0.4 of one).
func amount(v float64) string {
	if math.Abs(v-math.Round(v)) < 0.05 {
		return count(math.Round(v))
	}
	if v >= 100 {
		return count(math.Round(v))
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// fillSummary counts open incidents, failing probes and who is on call;
// each part that is not configured or fails is left out.
func (d *Dashboards) fillSummary(ctx context.Context, s *summary) {
	if d.opts.Incidents != nil {
		open, err := d.opts.Incidents.List(ctx, incidents.ListQuery{Status: "open", Limit: incidents.MaxListLimit})
		if err == nil {
			s.HasIncidents = true
			s.OpenIncidents = len(open)
			for _, inc := range open {
				if inc.Status == incidents.StatusTriggered {
					s.Triggered++
				}
			}
		}
	}
	if d.opts.Probes != nil {
		list, err := d.opts.Probes.List(ctx)
		if err == nil {
			s.HasProbes = true
			s.Probes = len(list)
			for _, p := range list {
				if p.Failing {
					s.FailingProbes++
				}
			}
		}
	}
	if d.opts.OnCall != nil {
		now := d.now()
		ovs, err := d.opts.OnCall.Overrides(ctx, now)
		if err == nil {
			for _, sc := range d.opts.OnCall.Schedules() {
				if who := sc.Who(now, ovs); who != "" {
					s.OnCall = append(s.OnCall, who+" ("+sc.Name+")")
				}
			}
		}
	}
}

// burnRow is one burn-rate window on the SLO page.
type burnRow struct {
	Window string
	Rate   float64
	Events int64
	Class  string
}

// tierRow is one multi-window multi-burn-rate tier on the SLO page.
type tierRow struct {
	Name, Severity, Long, Short string
	Factor, LongRate, ShortRate float64
	Firing                      bool
}

// impactRow is an incident that consumed the SLO's budget.
type impactRow struct {
	ID       int64
	Title    string
	Status   string
	Severity string
	Created  time.Time
	Consumed float64
}

type sloData struct {
	Row         sloRow
	Description string
	Status      slo.Status
	WindowGood  string
	WindowTotal string
	BadEvents   string
	// Budget facts in words: the budget and how it is counted, what is
	// left in outage time where that is real, and how much data there is.
	BudgetText   string
	OutageLeft   string
	CoverageText string
	Burns        []burnRow
	Tiers        []tierRow
	BurnDownBig  template.HTML
	SLIHistory   template.HTML
	History      template.HTML
	Incidents    []impactRow
	HasIncidents bool
}

// maxSLOIncidents bounds the incidents listed on an SLO's page.
const maxSLOIncidents = 10

// SLO renders one SLO: its budget in words, the burn-down of the window,
// the hourly SLI and the budget of the last seven days, burn rates per
// window, the burn-rate tiers and the incidents that consumed its budget.
func (d *Dashboards) SLO(ctx context.Context, w io.Writer, v Viewer, name string) error {
	if d.opts.SLOs == nil {
		return fmt.Errorf("SLO %q: %w", name, ErrNotFound)
	}
	st, err := d.opts.SLOs.Status(ctx, name)
	if err != nil {
		var nf interface{ NotFound() bool }
		if errors.Is(err, slo.ErrNotFound) || (errors.As(err, &nf) && nf.NotFound()) {
			return fmt.Errorf("SLO %q: %w", name, ErrNotFound)
		}
		return err
	}
	h := sloHealth(st)
	loc := d.zoneOf(v)
	data := sloData{Row: d.sloRow(ctx, v, st, h), Description: st.Spec.Description, Status: st}
	data.WindowGood = group(fmt.Sprint(st.Window.Good))
	data.WindowTotal = group(fmt.Sprint(st.Window.Total))
	data.BadEvents = group(fmt.Sprint(st.Window.Total - st.Window.Good))
	data.BudgetText = budgetText(st)
	data.CoverageText = windowCoverage(st, loc)
	if m, ok := st.Budget.Minutes(st.Budget.Allowed - st.Budget.Spent); ok {
		what := "of failing checks"
		if st.Budget.Unit == "slices" {
			what = "of bad slices"
		}
		data.OutageLeft = human(time.Duration(m*float64(time.Minute))) + " " + what
		if m < 0 {
			data.OutageLeft = "none: overspent by " + human(time.Duration(-m*float64(time.Minute))) + " " + what
		}
	}
	for _, bw := range slo.BurnWindows {
		r := st.BurnRates[bw.Name]
		data.Burns = append(data.Burns, burnRow{Window: bw.Name, Rate: r, Events: st.WindowEvents[bw.Name], Class: rateClass(r)})
	}
	data.Burns = append(data.Burns, burnRow{Window: "window (" + st.Spec.Window.String() + ")", Rate: st.BurnRates["window"], Events: st.Window.Total, Class: rateClass(st.BurnRates["window"])})
	for _, t := range st.Tiers {
		data.Tiers = append(data.Tiers, tierRow{
			Name: t.Name, Severity: string(t.Severity), Long: human(t.LongWindow), Short: human(t.ShortWindow),
			Factor: t.Factor, LongRate: t.LongRate, ShortRate: t.ShortRate, Firing: t.Firing,
		})
	}
	bd := d.burnDownChart(ctx, v, st, h)
	hist, herr := d.opts.SLOs.History(ctx, name)
	from := bd.From
	if herr == nil && len(hist) > 0 && hist[0].At.Add(-time.Hour).Before(from) {
		from = hist[0].At.Add(-time.Hour)
	}
	marks := d.changeMarks(ctx, st.Spec.Service, from, st.At, loc)
	bd.Marks = marks
	data.BurnDownBig = bd.render()
	if herr == nil && len(hist) > 0 {
		data.SLIHistory, data.History = historyCharts(st, hist, h, loc, marks)
	}
	if d.opts.Incidents != nil {
		data.HasIncidents = true
		data.Incidents = d.sloIncidents(ctx, name, st.Spec.Service)
	}
	return d.render(w, "slo", page{Title: "SLO " + name, Nav: "slos", Viewer: v, Data: data})
}

// budgetText says how the budget is counted and what is spent of it.
func budgetText(st slo.Status) string {
	b := st.Budget
	if b.Allowed <= 0 {
		return "No budget yet: nothing has been counted in this window."
	}
	one, many := unitWords(b)
	obj := trimFloat(st.Spec.Objective) + "%"
	var basis string
	switch {
	case b.Unit == "runs":
		basis = fmt.Sprintf("the window expects %s probe runs (every %s); %s of them may fail", amount(b.Expected),
			human(st.Spec.ProbeInterval), amount(b.Allowed))
	case b.Unit == "slices":
		target := ""
		if st.Spec.Budgeting == slo.Timeslices {
			target = fmt.Sprintf(" (a slice is good when at least %s of its events are)", trimFloat(st.Spec.SliceTarget*100)+"%")
		} else {
			target = " (each slice spends its share of bad events)"
		}
		basis = fmt.Sprintf("the window has %s time slices%s; %s may be bad", amount(b.Expected), target, amount(b.Allowed))
	case b.Projected:
		basis = fmt.Sprintf("%s %s seen so far project to %s over the window; %s of them may be bad",
			group(strconv.FormatInt(st.Window.Total, 10)), plural(st.Window.Total, "event", "events"), amount(b.Expected), amount(b.Allowed))
	default:
		basis = fmt.Sprintf("%s of the window's %s events may be bad", amount(b.Allowed), amount(b.Expected))
	}
	unit := many
	if b.Spent == 1 {
		unit = one
	}
	return fmt.Sprintf("At %s, %s. Spent: %s %s (%s of the budget).", obj, basis, amount(b.Spent), unit, pct(b.Consumed, 1))
}

// windowCoverage says over which dates the window runs and how much of it
// has data.
func windowCoverage(st slo.Status, loc *time.Location) string {
	from := st.WindowStart.In(loc).Format("Jan 2 15:04")
	to := st.WindowStart.Add(st.Period).In(loc).Format("Jan 2 15:04")
	c := coverageText(st.Budget)
	if c == "" {
		c = "data for all of it"
	}
	return fmt.Sprintf("%s to %s: %s", from, to, c)
}

// changeMarks are the changes to service in [from, to], as chart marks
// titled with their kind, title, time in loc and reporter; none for an
// SLO of no service.
func (d *Dashboards) changeMarks(ctx context.Context, service string, from, to time.Time, loc *time.Location) []chartMark {
	if d.opts.Changes == nil || service == "" {
		return nil
	}
	cs, err := d.opts.Changes.List(ctx, changes.Query{Service: service, From: from, To: to.Add(time.Second), Limit: changes.MaxLimit})
	if err != nil {
		d.log.Warn("changes for an SLO chart", "service", service, "err", err)
		return nil
	}
	marks := make([]chartMark, 0, len(cs))
	for _, c := range cs {
		title := fmt.Sprintf("%s: %s (%s)", c.Kind, c.Title, c.At.In(loc).Format("Jan 2 15:04 MST"))
		if c.RecordedBy != "" {
			title += ", reported by " + c.RecordedBy
		}
		marks = append(marks, chartMark{At: c.At, Title: title})
	}
	return marks
}

// historyCharts draws the hourly SLI against the objective and the
// window's budget left at each hour, over the last seven days; hours
// without data are gaps.
func historyCharts(st slo.Status, hist []slo.HistoryPoint, h health, loc *time.Location, marks []chartMark) (sliChart, budgetChart template.HTML) {
	from, to := hist[0].At.Add(-time.Hour), hist[len(hist)-1].At
	times := make([]time.Time, len(hist))
	hourly := make([]float64, len(hist))
	budget := make([]float64, len(hist))
	var gaps, before []span
	for i, p := range hist {
		times[i], hourly[i], budget[i] = p.At, p.HourSLI, p.BudgetRemaining
		start := p.At.Add(-time.Hour)
		if i > 0 {
			start = hist[i-1].At
		}
		if math.IsNaN(p.HourSLI) {
			gaps = appendSpan(gaps, span{start, p.At})
		}
		if math.IsNaN(p.BudgetRemaining) {
			before = appendSpan(before, span{start, p.At})
		}
	}
	obj := st.Spec.Objective / 100
	lo, hi := sliRange(obj, hourly)
	sc := timeChart{
		Label: fmt.Sprintf("SLI of each hour over the last 7 days against the objective of %s", trimFloat(st.Spec.Objective)+"%"),
		Title: "SLI per hour", From: from, To: to, Now: to, YMin: lo, YMax: hi, Loc: loc, NoData: gaps,
		Lines: []chartLine{{Times: times, Values: hourly, Class: "line-" + lineClass(h.Class)}},
		Refs:  []refLine{{Y: obj, Label: "objective " + trimFloat(st.Spec.Objective) + "%", Class: "ref-objective"}},
		Marks: marks,
	}
	blo := 0.0
	for _, v := range budget {
		if !math.IsNaN(v) {
			blo = math.Min(blo, niceFloor(v))
		}
	}
	bc := timeChart{
		Label: fmt.Sprintf("Error budget left over the %s window as it stood at each hour of the last 7 days, now %s",
			st.Spec.Window.String(), pct(st.BudgetRemaining, 1)),
		Title: "Budget left", From: from, To: to, Now: to, YMin: blo, YMax: 1, Loc: loc, NoData: before,
		Lines: []chartLine{{Times: times, Values: budget, Class: "line-" + lineClass(h.Class)}},
		Refs:  []refLine{{Y: 0, Label: "budget spent", Class: "ref-zero"}},
		Marks: marks,
	}
	return sc.render(), bc.render()
}

// lineClass is the line colour for a health class ("nodata" draws grey).
func lineClass(class string) string {
	if class == "" {
		return "nodata"
	}
	return class
}

// appendSpan adds s to spans, merging it with the last when they touch.
func appendSpan(spans []span, s span) []span {
	if n := len(spans); n > 0 && !s.From.After(spans[n-1].To) {
		spans[n-1].To = s.To
		return spans
	}
	return append(spans, s)
}

// sloIncidentScan bounds how many recent incidents are searched for those
// that point at an SLO.
const sloIncidentScan = 200

// sloIncidents finds the recent incidents that point at the SLO: by name
// (alerts on it) or, as the incident service's budget source does, by the
// SLO's service label.
func (d *Dashboards) sloIncidents(ctx context.Context, name, service string) []impactRow {
	list, err := d.opts.Incidents.List(ctx, incidents.ListQuery{Limit: sloIncidentScan})
	if err != nil {
		d.log.Warn("list incidents for an SLO page", "slo", name, "err", err)
		return nil
	}
	var out []impactRow
	for _, inc := range list {
		if !slices.Contains(inc.SLONames, name) && (service == "" || inc.Labels["service"] != service) {
			continue
		}
		row := impactRow{ID: inc.ID, Title: inc.Title, Status: string(inc.Status), Severity: string(inc.Severity), Created: inc.CreatedAt}
		for _, im := range d.opts.Incidents.SLOImpact(ctx, inc) {
			if im.Name == name {
				row.Consumed = im.BudgetConsumed
			}
		}
		out = append(out, row)
		if len(out) == maxSLOIncidents {
			break
		}
	}
	return out
}

func rateClass(r float64) string {
	switch {
	case r >= 6:
		return "critical"
	case r > 1:
		return "warning"
	}
	return "ok"
}
