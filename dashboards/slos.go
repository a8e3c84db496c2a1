package dashboards

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slo"
)

// burnRateWindow is the burn rate the overview shows as "current": the
// one-hour rate, the same one time to exhaustion projects with.
const burnRateWindow = "1h"

// health is an SLO's (or probe's) colour and its word, so colour is never
// the only signal.
type health struct {
	Class string // ok, warning, critical, nodata
	Text  string
}

func sloHealth(st slo.Status) health {
	if st.Window.Total == 0 {
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
	Remaining                        float64
	Burn                             float64
	TTE                              string
	Health                           health
	Bar, BurnDown                    template.HTML
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
}

// Overview renders the SLO overview (also the home page): every SLO with
// its objective, SLI, budget bar, burn-down over the window, current burn
// rate and status, optionally only those of one service, under a summary of
// open incidents, failing probes and who is on call.
func (d *Dashboards) Overview(ctx context.Context, w io.Writer, v Viewer, service string) error {
	data := overviewData{Service: service}
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
			data.Rows = append(data.Rows, d.sloRow(ctx, st, h))
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

func (d *Dashboards) sloRow(ctx context.Context, st slo.Status, h health) sloRow {
	sp := st.Spec
	r := sloRow{
		Name: sp.Name, Service: sp.Service, Indicator: sp.SLIText(), Window: sp.Window.String(),
		Objective: trimFloat(sp.Objective) + "%", SLI: sliPct(st.SLI), Remaining: st.BudgetRemaining,
		Burn: st.BurnRates[burnRateWindow], Health: h, TTE: "–",
	}
	if st.TimeToExhaustion != nil {
		r.TTE = human(*st.TimeToExhaustion)
	}
	if st.Window.Total == 0 {
		r.SLI = "–"
	}
	r.Bar = budgetBar(st.BudgetRemaining, h.Class)
	r.BurnDown = burnDownChart(d.burnDown(ctx, st), h.Class,
		fmt.Sprintf("budget burn-down over the %s window: %s left now", sp.Window.String(), pct(st.BudgetRemaining, 1)))
	return r
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.4f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// burnDownPoints is about how many points a burn-down has.
const burnDownPoints = 20

// burnDown computes the budget remaining at points across the current
// window: the bad events counted from the window's start to each point,
// against the budget of the window's events so far. Segments end on whole
// hours, so the engine sums hours, not minutes.
func (d *Dashboards) burnDown(ctx context.Context, st slo.Status) []point {
	if st.Period <= 0 || st.Window.Total == 0 {
		return []point{{0, 1}, {clamp(st.At.Sub(st.WindowStart).Seconds()/st.Period.Seconds(), 0, 1), 1}}
	}
	budget := st.Spec.Budget * float64(st.Window.Total)
	step := (st.Period / burnDownPoints).Truncate(time.Hour)
	if step < time.Hour {
		step = time.Hour
	}
	x := func(t time.Time) float64 { return t.Sub(st.WindowStart).Seconds() / st.Period.Seconds() }
	pts := []point{{0, 1}}
	var bad int64
	from := st.WindowStart
	for next := st.WindowStart.Truncate(time.Hour).Add(step); ; next = next.Add(step) {
		to, at := next, next
		last := !next.Before(st.At)
		if last {
			// The engine sums whole minutes; the status counts the
			// current, unfinished one, so the last segment does too.
			to, at = st.At.Truncate(time.Minute).Add(time.Minute), st.At
		}
		if to.After(from) {
			c, err := d.segment(ctx, st.Spec.Name, from, to, !last)
			if err != nil {
				d.log.Debug("burn-down segment", "slo", st.Spec.Name, "err", err)
				return pts
			}
			bad += c.Total - c.Good
			pts = append(pts, point{x(at), 1 - float64(bad)/budget})
			from = to
		}
		if last {
			return pts
		}
	}
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
	Row          sloRow
	Description  string
	Status       slo.Status
	WindowGood   string
	WindowTotal  string
	BadEvents    string
	BudgetEvents string
	Minutes      string
	Burns        []burnRow
	Tiers        []tierRow
	History      template.HTML
	BurnDownBig  template.HTML
	Incidents    []impactRow
	HasIncidents bool
}

// maxSLOIncidents bounds the incidents listed on an SLO's page.
const maxSLOIncidents = 10

// SLO renders one SLO: burn rates per window, the burn-rate tiers, the
// budget history and the incidents that consumed its budget.
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
	data := sloData{Row: d.sloRow(ctx, st, h), Description: st.Spec.Description, Status: st}
	data.WindowGood = group(fmt.Sprint(st.Window.Good))
	data.WindowTotal = group(fmt.Sprint(st.Window.Total))
	data.BadEvents = group(fmt.Sprint(st.Window.Total - st.Window.Good))
	data.BudgetEvents = fmt.Sprintf("%.0f", st.BudgetEvents)
	data.Minutes = human(time.Duration(st.RemainingMinutes * float64(time.Minute)))
	if st.RemainingMinutes < 0 {
		data.Minutes = "none (overspent by " + human(time.Duration(-st.RemainingMinutes*float64(time.Minute))) + ")"
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
	data.BurnDownBig = burnDownChart(d.burnDown(ctx, st), h.Class,
		fmt.Sprintf("budget burn-down over the %s window: %s left now", st.Spec.Window.String(), pct(st.BudgetRemaining, 1)))
	hist, err := d.opts.SLOs.History(ctx, name)
	if err == nil {
		times := make([]time.Time, len(hist))
		ys := make([]float64, len(hist))
		for i, p := range hist {
			times[i], ys[i] = p.At, p.BudgetRemaining
		}
		data.History = lineChart(times, ys, h.Class,
			fmt.Sprintf("error budget remaining over the last 7 days, now %s", pct(st.BudgetRemaining, 1)),
			func(f float64) string { return pct(f, 0) }, d.loc)
	}
	if d.opts.Incidents != nil {
		data.HasIncidents = true
		data.Incidents = d.sloIncidents(ctx, name, st.Spec.Service)
	}
	return d.render(w, "slo", page{Title: "SLO " + name, Nav: "slos", Viewer: v, Data: data})
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

// segmentTTL is how long a closed burn-down segment's counts are reused:
// late events (the events API accepts some) show up within it.
const segmentTTL = time.Minute

// maxSegments bounds the segment cache; past it, it starts over.
const maxSegments = 50_000

type segmentKey struct {
	slo      string
	from, to int64
}

type segmentVal struct {
	c  slo.Counts
	at time.Time
}

// segment returns the events of name in [from, to), reusing a closed
// segment's counts for segmentTTL: the overview draws every SLO's
// burn-down, and asking the engine for each segment of each SLO on every
// render is what would make the page slow.
func (d *Dashboards) segment(ctx context.Context, name string, from, to time.Time, closed bool) (slo.Counts, error) {
	key := segmentKey{name, from.UnixNano(), to.UnixNano()}
	now := d.now()
	if closed {
		d.segMu.Lock()
		v, ok := d.segments[key]
		d.segMu.Unlock()
		if ok && now.Sub(v.at) < segmentTTL {
			return v.c, nil
		}
	}
	c, err := d.opts.SLOs.Consumed(ctx, name, from, to)
	if err != nil {
		return slo.Counts{}, err
	}
	counts := slo.Counts{Good: c.Good, Total: c.Total}
	if closed {
		d.segMu.Lock()
		if len(d.segments) >= maxSegments {
			clear(d.segments)
		}
		d.segments[key] = segmentVal{counts, now}
		d.segMu.Unlock()
	}
	return counts, nil
}
