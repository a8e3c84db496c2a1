// Package model holds the small value types that cross between Sentinel's
// packages: labels, severities, durations, signal outcomes and probe states.
// It imports nothing from the module, so every package may depend on it.
package model
