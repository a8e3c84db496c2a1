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
// once however many replicas and restarts look at it.
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
		b.announceHandOff(ctx, h)
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

func (b *Bot) announceHandOff(ctx context.Context, h incidents.HandOff) {
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
			b.log.Warn("hand-off message failed", "schedule", h.Schedule, "person", h.Shift.User, "err", err)
		} else {
			b.log.Info("hand-off sent", "schedule", h.Schedule, "person", h.Shift.User, "since", h.Shift.Since)
		}
	}
	if b.cfg.Channel == "" {
		return
	}
	ch, err := b.mainChannel(ctx)
	if err != nil || ch == "" {
		b.log.Warn("hand-off note: no channel", "channel", b.cfg.Channel, "err", err)
		return
	}
	prev := ""
	if h.From != "" {
		prev = " from " + esc(h.From)
	}
	note := fmt.Sprintf(":arrows_counterclockwise: *%s*: %s takes over%s, on call until %s.", esc(h.Schedule), esc(h.Shift.User), prev, until)
	if _, _, err := b.post(ctx, ch, slack.MsgOptionText(note, false)); err != nil {
		b.log.Warn("hand-off note failed", "schedule", h.Schedule, "err", err)
	}
}
