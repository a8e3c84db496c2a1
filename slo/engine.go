package slo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/model"
)

// Intervals of the engine's loops. The flush interval is the durability
// window: a crash loses at most the counts of the last second.
const (
	DefaultEvalInterval  = 10 * time.Second
	DefaultFlushInterval = time.Second
	pruneInterval        = time.Hour
	// historyRetention is how far back budget history reaches; counts are
	// kept for the longest window plus this much.
	historyRetention = 7 * 24 * time.Hour
	// reportRetention keeps at least the previous calendar month and the
	// current one (62 days and a margin), so the monthly report of last
	// month is computed from counts until this month ends.
	reportRetention = 63 * 24 * time.Hour
)

// Bounds of one events API call, so a typo cannot poison a month of data.
const (
	// MaxEventsPerCall caps total in one POST /api/v1/slos/{name}/events.
	MaxEventsPerCall = 1_000_000_000
)

// CountStore keeps per-minute counts durably: absolute values per writer,
// summed over writers on read, so several Sentinel replicas can count the
// same SLO. The store package implements it on store.Engine.
type CountStore interface {
	// SaveCounts writes the absolute per-minute counts of writer for each
	// hour given, replacing what writer stored for those hours before.
	SaveCounts(ctx context.Context, writer string, hours []HourCounts) error
	// LoadCounts calls fn for each stored hour of slo in [from, to), oldest
	// first, with the counts of the writers w selects summed (hours where
	// none of them wrote are left out).
	LoadCounts(ctx context.Context, slo string, from, to time.Time, w Writers, fn func(HourCounts) error) error
	// DeleteBefore removes the counts of slo for hours before before.
	DeleteBefore(ctx context.Context, slo string, before time.Time) error
}

// Writers selects whose counts a read sums: every writer (the zero
// value), only the writer Only, or every writer except Except. An engine
// keeps its own writer's counts as the base it flushes and re-reads the
// others' to sum them in.
type Writers struct {
	Only   string
	Except string
}

// Includes reports whether w selects writer.
func (w Writers) Includes(writer string) bool {
	switch {
	case w.Only != "":
		return writer == w.Only
	case w.Except != "":
		return writer != w.Except
	}
	return true
}

// Exclusions tell which time to leave out of an SLO's budget, such as
// maintenance windows: its events are not counted and its time is not
// expected to hold any. The engine asks for the intervals overlapping each
// window it evaluates.
type Exclusions interface {
	Excluded(sp *Spec, from, to time.Time) []Interval
}

// StateSink receives every SLO's state after each evaluation cycle;
// alerting implements it to raise burn-rate and budget alerts.
type StateSink interface {
	RecordSLOStates(ctx context.Context, states []model.SLOState)
}

// Errors of the engine; web maps them to HTTP statuses through their
// NotFound, Conflict and Invalid methods.
var (
	// ErrNotFound: no SLO with that name is counted by Sentinel.
	ErrNotFound = errors.New("slo not found")
	// ErrNotEvents: the SLO's SLI is not fed by the events API.
	ErrNotEvents = errors.New("slo does not take events")
)

// Error is an engine error carrying its kind and, for invalid input, the
// field at fault.
type Error struct {
	Kind  error
	Field string
	Msg   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Msg)
	}
	return e.Msg
}

// Unwrap exposes the kind for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

// NotFound reports whether the error names a missing SLO.
func (e *Error) NotFound() bool { return e.Kind == ErrNotFound }

// Conflict reports whether the request does not fit the SLO.
func (e *Error) Conflict() bool { return e.Kind == ErrNotEvents }

// Invalid reports whether the input was invalid.
func (e *Error) Invalid() bool { return e.Kind == nil }

// Options configure an Engine.
type Options struct {
	Specs []*Spec
	// Store keeps counts across restarts; nil keeps them in memory only.
	Store CountStore
	// Writer names this process among the writers of counts (default
	// "local", the one process of an embedded store). Replicas sharing a
	// store need distinct writers: each flushes only its own counts and
	// reads the others' back (see CountStore).
	Writer     string
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
	// EvalInterval and FlushInterval default to 10s and 1s.
	EvalInterval  time.Duration
	FlushInterval time.Duration
	// Exclusions leave time out of budgets; nil leaves none out.
	Exclusions Exclusions
	// Months keeps monthly summaries for the reports of months whose
	// counts are no longer kept; nil keeps none.
	Months MonthStore
}

// Engine counts events per SLO, evaluates every SLO periodically and
// answers queries. RecordOutcome and RecordEvents are safe to call from any
// goroutine at any time; Run loads stored counts and runs the loops.
type Engine struct {
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	tab    atomic.Pointer[table] // the SLOs in force; Prepare swaps it
	kick   chan struct{}         // asks Run to evaluate now (after a reload)
	sinks  []StateSink
	m      *metrics
	loaded atomic.Bool
	// refreshed is when the other writers' counts were last read (Unix ns).
	refreshed atomic.Int64
	states    atomic.Pointer[[]model.SLOState]
	flushMu   sync.Mutex
	// refreshMu serialises re-reads of the other writers' counts.
	refreshMu sync.Mutex
}

type routeKey struct {
	source model.Source
	name   string
}

// entry is one counted SLO: its spec, its counts and its metric children.
type entry struct {
	spec      *Spec
	s         *series
	good, bad prometheus.Counter
	// gauges, resolved once: remaining, sli and one burn rate per window.
	remaining, sli prometheus.Gauge
	burn           map[string]prometheus.Gauge
}

// New builds the engine for specs; SLOs with a prometheus SLI are known
// (for Spec lookups) but not counted.
func New(opts Options) (*Engine, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Writer == "" {
		opts.Writer = "local"
	}
	if opts.EvalInterval <= 0 {
		opts.EvalInterval = DefaultEvalInterval
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	e := &Engine{opts: opts, log: opts.Logger.With("component", "slo"), now: opts.Now, m: m, kick: make(chan struct{}, 1)}
	e.tab.Store(e.newTable(opts.Specs, nil))
	return e, nil
}

// retentionOf is how long an SLO's counts are kept: its longest window and
// the budget history before it, and at least the previous calendar month.
func retentionOf(sp *Spec) time.Duration {
	return max(sp.Window.Longest()+historyRetention, reportRetention)
}

// excluded returns the time to leave out of sp's budget in [from, to).
func (e *Engine) excluded(sp *Spec, from, to time.Time) []Interval {
	if e.opts.Exclusions == nil {
		return nil
	}
	return e.opts.Exclusions.Excluded(sp, from, to)
}

// exclusionsAt returns what to leave out of sp's budget for a status at
// now: every interval overlapping the longest span a status reads.
func (e *Engine) exclusionsAt(sp *Spec, now time.Time) []Interval {
	if e.opts.Exclusions == nil {
		return nil
	}
	start, end, _ := windowBounds(sp, now)
	if burn := end.Add(-BurnWindows[len(BurnWindows)-1].D); burn.Before(start) {
		start = burn
	}
	return e.excluded(sp, start, end)
}

// AddSink registers a consumer of SLO states; call it before Run.
func (e *Engine) AddSink(s StateSink) { e.sinks = append(e.sinks, s) }

// Specs returns every configured SLO, counted or not, in config order.
func (e *Engine) Specs() []*Spec { return e.tab.Load().specs }

// RecordOutcome counts an outcome from probes, RUM or the events API in
// every SLO whose SLI it matches. It never blocks on I/O.
func (e *Engine) RecordOutcome(_ context.Context, o model.Outcome) {
	ens := e.tab.Load().byKey[routeKey{o.Source, o.Name}]
	if len(ens) == 0 {
		return
	}
	now := e.now()
	t := o.Time
	if t.IsZero() {
		t = now
	}
	if t.Before(now.Add(-maxLateness)) || t.After(now.Add(maxFuture)) {
		e.m.dropped.WithLabelValues("out_of_range").Inc()
		return
	}
	for _, en := range ens {
		good, total, ok := classify(en.spec, o)
		if !ok {
			continue
		}
		e.count(en, t, good, total)
	}
}

// classify decides what an outcome means for one SLO: the SLO that names a
// threshold applies it.
func classify(sp *Spec, o model.Outcome) (good, total int64, ok bool) {
	if o.Total <= 0 || o.Good < 0 {
		return 0, 0, false
	}
	switch sp.Kind {
	case KindProbe, KindEvents:
		return min(o.Good, o.Total), o.Total, true
	case KindRUM:
		if (sp.RouteFilter != "" && o.Labels["route"] != sp.RouteFilter) ||
			(sp.SiteFilter != "" && o.Labels["site"] != sp.SiteFilter) ||
			(sp.DeviceFilter != "" && o.Labels["device"] != sp.DeviceFilter) {
			return 0, 0, false
		}
		if sp.JSErrorFree {
			return min(o.Good, o.Total), o.Total, true
		}
		if !o.HasValue {
			return 0, 0, false
		}
		if o.Value <= sp.Threshold {
			return o.Total, o.Total, true
		}
		return 0, o.Total, true
	}
	return 0, 0, false
}

func (e *Engine) count(en *entry, t time.Time, good, total int64) {
	en.s.mu.Lock()
	ok := en.s.add(unixMinute(t), good, total)
	en.s.mu.Unlock()
	if !ok {
		e.m.dropped.WithLabelValues("too_old").Inc()
		return
	}
	en.good.Add(float64(good))
	en.bad.Add(float64(total - good))
}

// RecordEvents counts good of total events reported by an application for
// the events SLO name at time at (zero: now). It checks the input and
// returns an *Error naming the field at fault.
func (e *Engine) RecordEvents(_ context.Context, name string, good, total int64, at time.Time) error {
	en := e.tab.Load().entries[name]
	if en == nil {
		return e.notFound(name)
	}
	if en.spec.Kind != KindEvents {
		return &Error{Kind: ErrNotEvents, Msg: fmt.Sprintf("SLO %q counts %s; only SLOs with sli: {events: {}} take events", name, en.spec.SLIText())}
	}
	switch {
	case good < 0:
		return &Error{Field: "good", Msg: "must not be negative"}
	case total < 0:
		return &Error{Field: "total", Msg: "must not be negative"}
	case total > MaxEventsPerCall:
		return &Error{Field: "total", Msg: fmt.Sprintf("must be at most %d per call", MaxEventsPerCall)}
	case good > total:
		return &Error{Field: "good", Msg: fmt.Sprintf("must not exceed total (%d > %d)", good, total)}
	}
	now := e.now()
	if at.IsZero() {
		at = now
	}
	switch {
	case at.Before(now.Add(-maxLateness)):
		return &Error{Field: "time", Msg: fmt.Sprintf("%s is more than %s in the past; late events can no longer be counted", at.Format(time.RFC3339), model.Duration(maxLateness))}
	case at.After(now.Add(maxFuture)):
		return &Error{Field: "time", Msg: fmt.Sprintf("%s is more than %s in the future", at.Format(time.RFC3339), model.Duration(maxFuture))}
	}
	if total == 0 {
		return nil
	}
	e.count(en, at, good, total)
	return nil
}

func (e *Engine) notFound(name string) error {
	for _, sp := range e.tab.Load().specs {
		if sp.Name == name && !sp.Counted() {
			return &Error{Kind: ErrNotFound, Msg: fmt.Sprintf("SLO %q has a prometheus SLI: Prometheus computes it from the exported rules, Sentinel does not count it", name)}
		}
	}
	return &Error{Kind: ErrNotFound, Msg: fmt.Sprintf("no SLO named %q", name)}
}

// Run loads the stored counts, then evaluates every EvalInterval, flushes
// counts every FlushInterval and prunes old counts hourly, until ctx ends;
// it flushes once more on the way out.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.Load(ctx); err != nil {
		return err
	}
	e.Evaluate(ctx)
	e.Prune(ctx)
	eval := time.NewTicker(e.opts.EvalInterval)
	defer eval.Stop()
	flush := time.NewTicker(e.opts.FlushInterval)
	defer flush.Stop()
	prune := time.NewTicker(pruneInterval)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			err := e.Flush(fctx)
			cancel()
			if err != nil {
				e.log.Error("final flush of SLO counts failed; the last second of counts is lost", "err", err)
			}
			return nil
		case <-flush.C:
			if err := e.Flush(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("flush SLO counts; retrying", "err", err)
			}
		case <-eval.C:
			e.Evaluate(ctx)
		case <-e.kick:
			e.Evaluate(ctx)
		case <-prune.C:
			e.Prune(ctx)
			e.saveMonths(ctx)
		}
	}
}

// Load reads every counted SLO's stored counts into memory: this writer's
// own counts of the recent hours (the base its flushes continue from), the
// other writers' counts of those hours, and every writer's sums of older
// hours. Counts recorded before Load are kept and added to. Flush writes
// nothing until Load has run, so a restart never overwrites stored counts.
func (e *Engine) Load(ctx context.Context) error {
	if e.opts.Store == nil || e.loaded.Load() {
		e.loaded.Store(true)
		return nil
	}
	now := e.now()
	for _, en := range e.tab.Load().entries {
		if err := e.loadEntry(ctx, en, now); err != nil {
			return err
		}
	}
	e.refreshed.Store(now.UnixNano())
	e.loaded.Store(true)
	return nil
}

// loadEntry reads one SLO's stored counts into its series (see Load).
func (e *Engine) loadEntry(ctx context.Context, en *entry, now time.Time) error {
	nowHour := floorDiv(now.Unix(), 3600)
	recentFrom := time.Unix((nowHour-recentHours+1)*3600, 0).UTC()
	end := now.Add(maxFuture + time.Hour)
	own := Writers{Only: e.opts.Writer}
	others := Writers{Except: e.opts.Writer}
	from := now.Add(-(en.spec.Window.Longest() + historyRetention + 2*time.Hour)).Truncate(time.Hour)
	var old, mine, theirs []HourCounts
	collect := func(buf *[]HourCounts) func(HourCounts) error {
		return func(hc HourCounts) error { *buf = append(*buf, hc); return nil }
	}
	err := e.opts.Store.LoadCounts(ctx, en.spec.Name, from, recentFrom, Writers{}, collect(&old))
	if err == nil {
		err = e.opts.Store.LoadCounts(ctx, en.spec.Name, recentFrom, end, own, collect(&mine))
	}
	if err == nil {
		err = e.opts.Store.LoadCounts(ctx, en.spec.Name, recentFrom, end, others, collect(&theirs))
	}
	if err != nil {
		return fmt.Errorf("load counts of SLO %s: %w", en.spec.Name, err)
	}
	en.s.mu.Lock()
	for _, hc := range old {
		en.s.load(hc, false, false)
	}
	for _, hc := range mine {
		en.s.load(hc, true, true)
	}
	for _, hc := range theirs {
		en.s.load(hc, true, false)
	}
	en.s.mu.Unlock()
	return nil
}

// refreshOthers re-reads the other writers' counts of the hours they may
// still change (events are taken up to maxLateness late, and flushed
// within a second) and folds the differences into the sums evaluation
// reads. It is one short range read per counted SLO, done once per
// evaluation cycle; with a single writer it finds nothing.
func (e *Engine) refreshOthers(ctx context.Context, now time.Time) error {
	if e.opts.Store == nil || !e.loaded.Load() {
		return nil
	}
	e.refreshMu.Lock()
	defer e.refreshMu.Unlock()
	from := now.Add(-maxLateness - 5*time.Minute).Truncate(time.Hour)
	to := now.Add(maxFuture + time.Hour)
	others := Writers{Except: e.opts.Writer}
	for _, en := range e.tab.Load().entries {
		var got []HourCounts
		err := e.opts.Store.LoadCounts(ctx, en.spec.Name, from, to, others, func(hc HourCounts) error {
			got = append(got, hc)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read other replicas' counts of SLO %s: %w", en.spec.Name, err)
		}
		en.s.mu.Lock()
		en.s.setOthers(floorDiv(from.Unix(), 3600), floorDiv(to.Unix()-1, 3600), got)
		en.s.mu.Unlock()
	}
	e.refreshed.Store(now.UnixNano())
	return nil
}

// Loaded reports whether Load has run: until then Flush writes nothing,
// so counts recorded are not yet stored.
func (e *Engine) Loaded() bool { return e.opts.Store == nil || e.loaded.Load() }

// Flush writes the counts changed since the last flush.
func (e *Engine) Flush(ctx context.Context) error {
	if e.opts.Store == nil || !e.loaded.Load() {
		return nil
	}
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	var all []HourCounts
	var owners []*entry
	var counts []int
	t := e.tab.Load()
	for _, en := range t.flushable() {
		en.s.mu.Lock()
		d := en.s.takeDirty(en.spec.Name)
		en.s.mu.Unlock()
		if len(d) > 0 {
			all = append(all, d...)
			owners = append(owners, en)
			counts = append(counts, len(d))
		}
	}
	if len(all) == 0 {
		e.flushed(t)
		return nil
	}
	if err := e.opts.Store.SaveCounts(ctx, e.opts.Writer, all); err != nil {
		e.m.flushErrors.Inc()
		off := 0
		for i, en := range owners {
			en.s.mu.Lock()
			en.s.markDirty(all[off : off+counts[i]])
			en.s.mu.Unlock()
			off += counts[i]
		}
		return fmt.Errorf("save SLO counts: %w", err)
	}
	e.flushed(t)
	return nil
}

// Prune deletes counts older than the retention (see retentionOf).
func (e *Engine) Prune(ctx context.Context) {
	if e.opts.Store == nil {
		return
	}
	t := e.tab.Load()
	before := e.now().Add(-t.retention - time.Hour).Truncate(time.Hour)
	for _, sp := range t.specs {
		if err := e.opts.Store.DeleteBefore(ctx, sp.Name, before); err != nil {
			e.log.Warn("prune SLO counts", "slo", sp.Name, "err", err)
			return
		}
	}
}

// evaluate computes one SLO's status at now, reading the minute detail of
// window edges from the store when memory lacks it. Without a store (or on
// a store error) such an edge hour is prorated.
func (e *Engine) evaluate(ctx context.Context, en *entry, now time.Time, fn func(CountSource) Status) Status {
	en.s.mu.Lock()
	en.s.trim(floorDiv(now.Unix(), 3600))
	st := fn(en.s)
	missed := en.s.takeMissed()
	en.s.mu.Unlock()
	if len(missed) == 0 || e.opts.Store == nil {
		return st
	}
	loaded := make(map[int64]*block, len(missed))
	for _, h := range missed {
		b := new(block)
		t := time.Unix(h*3600, 0).UTC()
		err := e.opts.Store.LoadCounts(ctx, en.spec.Name, t, t.Add(time.Hour), Writers{}, func(hc HourCounts) error {
			for i := range 60 {
				b[i] = b[i].Add(Counts{hc.Good[i], hc.Total[i]})
			}
			return nil
		})
		if err != nil {
			e.log.Warn("read SLO counts at a window edge; prorating that hour", "slo", en.spec.Name, "err", err)
			return st
		}
		loaded[h] = b
	}
	en.s.mu.Lock()
	defer en.s.mu.Unlock()
	for h, b := range loaded {
		en.s.edges[h] = b
	}
	st = fn(en.s)
	en.s.takeMissed()
	return st
}

// Evaluate computes every counted SLO at the current time, keeps the
// states for States, updates the gauges and hands the states to the sinks.
func (e *Engine) Evaluate(ctx context.Context) []model.SLOState {
	start := time.Now()
	now := e.now()
	if err := e.refreshOthers(ctx, now); err != nil && ctx.Err() == nil {
		e.log.Warn("SLO counts of other replicas not re-read; evaluating with the last ones read", "err", err)
	}
	t := e.tab.Load()
	states := make([]model.SLOState, 0, len(t.entries))
	for _, sp := range t.specs {
		en := t.entries[sp.Name]
		if en == nil {
			continue
		}
		ex := e.exclusionsAt(sp, now)
		st := e.evaluate(ctx, en, now, func(src CountSource) Status { return Evaluate(sp, src, now, ex...) })
		en.observe(st)
		states = append(states, st.State())
	}
	e.states.Store(&states)
	e.m.evalSeconds.Observe(time.Since(start).Seconds())
	for _, s := range e.sinks {
		s.RecordSLOStates(ctx, states)
	}
	return states
}

// States returns the states of the last evaluation cycle (empty before the
// first), in config order. Alerting reads burn tiers and budgets from it.
func (e *Engine) States() []model.SLOState {
	p := e.states.Load()
	if p == nil {
		return nil
	}
	return *p
}

// Status evaluates one SLO now.
func (e *Engine) Status(ctx context.Context, name string) (Status, error) {
	en := e.tab.Load().entries[name]
	if en == nil {
		return Status{}, e.notFound(name)
	}
	now := e.now()
	e.maybeRefresh(ctx, now)
	ex := e.exclusionsAt(en.spec, now)
	return e.evaluate(ctx, en, now, func(src CountSource) Status { return Evaluate(en.spec, src, now, ex...) }), nil
}

// maybeRefresh re-reads the other writers' counts for a query when the
// last read is older than an evaluation interval, so the API sees other
// replicas' counts as fresh as the alerts do without a read per query.
func (e *Engine) maybeRefresh(ctx context.Context, now time.Time) {
	if e.opts.Store == nil || now.UnixNano()-e.refreshed.Load() < int64(e.opts.EvalInterval) {
		return
	}
	if err := e.refreshOthers(ctx, now); err != nil && ctx.Err() == nil {
		e.log.Warn("SLO counts of other replicas not re-read", "err", err)
	}
}

// Statuses evaluates every counted SLO now, in config order.
func (e *Engine) Statuses(ctx context.Context) []Status {
	now := e.now()
	e.maybeRefresh(ctx, now)
	t := e.tab.Load()
	out := make([]Status, 0, len(t.entries))
	for _, sp := range t.specs {
		if en := t.entries[sp.Name]; en != nil {
			ex := e.exclusionsAt(sp, now)
			out = append(out, e.evaluate(ctx, en, now, func(src CountSource) Status { return Evaluate(sp, src, now, ex...) }))
		}
	}
	return out
}

// Consumed reports the good and total events of SLO name in the whole
// minutes [from, to) touches (Consumption.CountedFrom to CountedTo) and
// the share of the error budget they spent; incidents and postmortems use
// it for an incident's impact. Times before the retained counts read as
// empty.
func (e *Engine) Consumed(ctx context.Context, name string, from, to time.Time) (Consumption, error) {
	en := e.tab.Load().entries[name]
	if en == nil {
		return Consumption{}, e.notFound(name)
	}
	if !to.After(from) {
		return Consumption{}, &Error{Field: "to", Msg: "must be after from"}
	}
	now := e.now()
	e.maybeRefresh(ctx, now)
	ws, _, _ := windowBounds(en.spec, to)
	ex := e.excluded(en.spec, minTime(ws, from), to.Add(time.Minute))
	var c Consumption
	e.evaluate(ctx, en, to, func(src CountSource) Status {
		c = Consume(en.spec, src, from, to, ex...)
		return Status{}
	})
	// The minutes counted so far end now: a span rounded out past it
	// reports its counts as ending now, not at a minute still to come.
	if c.CountedTo.After(now) {
		c.CountedTo = maxTime(now, c.CountedFrom)
	}
	return c, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// HistoryPoint is one point of an SLO's history: the SLO's window ending
// at At (its SLI and budget remaining), and the hour ending at At (its
// SLI). Values are NaN where there was no data: a gap, never 100%.
type HistoryPoint struct {
	At time.Time
	// SLI and BudgetRemaining are those of the window ending at At.
	SLI             float64
	BudgetRemaining float64
	// HourSLI is the SLI of the hour ending at At, HourTotal its events.
	HourSLI   float64
	HourTotal int64
}

// History returns a point at each whole hour of the last seven days and
// one now, oldest first (168 points), from the budget model.
func (e *Engine) History(_ context.Context, name string) ([]HistoryPoint, error) {
	en := e.tab.Load().entries[name]
	if en == nil {
		return nil, e.notFound(name)
	}
	now := e.now()
	ex := e.excluded(en.spec, now.Add(-historyRetention-en.spec.Window.Longest()), now.Add(time.Minute))
	en.s.mu.Lock()
	defer en.s.mu.Unlock()
	return history(en.spec, en.s, now, ex), nil
}

func history(sp *Spec, src CountSource, now time.Time, ex []Interval) []HistoryPoint {
	n := int(historyRetention/time.Hour) - 1 // whole hours, then now
	first := now.Truncate(time.Hour).Add(-time.Duration(n-1) * time.Hour)
	out := make([]HistoryPoint, 0, n+1)
	for i := 0; i <= n; i++ {
		// Points on whole hours hold the hours before them; the last one,
		// now, includes the current, unfinished minute.
		at := first.Add(time.Duration(i) * time.Hour)
		start, end, period := boundsEnding(sp, at.Add(-time.Nanosecond), at)
		if i == n {
			at = now
			start, end, period = windowBounds(sp, now)
		}
		b := ComputeBudget(sp, period, usageOf(sp, src, start, end, at, ex))
		pt := HistoryPoint{At: at, SLI: b.SLI, BudgetRemaining: b.Remaining, HourSLI: math.NaN()}
		if b.NoData {
			pt.BudgetRemaining = math.NaN()
		}
		u := usageOf(sp, src, end.Add(-time.Hour), end, at, ex)
		pt.HourTotal = u.Counts.Total
		if hb := ComputeBudget(sp, time.Hour, u); !hb.NoData {
			pt.HourSLI = hb.SLI
		}
		out = append(out, pt)
	}
	return out
}

// BurnPoint is one point of a burn-down: the share of the current window's
// budget left at At.
type BurnPoint struct {
	At        time.Time
	Remaining float64
}

// burnDownSteps is about how many points a burn-down has.
const burnDownSteps = 60

// BurnDown returns the budget of the window that holds now and how it
// burned down: the budget left at points from the first data in the window
// (or its start) to now, each the units spent since the window's start
// against the window's budget now. Points are on whole hours, so the
// engine sums hours, not minutes.
func (e *Engine) BurnDown(_ context.Context, name string) (Budget, []BurnPoint, error) {
	en := e.tab.Load().entries[name]
	if en == nil {
		return Budget{}, nil, e.notFound(name)
	}
	now := e.now()
	ex := e.exclusionsAt(en.spec, now)
	en.s.mu.Lock()
	defer en.s.mu.Unlock()
	b, pts := burnDown(en.spec, en.s, now, ex)
	return b, pts, nil
}

func burnDown(sp *Spec, src CountSource, now time.Time, ex []Interval) (Budget, []BurnPoint) {
	start, end, period := windowBounds(sp, now)
	b := ComputeBudget(sp, period, usageOf(sp, src, start, end, now, ex))
	first := src.FirstData()
	if first.IsZero() || !first.Before(end) || b.Allowed <= 0 {
		return b, nil
	}
	from := start
	if first.After(from) {
		from = first.Truncate(time.Hour)
		if from.Before(start) {
			from = start
		}
	}
	step := (period / burnDownSteps).Truncate(time.Hour)
	if step < time.Hour {
		step = time.Hour
	}
	pts := []BurnPoint{{At: from, Remaining: 1}}
	for t := start.Truncate(time.Hour).Add(step); ; t = t.Add(step) {
		at, to := t, t
		if !t.Before(now) {
			at, to = now, end
		}
		if at.After(from) {
			u := usageOf(sp, src, start, to, at, ex)
			pts = append(pts, BurnPoint{At: at, Remaining: 1 - spent(sp, u.Counts, u.Slices)/b.Allowed})
		}
		if at.Equal(now) {
			return b, pts
		}
	}
}

// Spec returns the SLO named name, counted or not.
func (e *Engine) Spec(name string) (*Spec, bool) {
	for _, sp := range e.tab.Load().specs {
		if sp.Name == name {
			return sp, true
		}
	}
	return nil, false
}

// Names lists the counted SLOs, sorted.
func (e *Engine) Names() []string {
	t := e.tab.Load()
	out := make([]string, 0, len(t.entries))
	for n := range t.entries {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// metrics are the engine's Prometheus series.
type metrics struct {
	events      *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	flushErrors prometheus.Counter
	evalSeconds prometheus.Histogram
	remaining   *prometheus.GaugeVec
	sli         *prometheus.GaugeVec
	burn        *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_slo_events_total",
			Help: "Events counted for each SLO Sentinel counts itself, by result (good or bad); the rule export computes SLIs from it.",
		}, []string{"slo", "result"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_slo_events_dropped_total",
			Help: "Outcomes not counted because their time was too far in the past or future.",
		}, []string{"reason"}),
		flushErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sentinel_slo_flush_errors_total",
			Help: "Failed writes of SLO counts to the store (retried on the next flush).",
		}),
		evalSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sentinel_slo_evaluation_duration_seconds",
			Help:    "Time to evaluate every SLO once.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
		remaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sentinel_slo_error_budget_remaining_ratio",
			Help: "Fraction of the error budget left over the SLO window (negative when overspent).",
		}, []string{"slo"}),
		sli: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sentinel_slo_sli_ratio",
			Help: "Good events / total events over the SLO window.",
		}, []string{"slo"}),
		burn: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sentinel_slo_burn_rate_ratio",
			Help: "Error-budget burn rate over each window (1 spends the budget exactly in the SLO period).",
		}, []string{"slo", "window"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.events, m.dropped, m.flushErrors, m.evalSeconds, m.remaining, m.sli, m.burn} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register SLO metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (en *entry) observe(st Status) {
	en.remaining.Set(st.BudgetRemaining)
	en.sli.Set(st.SLI)
	for w, v := range st.BurnRates {
		if g := en.burn[w]; g != nil {
			g.Set(v)
		}
	}
}
