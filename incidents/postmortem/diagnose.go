package postmortem

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/runbooks"
)

// Runbooks finds an incident's runbook: by the name its alerts carry, or
// by matching its first alert and labels.
type Runbooks interface {
	Get(name string) (runbooks.Runbook, error)
	Match(alertName string, labels model.Labels) (runbooks.Runbook, bool)
}

// Noter appends to an incident's timeline.
type Noter interface {
	AddNote(ctx context.Context, id int64, kind, actor, text string) (*incidents.Incident, error)
}

// DiagnosticsOptions are what NewDiagnostics needs.
type DiagnosticsOptions struct {
	Runbooks Runbooks
	Notes    Noter
	// Env is what diagnostics run with (HTTP client, probe runner).
	Env        runbooks.DiagnosticEnv
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Queue bounds the incidents waiting for diagnostics (default 64);
	// beyond it an incident's diagnostics are skipped and logged.
	Queue int
}

// Diagnostics runs the diagnostics of an opening incident's runbook and
// writes their output into the incident's timeline. IncidentOpened (the
// incident service's OpenHook) only queues the work; Run does it, one
// incident at a time, so an opening incident never waits on a slow check.
type Diagnostics struct {
	rbs   Runbooks
	notes Noter
	env   runbooks.DiagnosticEnv
	log   *slog.Logger
	queue chan *incidents.Incident
	runs  *prometheus.CounterVec
}

// NewDiagnostics builds the runner; it starts nothing (see Run).
func NewDiagnostics(opts DiagnosticsOptions) (*Diagnostics, error) {
	if opts.Queue <= 0 {
		opts.Queue = 64
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Env.Client == nil {
		opts.Env.Client = &http.Client{}
	}
	d := &Diagnostics{
		rbs: opts.Runbooks, notes: opts.Notes, env: opts.Env, log: opts.Logger.With("component", "diagnostics"),
		queue: make(chan *incidents.Incident, opts.Queue),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_runbook_diagnostics_total", Help: "Runbook diagnostics run when incidents opened, by result (ok, failed).",
		}, []string{"result"}),
	}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(d.runs); err != nil {
			return nil, fmt.Errorf("diagnostics metrics: %w", err)
		}
	}
	return d, nil
}

// IncidentOpened queues the incident's diagnostics; it never blocks.
func (d *Diagnostics) IncidentOpened(_ context.Context, inc *incidents.Incident) {
	select {
	case d.queue <- inc:
	default:
		d.log.Warn("diagnostics queue full; skipping this incident's diagnostics", "incident", inc.ID)
	}
}

// RunbookFor is the runbook an incident's diagnostics come from, false
// when none applies.
func (d *Diagnostics) RunbookFor(inc *incidents.Incident) (runbooks.Runbook, bool) {
	if inc.Runbook != "" {
		if rb, err := d.rbs.Get(inc.Runbook); err == nil {
			return rb, true
		}
	}
	alert := ""
	if len(inc.Alerts) > 0 {
		alert = inc.Alerts[0].Name
	}
	return d.rbs.Match(alert, inc.Labels)
}

// Diagnose runs inc's runbook diagnostics now and notes each result in its
// timeline; it returns the results.
func (d *Diagnostics) Diagnose(ctx context.Context, inc *incidents.Incident) []runbooks.DiagnosticResult {
	rb, ok := d.RunbookFor(inc)
	if !ok || len(rb.Diagnostics) == 0 {
		return nil
	}
	var out []runbooks.DiagnosticResult
	for _, diag := range rb.Diagnostics {
		if ctx.Err() != nil {
			break
		}
		res := diag.Run(ctx, d.env)
		out = append(out, res)
		result := "ok"
		if !res.OK {
			result = "failed"
		}
		d.runs.WithLabelValues(result).Inc()
		text := fmt.Sprintf("runbook %s: %s", rb.Name, res)
		if _, err := d.notes.AddNote(ctx, inc.ID, incidents.KindDiagnostic, incidents.ActorSentinel, text); err != nil {
			d.log.Warn("note diagnostic in the timeline", "incident", inc.ID, "err", err)
		}
	}
	return out
}

// Run works through the queue until ctx ends.
func (d *Diagnostics) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case inc := <-d.queue:
			d.Diagnose(ctx, inc)
		}
	}
}
