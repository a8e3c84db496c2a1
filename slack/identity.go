package slack

import (
	"context"
	"fmt"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

// Who acts from Slack. A Slack user acts as the person they are linked to
// (people[].slack_id, or the person whose email their Slack profile
// shows) with that person's role; a user linked to nobody changes
// nothing. Every handler that acts for a Slack user (buttons, commands,
// and modals) asks caller first.

// caller is the Slack user behind a request, as Sentinel knows them.
type caller struct {
	// UserID is the Slack member ID.
	UserID string
	// Person is the linked person; Linked is false when there is none.
	Person oncall.Person
	Linked bool
}

// Actor is the caller as model.Actor, for contexts and timelines.
func (c caller) Actor() model.Actor {
	return model.Actor{Name: c.Person.Name, Role: string(c.Role()), Channel: model.ChannelSlack, Person: c.Linked}
}

// Role is what the caller may do; "" for an unlinked user.
func (c caller) Role() config.Role {
	if !c.Linked {
		return ""
	}
	return c.Person.Role
}

// caller maps a Slack user to the person they are linked to.
func (b *Bot) caller(ctx context.Context, userID string) caller {
	lctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	p, ok := b.dir.person(lctx, userID)
	return caller{UserID: userID, Person: p, Linked: ok && p.Name != ""}
}

// need is what an action asks of its caller.
type need int

const (
	// needViewer is for read-only answers (status, oncall, help,
	// postmortem links); slack.unlinked_users: viewer opens them to users
	// linked to nobody.
	needViewer need = iota
	// needResponder is for every change: incident actions, declaring,
	// silences.
	needResponder
)

// allowed reports whether c may do what is asked; when not, the answer
// says why and how to get access. Nothing has been changed either way.
func (b *Bot) allowed(c caller, n need, what string) (string, bool) {
	if !c.Linked {
		if n == needViewer && b.cfg.UnlinkedUsers == config.UnlinkedViewer {
			return "", true
		}
		b.log.Warn("refused a Slack user linked to no person", "slack_user", cleanName(c.UserID), "action", what)
		return fmt.Sprintf("You are not linked to a person in Sentinel, so you cannot %s. Ask an admin to add you under people: (slack_id: %s, or your Slack email); your Slack ID is %s.",
			what, cleanName(c.UserID), cleanName(c.UserID)), false
	}
	switch c.Role() {
	case config.RoleResponder, config.RoleAdmin:
		return "", true
	case config.RoleViewer:
		if n == needViewer {
			return "", true
		}
	}
	b.log.Warn("refused a Slack user whose role does not allow the action", "person", c.Person.Name, "role", string(c.Role()), "action", what)
	return fmt.Sprintf("%s, your role is %s, which cannot %s. Ask an admin for the responder role (people[].role).",
		esc(c.Person.Name), c.Role(), what), false
}

// Recorder records a change in the audit log; *audit.Log implements it.
type Recorder interface {
	Record(ctx context.Context, a model.Actor, action, target, outcome, sourceIP string) error
}

// record notes what a Slack user did, or tried to do, in the audit log.
// A user linked to nobody is named by their Slack ID.
func (b *Bot) record(ctx context.Context, c caller, action, target, outcome string) {
	if b.audit == nil {
		return
	}
	a := c.Actor()
	if !c.Linked {
		a.Name = "Slack user " + cleanName(c.UserID)
	}
	// The change is done; its record must not depend on Slack waiting.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = b.audit.Record(rctx, a, "slack "+action, target, outcome, "")
}
