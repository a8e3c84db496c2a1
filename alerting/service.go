package alerting

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/runbooks"
)

// GroupSink receives every change of an alert group (incidents implements it).
type GroupSink interface {
	HandleAlertGroup(ctx context.Context, g model.AlertGroup) error
}

// Announcer tells people about things that are not alerts of their own,
// such as a silence ending while its alert still fires (incidents implements it).
type Announcer interface {
	Announce(ctx context.Context, a model.Announcement) error
}

// SLOSource offers the current state of every SLO (the slo package implements it).
type SLOSource interface {
	SLOStates() []model.SLOState
}

// RunbookMatcher finds the runbook for an alert (runbooks.Catalogue implements it).
type RunbookMatcher interface {
	Match(alertName string, labels model.Labels) (runbooks.Runbook, bool)
}

// Names Sentinel gives its built-in alerts, and the label that marks
// alerts it pushed to Alertmanager.
const (
	SLOBurnAlert        = "SLOErrorBudgetBurn"
	HeartbeatAlert      = "HeartbeatMissing"
	GroupKeyLabel       = "sentinel_group_key"
	SourceRule          = "rule"
	SourceSLO           = "slo"
	SourceHeartbeat     = "heartbeat"
	SourceAlertmanager  = "alertmanager"
	GroupSourceSentinel = "sentinel"
	silenceRetention    = 7 * 24 * time.Hour
)

// Options are what New needs; Store is required.
type Options struct {
	Config config.Alerting
	// Rules come from Compile.
	Rules []*Rule
	// GroupBy are the incidents.group_by labels (default [service]).
	GroupBy []string
	Store   Store
	// Lock, set when several replicas share the store, makes the state
	// shared: every change (evaluation, deliveries, beats, probe states,
	// silences) runs under it on the state read fresh from the store, one
	// replica evaluates at a time, and probe states are kept in the store
	// (which must then implement ProbeStateStore).
	Lock Locker
	// RUMMinutes, set with Lock, keeps the RUM rules' per-minute figures
	// of every replica (under Writer, this replica's name), so that the
	// evaluating replica counts every replica's beacons.
	RUMMinutes RUMMinuteStore
	Writer     string
	Sink       GroupSink
	Announcer  Announcer
	SLOs       SLOSource
	Runbooks   RunbookMatcher
	// SLONames are the configured SLOs (see Settings.SLONames).
	SLONames   []string
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
	// ExternalURL is server.external_url, for links in annotations (the
	// failed probe run).
	ExternalURL string
}

// Service holds the alert state and is the one place that changes it:
// rule evaluation, probe states, RUM outcomes, webhook deliveries,
// heartbeats and silences all go through it. It is safe for concurrent use:
// mu guards the state; sendMu keeps group hand-overs in order, and sink
// calls are made without holding mu.
type Service struct {
	cfg       config.Alerting
	parser    MatcherParser
	inhibit   []inhibitRule
	recurring []recurringWindow
	// occurrences caches the span of each recurring window's current
	// occurrence (guarded by mu).
	occurrences map[string][2]time.Time
	// inhibitIdx indexes the firing inhibition sources; inhibitValid is
	// cleared when an alert a rule's source side selects changes (both
	// guarded by mu).
	inhibitIdx   inhibitIndex
	inhibitValid bool
	rules        []*Rule
	groupBy      []string
	store        Store
	lock         Locker
	pstates      ProbeStateStore
	sink         GroupSink
	announcer    Announcer
	slos         SLOSource
	runbooks     RunbookMatcher
	log          *slog.Logger
	now          func() time.Time
	m            *metrics
	hbByName     map[string]config.Heartbeat
	watchdogs    map[string]string   // alertname -> heartbeat name
	sloNames     map[string]struct{} // configured SLOs
	// retired are the rules, heartbeats and SLOs a reload removed
	// ("rule|name", "heartbeat|name", "slo|name"): their alerts resolve.
	retired map[string]bool
	// reloaded wakes Run for an evaluation right after a reload, so what
	// the reload removed resolves then, not up to an interval later.
	reloaded chan struct{}
	rum      *rumWindows
	rumStore RUMMinuteStore
	writer   string
	started  time.Time
	// externalURL is the base of links in annotations.
	externalURL string

	sendMu sync.Mutex

	mu           sync.Mutex
	loaded       bool
	alerts       map[string]*Record
	groups       map[string]*GroupState
	silences     map[string]*Silence
	beats        map[string]time.Time
	probes       map[string]model.ProbeState
	dirty        map[string]bool               // record keys to save (false: delete)
	reposted     map[string]bool               // posted alerts whose new end the next evaluation saves
	members      map[string]map[string]*Record // group key -> record key -> record
	touched      map[string]bool               // group keys changed since the last hand-over
	dirtyGroups  map[string]bool
	dirtySilence map[string]bool
	pendingAnn   []model.Announcement
	// fence, set while a shared-store change holds the lock, fails once
	// the lock is lost.
	fence func() error
}

// New builds the service. It reads nothing yet: the stored state is loaded
// on first use, so `check config` builds it without touching a store.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("alerting: a store is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if len(opts.GroupBy) == 0 {
		opts.GroupBy = []string{"service"}
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	var pstates ProbeStateStore
	if opts.Lock != nil {
		ps, ok := opts.Store.(ProbeStateStore)
		if !ok {
			return nil, errors.New("alerting: a shared store must keep probe states (ProbeStateStore)")
		}
		pstates = ps
	}
	s := &Service{
		cfg: opts.Config.WithDefaults(), rules: opts.Rules, groupBy: opts.GroupBy, store: opts.Store,
		lock: opts.Lock, pstates: pstates,
		sink: opts.Sink, announcer: opts.Announcer, slos: opts.SLOs, runbooks: opts.Runbooks,
		log: opts.Logger, now: opts.Now, m: m, externalURL: strings.TrimRight(opts.ExternalURL, "/"),
		alerts: map[string]*Record{}, groups: map[string]*GroupState{},
		silences: map[string]*Silence{}, beats: map[string]time.Time{}, probes: map[string]model.ProbeState{},
		dirty: map[string]bool{}, reposted: map[string]bool{}, members: map[string]map[string]*Record{}, touched: map[string]bool{}, dirtyGroups: map[string]bool{}, dirtySilence: map[string]bool{},
	}
	m2, ps := compileMuting(s.cfg, s.log)
	if len(ps) > 0 {
		return nil, ps
	}
	s.setMutingLocked(m2)
	s.started = s.now()
	s.hbByName, s.watchdogs = heartbeatIndex(s.cfg.Heartbeats)
	s.sloNames, s.retired = toSet(opts.SLONames), map[string]bool{}
	s.reloaded = make(chan struct{}, 1)
	s.rum = newRUMWindows(opts.Rules, s.started)
	if opts.RUMMinutes != nil && opts.Lock != nil { // kept even without RUM rules: a reload may add some
		if opts.Writer == "" {
			return nil, errors.New("alerting: shared RUM rule figures need a writer name")
		}
		s.rumStore, s.writer, s.rum.shared = opts.RUMMinutes, opts.Writer, true
	}
	return s, nil
}

// Matchers returns the parser for matcher text in the configured syntax
// (alerting.matcher_syntax), for API filters and forms.
func (s *Service) Matchers() MatcherParser {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parser
}

// mutingConfig is what the muting keys of the alerting section compile
// to: the matcher parser, the inhibition rules, the recurring windows.
type mutingConfig struct {
	parser    MatcherParser
	inhibit   []inhibitRule
	recurring []recurringWindow
}

// compileMuting compiles alerting.matcher_syntax, inhibit_rules,
// time_intervals and maintenance (Compile reports their problems with
// positions first).
func compileMuting(cfg config.Alerting, log *slog.Logger) (mutingConfig, config.Problems) {
	p := NewMatcherParser(cfg.MatcherSyntax, log)
	inhibit, ps := compileInhibitRules(cfg, p)
	intervals, ips := compileTimeIntervals(cfg)
	recurring, mps := compileMaintenance(cfg, p, intervals)
	return mutingConfig{parser: p, inhibit: inhibit, recurring: recurring}, append(append(ps, ips...), mps...)
}

// setMutingLocked takes a compiled muting config; every alert's muting is
// recomputed at the next pass.
func (s *Service) setMutingLocked(m mutingConfig) {
	s.parser, s.inhibit, s.recurring = m.parser, m.inhibit, m.recurring
	s.occurrences, s.inhibitValid = map[string][2]time.Time{}, false
}

// Close unregisters the service's metrics (for reloads that rebuild it).
func (s *Service) Close() { s.m.unregister() }

// storedState is what alerting keeps in the store.
type storedState struct {
	snap  Snapshot
	sils  []Silence
	beats map[string]time.Time
}

// exclusive runs fn as one change of the alert state. With a shared store
// it runs under the lock (waiting for another replica's cycle to end) on
// the state read fresh; fence is then checked before groups are handed
// over. Without one it just runs fn.
func (s *Service) exclusive(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.lock == nil {
		return fn(ctx)
	}
	_, err := s.underLock(ctx, true, fn)
	return err
}

// underLock runs fn holding the shared store's lock (waiting for it, or
// giving up at once when wait is false: ran is then false), with the
// state marked for a fresh read and the lock's fence in force.
func (s *Service) underLock(ctx context.Context, wait bool, fn func(ctx context.Context) error) (ran bool, err error) {
	return s.lock.HoldLock(ctx, wait, func(ctx context.Context, fence func() error) error {
		s.mu.Lock()
		s.loaded = false
		s.fence = fence
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.fence = nil
			s.mu.Unlock()
		}()
		return fn(ctx)
	})
}

// Run evaluates every evaluation interval until ctx ends, and right after
// each reload, from which a changed interval counts. What other sections
// commit later in the same reload (an SLO's objective) is seen by the next
// evaluation, at most the new interval later.
func (s *Service) Run(ctx context.Context) error {
	if s.rumStore != nil {
		done := make(chan struct{})
		go func() { defer close(done); s.rumLoop(ctx) }()
		defer func() { <-done }()
	}
	every := s.evaluationInterval()
	t := time.NewTicker(every)
	defer t.Stop()
	// evaluate runs one cycle, then applies a changed interval from now:
	// after a reload, not from the old interval's next tick (up to an old
	// interval away).
	evaluate := func() {
		if err := s.Evaluate(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrCycleSkipped) {
			s.log.Error("alert evaluation failed", "err", err)
		}
		if d := s.evaluationInterval(); d != every {
			every = d
			t.Reset(d)
		}
	}
	evaluate()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.reloaded:
			evaluate()
		case <-t.C:
			evaluate()
		}
	}
}

func (s *Service) evaluationInterval() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.EvaluationInterval.Std()
}

// ErrCycleSkipped is returned by Evaluate when another replica holds the
// alerting lock and evaluates this cycle.
var ErrCycleSkipped = errors.New("another replica evaluates the alerts")

// batch is one group hand-over prepared under mu and sent without it.
type batch struct {
	group    model.AlertGroup
	sig      string
	ann      string
	resolved []string
}
