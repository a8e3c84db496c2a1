package config

import (
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Audit is the audit: section: how long the audit log keeps entries.
type Audit struct {
	// Retention is how long an entry is kept before the hourly pruning
	// deletes it.
	Retention model.Duration `yaml:"retention"`
}

// DefaultAuditRetention is audit.retention's default: 400 days, a
// year's audit with room for the yearly review.
const DefaultAuditRetention = 400 * 24 * time.Hour

// Bounds of audit.retention.
const (
	minAuditRetention = 24 * time.Hour
	maxAuditRetention = 10 * 365 * 24 * time.Hour
)

// DefaultAudit is the audit: section's defaults.
func DefaultAudit() Audit { return Audit{Retention: model.Duration(DefaultAuditRetention)} }

// Validate reports a retention shorter than a day or longer than ten
// years.
func (a Audit) Validate(path string) Problems {
	var ps Problems
	if d := a.Retention.Std(); d < minAuditRetention || d > maxAuditRetention {
		ps.Add(JoinPath(path, "retention"), "must be between 1d and 3650d (ten years), got %s", a.Retention)
	}
	return ps
}
