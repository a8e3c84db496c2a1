package dashboards

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"slices"
	"time"

	"github.com/sentinel-oss/sentinel/probes"
)

type probeCard struct {
	Name, Kind, Target, Location string
	Health                       health
	Since                        *time.Time
	LastAt                       time.Time
	LastDuration                 string
	LastError                    string
	Service                      string
}

type probesData struct {
	Configured bool
	Cards      []probeCard
	Failing    int
}

func probeHealth(p probes.Status) health {
	switch {
	case p.LastRun == nil:
		return health{"nodata", "Not run yet"}
	case p.Failing:
		return health{"critical", "Failing"}
	case !p.LastRun.Success:
		return health{"warning", "Last run failed"}
	}
	return health{"ok", "Passing"}
}

// Probes renders the status grid: one card per probe, failing ones first.
func (d *Dashboards) Probes(ctx context.Context, w io.Writer, v Viewer) error {
	data := probesData{}
	if d.opts.Probes != nil {
		data.Configured = true
		list, err := d.opts.Probes.List(ctx)
		if err != nil {
			return fmt.Errorf("list probes: %w", err)
		}
		for _, p := range list {
			c := probeCard{Name: p.Name, Kind: string(p.Kind), Target: p.Target, Location: p.Location, Health: probeHealth(p), Since: p.Since, Service: p.Labels["service"]}
			if c.Kind == "" {
				c.Kind = "http"
			}
			if p.LastRun != nil {
				c.LastAt = p.LastRun.At
				c.LastDuration = secs(p.LastRun.Duration.Std().Seconds())
				c.LastError = p.LastRun.Error
			}
			if c.Health.Class == "critical" {
				data.Failing++
			}
			data.Cards = append(data.Cards, c)
		}
		rank := map[string]int{"critical": 0, "warning": 1, "nodata": 2, "ok": 3}
		slices.SortStableFunc(data.Cards, func(a, b probeCard) int { return rank[a.Health.Class] - rank[b.Health.Class] })
	}
	return d.render(w, "probes", page{Title: "Probes", Nav: "probes", Viewer: v, Data: data})
}

type stepRow struct {
	probes.StepResult
	DurationText string
	Phases       []phaseCell
}

type phaseCell struct {
	Name, Value string
}

type historyRow struct {
	ID, Location, Error, Duration string
	At                            time.Time
	Success                       bool
}

type failureView struct {
	Run        probes.Result
	Step       *probes.StepResult
	Screenshot string // UI URL of the screenshot, "" when none
}

type probeData struct {
	// Selected is the run asked for by ?run= (a failed run an alert links
	// to); Missing names it when it is no longer kept.
	Selected  *runView
	Missing   string
	Card      probeCard
	Interval  string
	Last      *probes.Result
	Steps     []stepRow
	Waterfall template.HTML
	Strip     template.HTML
	History   []historyRow
	Failure   *failureView
	Phases    []string
	Passed    int
	Runs      int
}

// runView is one run shown in full: its steps and its failure.
type runView struct {
	Run     probes.Result
	Steps   []stepRow
	Failure *failureView
}

// probeHistoryRuns is how many recent runs the probe page shows.
const probeHistoryRuns = 50

// Probe renders one probe: its latest run as a per-step timing waterfall,
// the recent runs, and the last failure with its response excerpt or the
// browser's screenshot (served by web at ScreenshotPath).
func (d *Dashboards) Probe(ctx context.Context, w io.Writer, v Viewer, name string) error {
	return d.ProbeRun(ctx, w, v, name, "")
}

// ProbeRun renders the probe page with one run shown in full at its top,
// anchored as #run-<id>: the failed run an alert links to. A run no longer
// kept is said to be gone; the rest of the page is as Probe's.
func (d *Dashboards) ProbeRun(ctx context.Context, w io.Writer, v Viewer, name, runID string) error {
	if d.opts.Probes == nil {
		return fmt.Errorf("probe %q: %w", name, ErrNotFound)
	}
	list, err := d.opts.Probes.List(ctx)
	if err != nil {
		return fmt.Errorf("list probes: %w", err)
	}
	i := slices.IndexFunc(list, func(p probes.Status) bool { return p.Name == name })
	if i < 0 {
		return fmt.Errorf("probe %q: %w", name, ErrNotFound)
	}
	st := list[i]
	runs, err := d.opts.Probes.Results(ctx, name, probeHistoryRuns, "")
	if err != nil && !errors.Is(err, probes.ErrNotFound) {
		return fmt.Errorf("probe %q results: %w", name, err)
	}
	data := probeData{Card: probeCard{Name: st.Name, Kind: string(st.Kind), Target: st.Target, Location: st.Location, Health: probeHealth(st), Since: st.Since, Service: st.Labels["service"]},
		Interval: st.Interval.String(), Phases: phaseOrder, Runs: len(runs)}
	if data.Card.Kind == "" {
		data.Card.Kind = "http"
	}
	last := st.LastRun
	if len(runs) > 0 {
		last = &runs[0]
	}
	if last != nil {
		data.Last = last
		var wf []waterfallStep
		start := 0.0
		data.Steps = stepRows(last.Steps)
		for _, s := range last.Steps {
			total := s.Duration.Std().Seconds()
			wf = append(wf, waterfallStep{Name: s.Name, Start: start, Total: total, Phases: s.Phases, Success: s.Success})
			start += total
		}
		if len(wf) > 0 {
			data.Waterfall = waterfall(wf, fmt.Sprintf("timing of each step of the latest run, %s in all", secs(last.Duration.Std().Seconds())))
		}
	}
	strip := make([]stripRun, 0, len(runs))
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		word := "passed"
		if !r.Success {
			word = "failed"
		}
		strip = append(strip, stripRun{Success: r.Success, Title: r.At.In(d.zoneOf(v)).Format("Jan 2 15:04:05") + " " + word + " in " + secs(r.Duration.Std().Seconds())})
		if r.Success {
			data.Passed++
		}
	}
	data.Strip = runStrip(strip, fmt.Sprintf("%d of the last %d %s passed", data.Passed, len(runs), plural(len(runs), "run", "runs")))
	for _, r := range runs {
		data.History = append(data.History, historyRow{ID: r.ID, Location: r.Location, Error: r.Error, Duration: secs(r.Duration.Std().Seconds()), At: r.At, Success: r.Success})
		if !r.Success && data.Failure == nil {
			data.Failure = d.failure(r)
		}
	}
	if data.Failure == nil && last != nil && !last.Success {
		data.Failure = d.failure(*last)
	}
	if runID != "" {
		// Runs before runID+"\x00" start with runID itself, if it is kept.
		got, err := d.opts.Probes.Results(ctx, name, 1, runID+"\x00")
		if err != nil && !errors.Is(err, probes.ErrNotFound) {
			return fmt.Errorf("probe %q run %s: %w", name, runID, err)
		}
		if len(got) == 1 && got[0].ID == runID {
			rv := &runView{Run: got[0], Steps: stepRows(got[0].Steps)}
			if !got[0].Success {
				rv.Failure = d.failure(got[0])
			}
			data.Selected = rv
		} else {
			data.Missing = runID
		}
	}
	return d.render(w, "probe", page{Title: "Probe " + name, Nav: "probes", Viewer: v, Data: data})
}

// stepRows are a run's steps with their timings as text.
func stepRows(steps []probes.StepResult) []stepRow {
	out := make([]stepRow, 0, len(steps))
	for _, s := range steps {
		row := stepRow{StepResult: s, DurationText: secs(s.Duration.Std().Seconds())}
		for _, ph := range phaseOrder {
			if v, ok := s.Phases[ph]; ok {
				row.Phases = append(row.Phases, phaseCell{ph, secs(v)})
			}
		}
		out = append(out, row)
	}
	return out
}

func (d *Dashboards) failure(r probes.Result) *failureView {
	f := &failureView{Run: r}
	for i := range r.Steps {
		if !r.Steps[i].Success {
			f.Step = &r.Steps[i]
			break
		}
	}
	if r.Screenshot != "" {
		f.Screenshot = ScreenshotPath(r.Probe, r.ID, r.Screenshot)
	}
	return f
}

// ScreenshotPath is the UI path of a browser run's screenshot, which web
// serves to signed-in people (the API's own path needs a bearer token).
func ScreenshotPath(probe, run, step string) string {
	p := "/probes/" + url.PathEscape(probe) + "/runs/" + url.PathEscape(run) + "/screenshot"
	if step != "" {
		p += "?step=" + url.QueryEscape(step)
	}
	return p
}
