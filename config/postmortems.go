package config

import (
	"fmt"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Postmortems defaults, applied by DefaultPostmortems and listed in
// docs/configuration.md.
const (
	DefaultDraftReminderAfter   = 3 * 24 * time.Hour
	DefaultActionReminderRepeat = 24 * time.Hour
	DefaultReminderInterval     = 10 * time.Minute
)

// Postmortems is the postmortems: section: which incidents get a drafted
// postmortem when they resolve, and when people are reminded of unfinished
// follow-up work.
type Postmortems struct {
	// RequiredFor are the incident severities that get a draft when they
	// resolve (default: critical). Others get one when someone asks for it.
	RequiredFor []model.Severity `yaml:"required_for"`
	// DraftReminderAfter reminds the responders when a postmortem is still a
	// draft this long after its incident resolved; 0 turns it off.
	DraftReminderAfter model.Duration `yaml:"draft_reminder_after"`
	// ReminderRepeat is how long after a reminder the same thing (a draft, an
	// overdue action item) is reminded again while it stays unfinished; 0
	// reminds once.
	ReminderRepeat model.Duration `yaml:"reminder_repeat"`
	// ActionItemReminders reminds the owner's responders of action items past
	// their due date that are not done.
	ActionItemReminders bool `yaml:"action_item_reminders"`
	// CheckInterval is how often reminders are looked for.
	CheckInterval model.Duration `yaml:"check_interval"`
}

// DefaultPostmortems is the postmortems: section's defaults.
func DefaultPostmortems() Postmortems {
	return Postmortems{
		RequiredFor:         []model.Severity{model.SeverityCritical},
		DraftReminderAfter:  model.Duration(DefaultDraftReminderAfter),
		ReminderRepeat:      model.Duration(DefaultActionReminderRepeat),
		ActionItemReminders: true,
		CheckInterval:       model.Duration(DefaultReminderInterval),
	}
}

// Validate reports every problem of the section under path.
func (p Postmortems) Validate(path string) Problems {
	var ps Problems
	seen := map[model.Severity]bool{}
	for i, s := range p.RequiredFor {
		at := JoinPath(path, "required_for", fmt.Sprintf("[%d]", i))
		if _, err := model.ParseSeverity(string(s)); err != nil {
			ps.Add(at, "%v", err)
		}
		if seen[s] {
			ps.Add(at, "%s is listed twice", s)
		}
		seen[s] = true
	}
	if p.DraftReminderAfter < 0 {
		ps.Add(JoinPath(path, "draft_reminder_after"), "must not be negative")
	}
	if p.ReminderRepeat < 0 {
		ps.Add(JoinPath(path, "reminder_repeat"), "must not be negative")
	} else if p.ReminderRepeat > 0 && p.ReminderRepeat.Std() < time.Hour {
		ps.Add(JoinPath(path, "reminder_repeat"), "must be at least 1h (or 0 to remind once), got %s", p.ReminderRepeat)
	}
	if p.CheckInterval.Std() < time.Second {
		ps.Add(JoinPath(path, "check_interval"), "must be at least 1s, got %s", p.CheckInterval)
	}
	return ps
}
