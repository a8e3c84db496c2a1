package statuspage

import (
	"context"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// ProbeSource gives the latest state of every probe at every location,
// after flap suppression (LastRun zero: not run yet).
type ProbeSource interface {
	ProbeStates(ctx context.Context) ([]model.ProbeState, error)
}

// SLOSource gives the SLO states of the last evaluation cycle.
type SLOSource interface {
	States() []model.SLOState
}

// Window is one occurrence of a maintenance window: planned work during
// which matching alerts do not page. Matches selects the labels it covers.
type Window struct {
	// ID is stable for the occurrence (a one-off window's ID, or a
	// recurring window's name with its start).
	ID         string
	Start, End time.Time
	Matches    func(model.Labels) bool
}

// MaintenanceSource lists the maintenance windows, one-off and recurring,
// with an occurrence that overlaps [from, to).
type MaintenanceSource interface {
	MaintenanceWindows(ctx context.Context, from, to time.Time) ([]Window, error)
}

// Override is a status a responder set by hand, with why; it wins over the
// signals and maintenance until it is cleared or Until passes.
type Override struct {
	Status Status     `json:"status"`
	Reason string     `json:"reason"`
	Actor  string     `json:"actor"`
	At     time.Time  `json:"at"`
	Until  *time.Time `json:"until,omitempty"`
}

// Active reports whether the override is in force at now.
func (o *Override) Active(now time.Time) bool {
	return o != nil && (o.Until == nil || now.Before(*o.Until))
}

// OverrideEvent is one line of the override audit log: who set or cleared
// which component's override, when and why.
type OverrideEvent struct {
	At        time.Time  `json:"at"`
	Component string     `json:"component"`
	Action    string     `json:"action"` // "set" or "cleared"
	Status    Status     `json:"status,omitempty"`
	Reason    string     `json:"reason"`
	Actor     string     `json:"actor"`
	Until     *time.Time `json:"until,omitempty"`
}

// Override log actions.
const (
	ActionSet     = "set"
	ActionCleared = "cleared"
)

// MinutesPerDay is the length of a day's history record.
const MinutesPerDay = 24 * 60

// DayMinutes is one component's stored history for one UTC day: a byte
// per minute, 0 where nothing was recorded; the other values are this
// package's business.
type DayMinutes struct {
	Day     time.Time // 00:00 UTC
	Minutes []byte    // MinutesPerDay long
}

// Store keeps overrides, their audit log and the per-minute history. The
// store package implements it on every engine.
type Store interface {
	// Overrides returns the stored override of every component ID that
	// has one (expired ones included).
	Overrides(ctx context.Context) (map[string]Override, error)
	// SetOverride stores o for component (nil deletes it) and appends ev
	// to the log, in one transaction.
	SetOverride(ctx context.Context, component string, o *Override, ev OverrideEvent) error
	// OverrideLog returns up to limit log lines, newest first.
	OverrideLog(ctx context.Context, limit int) ([]OverrideEvent, error)
	// RecordMinute sets, for each component ID, the byte of the minute
	// holding at; writing the same minute again replaces it.
	RecordMinute(ctx context.Context, at time.Time, codes map[string]byte) error
	// Days returns component's stored days in [from, to) (UTC midnights),
	// oldest first; days without a record are left out.
	Days(ctx context.Context, component string, from, to time.Time) ([]DayMinutes, error)
	// Prune deletes the days before historyBefore and the log lines
	// before logBefore.
	Prune(ctx context.Context, historyBefore, logBefore time.Time) error
}
