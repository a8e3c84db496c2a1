package incidents

import (
	"context"
	"strings"
	"time"
)

// Limits on stakeholder updates.
const (
	// MaxUpdateText bounds one update's text, in characters.
	MaxUpdateText = 5000
	// MaxUpdates bounds the updates one incident keeps.
	MaxUpdates = 200
)

// NewUpdate is a stakeholder update as a person writes it.
type NewUpdate struct {
	Text   string `json:"text"`
	Public bool   `json:"public"`
}

// Validate names the first thing wrong with an update: empty or too long
// text, or control characters other than line breaks and tabs.
func (u NewUpdate) Validate() error { return checkText("text", u.Text, MaxUpdateText, true) }

// AddUpdate appends a stakeholder update to incident id, written by actor,
// and returns the incident and the update as stored. Resolved incidents
// take updates too (the all-clear, the postmortem's summary). The update
// is stored with the incident and a timeline entry in one transaction; the
// pagers hear of it as news (Slack replies in the thread), nobody is paged.
func (s *Service) AddUpdate(ctx context.Context, id int64, u NewUpdate, actor string) (*Incident, Update, error) {
	if err := u.Validate(); err != nil {
		return nil, Update{}, err
	}
	var added Update
	inc, err := s.change(ctx, id, func(_ Tx, inc *Incident, now time.Time) error {
		if len(inc.Updates) >= MaxUpdates {
			return errorf(ErrInvalid, "incident #%d already has %d updates, the most it keeps", id, MaxUpdates)
		}
		added = Update{At: now, Text: strings.TrimSpace(u.Text), Public: u.Public, Author: actorOr(actor)}
		inc.Updates = append(inc.Updates, added)
		inc.note(now, KindStakeholderUpdate, added.Author, "%s", updateEntry(added))
		return nil
	})
	if err != nil {
		return nil, Update{}, err
	}
	s.log.Info("incident update added", "incident", id, "public", u.Public, "actor", actor)
	return inc, added, nil
}
