package slack

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/sentinel-oss/sentinel/incidents"
)

// HandOffClaimer records that a part of a schedule's hand-off at a shift
// start was announced, so that one replica announces it once, across
// restarts.
type HandOffClaimer interface {
	// ClaimHandOff reports whether this call is the first to claim part
	// (HandOffMessage or HandOffNote) of the hand-off of schedule at
	// start.
	ClaimHandOff(ctx context.Context, schedule, part string, start time.Time) (bool, error)
	// ReleaseHandOff gives a claim back after Slack refused that part, so
	// a later look (by any replica) tries it again.
	ReleaseHandOff(ctx context.Context, schedule, part string, start time.Time) error
}

// The parts of a hand-off, claimed and retried apart: the direct message
// to the incoming person and the note in slack.channel.
const (
	HandOffMessage = "message"
	HandOffNote    = "note"
)

// HandOffSource lists every schedule's latest hand-off; the incidents
// package's *Service implements it.
type HandOffSource interface {
	HandOffs(ctx context.Context) ([]incidents.HandOff, error)
}

const (
	// handOffGrace is how late a hand-off is still announced: a process
	// starting later than this after a shift change stays quiet about it.
	handOffGrace = 5 * time.Minute
	// handOffEvery is how often Run looks for hand-offs.
	handOffEvery = 30 * time.Second
	handOffTime  = "Mon 2 Jan 15:04 MST"
)

// AnnounceHandOffs tells the incoming person of every shift change of the
// last few minutes, by a direct message, and the page channel by a short
// note; each is claimed in the store first, so it is sent once however
// many replicas and restarts look at it. When Slack refuses one, its claim
// is given back, so the next look, 30 seconds later, tries it again while
// the hand-off is under 5 minutes old.
func (b *Bot) AnnounceHandOffs(ctx context.Context) error {
	if b.handOffs == nil || b.handOffClaims == nil {
		return nil
	}
	hs, err := b.handOffs.HandOffs(ctx)
	if err != nil {
		return fmt.Errorf("hand-offs: %w", err)
	}
	now := b.now()
	for _, h := range hs {
		if h.Shift.Since.After(now) || now.Sub(h.Shift.Since) > handOffGrace {
			continue
		}
		b.announcePart(ctx, h, HandOffMessage, b.handOffMessage)
		if b.cfg.Channel != "" {
			b.announcePart(ctx, h, HandOffNote, b.handOffNote)
		}
	}
	return nil
}

// announcePart claims part of a hand-off and sends it with send, which
// reports false when Slack refused it; the claim is then given back.
func (b *Bot) announcePart(ctx context.Context, h incidents.HandOff, part string, send func(context.Context, incidents.HandOff) bool) {
	won, err := b.handOffClaims.ClaimHandOff(ctx, h.Schedule, part, h.Shift.Since)
	if err != nil {
		b.log.Warn("claiming a hand-off failed", "schedule", h.Schedule, "part", part, "err", err)
		return
	}
	if !won {
		return
	}
	if part == HandOffMessage {
		b.metrics.request("handoffs", "claimed")
	}
	if send(ctx, h) {
		return
	}
	b.metrics.request("handoffs", "retry")
	if err := b.handOffClaims.ReleaseHandOff(ctx, h.Schedule, part, h.Shift.Since); err != nil {
		b.log.Warn("releasing a hand-off for a retry failed", "schedule", h.Schedule, "part", part, "err", err)
	}
}

// handOffWhen is a shift's span in the schedule's time zone.
func handOffWhen(h incidents.HandOff) (from, until string) {
	loc := h.Location
	if loc == nil {
		loc = time.UTC
	}
	from = h.Shift.Since.In(loc).Format(handOffTime)
	until = "no end yet known"
	if !h.Shift.Until.IsZero() {
		until = h.Shift.Until.In(loc).Format(handOffTime)
	}
	return from, until
}

// handOffMessage sends the direct message to the incoming person; false
// when Slack refused it. A person Slack cannot reach is told in the log
// once.
func (b *Bot) handOffMessage(ctx context.Context, h incidents.HandOff) bool {
	from, until := handOffWhen(h)
	handsOver := "nobody was on call before you"
	if h.From != "" {
		handsOver = esc(h.From) + " hands over to you"
	}
	if p, ok := b.dir.people.Resolve(h.Shift.User); !ok {
		b.log.Warn("hand-off not sent: the incoming person is not a known person", "schedule", h.Schedule, "person", h.Shift.User)
	} else if id, err := b.dir.slackID(ctx, p); err != nil || id == "" {
		b.log.Warn("hand-off not sent: the incoming person is not linked to a Slack user", "schedule", h.Schedule, "person", h.Shift.User, "err", err)
	} else {
		text := fmt.Sprintf(":pager: You are on call for *%s* from %s until %s; %s.", esc(h.Schedule), from, until, handsOver)
		if _, _, err := b.post(ctx, id, slack.MsgOptionText(text, false)); err != nil {
			b.log.Warn("hand-off message failed; trying again in 30 s", "schedule", h.Schedule, "person", h.Shift.User, "err", err)
			return false
		}
		b.log.Info("hand-off sent", "schedule", h.Schedule, "person", h.Shift.User, "since", h.Shift.Since)
	}
	return true
}

// handOffNote posts the short note in slack.channel; false when Slack
// refused it or could not say which channel that is.
func (b *Bot) handOffNote(ctx context.Context, h incidents.HandOff) bool {
	_, until := handOffWhen(h)
	ch, err := b.mainChannel(ctx)
	if err != nil {
		b.log.Warn("hand-off note: finding the channel failed; trying again in 30 s", "channel", b.cfg.Channel, "err", err)
		return false
	}
	if ch == "" {
		b.log.Warn("hand-off note: no such channel", "channel", b.cfg.Channel)
		return true
	}
	prev := ""
	if h.From != "" {
		prev = " from " + esc(h.From)
	}
	note := fmt.Sprintf(":arrows_counterclockwise: *%s*: %s takes over%s, on call until %s.", esc(h.Schedule), esc(h.Shift.User), prev, until)
	if _, _, err := b.post(ctx, ch, slack.MsgOptionText(note, false)); err != nil {
		b.log.Warn("hand-off note failed; trying again in 30 s", "schedule", h.Schedule, "err", err)
		return false
	}
	return true
}
