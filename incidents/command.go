package incidents

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Timeline kinds of what people do to run an incident. Each is announced
// to the pagers (Slack replies in the incident's thread and redraws its
// message) and kept in the postmortem's timeline.
const (
	KindNote              = "note"
	KindTitle             = "title_changed"
	KindCommander         = "commander_changed"
	KindStakeholderUpdate = "stakeholder_update"
)

// Limits on what people write into an incident.
const (
	// MaxNoteText bounds one note, in characters.
	MaxNoteText = maxNoteLen
	// MaxNotes bounds the notes one incident keeps.
	MaxNotes = 500
)

// checkText is model.TextProblem as an ErrInvalid.
func checkText(field, text string, max int, lines bool) error {
	if p := model.TextProblem(field, text, max, lines); p != "" {
		return errorf(ErrInvalid, "%s", p)
	}
	return nil
}

// Edit changes an incident's fields; nil fields stay as they are. An
// empty Commander steps the commander down.
type Edit struct {
	Title    *string         `json:"title"`
	Severity *model.Severity `json:"severity"`
	// Commander names a person of people: (name, email or Slack ID) who
	// leads the response.
	Commander *string `json:"commander"`
}

// Validate names the first field that is wrong, or that nothing is asked.
func (e Edit) Validate() error {
	if e.Title == nil && e.Severity == nil && e.Commander == nil {
		return errorf(ErrInvalid, "nothing to change: give title, severity or commander")
	}
	if e.Title != nil {
		if err := checkText("title", *e.Title, maxTitleLen, false); err != nil {
			return err
		}
	}
	if e.Severity != nil {
		if _, err := model.ParseSeverity(string(*e.Severity)); err != nil {
			return errorf(ErrInvalid, "severity: %v", err)
		}
	}
	if e.Commander != nil && len(*e.Commander) > 320 {
		return errorf(ErrInvalid, "commander is longer than 320 characters")
	}
	return nil
}

// EditIncident applies e to incident id for actor, in any status (a
// postmortem may want the title fixed). Every field that changes gets a
// timeline entry; a title a person chose is no longer kept in step with
// the alerts, and a severity a person chose still rises with a more
// severe alert. Asking for what already holds changes nothing.
func (s *Service) EditIncident(ctx context.Context, id int64, e Edit, actor string) (*Incident, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	commander := ""
	if e.Commander != nil && strings.TrimSpace(*e.Commander) != "" {
		p, ok := s.onCall().People.Known(strings.TrimSpace(*e.Commander))
		if !ok {
			return nil, errorf(ErrInvalid, "commander: %q is not a person of people: (give a name, email or Slack ID)", model.Clip(*e.Commander, 80))
		}
		commander = p.Name
	}
	who := actorOr(actor)
	var unchanged *Incident
	out, err := s.change(ctx, id, func(tx Tx, inc *Incident, now time.Time) error {
		seen := len(inc.Timeline)
		if e.Title != nil {
			if title := strings.TrimSpace(*e.Title); title != inc.Title {
				inc.note(now, KindTitle, who, "title changed from %q to %q by %s", inc.Title, title, who)
				inc.Title = title
			}
			inc.TitleEdited = true
		}
		if e.Severity != nil && *e.Severity != inc.Severity {
			inc.note(now, KindSeverity, who, "severity changed from %s to %s by %s", inc.Severity, *e.Severity, who)
			inc.Severity = *e.Severity
			if err := s.followSeverity(tx, inc, seen, now); err != nil {
				return err
			}
		}
		if e.Commander != nil && commander != inc.Commander {
			switch {
			case commander == "":
				inc.note(now, KindCommander, who, "%s is no longer the incident commander (by %s)", inc.Commander, who)
			case commander == who:
				inc.note(now, KindCommander, who, "%s leads the incident", commander)
			default:
				inc.note(now, KindCommander, who, "%s leads the incident (named by %s)", commander, who)
			}
			inc.Commander = commander
		}
		if len(inc.Timeline) == seen {
			unchanged = inc
			return errNoChange
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return unchanged, nil
	}
	s.log.Info("incident edited", "incident", id, "actor", actor)
	return out, nil
}

// AddPersonNote appends a person's note ("rolled back v42 at 10:42") to
// incident id, in any status; it is announced like any other news.
func (s *Service) AddPersonNote(ctx context.Context, id int64, text, actor string) (*Incident, error) {
	return s.addNote(ctx, id, text, actor, "")
}

// AddThreadNote is AddPersonNote for a reply a person wrote in the
// incident's Slack thread: the note is marked ViaSlackThread, so it is
// not posted back where it was written.
func (s *Service) AddThreadNote(ctx context.Context, id int64, text, actor string) (*Incident, error) {
	return s.addNote(ctx, id, text, actor, ViaSlackThread)
}

func (s *Service) addNote(ctx context.Context, id int64, text, actor, via string) (*Incident, error) {
	if err := checkText("text", text, MaxNoteText, true); err != nil {
		return nil, err
	}
	return s.change(ctx, id, func(_ Tx, inc *Incident, now time.Time) error {
		n := 0
		for _, e := range inc.Timeline {
			if e.Kind == KindNote {
				n++
			}
		}
		if n >= MaxNotes {
			return errorf(ErrInvalid, "incident #%d already has %d notes, the most it keeps", id, MaxNotes)
		}
		inc.note(now, KindNote, actorOr(actor), "%s", strings.TrimSpace(text))
		inc.Timeline[len(inc.Timeline)-1].Via = via
		return nil
	})
}

// updateEntry is the timeline's line for a stakeholder update.
func updateEntry(u Update) string {
	if u.Public {
		return fmt.Sprintf("public update by %s: %s", u.Author, u.Text)
	}
	return fmt.Sprintf("internal update by %s: %s", u.Author, u.Text)
}
