package slack

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/sentinel-oss/sentinel/incidents"
)

// HandOffClaimer records that a schedule's hand-off at a shift start was
// announced, so that one replica announces it once, across restarts.
type HandOffClaimer interface {
	// ClaimHandOff reports whether this call is the first to claim the
	// hand-off of schedule at start.
	ClaimHandOff(ctx context.Context, schedule string, start time.Time) (bool, error)
	// ReleaseHandOff gives a claim back after Slack refused the message,
	// so a later look (by any replica) tries again.
	ReleaseHandOff(ctx context.Context, schedule string, start time.Time) error
}

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
// note; each hand-off is claimed in the store first, so it is announced
// once however many replicas and restarts look at it. When Slack refuses
// the direct message the claim is given back, so the next look, 30
// seconds later, tries again while the hand-off is under 5 minutes old.
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
		won, err := b.handOffClaims.ClaimHandOff(ctx, h.Schedule, h.Shift.Since)
		if err != nil {
			b.log.Warn("claiming a hand-off failed", "schedule", h.Schedule, "err", err)
			continue
		}
		if !won {
			continue
		}
		if !b.announceHandOff(ctx, h) {
			if err := b.handOffClaims.ReleaseHandOff(ctx, h.Schedule, h.Shift.Since); err != nil {
				b.log.Warn("releasing a hand-off for a retry failed", "schedule", h.Schedule, "err", err)
			}
		}
	}
	return nil
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

// announceHandOff sends the hand-off's message and note; false when Slack
// refused the direct message (nothing else is sent then, so a retry
// repeats nothing). A person Slack cannot reach is told in the log once.
func (b *Bot) announceHandOff(ctx context.Context, h incidents.HandOff) bool {
	from, until := handOffWhen(h)
	handsOver := "nobody was on call before you"
	if h.From != "" {
		handsOver = esc(h.From) + " hands over to you"
	}
	b.metrics.request("handoffs", "claimed")
	if p, ok := b.dir.people.Resolve(h.Shift.User); !ok {
		b.log.Warn("hand-off not sent: the incoming person is not a known person", "schedule", h.Schedule, "person", h.Shift.User)
	} else if id, err := b.dir.slackID(ctx, p); err != nil || id == "" {
		b.log.Warn("hand-off not sent: the incoming person is not linked to a Slack user", "schedule", h.Schedule, "person", h.Shift.User, "err", err)
	} else {
		text := fmt.Sprintf(":pager: You are on call for *%s* from %s until %s; %s.", esc(h.Schedule), from, until, handsOver)
		if _, _, err := b.post(ctx, id, slack.MsgOptionText(text, false)); err != nil {
			b.metrics.request("handoffs", "retry")
			b.log.Warn("hand-off message failed; trying again in 30 s", "schedule", h.Schedule, "person", h.Shift.User, "err", err)
			return false
		}
		b.log.Info("hand-off sent", "schedule", h.Schedule, "person", h.Shift.User, "since", h.Shift.Since)
	}
	if b.cfg.Channel == "" {
		return true
	}
	ch, err := b.mainChannel(ctx)
	if err != nil || ch == "" {
		b.log.Warn("hand-off note: no channel", "channel", b.cfg.Channel, "err", err)
		return true
	}
	prev := ""
	if h.From != "" {
		prev = " from " + esc(h.From)
	}
	note := fmt.Sprintf(":arrows_counterclockwise: *%s*: %s takes over%s, on call until %s.", esc(h.Schedule), esc(h.Shift.User), prev, until)
	if _, _, err := b.post(ctx, ch, slack.MsgOptionText(note, false)); err != nil {
		b.log.Warn("hand-off note failed", "schedule", h.Schedule, "err", err)
	}
	return true
}
