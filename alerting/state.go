package alerting

import (
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Advance moves an alert through inactive, pending, firing and resolved,
// as Prometheus does: active says whether the condition holds at now; an
// alert fires once the condition has held for forDur, and keeps firing for
// keepFor after it clears. It reports whether the state changed. A pending
// alert whose condition clears goes back to inactive (it never paged).
func Advance(a *model.Alert, keepSince *time.Time, active bool, now time.Time, forDur, keepFor time.Duration) bool {
	switch a.State {
	case "", model.AlertInactive, model.AlertResolved:
		if !active {
			return false
		}
		a.State, a.StartsAt, a.FiredAt, a.EndsAt = model.AlertPending, now, time.Time{}, time.Time{}
		*keepSince = time.Time{}
		if forDur <= 0 {
			a.State, a.FiredAt = model.AlertFiring, now
		}
		return true
	case model.AlertPending:
		if !active {
			a.State, a.EndsAt = model.AlertInactive, now
			return true
		}
		if now.Sub(a.StartsAt) >= forDur {
			a.State, a.FiredAt = model.AlertFiring, now
			return true
		}
		return false
	case model.AlertFiring:
		if active {
			if !keepSince.IsZero() {
				*keepSince = time.Time{}
				return true
			}
			return false
		}
		if keepFor > 0 {
			if keepSince.IsZero() {
				*keepSince = now
				return true
			}
			if now.Sub(*keepSince) < keepFor {
				return false
			}
		}
		a.State, a.EndsAt = model.AlertResolved, now
		*keepSince = time.Time{}
		return true
	}
	return false
}
