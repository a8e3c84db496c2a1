package postmortem

import (
	"fmt"
	"time"

	"github.com/sentinel-oss/sentinel/config"
)

// Reminder is a nudge about unfinished follow-up work.
type Reminder struct {
	// Key identifies what is reminded about (draft, or an action item);
	// Postmortem.Reminded records when it was last sent.
	Key string
	// Kind is postmortem_draft or action_item_overdue.
	Kind       string
	IncidentID int64
	// At is when the reminder became due; it makes the delivery's
	// idempotency key, so a reminder sent twice (after a crash) goes out
	// once.
	At   time.Time
	Text string
	// People are the names to reach: the action item's owner.
	People []string
}

// Reminder kinds.
const (
	ReminderDraft       = "postmortem_draft"
	ReminderActionItem  = "action_item_overdue"
	reminderKeyDraft    = "draft"
	reminderKeyItemPref = "item/"
)

// DueReminders returns the reminders due for pm at now; resolvedAt is when
// its incident resolved. A reminder is due when its trigger time has
// passed and it was never sent, or was last sent cfg.ReminderRepeat ago
// (never again when ReminderRepeat is 0). It is pure.
func DueReminders(pm *Postmortem, resolvedAt time.Time, cfg config.Postmortems, now time.Time) []Reminder {
	var out []Reminder
	due := func(key string, trigger time.Time) (time.Time, bool) {
		if now.Before(trigger) {
			return time.Time{}, false
		}
		last, sent := pm.Reminded[key]
		if !sent {
			return trigger, true
		}
		rep := cfg.ReminderRepeat.Std()
		if rep <= 0 || now.Sub(last) < rep {
			return time.Time{}, false
		}
		// The next slot after the last one, so that the key is stable.
		return last.Add(rep), true
	}
	if pm.Status == StatusDraft && cfg.DraftReminderAfter > 0 && !resolvedAt.IsZero() {
		after := cfg.DraftReminderAfter.Std()
		if at, ok := due(reminderKeyDraft, resolvedAt.Add(after)); ok {
			out = append(out, Reminder{
				Key: reminderKeyDraft, Kind: ReminderDraft, IncidentID: pm.IncidentID, At: at,
				Text: fmt.Sprintf("The postmortem of incident #%d (%s) is still a draft %s after the incident resolved.",
					pm.IncidentID, inline(pm.Title), roundDays(now.Sub(resolvedAt))),
			})
		}
	}
	if cfg.ActionItemReminders {
		for _, it := range pm.ActionItems {
			dueAt, ok := it.DueAt()
			if !ok || it.Finished() {
				continue
			}
			key := reminderKeyItemPref + it.ID
			if at, ok := due(key, dueAt); ok {
				owner := it.Owner
				if owner == "" {
					owner = "nobody"
				}
				r := Reminder{
					Key: key, Kind: ReminderActionItem, IncidentID: pm.IncidentID, At: at,
					Text: fmt.Sprintf("Action item %s of incident #%d is overdue (due %s, owner %s, %s): %s",
						it.ID, pm.IncidentID, it.Due, owner, it.Status, inline(it.Title)),
				}
				if it.Owner != "" {
					r.People = []string{it.Owner}
				}
				out = append(out, r)
			}
		}
	}
	return out
}

func roundDays(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	switch {
	case days >= 2:
		return fmt.Sprintf("%d days", days)
	case days == 1:
		return "1 day"
	}
	return d.Round(time.Minute).String()
}
