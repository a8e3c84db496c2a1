package probes

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// ErrNotFound is returned for a probe name that is not configured.
var ErrNotFound = errors.New("probe not found")

// ResultStore keeps probe runs. The store package implements it on bbolt;
// MemoryStore is the in-memory implementation for tests and the CLI.
// Implementations must be safe for concurrent use.
type ResultStore interface {
	// SaveRun stores one run; runs are keyed by probe and ID (IDs sort by time).
	SaveRun(ctx context.Context, r Result) error
	// Runs returns up to limit runs of probe, newest first, with IDs
	// smaller than before ("" for the newest).
	Runs(ctx context.Context, probe string, before string, limit int) ([]Result, error)
	// Prune deletes every run (of any probe) that started before olderThan.
	Prune(ctx context.Context, olderThan time.Time) error
}

// Sink receives one outcome per probe run, for SLOs counted by Sentinel:
// Source probe, Name the probe, Labels the probe's labels plus location,
// Good 1 or 0, Total 1, Value the duration in seconds.
type Sink interface {
	RecordOutcome(ctx context.Context, o model.Outcome)
}

// StateSink receives a probe's flap-suppressed state after every run, for
// alert rules on probes. Consumers act on changes of Failing; the other
// fields describe the latest run.
type StateSink interface {
	RecordProbeState(ctx context.Context, s model.ProbeState)
}

// RunClaimer is implemented by stores that several Sentinel replicas
// share: each scheduled run of a probe at its location is claimed by
// exactly one replica, which runs it; the others skip that slot.
type RunClaimer interface {
	// ClaimRun claims the run of probe at location scheduled for slot;
	// false means another replica claimed it first.
	ClaimRun(ctx context.Context, probe, location string, slot time.Time) (bool, error)
	// PruneClaims deletes claims of slots before before.
	PruneClaims(ctx context.Context, before time.Time) error
}

// FlapStore keeps each probe's flap-suppressed state where every replica
// sharing a store sees it, since consecutive runs of a probe may run on
// different replicas.
type FlapStore interface {
	// UpdateFlap runs fn on the stored state of probe (nil when none) and
	// stores what it returns, in one transaction; fn may run more than
	// once and must not keep state between runs.
	UpdateFlap(ctx context.Context, probe string, fn func(old []byte) ([]byte, error)) error
	// Flap returns the stored state of probe, nil when none.
	Flap(ctx context.Context, probe string) ([]byte, error)
}

// MemoryStore is a ResultStore held in memory.
type MemoryStore struct {
	mu    sync.Mutex
	runs  map[string][]Result // sorted by ID
	shots map[screenshotKey][]byte
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{runs: map[string][]Result{}} }

// SaveRun stores r, replacing a run with the same probe and ID.
func (m *MemoryStore) SaveRun(ctx context.Context, r Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	list := m.runs[r.Probe]
	i := sort.Search(len(list), func(i int) bool { return list[i].ID >= r.ID })
	if i < len(list) && list[i].ID == r.ID {
		list[i] = r
		return nil
	}
	list = append(list, Result{})
	copy(list[i+1:], list[i:])
	list[i] = r
	m.runs[r.Probe] = list
	return nil
}

// Runs returns runs newest first.
func (m *MemoryStore) Runs(ctx context.Context, probe, before string, limit int) ([]Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	list := m.runs[probe]
	end := len(list)
	if before != "" {
		end = sort.Search(len(list), func(i int) bool { return list[i].ID >= before })
	}
	out := []Result{}
	for i := end - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, list[i])
	}
	return out, nil
}

// Prune deletes runs that started before olderThan.
func (m *MemoryStore) Prune(ctx context.Context, olderThan time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneScreenshots(olderThan)
	for name, list := range m.runs {
		kept := list[:0]
		for _, r := range list {
			if !r.At.Before(olderThan) {
				kept = append(kept, r)
			}
		}
		if len(kept) == 0 {
			delete(m.runs, name)
			continue
		}
		m.runs[name] = kept
	}
	return nil
}
