package postmortem

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what people write.
const (
	// MaxEditBytes caps a PUT body.
	MaxEditBytes = 256 << 10
	// MaxSectionLen caps each written section, in characters.
	MaxSectionLen = 20000
	// MaxActionItems caps the action items of one postmortem.
	MaxActionItems = 100
	maxItemField   = 500
	maxLinkLen     = 2000
)

// Edit is a PUT body: the fields people change. A field left out keeps its
// value; action_items, when given, replaces the whole list (items keep
// their id when they send it back). Version, when given, must equal the
// stored version.
type Edit struct {
	Status              *Status       `json:"status"`
	Version             *int          `json:"version"`
	Summary             *string       `json:"summary"`
	RootCause           *string       `json:"root_cause"`
	ContributingFactors *string       `json:"contributing_factors"`
	WentWell            *string       `json:"what_went_well"`
	Lessons             *string       `json:"lessons"`
	ActionItems         *[]ActionItem `json:"action_items"`
}

// UnmarshalJSON accepts only the three statuses.
func (s *Status) UnmarshalJSON(b []byte) error {
	var raw string
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("status must be a string")
	}
	if !Status(raw).Valid() {
		return fmt.Errorf("status %.40q: want draft, in_review or published", raw)
	}
	*s = Status(raw)
	return nil
}

// Validate checks the lengths and the action items of an edit.
func (e Edit) Validate() error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"summary", e.Summary}, {"root_cause", e.RootCause}, {"contributing_factors", e.ContributingFactors},
		{"what_went_well", e.WentWell}, {"lessons", e.Lessons}} {
		if f.v != nil && utf8.RuneCountInString(*f.v) > MaxSectionLen {
			return errorf(ErrInvalid, "%s is longer than %d characters", f.name, MaxSectionLen)
		}
		if f.v != nil && !utf8.ValidString(*f.v) {
			return errorf(ErrInvalid, "%s is not valid UTF-8", f.name)
		}
	}
	if e.ActionItems == nil {
		return nil
	}
	items := *e.ActionItems
	if len(items) > MaxActionItems {
		return errorf(ErrInvalid, "at most %d action items, got %d", MaxActionItems, len(items))
	}
	ids := map[string]bool{}
	for i, it := range items {
		at := fmt.Sprintf("action_items[%d]", i)
		switch {
		case strings.TrimSpace(it.Title) == "":
			return errorf(ErrInvalid, "%s.title is required", at)
		case utf8.RuneCountInString(it.Title) > maxItemField, utf8.RuneCountInString(it.Owner) > maxItemField, len(it.ID) > 20:
			return errorf(ErrInvalid, "%s: title and owner are at most %d characters, id at most 20", at, maxItemField)
		}
		if it.ID != "" {
			if ids[it.ID] {
				return errorf(ErrInvalid, "%s.id %q is used twice", at, it.ID)
			}
			ids[it.ID] = true
		}
		switch it.Status {
		case "", ItemOpen, ItemInProgress, ItemDone, ItemWontDo:
		default:
			return errorf(ErrInvalid, "%s.status %.40q: want open, in_progress, done or wont_do", at, it.Status)
		}
		if it.Due != "" {
			if _, err := time.Parse(time.DateOnly, it.Due); err != nil {
				return errorf(ErrInvalid, "%s.due %.40q: want a date like 2025-01-31", at, it.Due)
			}
		}
		if it.Link != "" {
			u, err := url.Parse(it.Link)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(it.Link) > maxLinkLen {
				return errorf(ErrInvalid, "%s.link %.60q: want an http or https URL", at, it.Link)
			}
		}
	}
	return nil
}

// Apply returns pm with the edit applied by actor at now, after checking
// the status change and the version. Allowed status changes: draft to
// in_review, in_review to published, in_review back to draft. Leaving the
// draft needs a root cause; a published postmortem keeps its text, and
// only its action items may still change (their status moves on after
// publication). Apply is pure.
func Apply(pm *Postmortem, e Edit, actor string, now time.Time) (*Postmortem, error) {
	// A version the postmortem never had (ahead of it, or negative) is not
	// someone else's save: say so instead of blaming a save that never happened.
	if e.Version != nil && (*e.Version > pm.Version || *e.Version < 0) {
		return nil, errorf(ErrConflict, "version %d does not exist; postmortem #%d is at version %d: reload it and save again",
			*e.Version, pm.IncidentID, pm.Version)
	}
	if e.Version != nil && *e.Version != pm.Version {
		return nil, errorf(ErrConflict, "postmortem #%d was saved by %s since version %d (now version %d); reload it and apply your change again",
			pm.IncidentID, orSomeone(pm.UpdatedBy), *e.Version, pm.Version)
	}
	out := pm.Clone()
	if pm.Status == StatusPublished {
		textChanged := e.Summary != nil && *e.Summary != pm.Summary ||
			e.RootCause != nil && *e.RootCause != pm.RootCause ||
			e.ContributingFactors != nil && *e.ContributingFactors != pm.ContributingFactors ||
			e.WentWell != nil && *e.WentWell != pm.WentWell ||
			e.Lessons != nil && *e.Lessons != pm.Lessons
		if textChanged {
			return nil, errorf(ErrConflict, "postmortem #%d is published; only its action items can change", pm.IncidentID)
		}
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&out.Summary, e.Summary)
	set(&out.RootCause, e.RootCause)
	set(&out.ContributingFactors, e.ContributingFactors)
	set(&out.WentWell, e.WentWell)
	set(&out.Lessons, e.Lessons)
	if e.ActionItems != nil {
		out.ActionItems = assignIDs(*e.ActionItems, pm.ActionItems)
	}
	if e.Status != nil && *e.Status != pm.Status {
		if err := checkTransition(pm.Status, *e.Status, out); err != nil {
			return nil, err
		}
		out.Status = *e.Status
		if out.Status == StatusPublished {
			t := now
			out.PublishedAt = &t
		}
	}
	if e.Empty() {
		return nil, errorf(ErrInvalid, "the edit changes nothing: send at least one of status, summary, root_cause, "+
			"contributing_factors, what_went_well, lessons or action_items")
	}
	if !changed(pm, out) {
		// Saving it anyway would bump the version and give everyone else
		// editing a spurious conflict.
		return nil, errorf(ErrInvalid, "nothing to save: the edit leaves postmortem #%d as it is (version %d)", pm.IncidentID, pm.Version)
	}
	out.Version = pm.Version + 1
	out.UpdatedAt, out.UpdatedBy = now, orSomeone(actor)
	return out, nil
}

// Empty reports whether e changes no field (a body of {} or null): it
// starts a postmortem an incident does not have yet, and is refused on
// one that exists.
func (e Edit) Empty() bool {
	return e.Status == nil && e.Summary == nil && e.RootCause == nil && e.ContributingFactors == nil &&
		e.WentWell == nil && e.Lessons == nil && e.ActionItems == nil
}

// changed reports whether an edit changed what people write in a
// postmortem: its status, sections or action items.
func changed(before, after *Postmortem) bool {
	if before.Status != after.Status || before.Summary != after.Summary || before.RootCause != after.RootCause ||
		before.ContributingFactors != after.ContributingFactors || before.WentWell != after.WentWell || before.Lessons != after.Lessons {
		return true
	}
	if len(before.ActionItems) != len(after.ActionItems) {
		return true
	}
	return len(before.ActionItems) > 0 && !reflect.DeepEqual(before.ActionItems, after.ActionItems)
}

func checkTransition(from, to Status, pm *Postmortem) error {
	switch {
	case from == StatusDraft && to == StatusInReview, from == StatusInReview && to == StatusPublished:
		if strings.TrimSpace(pm.RootCause) == "" {
			return errorf(ErrInvalid, "root_cause must be written before the postmortem goes to %s", to)
		}
		return nil
	case from == StatusInReview && to == StatusDraft:
		return nil
	case from == StatusPublished:
		return errorf(ErrConflict, "postmortem #%d is published; its status cannot change", pm.IncidentID)
	}
	return errorf(ErrConflict, "status cannot go from %s to %s (draft → in_review → published; in_review may go back to draft)", from, to)
}

// assignIDs gives new items the next free An ID and defaults their status.
func assignIDs(items, old []ActionItem) []ActionItem {
	out := make([]ActionItem, len(items))
	next := 0
	seen := func(id string) {
		var n int
		if _, err := fmt.Sscanf(id, "A%d", &n); err == nil && n > next {
			next = n
		}
	}
	for _, it := range old {
		seen(it.ID)
	}
	for _, it := range items {
		seen(it.ID)
	}
	for i, it := range items {
		it.Title, it.Owner = strings.TrimSpace(it.Title), strings.TrimSpace(it.Owner)
		if it.ID == "" {
			next++
			it.ID = fmt.Sprintf("A%d", next)
		}
		if it.Status == "" {
			it.Status = ItemOpen
		}
		out[i] = it
	}
	return out
}

func orSomeone(s string) string {
	if s == "" {
		return "someone"
	}
	return s
}
