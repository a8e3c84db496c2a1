package config

import (
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Runbooks defaults, applied by DefaultRunbooks and listed in docs/configuration.md.
const (
	DefaultRunbooksDir           = "./runbooks"
	DefaultRunbooksWatchInterval = 10 * time.Second
)

// Runbooks is the runbooks: section: where the Markdown runbooks live and
// how often the directory is checked for changes.
type Runbooks struct {
	// Dir holds one Markdown file per runbook, named NAME.md.
	Dir string `yaml:"dir"`
	// WatchInterval is how often Dir is checked for changed files (0: never).
	WatchInterval model.Duration `yaml:"watch_interval"`
}

// DefaultRunbooks is the runbooks: section's defaults.
func DefaultRunbooks() Runbooks {
	return Runbooks{Dir: DefaultRunbooksDir, WatchInterval: model.Duration(DefaultRunbooksWatchInterval)}
}
