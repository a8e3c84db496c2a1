package probes

import "time"

// flap is a probe's flap-suppressed state. The probe starts passing; it
// turns failing after failThreshold failed runs in a row and passes again
// after passThreshold passing runs in a row. This is the only place in
// Sentinel where flap suppression lives.
type flap struct {
	Failing   bool
	Since     time.Time // when Failing last changed (the first run, initially)
	Successes int       // consecutive passing runs
	Failures  int       // consecutive failing runs
}

// observe folds one run into the state and reports whether Failing changed.
func (f *flap) observe(success bool, at time.Time, failThreshold, passThreshold int) bool {
	if f.Since.IsZero() {
		f.Since = at
	}
	if success {
		f.Successes++
		f.Failures = 0
		if f.Failing && f.Successes >= passThreshold {
			f.Failing, f.Since = false, at
			return true
		}
		return false
	}
	f.Failures++
	f.Successes = 0
	if !f.Failing && f.Failures >= failThreshold {
		f.Failing, f.Since = true, at
		return true
	}
	return false
}
