package statuspage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sentinel-oss/sentinel/model"
)

// Errors of the service; web maps their kinds to HTTP statuses.
var (
	// ErrNotFound names a component that is not on the page: 404.
	ErrNotFound = model.NewKindError(model.KindNotFound, "no such status page component")
	// ErrInvalid is an override that must change (a missing reason): 400.
	ErrInvalid = model.NewKindError(model.KindInvalid, "invalid override")
)

// Limits and horizons.
const (
	// MaxReasonLen bounds an override's reason, in characters.
	MaxReasonLen = 1000
	// MaxOverrideFor bounds how far ahead an override's end may lie.
	MaxOverrideFor = 90 * 24 * time.Hour
	// MaintenanceHorizon is how far ahead planned maintenance is listed.
	MaintenanceHorizon = 14 * 24 * time.Hour
	// logRetention is how long the override audit log is kept.
	logRetention = 400 * 24 * time.Hour
)

// Options are what New needs; Page and Store are required.
type Options struct {
	Page  *Page
	Store Store
	// Probes, SLOs and Maintenance may be nil: their components then have
	// no data (probes, SLOs) or no window ever applies (maintenance).
	Probes      ProbeSource
	SLOs        SLOSource
	Maintenance MaintenanceSource
	Logger      *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service computes component statuses, keeps overrides and records the
// history. It is safe for concurrent use; Apply swaps the page while it
// runs.
type Service struct {
	page   atomic.Pointer[Page]
	store  Store
	probes ProbeSource
	slos   SLOSource
	maint  MaintenanceSource
	log    *slog.Logger
	now    func() time.Time

	// pruned is when Run last pruned the history.
	mu     sync.Mutex
	pruned time.Time
}

// New builds the service; it starts nothing (see Run).
func New(opts Options) (*Service, error) {
	if opts.Page == nil || opts.Store == nil {
		return nil, errors.New("statuspage: a page and a store are required")
	}
	s := &Service{store: opts.Store, probes: opts.Probes, slos: opts.SLOs, maint: opts.Maintenance, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "statuspage")
	if s.now == nil {
		s.now = time.Now
	}
	s.page.Store(opts.Page)
	return s, nil
}

// Page is the page in force.
func (s *Service) Page() *Page { return s.page.Load() }

// Apply puts a new page in force (a reload's commit; it cannot fail).
// History and overrides are kept by component ID.
func (s *Service) Apply(p *Page) { s.page.Store(p) }

// ComponentState is a component now: its status and, for responders only,
// where it came from.
type ComponentState struct {
	*Component
	Status Status
	// Automatic is what the signals alone say; Why explains it.
	Automatic Status
	Why       string
	// Known is false while none of the component's signals has data and
	// no override or maintenance applies; its status then reads
	// operational and no minute of history is recorded.
	Known bool
	// Override is the override in force, if any.
	Override *Override
	// Maintenance lists the windows in progress that cover it.
	Maintenance []Window
}

// PlannedWindow is a maintenance window, in progress or ahead, that covers
// at least one component of the page.
type PlannedWindow struct {
	Window
	InProgress bool
	Components []*Component
}

// Snapshot is the whole page at one time.
type Snapshot struct {
	At         time.Time
	Page       *Page
	Components []ComponentState
	// Maintenance is in progress first, then by start.
	Maintenance []PlannedWindow
}

// Current computes every component's status now: an override in force
// wins; else a maintenance window in progress makes it under_maintenance;
// else its signals decide (see docs/status-page.md for the rules).
func (s *Service) Current(ctx context.Context) (Snapshot, error) {
	now := s.now()
	p := s.page.Load()
	snap := Snapshot{At: now, Page: p}
	var probeStates []model.ProbeState
	if s.probes != nil {
		var err error
		if probeStates, err = s.probes.ProbeStates(ctx); err != nil {
			return snap, fmt.Errorf("read probe states: %w", err)
		}
	}
	var sloStates []model.SLOState
	if s.slos != nil {
		sloStates = s.slos.States()
	}
	var windows []Window
	if s.maint != nil {
		var err error
		if windows, err = s.maint.MaintenanceWindows(ctx, now, now.Add(MaintenanceHorizon)); err != nil {
			return snap, fmt.Errorf("read maintenance windows: %w", err)
		}
	}
	overrides, err := s.store.Overrides(ctx)
	if err != nil {
		return snap, fmt.Errorf("read status overrides: %w", err)
	}
	for _, c := range p.Components {
		v := c.automatic(probeStates, sloStates)
		cs := ComponentState{Component: c, Automatic: v.status, Why: v.why, Status: v.status, Known: v.known}
		for _, w := range windows {
			if !w.Start.After(now) && now.Before(w.End) && c.MatchedBy(w.Matches) {
				cs.Maintenance = append(cs.Maintenance, w)
			}
		}
		if len(cs.Maintenance) > 0 {
			cs.Status, cs.Known = UnderMaintenance, true
		}
		if o, ok := overrides[c.ID]; ok && o.Active(now) {
			cs.Override = &o
			cs.Status, cs.Known = o.Status, true
		}
		snap.Components = append(snap.Components, cs)
	}
	for _, w := range windows {
		if !now.Before(w.End) {
			continue
		}
		pw := PlannedWindow{Window: w, InProgress: !w.Start.After(now)}
		for _, c := range p.Components {
			if c.MatchedBy(w.Matches) {
				pw.Components = append(pw.Components, c)
			}
		}
		if len(pw.Components) > 0 {
			snap.Maintenance = append(snap.Maintenance, pw)
		}
	}
	slices.SortStableFunc(snap.Maintenance, func(a, b PlannedWindow) int {
		if a.InProgress != b.InProgress {
			if a.InProgress {
				return -1
			}
			return 1
		}
		return a.Start.Compare(b.Start)
	})
	return snap, nil
}

// NewOverride is an override as a responder asks for it.
type NewOverride struct {
	Status Status     `json:"status"`
	Reason string     `json:"reason"`
	Until  *time.Time `json:"until"`
}

// checkReason names what is wrong with an override's reason.
func checkReason(reason string) error {
	switch {
	case strings.TrimSpace(reason) == "":
		return fmt.Errorf("%w: reason is required (it goes into the audit log)", ErrInvalid)
	case !utf8.ValidString(reason):
		return fmt.Errorf("%w: reason is not valid UTF-8", ErrInvalid)
	case utf8.RuneCountInString(reason) > MaxReasonLen:
		return fmt.Errorf("%w: reason is longer than %d characters", ErrInvalid, MaxReasonLen)
	}
	for _, r := range reason {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return fmt.Errorf("%w: reason holds the control character %U", ErrInvalid, r)
		}
	}
	return nil
}

// SetOverride sets component id's status by hand, for actor, with a reason
// and an optional end; it is logged for audit.
func (s *Service) SetOverride(ctx context.Context, id string, n NewOverride, actor string) (Override, error) {
	if _, ok := s.page.Load().Component(id); !ok {
		return Override{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if _, err := ParseStatus(string(n.Status)); err != nil {
		return Override{}, fmt.Errorf("%w: status: %v", ErrInvalid, err)
	}
	if err := checkReason(n.Reason); err != nil {
		return Override{}, err
	}
	now := s.now()
	if n.Until != nil {
		switch {
		case !n.Until.After(now):
			return Override{}, fmt.Errorf("%w: until must be in the future", ErrInvalid)
		case n.Until.Sub(now) > MaxOverrideFor:
			return Override{}, fmt.Errorf("%w: until may be at most 90 days ahead", ErrInvalid)
		}
		u := n.Until.UTC()
		n.Until = &u
	}
	o := Override{Status: n.Status, Reason: strings.TrimSpace(n.Reason), Actor: actor, At: now, Until: n.Until}
	ev := OverrideEvent{At: now, Component: id, Action: ActionSet, Status: o.Status, Reason: o.Reason, Actor: actor, Until: o.Until}
	if err := s.store.SetOverride(ctx, id, &o, ev); err != nil {
		return Override{}, fmt.Errorf("store status override of %s: %w", id, err)
	}
	s.log.Info("status page override set", "status_component", id, "status", string(o.Status), "actor", actor)
	return o, nil
}

// ClearOverride hands component id back to its signals; the reason is
// logged. Clearing a component without an override is not an error.
func (s *Service) ClearOverride(ctx context.Context, id, reason, actor string) error {
	if _, ok := s.page.Load().Component(id); !ok {
		return fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if err := checkReason(reason); err != nil {
		return err
	}
	ev := OverrideEvent{At: s.now(), Component: id, Action: ActionCleared, Reason: strings.TrimSpace(reason), Actor: actor}
	if err := s.store.SetOverride(ctx, id, nil, ev); err != nil {
		return fmt.Errorf("clear status override of %s: %w", id, err)
	}
	s.log.Info("status page override cleared", "status_component", id, "actor", actor)
	return nil
}

// OverrideLog returns the newest limit lines of the audit log.
func (s *Service) OverrideLog(ctx context.Context, limit int) ([]OverrideEvent, error) {
	return s.store.OverrideLog(ctx, min(max(limit, 1), 1000))
}

// History returns component id's last days days, oldest first, ending
// today (UTC); days without records have no data.
func (s *Service) History(ctx context.Context, id string, days int) ([]Day, error) {
	today := dayOf(s.now())
	from := today.AddDate(0, 0, -(days - 1))
	stored, err := s.store.Days(ctx, id, from, today.AddDate(0, 0, 1))
	if err != nil {
		return nil, fmt.Errorf("read history of %s: %w", id, err)
	}
	out := make([]Day, 0, days)
	j := 0
	for i := range days {
		d := from.AddDate(0, 0, i)
		var raw []byte
		for j < len(stored) && stored[j].Day.Before(d) {
			j++
		}
		if j < len(stored) && stored[j].Day.Equal(d) {
			raw = stored[j].Minutes
		}
		out = append(out, newDay(d, raw))
	}
	return out, nil
}

// RecordNow writes the current minute of every component whose status is
// known, while the page is enabled; it returns the snapshot it recorded.
func (s *Service) RecordNow(ctx context.Context) (Snapshot, error) {
	snap, err := s.Current(ctx)
	if err != nil || !snap.Page.Enabled {
		return snap, err
	}
	codes := map[string]byte{}
	for _, c := range snap.Components {
		if c.Known {
			codes[c.ID] = c.Status.code()
		}
	}
	if len(codes) == 0 {
		return snap, nil
	}
	if err := s.store.RecordMinute(ctx, snap.At, codes); err != nil {
		return snap, fmt.Errorf("record status history: %w", err)
	}
	return snap, nil
}

// prune deletes history older than the page's days (and a day's margin)
// and log lines older than logRetention, at most once a day.
func (s *Service) prune(ctx context.Context) {
	now := s.now()
	s.mu.Lock()
	due := now.Sub(s.pruned) >= 24*time.Hour
	if due {
		s.pruned = now
	}
	s.mu.Unlock()
	if !due {
		return
	}
	keep := s.page.Load().HistoryDays + 1
	if err := s.store.Prune(ctx, dayOf(now).AddDate(0, 0, -keep), now.Add(-logRetention)); err != nil {
		s.log.Warn("prune status history", "err", err)
	}
}

// Run records every component's status once a minute, a few seconds past
// the minute, and prunes old history once a day, until ctx is done.
// Every replica records: they write the same minute with the same values.
func (s *Service) Run(ctx context.Context) error {
	for {
		s.prune(ctx)
		if _, err := s.RecordNow(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("status page history not recorded this minute", "err", err)
		}
		now := s.now()
		next := now.Truncate(time.Minute).Add(time.Minute + 2*time.Second)
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
