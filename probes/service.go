package probes

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Options are what a Service is built from; only Probes is required.
type Options struct {
	// Probes are the compiled journeys (see Compile).
	Probes []*Journey
	// Settings carry the retention and the concurrency cap (defaults 14d, 16).
	Settings config.ProbeSettings
	// Store keeps runs; nil keeps them in memory (NewMemoryStore).
	Store ResultStore
	// Claims, set when several replicas share the store, makes each
	// scheduled run happen on exactly one of them; Flaps then keeps the
	// flap-suppressed state they share. Both nil: this process runs
	// every slot and keeps the state in memory.
	Claims RunClaimer
	Flaps  FlapStore
	// Outcomes and States receive every run's outcome and flap-suppressed
	// state; either may be nil.
	Outcomes Sink
	States   StateSink
	// Registerer receives the probe metrics; nil registers nothing.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Now stamps runs and states; nil means time.Now.
	Now func() time.Time
	// Transport replaces the per-run HTTP transport (tests, benchmarks);
	// tls settings and Dial are then not applied to HTTP steps.
	Transport http.RoundTripper
	// Dial replaces net.Dialer for HTTP, tcp, tls and dns-server connections.
	Dial DialFunc
	// Resolver replaces the resolver of dns probes, given the probe's server.
	Resolver func(server string) Resolver
	// VitalsScript is the rum package's vitals bundle, injected into every
	// page a browser journey opens (nil: browser steps record no vitals).
	VitalsScript []byte
}

// Service schedules the probes, records their runs and answers questions
// about them (List, Results). Its methods are safe for concurrent use; Run
// is called once.
type Service struct {
	runner   *runner
	store    ResultStore
	claims   RunClaimer
	flaps    FlapStore
	outcomes Sink
	states   StateSink
	metrics  *metrics
	reg      prometheus.Registerer
	log      *slog.Logger
	now      func() time.Time
	vitals   []byte // RUM's vitals bundle, for browser journeys

	mu       sync.Mutex
	sem      chan struct{} // probe_settings.max_concurrent slots
	retain   time.Duration
	journeys map[string]*Journey
	order    []string
	state    map[string]*probeState
	reloadCh chan struct{}

	// onStart, when set (tests, benchmarks), is told each run's scheduled
	// and actual start.
	onStart func(probe string, scheduled, started time.Time)
}

// probeState is what the service remembers about one probe.
type probeState struct {
	flap     flap
	last     *Result
	restored bool
}

// New builds a service; it registers the metrics but starts nothing.
func New(opts Options) (*Service, error) {
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("register probe metrics: %w", err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	store := opts.Store
	if store == nil {
		store = NewMemoryStore()
	}
	conc := opts.Settings.MaxConcurrent
	if conc <= 0 {
		conc = config.DefaultProbeMaxConcurrent
	}
	retain := opts.Settings.Retention.Std()
	if retain <= 0 {
		retain = config.DefaultProbeRetention
	}
	s := &Service{
		runner:   &runner{transport: opts.Transport, dial: opts.Dial, resolver: opts.Resolver, now: now, ids: &idGen{}},
		vitals:   opts.VitalsScript,
		store:    store,
		claims:   opts.Claims,
		flaps:    opts.Flaps,
		outcomes: opts.Outcomes,
		states:   opts.States,
		metrics:  m,
		reg:      opts.Registerer,
		log:      log.With("component", "probes"),
		now:      now,
		sem:      make(chan struct{}, conc),
		retain:   retain,
		state:    map[string]*probeState{},
		reloadCh: make(chan struct{}, 1),
	}
	s.runner.browser.Store(newBrowserEnv(opts.Settings.Browser, opts.VitalsScript, s.log))
	s.setJourneys(opts.Probes)
	return s, nil
}

// Close unregisters the metrics, so a replacement service can register them.
func (s *Service) Close() { s.metrics.unregister(s.reg) }

func (s *Service) setJourneys(js []*Journey) (removed []string) {
	next := make(map[string]*Journey, len(js))
	order := make([]string, 0, len(js))
	for _, j := range js {
		next[j.Name] = j
		order = append(order, j.Name)
	}
	for name, old := range s.journeys {
		nj, ok := next[name]
		if !ok {
			removed = append(removed, name)
			delete(s.state, name)
			s.metrics.forget(name)
			continue
		}
		if nj.Location != old.Location || nj.Kind != old.Kind {
			s.metrics.forget(name)
		}
	}
	for name := range next {
		if s.state[name] == nil {
			s.state[name] = &probeState{}
		}
	}
	sort.Strings(order)
	s.journeys, s.order = next, order
	return removed
}

// Reload replaces the probes. Unchanged probes keep running undisturbed;
// changed ones restart (keeping their flap state); removed ones stop and
// their metric series are deleted.
func (s *Service) Reload(js []*Journey) {
	s.mu.Lock()
	removed := s.setJourneys(js)
	s.mu.Unlock()
	if len(removed) > 0 {
		s.log.Info("probes removed", "probes", removed)
	}
	select {
	case s.reloadCh <- struct{}{}:
	default:
	}
}

// running is one probe's schedule loop.
type running struct {
	j      *Journey
	cancel context.CancelFunc
	done   chan struct{}
}

// Run schedules every probe until ctx ends, and prunes runs older than the
// retention once an hour. It returns nil on cancellation.
func (s *Service) Run(ctx context.Context) error {
	loops := map[string]*running{}
	stop := func(r *running) { r.cancel(); <-r.done }
	defer func() {
		for _, r := range loops {
			stop(r)
		}
	}()
	pruneDone := make(chan struct{})
	go func() { defer close(pruneDone); s.pruneLoop(ctx) }()
	defer func() { <-pruneDone }()
	for {
		s.mu.Lock()
		want := make(map[string]*Journey, len(s.journeys))
		for k, v := range s.journeys {
			want[k] = v
		}
		s.mu.Unlock()
		for name, r := range loops {
			if j, ok := want[name]; !ok || j.fingerprint != r.j.fingerprint {
				stop(r)
				delete(loops, name)
			}
		}
		for name, j := range want {
			if _, ok := loops[name]; ok {
				continue
			}
			s.restore(ctx, j)
			lctx, cancel := context.WithCancel(ctx)
			r := &running{j: j, cancel: cancel, done: make(chan struct{})}
			loops[name] = r
			go func() { defer close(r.done); s.loop(lctx, j) }()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.reloadCh:
		}
	}
}

// offset spreads probes over their interval deterministically: the same
// name always runs at the same phase, across restarts and reloads.
func offset(name string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return time.Duration(h.Sum64() % uint64(interval))
}

// nextSlot is the first scheduled start at or after t: the instants where
// time since the Unix epoch modulo the interval equals the probe's offset.
func nextSlot(t time.Time, interval, off time.Duration) time.Time {
	ns := t.UnixNano() - int64(off)
	iv := int64(interval)
	k := ns / iv
	if ns%iv != 0 || ns < 0 {
		k++
	}
	if ns < 0 && ns%iv == 0 {
		k--
	}
	return time.Unix(0, k*iv+int64(off))
}

// loop runs one probe at its slots until ctx ends. A run that overruns its
// slots skips them instead of piling up.
func (s *Service) loop(ctx context.Context, j *Journey) {
	off := offset(j.Name, j.Interval)
	next := nextSlot(time.Now(), j.Interval, off)
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if !s.claim(ctx, j, next) {
			next = nextSlot(next.Add(time.Nanosecond), j.Interval, off)
			timer.Reset(time.Until(next))
			continue
		}
		sem := s.semaphore()
		select {
		case <-ctx.Done():
			return
		case sem <- struct{}{}:
		}
		started := time.Now()
		s.metrics.lateness.Observe(started.Sub(next).Seconds())
		if s.onStart != nil {
			s.onStart(j.Name, next, started)
		}
		res := s.runner.run(ctx, j)
		<-sem
		if ctx.Err() != nil {
			return // stopped mid-run: the run says nothing about the target
		}
		s.record(ctx, j, res)
		now := time.Now()
		after := next.Add(time.Nanosecond)
		if now.After(after) {
			after = now
		}
		next = nextSlot(after, j.Interval, off)
		timer.Reset(time.Until(next))
	}
}

// claimTimeout bounds a claim, so a slow database delays a run a little
// instead of skipping many.
const claimTimeout = 5 * time.Second

// claim reports whether this replica runs the slot: always without a
// claimer; otherwise when its claim wins. A claim that fails (the store
// unreachable) skips the slot: its result could not be recorded either.
func (s *Service) claim(ctx context.Context, j *Journey, slot time.Time) bool {
	if s.claims == nil {
		return true
	}
	cctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	ok, err := s.claims.ClaimRun(cctx, j.Name, j.Location, slot)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("claim probe run; skipping this run", "probe", j.Name, "slot", slot, "err", err)
		}
		return false
	}
	return ok
}

// flapRecord is a probe's flap state as a FlapStore keeps it.
type flapRecord struct {
	Flap  flap      `json:"flap"`
	Last  time.Time `json:"last"`
	RunID string    `json:"run_id"`
}

// observeShared folds a run into the flap state replicas share; a run
// older than the latest folded (runs of adjacent slots on two replicas
// may finish out of order) leaves it unchanged.
func (s *Service) observeShared(ctx context.Context, j *Journey, res Result) (flap, bool, error) {
	var out flap
	changed := false
	err := s.flaps.UpdateFlap(ctx, j.Name, func(old []byte) ([]byte, error) {
		var rec flapRecord
		changed = false
		if len(old) > 0 {
			if err := json.Unmarshal(old, &rec); err != nil {
				return nil, fmt.Errorf("decode flap state of probe %s: %w", j.Name, err)
			}
		}
		if !res.At.Before(rec.Last) {
			changed = rec.Flap.observe(res.Success, res.At, j.FailureThreshold, j.SuccessThreshold)
			rec.Last, rec.RunID = res.At, res.ID
		}
		out = rec.Flap
		return json.Marshal(rec)
	})
	return out, changed, err
}

func (s *Service) pruneLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		cutoff := s.now().Add(-s.retention())
		if err := s.store.Prune(ctx, cutoff); err != nil && ctx.Err() == nil {
			s.log.Warn("prune probe runs", "err", err)
		}
		if s.claims != nil {
			// A claim matters only until its slot has passed; a day keeps
			// any clock skew between replicas far inside it.
			if err := s.claims.PruneClaims(ctx, s.now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
				s.log.Warn("prune probe run claims", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// restore rebuilds a probe's flap state from its latest stored runs, once,
// so a restart neither forgets a failing probe nor pages again.
func (s *Service) restore(ctx context.Context, j *Journey) {
	s.mu.Lock()
	st := s.state[j.Name]
	if st == nil || st.restored {
		s.mu.Unlock()
		return
	}
	st.restored = true
	s.mu.Unlock()
	runs, err := s.store.Runs(ctx, j.Name, "", j.FailureThreshold+j.SuccessThreshold)
	if err != nil {
		s.log.Warn("restore probe state", "probe", j.Name, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.last != nil { // a run finished meanwhile; it wins
		return
	}
	for i := len(runs) - 1; i >= 0; i-- {
		st.flap.observe(runs[i].Success, runs[i].At, j.FailureThreshold, j.SuccessThreshold)
		r := runs[i]
		st.last = &r
	}
}

// record publishes one finished run: metrics, store, outcome and state.
func (s *Service) record(ctx context.Context, j *Journey, res Result) {
	s.metrics.observe(j, res)
	s.saveScreenshots(ctx, res)
	res = res.withoutScreenshots()
	if err := s.store.SaveRun(ctx, res); err != nil {
		s.log.Warn("save probe run", "probe", j.Name, "err", err)
	}
	labels := j.Labels.Merge(model.Labels{"location": j.Location})
	if s.outcomes != nil {
		good := int64(0)
		if res.Success {
			good = 1
		}
		s.outcomes.RecordOutcome(ctx, model.Outcome{
			Source: model.SourceProbe, Name: j.Name, Labels: labels, Time: res.At,
			Good: good, Total: 1, Value: res.Duration.Seconds(), HasValue: true,
		})
	}
	var shared flap
	sharedChanged, sharedOK := false, false
	if s.flaps != nil {
		var err error
		if shared, sharedChanged, err = s.observeShared(ctx, j, res); err != nil {
			s.log.Warn("update shared probe state; using this replica's", "probe", j.Name, "err", err)
		} else {
			sharedOK = true
		}
	}
	s.mu.Lock()
	st := s.state[j.Name]
	if st == nil { // removed by a reload while running
		s.mu.Unlock()
		return
	}
	var changed bool
	if sharedOK {
		st.flap, changed = shared, sharedChanged
	} else {
		changed = st.flap.observe(res.Success, res.At, j.FailureThreshold, j.SuccessThreshold)
	}
	st.last = &res
	ps := model.ProbeState{
		Probe: j.Name, Location: j.Location, Labels: labels, Failing: st.flap.Failing, Since: st.flap.Since,
		LastRun: res.At, RunID: res.ID, Duration: res.Duration.Std(),
		Successes: st.flap.Successes, Failures: st.flap.Failures,
	}
	if !res.Success {
		ps.Step, ps.Error = res.FailedStep, res.Error
		for _, st := range res.Steps {
			if st.Name == res.FailedStep && !st.Success {
				ps.Status, ps.ErrorExcerpt = st.Status, errorExcerpt(st.Excerpt)
				break
			}
		}
	}
	s.mu.Unlock()
	if changed {
		if ps.Failing {
			s.log.Warn("probe failing", "probe", j.Name, "location", j.Location, "step", ps.Step, "error", ps.Error)
		} else {
			s.log.Info("probe passing again", "probe", j.Name, "location", j.Location)
		}
	}
	if s.states != nil {
		s.states.RecordProbeState(ctx, ps)
	}
}

// RunOnce runs the named probe now and returns the result without recording
// it anywhere (for `sentinel probe run NAME`).
func (s *Service) RunOnce(ctx context.Context, name string) (Result, error) {
	s.mu.Lock()
	j := s.journeys[name]
	s.mu.Unlock()
	if j == nil {
		return Result{}, fmt.Errorf("probe %q: %w", name, ErrNotFound)
	}
	return s.runner.run(ctx, j), nil
}

// Status is one probe as GET /api/v1/probes lists it.
type Status struct {
	Name     string           `json:"name"`
	Kind     config.ProbeKind `json:"kind"`
	Target   string           `json:"target"`
	Location string           `json:"location"`
	Labels   model.Labels     `json:"labels"`
	Interval model.Duration   `json:"interval"`
	// Failing is the flap-suppressed state; Since is when it last changed.
	Failing   bool       `json:"failing"`
	Since     *time.Time `json:"since"`
	Successes int        `json:"consecutive_successes"`
	Failures  int        `json:"consecutive_failures"`
	// LastRun is the latest run, nil before the first one.
	LastRun *Result `json:"last_run"`
}

// List returns every configured probe with its state, sorted by name.
// With replicas sharing a store, the state and the latest run are read
// from it, since the runs of a probe take turns among the replicas.
func (s *Service) List(ctx context.Context) ([]Status, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	out := make([]Status, 0, len(s.order))
	for _, name := range s.order {
		j := s.journeys[name]
		st := s.state[name]
		item := Status{
			Name: j.Name, Kind: j.Kind, Target: j.Target, Location: j.Location, Labels: j.Labels.Clone(),
			Interval: model.Duration(j.Interval),
		}
		item.setFlap(st.flap)
		if st.last != nil {
			last := *st.last
			item.LastRun = &last
		}
		out = append(out, item)
	}
	s.mu.Unlock()
	if s.flaps == nil {
		return out, nil
	}
	for i := range out {
		if err := s.readShared(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (st *Status) setFlap(f flap) {
	st.Failing, st.Successes, st.Failures, st.Since = f.Failing, f.Successes, f.Failures, nil
	if !f.Since.IsZero() {
		since := f.Since
		st.Since = &since
	}
}

// readShared fills a probe's state and latest run from the shared store.
func (s *Service) readShared(ctx context.Context, st *Status) error {
	raw, err := s.flaps.Flap(ctx, st.Name)
	if err != nil {
		return fmt.Errorf("probe %q state: %w", st.Name, err)
	}
	if len(raw) > 0 {
		var rec flapRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("decode flap state of probe %s: %w", st.Name, err)
		}
		st.setFlap(rec.Flap)
	}
	runs, err := s.store.Runs(ctx, st.Name, "", 1)
	if err != nil {
		return fmt.Errorf("probe %q runs: %w", st.Name, err)
	}
	if len(runs) > 0 {
		st.LastRun = &runs[0]
	}
	return nil
}

// Default and largest page sizes of Results.
const (
	DefaultResultsLimit = 20
	MaxResultsLimit     = 200
)

// Results returns a probe's runs, newest first, before the run ID before
// ("" for the newest); limit 0 means DefaultResultsLimit, and it is capped
// at MaxResultsLimit. An unknown probe is ErrNotFound.
func (s *Service) Results(ctx context.Context, name string, limit int, before string) ([]Result, error) {
	s.mu.Lock()
	_, ok := s.journeys[name]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("probe %q: %w", name, ErrNotFound)
	}
	if limit <= 0 {
		limit = DefaultResultsLimit
	}
	limit = min(limit, MaxResultsLimit)
	runs, err := s.store.Runs(ctx, name, before, limit)
	if err != nil {
		return nil, fmt.Errorf("probe %q runs: %w", name, err)
	}
	return runs, nil
}
