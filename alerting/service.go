package alerting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
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
	Lock       Locker
	Sink       GroupSink
	Announcer  Announcer
	SLOs       SLOSource
	Runbooks   RunbookMatcher
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service holds the alert state and is the one place that changes it:
// rule evaluation, probe states, RUM outcomes, webhook deliveries,
// heartbeats and silences all go through it. It is safe for concurrent use:
// mu guards the state; sendMu keeps group hand-overs in order, and sink
// calls are made without holding mu.
type Service struct {
	cfg       config.Alerting
	rules     []*Rule
	groupBy   []string
	store     Store
	lock      Locker
	pstates   ProbeStateStore
	sink      GroupSink
	announcer Announcer
	slos      SLOSource
	runbooks  RunbookMatcher
	log       *slog.Logger
	now       func() time.Time
	m         *metrics
	hbByName  map[string]config.Heartbeat
	watchdogs map[string]string // alertname -> heartbeat name
	rum       *rumWindows
	started   time.Time

	sendMu sync.Mutex

	mu           sync.Mutex
	loaded       bool
	alerts       map[string]*Record
	groups       map[string]*GroupState
	groupMeta    map[string]GroupState // labels and source of groups not yet sent
	silences     map[string]*Silence
	beats        map[string]time.Time
	probes       map[string]model.ProbeState
	dirty        map[string]bool               // record keys to save (false: delete)
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
		log: opts.Logger, now: opts.Now, m: m,
		hbByName: map[string]config.Heartbeat{}, watchdogs: map[string]string{},
		alerts: map[string]*Record{}, groups: map[string]*GroupState{}, groupMeta: map[string]GroupState{},
		silences: map[string]*Silence{}, beats: map[string]time.Time{}, probes: map[string]model.ProbeState{},
		dirty: map[string]bool{}, members: map[string]map[string]*Record{}, touched: map[string]bool{}, dirtyGroups: map[string]bool{}, dirtySilence: map[string]bool{},
	}
	s.started = s.now()
	for _, h := range s.cfg.Heartbeats {
		s.hbByName[h.Name] = h
		if h.AlertmanagerAlert != "" {
			s.watchdogs[h.AlertmanagerAlert] = h.Name
		}
	}
	s.rum = newRUMWindows(opts.Rules, s.started)
	return s, nil
}

// Close unregisters the service's metrics (for reloads that rebuild it).
func (s *Service) Close() { s.m.unregister() }

// loadLocked reads the stored state once; with a shared store, every
// time (see reloadLocked).
func (s *Service) loadLocked(ctx context.Context) error {
	if s.loaded {
		return nil
	}
	if s.lock != nil {
		return s.reloadLocked(ctx)
	}
	st, err := s.readStored(ctx)
	if err != nil {
		return err
	}
	s.applyStoredLocked(st)
	s.loaded = true
	return nil
}

// storedState is what alerting keeps in the store.
type storedState struct {
	snap  Snapshot
	sils  []Silence
	beats map[string]time.Time
}

func (s *Service) readStored(ctx context.Context) (storedState, error) {
	var st storedState
	var err error
	if st.snap, err = s.store.LoadAlertState(ctx); err != nil {
		return st, fmt.Errorf("load alert state: %w", err)
	}
	if st.sils, err = s.store.Silences(ctx); err != nil {
		return st, fmt.Errorf("load silences: %w", err)
	}
	if st.beats, err = s.store.Heartbeats(ctx); err != nil {
		return st, fmt.Errorf("load heartbeats: %w", err)
	}
	return st, nil
}

// applyStoredLocked adds the stored state to what is held in memory.
func (s *Service) applyStoredLocked(st storedState) {
	for i := range st.snap.Alerts {
		r := st.snap.Alerts[i]
		s.addLocked(&r)
		s.touched[r.Alert.GroupKey] = true
	}
	for i := range st.snap.Groups {
		g := st.snap.Groups[i]
		s.groups[g.Key] = &g
		s.touched[g.Key] = true
	}
	for i := range st.sils {
		sl := st.sils[i]
		s.silences[sl.ID] = &sl
	}
	for k, v := range st.beats {
		s.beats[k] = v
	}
}

// reloadLocked replaces the state held in memory with the state in the
// shared store (other replicas change it), probe states included.
// Announcements not yet delivered are kept.
func (s *Service) reloadLocked(ctx context.Context) error {
	st, err := s.readStored(ctx)
	if err != nil {
		return err
	}
	pss, err := s.pstates.ProbeStates(ctx)
	if err != nil {
		return fmt.Errorf("load probe states: %w", err)
	}
	s.alerts, s.groups, s.members = map[string]*Record{}, map[string]*GroupState{}, map[string]map[string]*Record{}
	s.silences, s.beats, s.probes = map[string]*Silence{}, map[string]time.Time{}, map[string]model.ProbeState{}
	clear(s.dirty)
	clear(s.dirtyGroups)
	clear(s.dirtySilence)
	clear(s.touched)
	s.applyStoredLocked(st)
	for _, ps := range pss {
		s.probes[ps.Probe+"|"+ps.Location] = ps
	}
	s.loaded = true
	return nil
}

// exclusive runs fn as one change of the alert state. With a shared store
// it runs under the lock (waiting for another replica's cycle to end) on
// the state read fresh; fence is then checked before groups are handed
// over. Without one it just runs fn.
func (s *Service) exclusive(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.lock == nil {
		return fn(ctx)
	}
	_, err := s.lock.HoldLock(ctx, true, func(ctx context.Context, fence func() error) error {
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
	return err
}

// freshLocked re-reads the shared state for a read when the store is
// shared, unless a change of this process holds the lock (its state in
// memory is then the latest).
func (s *Service) freshLocked(ctx context.Context) error {
	if s.lock != nil && s.fence == nil {
		s.loaded = false
	}
	return s.loadLocked(ctx)
}

// Run evaluates every evaluation interval until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.EvaluationInterval.Std())
	defer t.Stop()
	if err := s.Evaluate(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrCycleSkipped) {
		s.log.Error("alert evaluation failed", "err", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.Evaluate(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrCycleSkipped) {
				s.log.Error("alert evaluation failed", "err", err)
			}
		}
	}
}

// Evaluate runs every rule, the SLO burn tiers, heartbeats, silences and
// inhibition at the service's current time, saves what changed and hands
// changed groups to the sink.
func (s *Service) Evaluate(ctx context.Context) error {
	return s.EvaluateAt(ctx, s.now())
}

// ErrCycleSkipped is returned by Evaluate when another replica holds the
// alerting lock and evaluates this cycle.
var ErrCycleSkipped = errors.New("another replica evaluates the alerts")

// EvaluateAt is Evaluate at a given time (tests, benchmarks). With a
// shared store it evaluates only when no other replica is evaluating
// (ErrCycleSkipped otherwise), on the state read fresh from the store.
func (s *Service) EvaluateAt(ctx context.Context, now time.Time) error {
	if s.lock == nil {
		return s.evaluateAt(ctx, now)
	}
	ran, err := s.lock.HoldLock(ctx, false, func(ctx context.Context, fence func() error) error {
		s.mu.Lock()
		s.loaded = false
		s.fence = fence
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.fence = nil
			s.mu.Unlock()
		}()
		return s.evaluateAt(ctx, now)
	})
	if err == nil && !ran {
		s.m.cycleSkips.Inc()
		return ErrCycleSkipped
	}
	return err
}

func (s *Service) evaluateAt(ctx context.Context, now time.Time) error {
	var states []model.SLOState
	if s.slos != nil {
		states = s.slos.SLOStates()
	}
	start := time.Now()
	s.mu.Lock()
	if err := s.loadLocked(ctx); err != nil {
		s.mu.Unlock()
		return err
	}
	s.evaluateLocked(now, states)
	err := s.saveLocked(ctx)
	s.mu.Unlock()
	s.m.evalDuration.Observe(time.Since(start).Seconds())
	if ferr := s.flush(ctx, now); ferr != nil && err == nil {
		err = ferr
	}
	return err
}

func (s *Service) evaluateLocked(now time.Time, states []model.SLOState) {
	byName := make(map[string]model.SLOState, len(states))
	for _, st := range states {
		byName[st.Name] = st
	}
	probeKeys := s.probeKeysLocked()
	for _, r := range s.rules {
		switch r.Kind {
		case KindProbe:
			s.evalProbeRuleLocked(r, probeKeys[r.Probe], now)
		case KindRUM:
			v, known := s.rum.measure(r, now)
			if !known {
				continue
			}
			l := model.Labels{"rum": r.RUMMeasure}
			if r.Route != "" {
				l["route"] = r.Route
			}
			s.stepLocked(r, r.instanceLabels(l), v > r.Above, v, now)
		case KindSLO:
			st, ok := byName[r.SLO]
			if !ok {
				continue
			}
			s.stepLocked(r, r.instanceLabels(sloLabels(st)), st.BudgetRemaining < r.BudgetBelow, st.BudgetRemaining, now)
		}
	}
	if s.cfg.SLOBurn != config.SLOBurnOff {
		for _, st := range states {
			s.evalBurnLocked(st, now)
		}
	}
	s.evalHeartbeatsLocked(now)
	s.silencesLocked(now)
	s.refreshMutesLocked(now)
	s.gcLocked(now)
	s.updateGaugesLocked(now)
}

func sloLabels(st model.SLOState) model.Labels {
	l := st.Labels.Clone()
	l["slo"] = st.Name
	if st.Service != "" {
		l["service"] = st.Service
	}
	return l
}

// probeKeysLocked indexes the known probe states by probe name, sorted.
func (s *Service) probeKeysLocked() map[string][]string {
	out := map[string][]string{}
	for k, ps := range s.probes {
		out[ps.Probe] = append(out[ps.Probe], k)
	}
	for _, keys := range out {
		sort.Strings(keys)
	}
	return out
}

func (s *Service) evalProbeRuleLocked(r *Rule, keys []string, now time.Time) {
	for _, k := range keys {
		ps := s.probes[k]
		l := ps.Labels.Clone()
		l["probe"] = ps.Probe
		if ps.Location != "" {
			l["location"] = ps.Location
		}
		s.stepLocked(r, r.instanceLabels(l), ps.Failing, 0, now)
	}
}

// stepLocked advances the rule's alert instance with these labels.
func (s *Service) stepLocked(r *Rule, labels model.Labels, active bool, value float64, now time.Time) {
	source := SourceRule
	if r.Kind == "" {
		source = r.Name // built-in pseudo rules carry their source as name
	}
	fp := Fingerprint(labels)
	key := source + "|" + fp
	rec := s.alerts[key]
	if rec == nil {
		if !active {
			return
		}
		rec = &Record{Key: key, Rule: r.Name, Alert: model.Alert{
			Name: labels["alertname"], Fingerprint: fp, Labels: labels, Severity: r.Severity,
			Source: source, GroupKey: GroupKey(s.groupBy, labels), Runbook: r.Runbook,
		}}
		if rec.Alert.Runbook == "" && s.runbooks != nil {
			if rb, ok := s.runbooks.Match(rec.Alert.Name, labels); ok {
				rec.Alert.Runbook = rb.Name
			}
		}
		s.addLocked(rec)
	}
	rec.Value = value
	if active || rec.Alert.State == model.AlertFiring {
		rec.Alert.Annotations = r.instanceAnnotations(labels, value)
	}
	if Advance(&rec.Alert, &rec.KeepFiringSince, active, now, r.For, r.KeepFiringFor) {
		if rec.Alert.State == model.AlertResolved {
			rec.ResolvedReported = false
		}
		s.markLocked(rec)
	}
}

// evalBurnLocked raises the SLO's page and ticket alerts from its tiers.
func (s *Service) evalBurnLocked(st model.SLOState, now time.Time) {
	for _, tier := range []string{"page", "ticket"} {
		firing := false
		var rate, factor float64
		var windows []string
		sev := model.SeverityWarning
		if tier == "page" {
			sev = model.SeverityCritical
		}
		for _, t := range st.Tiers {
			if t.Name != tier {
				continue
			}
			if t.Severity != "" {
				sev = t.Severity
			}
			if t.Firing {
				firing = true
				windows = append(windows, fmt.Sprintf("%s/%s", model.Duration(t.LongWindow), model.Duration(t.ShortWindow)))
				if t.LongRate > rate {
					rate, factor = t.LongRate, t.Factor
				}
			}
		}
		l := sloLabels(st)
		l["alertname"] = SLOBurnAlert
		l["tier"] = tier
		l["sloth_severity"] = tier
		l["severity"] = string(sev)
		pseudo := &Rule{Name: SourceSLO, Severity: sev}
		s.stepLocked(pseudo, l, firing, rate, now)
		if rec := s.alerts[SourceSLO+"|"+Fingerprint(l)]; rec != nil && firing {
			rec.Rule = "slo_burn"
			rec.Alert.Annotations = model.Labels{
				"summary": fmt.Sprintf("SLO %s is burning its error budget %.1fx too fast (%s tier, windows %s; threshold %.1fx)",
					st.Name, rate, tier, strings.Join(windows, ", "), factor),
				"budget_remaining": fmt.Sprintf("%.4f", st.BudgetRemaining),
			}
		}
	}
}

func (s *Service) evalHeartbeatsLocked(now time.Time) {
	for _, h := range s.cfg.Heartbeats {
		last, ok := s.beats[h.Name]
		if !ok {
			last = s.started
		}
		missing := now.Sub(last) > h.Timeout.Std()
		l := h.Labels.Clone()
		l["alertname"] = HeartbeatAlert
		l["heartbeat"] = h.Name
		l["severity"] = string(h.Severity)
		pseudo := &Rule{Name: SourceHeartbeat, Severity: h.Severity, Runbook: h.Runbook}
		s.stepLocked(pseudo, l, missing, now.Sub(last).Seconds(), now)
		if rec := s.alerts[SourceHeartbeat+"|"+Fingerprint(l)]; rec != nil && missing {
			rec.Rule = "heartbeat"
			rec.Alert.Annotations = model.Labels{"summary": fmt.Sprintf("No heartbeat %q for %s (timeout %s); last seen %s",
				h.Name, now.Sub(last).Truncate(time.Second), h.Timeout, last.UTC().Format(time.RFC3339))}
		}
	}
}

// silencesLocked announces silences about to end, or just ended, while
// alerts they mute still fire; it uses the muting of the previous pass.
func (s *Service) silencesLocked(now time.Time) {
	ids := make([]string, 0, len(s.silences))
	for id := range s.silences {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		sl := s.silences[id]
		if sl.ExpiryHandled {
			if now.Sub(sl.EndsAt) > silenceRetention {
				delete(s.silences, id)
				s.dirtySilence[id] = false
			}
			continue
		}
		muted := s.firingMutedByLocked(id)
		switch {
		case !now.Before(sl.EndsAt):
			var still []*Record
			for _, r := range muted {
				if !s.mutedByOtherLocked(r, id, now) {
					still = append(still, r)
				}
			}
			if len(still) > 0 {
				s.announceLocked("silence_expired", sl, still, now,
					fmt.Sprintf("Silence %s %s (by %s) has expired while %s still firing: %s",
						short(sl.ID), sl.Matchers, sl.CreatedBy, plural(len(still), "alert is", "alerts are"), names(still)))
			}
			sl.ExpiryHandled = true
			s.dirtySilence[id] = true
		case sl.Active(now) && sl.WarnedAt.IsZero() && sl.EndsAt.Sub(now) <= s.cfg.Silences.ExpiryWarning.Std() && len(muted) > 0:
			s.announceLocked("silence_expiring", sl, muted, now,
				fmt.Sprintf("Silence %s %s (by %s) expires in %s, at %s, while %s it mutes still firing: %s",
					short(sl.ID), sl.Matchers, sl.CreatedBy, sl.EndsAt.Sub(now).Round(time.Second), sl.EndsAt.UTC().Format(time.RFC3339),
					plural(len(muted), "alert", "alerts"), names(muted)))
			sl.WarnedAt = now
			s.dirtySilence[id] = true
		}
	}
}

func (s *Service) firingMutedByLocked(id string) []*Record {
	var out []*Record
	for _, r := range s.alerts {
		if r.Alert.State == model.AlertFiring && slices.Contains(r.MutedBy, id) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func (s *Service) mutedByOtherLocked(r *Record, except string, now time.Time) bool {
	for id, sl := range s.silences {
		if id != except && sl.Mutes(r.Alert.Labels, now) {
			return true
		}
	}
	return false
}

func (s *Service) announceLocked(kind string, sl *Silence, recs []*Record, now time.Time, text string) {
	sev := model.SeverityInfo
	labels := model.Labels{"silence_id": sl.ID}
	for _, r := range recs {
		if r.Alert.Severity.Rank() > sev.Rank() {
			sev = r.Alert.Severity
		}
	}
	for k, v := range groupLabels(s.groupBy, recs[0].Alert.Labels) {
		labels[k] = v
	}
	labels["group_key"] = recs[0].Alert.GroupKey
	s.pendingAnn = append(s.pendingAnn, model.Announcement{Kind: kind, Text: text, Labels: labels, Severity: sev, At: now})
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func names(recs []*Record) string {
	var parts []string
	for i, r := range recs {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(recs)-5))
			break
		}
		parts = append(parts, r.Alert.Name+" "+r.Alert.GroupKey)
	}
	return strings.Join(parts, ", ")
}

// refreshMutesLocked recomputes which silences mute each active alert and
// which SLO ticket alerts are inhibited by their SLO's firing page alert.
func (s *Service) refreshMutesLocked(now time.Time) {
	pages := map[string]string{} // slo -> fingerprint of its firing page alert
	for _, r := range s.alerts {
		if r.Alert.Source == SourceSLO && r.Alert.State == model.AlertFiring && r.Alert.Labels["tier"] == "page" {
			pages[r.Alert.Labels["slo"]] = r.Alert.Fingerprint
		}
	}
	ids := make([]string, 0, len(s.silences))
	for id, sl := range s.silences {
		if sl.Active(now) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, r := range s.alerts {
		if r.Alert.State != model.AlertFiring && r.Alert.State != model.AlertPending {
			continue
		}
		var muted []string
		for _, id := range ids {
			if s.silences[id].Matchers.Matches(r.Alert.Labels) {
				muted = append(muted, id)
			}
		}
		inhibited := ""
		if r.Alert.Source == SourceSLO && r.Alert.Labels["tier"] == "ticket" {
			inhibited = pages[r.Alert.Labels["slo"]]
		}
		if !slices.Equal(muted, r.MutedBy) || inhibited != r.InhibitedBy {
			r.MutedBy, r.InhibitedBy = muted, inhibited
			s.markLocked(r)
		}
		r.Alert.Silenced = len(r.MutedBy) > 0 || r.InhibitedBy != ""
	}
}

// gcLocked forgets alerts that no longer matter: pending alerts that went
// back to inactive at once, resolved ones once reported and past the
// retention (kept that long so late duplicate deliveries stay harmless).
func (s *Service) gcLocked(now time.Time) {
	ret := s.cfg.ResolvedRetention.Std()
	for _, r := range s.alerts {
		switch {
		case r.Alert.State == model.AlertInactive:
		case r.Alert.State == model.AlertResolved && r.ResolvedReported && now.Sub(r.Alert.EndsAt) > ret:
		default:
			continue
		}
		s.removeLocked(r)
	}
}

// saveLocked writes what changed since the last save. On failure the
// changes stay marked and are retried with the next save.
func (s *Service) saveLocked(ctx context.Context) error {
	var c Change
	for k, put := range s.dirty {
		if r, ok := s.alerts[k]; put && ok {
			c.PutAlerts = append(c.PutAlerts, *r)
		} else {
			c.DeleteAlerts = append(c.DeleteAlerts, k)
		}
	}
	for k := range s.dirtyGroups {
		if g, ok := s.groups[k]; ok {
			c.PutGroups = append(c.PutGroups, *g)
		} else {
			c.DeleteGroups = append(c.DeleteGroups, k)
		}
	}
	var errs []error
	if !c.Empty() {
		if err := s.store.SaveAlertState(ctx, c); err != nil {
			errs = append(errs, fmt.Errorf("save alert state: %w", err))
		} else {
			clear(s.dirty)
			clear(s.dirtyGroups)
		}
	}
	for id := range s.dirtySilence {
		var err error
		if sl, ok := s.silences[id]; ok {
			err = s.store.PutSilence(ctx, *sl)
		} else {
			err = s.store.DeleteSilence(ctx, id)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("save silence %s: %w", id, err))
			continue
		}
		delete(s.dirtySilence, id)
	}
	if err := errors.Join(errs...); err != nil {
		s.log.Error("alert state not saved; will retry", "err", err)
		return err
	}
	return nil
}

// addLocked tracks a new record.
func (s *Service) addLocked(r *Record) {
	s.alerts[r.Key] = r
	m := s.members[r.Alert.GroupKey]
	if m == nil {
		m = map[string]*Record{}
		s.members[r.Alert.GroupKey] = m
	}
	m[r.Key] = r
}

// removeLocked forgets a record and marks it for deletion from the store.
func (s *Service) removeLocked(r *Record) {
	delete(s.alerts, r.Key)
	if m := s.members[r.Alert.GroupKey]; m != nil {
		delete(m, r.Key)
		if len(m) == 0 {
			delete(s.members, r.Alert.GroupKey)
		}
	}
	s.dirty[r.Key] = false
}

// markLocked marks a changed record for saving and its group for hand-over.
func (s *Service) markLocked(r *Record) {
	s.dirty[r.Key] = true
	s.touched[r.Alert.GroupKey] = true
}

// batch is one group hand-over prepared under mu and sent without it.
type batch struct {
	group    model.AlertGroup
	sig      string
	resolved []string
}

// flush hands every changed group to the sink, in order, and delivers
// pending announcements. Hand-overs that fail are retried next time.
func (s *Service) flush(ctx context.Context, now time.Time) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.mu.Lock()
	fence := s.fence
	s.mu.Unlock()
	if fence != nil {
		if err := fence(); err != nil {
			return fmt.Errorf("hand alert groups over: %w", err)
		}
	}
	s.mu.Lock()
	batches := s.collectLocked()
	anns := s.pendingAnn
	s.pendingAnn = nil
	s.mu.Unlock()

	var errs []error
	for _, b := range batches {
		var err error
		if s.sink != nil {
			err = s.sink.HandleAlertGroup(ctx, b.group)
		}
		s.mu.Lock()
		if err != nil {
			s.m.handoffs.WithLabelValues("error").Inc()
			s.touched[b.group.Key] = true
			errs = append(errs, fmt.Errorf("hand group %s to incidents: %w", b.group.Key, err))
		} else {
			s.m.handoffs.WithLabelValues("ok").Inc()
			s.applySentLocked(b, now)
		}
		s.mu.Unlock()
	}
	var failed []model.Announcement
	for _, a := range anns {
		if s.announcer == nil {
			s.log.Warn("announcement with no announcer", "kind", a.Kind, "text", a.Text)
			continue
		}
		if err := s.announcer.Announce(ctx, a); err != nil {
			failed = append(failed, a)
			errs = append(errs, fmt.Errorf("announce %s: %w", a.Kind, err))
			continue
		}
		s.m.announcements.WithLabelValues(a.Kind).Inc()
	}
	s.mu.Lock()
	s.pendingAnn = append(failed, s.pendingAnn...)
	err := s.saveLocked(ctx)
	s.mu.Unlock()
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		s.log.Error("alert hand-over incomplete; will retry", "err", err)
		return err
	}
	return nil
}

// collectLocked builds the groups whose firing set, muting or resolutions
// changed since they were last handed over. A group is first handed over
// when one of its alerts fires unmuted; from then on every change is.
func (s *Service) collectLocked() []batch {
	byKey := map[string][]*Record{}
	for k := range s.touched {
		var recs []*Record
		for _, r := range s.members[k] {
			if r.Alert.State == model.AlertFiring || (r.Alert.State == model.AlertResolved && !r.ResolvedReported) {
				recs = append(recs, r)
			}
		}
		if len(recs) > 0 || (s.groups[k] != nil && s.groups[k].Open) {
			byKey[k] = recs
		}
	}
	clear(s.touched)
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []batch
	for _, key := range keys {
		recs := byKey[key]
		sort.Slice(recs, func(i, j int) bool { return recs[i].Key < recs[j].Key })
		var firing, resolved []*Record
		unmuted := false
		for _, r := range recs {
			if r.Alert.State == model.AlertFiring {
				firing = append(firing, r)
				unmuted = unmuted || !r.Alert.Silenced
			} else {
				resolved = append(resolved, r)
			}
		}
		gs := s.groups[key]
		open := gs != nil && gs.Open
		if !open && !unmuted {
			for _, r := range resolved {
				r.ResolvedReported = true
				s.dirty[r.Key] = true
			}
			continue
		}
		sig := signature(firing)
		if open && sig == gs.Signature && len(resolved) == 0 {
			continue
		}
		meta := s.metaLocked(key, recs)
		g := model.AlertGroup{Key: key, Labels: meta.Labels.Clone(), Source: meta.Source, Firing: len(firing) > 0}
		b := batch{sig: sig}
		for _, r := range firing {
			g.Alerts = append(g.Alerts, copyAlert(r.Alert))
		}
		for _, r := range resolved {
			g.Alerts = append(g.Alerts, copyAlert(r.Alert))
			b.resolved = append(b.resolved, r.Key)
		}
		b.group = g
		out = append(out, b)
	}
	return out
}

func (s *Service) metaLocked(key string, recs []*Record) GroupState {
	if gs := s.groups[key]; gs != nil {
		return *gs
	}
	if m, ok := s.groupMeta[key]; ok {
		return m
	}
	m := GroupState{Key: key, Source: GroupSourceSentinel}
	if len(recs) > 0 {
		m.Labels = groupLabels(s.groupBy, recs[0].Alert.Labels)
	}
	return m
}

func (s *Service) applySentLocked(b batch, now time.Time) {
	gs := s.groups[b.group.Key]
	if gs == nil {
		gs = &GroupState{Key: b.group.Key, Labels: b.group.Labels, Source: b.group.Source}
		s.groups[b.group.Key] = gs
	}
	gs.Signature, gs.Open, gs.SentAt = b.sig, b.group.Firing, now
	if gs.Open {
		s.dirtyGroups[gs.Key] = true
	} else {
		delete(s.groups, gs.Key)
		delete(s.groupMeta, gs.Key)
		s.dirtyGroups[gs.Key] = false
	}
	for _, k := range b.resolved {
		if r := s.alerts[k]; r != nil && r.Alert.State == model.AlertResolved {
			r.ResolvedReported = true
			s.dirty[k] = true
		}
	}
}

func signature(firing []*Record) string {
	var b strings.Builder
	for _, r := range firing {
		b.WriteString(r.Key)
		if r.Alert.Silenced {
			b.WriteString("~")
		}
		b.WriteByte(';')
	}
	return b.String()
}

func copyAlert(a model.Alert) model.Alert {
	a.Labels = a.Labels.Clone()
	a.Annotations = a.Annotations.Clone()
	return a
}

// RecordProbeState takes a probe's flap-suppressed state and evaluates the
// rules on that probe at once.
func (s *Service) RecordProbeState(ctx context.Context, st model.ProbeState) {
	if s.lock == nil {
		s.recordProbeState(ctx, st, false)
		return
	}
	// Shared: keep the state for whichever replica evaluates, and act on
	// a change of Failing at once under the lock.
	if err := s.pstates.PutProbeState(ctx, st); err != nil {
		s.log.Error("probe state not stored", "probe", st.Probe, "err", err)
		return
	}
	s.mu.Lock()
	prev, had := s.probes[st.Probe+"|"+st.Location]
	s.mu.Unlock()
	if had && prev.Failing == st.Failing {
		return
	}
	if err := s.exclusive(ctx, func(ctx context.Context) error {
		s.recordProbeState(ctx, st, true)
		return nil
	}); err != nil {
		s.log.Warn("probe state stored; evaluated with the next cycle", "probe", st.Probe, "err", err)
	}
}

// recordProbeState evaluates the probe's rules when Failing changed (or
// always, with force: the shared state read already holds st).
func (s *Service) recordProbeState(ctx context.Context, st model.ProbeState, force bool) {
	now := s.now()
	s.mu.Lock()
	if err := s.loadLocked(ctx); err != nil {
		s.mu.Unlock()
		s.log.Error("probe state not evaluated", "probe", st.Probe, "err", err)
		return
	}
	key := st.Probe + "|" + st.Location
	prev, had := s.probes[key]
	s.probes[key] = st
	if had && prev.Failing == st.Failing && !force {
		s.mu.Unlock()
		return // only changes of Failing matter; `for` advances on the ticker
	}
	keys := s.probeKeysLocked()[st.Probe]
	for _, r := range s.rules {
		if r.Kind == KindProbe && r.Probe == st.Probe {
			s.evalProbeRuleLocked(r, keys, now)
		}
	}
	s.refreshMutesLocked(now)
	_ = s.saveLocked(ctx)
	s.mu.Unlock()
	_ = s.flush(ctx, now)
}

// RecordOutcome takes RUM outcomes for the RUM rules; other outcomes are ignored.
func (s *Service) RecordOutcome(_ context.Context, o model.Outcome) { s.rum.add(o) }
