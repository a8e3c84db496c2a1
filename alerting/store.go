package alerting

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Record is one tracked alert with the bookkeeping the state machine and
// the group hand-over need; it is what the StateStore keeps.
type Record struct {
	// Key identifies the record: source, Alertmanager groupKey (for
	// deliveries) and fingerprint.
	Key   string      `json:"key"`
	Alert model.Alert `json:"alert"`
	// Rule names the rule (or "slo_burn", "heartbeat") that made the alert.
	Rule  string  `json:"rule,omitempty"`
	Value float64 `json:"value,omitempty"`
	// KeepFiringSince is when the condition cleared on a firing alert held
	// by keep_firing_for.
	KeepFiringSince time.Time `json:"keep_firing_since,omitzero"`
	// MutedBy lists the silences muting the alert at the last evaluation;
	// InhibitedBy names the alert inhibiting it.
	MutedBy     []string `json:"muted_by,omitempty"`
	InhibitedBy string   `json:"inhibited_by,omitempty"`
	// MaintenanceBy names the maintenance windows the alert fell in at the
	// last evaluation.
	MaintenanceBy []string `json:"maintenance_by,omitempty"`
	// ResolvedReported is set once a resolved alert was handed to incidents.
	ResolvedReported bool `json:"resolved_reported,omitempty"`
	// ExpiresAt is when an alert posted to the API v2 resolves unless it is
	// posted again; TimedOut is set when it resolved that way.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	TimedOut  bool      `json:"timed_out,omitempty"`
	// GroupSource and GroupLabels describe the group an alert delivered
	// by Alertmanager came in (source alertmanager, its groupLabels), so
	// that whichever replica hands the group over names it the same.
	GroupSource string       `json:"group_source,omitempty"`
	GroupLabels model.Labels `json:"group_labels,omitempty"`
}

// GroupState is what was last handed to incidents for one group key.
type GroupState struct {
	Key    string       `json:"key"`
	Labels model.Labels `json:"labels"`
	Source string       `json:"source"`
	// Signature is the firing set (fingerprints and muting) last sent.
	Signature string    `json:"signature"`
	Open      bool      `json:"open"`
	SentAt    time.Time `json:"sent_at"`
	// Annotations digests the firing alerts' annotations last sent, so a
	// changed summary (a new figure) is handed over too, at most once per
	// annotationRefresh.
	Annotations string `json:"annotations,omitempty"`
}

// Snapshot is the persisted alert state read at start.
type Snapshot struct {
	Alerts []Record
	Groups []GroupState
}

// Change is one atomic update of the persisted alert state.
type Change struct {
	PutAlerts    []Record
	DeleteAlerts []string
	PutGroups    []GroupState
	DeleteGroups []string
}

// Empty reports whether the change writes nothing.
func (c Change) Empty() bool {
	return len(c.PutAlerts) == 0 && len(c.DeleteAlerts) == 0 && len(c.PutGroups) == 0 && len(c.DeleteGroups) == 0
}

// StateStore keeps alert records and group states across restarts.
// Implementations apply each Change atomically.
type StateStore interface {
	LoadAlertState(ctx context.Context) (Snapshot, error)
	SaveAlertState(ctx context.Context, c Change) error
}

// SilenceStore keeps silences.
type SilenceStore interface {
	PutSilence(ctx context.Context, s Silence) error
	DeleteSilence(ctx context.Context, id string) error
	Silences(ctx context.Context) ([]Silence, error)
}

// HeartbeatStore keeps the time of each heartbeat's last beat.
type HeartbeatStore interface {
	PutHeartbeat(ctx context.Context, name string, at time.Time) error
	Heartbeats(ctx context.Context) (map[string]time.Time, error)
}

// Locker serialises changes of the alert state among Sentinel replicas
// sharing one store (store.AlertingLock implements it on PostgreSQL).
type Locker interface {
	// HoldLock runs fn while this process holds the alerting lock; without
	// wait it skips fn (ran false) when another replica holds it. fn's
	// context ends if the lock is lost; fence fails then, and is called
	// right before handing groups over.
	HoldLock(ctx context.Context, wait bool, fn func(ctx context.Context, fence func() error) error) (ran bool, err error)
}

// ProbeStateStore keeps the latest flap-suppressed state of each probe
// and location, so that the replica evaluating the rules sees the states
// reported to every replica. A state older (by LastRun) than the one
// stored is ignored.
type ProbeStateStore interface {
	PutProbeState(ctx context.Context, st model.ProbeState) error
	ProbeStates(ctx context.Context) ([]model.ProbeState, error)
}

// Store is everything alerting persists; store.Alerting implements it on
// the embedded engine and MemoryStore in memory.
type Store interface {
	StateStore
	SilenceStore
	HeartbeatStore
}

// MemoryStore is a Store held in memory, for tests and `check config`.
type MemoryStore struct {
	mu         sync.Mutex
	alerts     map[string]Record
	groups     map[string]GroupState
	silences   map[string]Silence
	heartbeats map[string]time.Time
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{alerts: map[string]Record{}, groups: map[string]GroupState{}, silences: map[string]Silence{}, heartbeats: map[string]time.Time{}}
}

// LoadAlertState returns every record and group, sorted by key.
func (m *MemoryStore) LoadAlertState(ctx context.Context) (Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return Snapshot{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var s Snapshot
	for _, r := range m.alerts {
		s.Alerts = append(s.Alerts, r)
	}
	for _, g := range m.groups {
		s.Groups = append(s.Groups, g)
	}
	sort.Slice(s.Alerts, func(i, j int) bool { return s.Alerts[i].Key < s.Alerts[j].Key })
	sort.Slice(s.Groups, func(i, j int) bool { return s.Groups[i].Key < s.Groups[j].Key })
	return s, nil
}

// SaveAlertState applies c.
func (m *MemoryStore) SaveAlertState(ctx context.Context, c Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range c.PutAlerts {
		m.alerts[r.Key] = r
	}
	for _, k := range c.DeleteAlerts {
		delete(m.alerts, k)
	}
	for _, g := range c.PutGroups {
		m.groups[g.Key] = g
	}
	for _, k := range c.DeleteGroups {
		delete(m.groups, k)
	}
	return nil
}

// PutSilence stores s, replacing one with the same ID.
func (m *MemoryStore) PutSilence(ctx context.Context, s Silence) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.silences[s.ID] = s
	return nil
}

// DeleteSilence removes a silence; a missing one is not an error.
func (m *MemoryStore) DeleteSilence(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.silences, id)
	return nil
}

// Silences returns every stored silence.
func (m *MemoryStore) Silences(ctx context.Context) ([]Silence, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Silence, 0, len(m.silences))
	for _, s := range m.silences {
		out = append(out, s)
	}
	return out, nil
}

// PutHeartbeat records a beat.
func (m *MemoryStore) PutHeartbeat(ctx context.Context, name string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.heartbeats[name] = at
	return nil
}

// Heartbeats returns the last beat of every heartbeat seen.
func (m *MemoryStore) Heartbeats(ctx context.Context) (map[string]time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]time.Time, len(m.heartbeats))
	for k, v := range m.heartbeats {
		out[k] = v
	}
	return out, nil
}
