package slack

import (
	"maps"

	"github.com/prometheus/client_golang/prometheus"
)

// TakeOver makes b, built from a reloaded slack: section and not yet
// serving, carry on from prev, the bot it replaces: prev's metrics (so
// build b with a nil Registerer), the pages it knows of, the steps of
// deliveries in progress, the main channel when it is unchanged, the
// Slack retries it has seen, each channel's pace when the pace is
// unchanged, and its queue of answers for response_url (b's Run drains
// it; prev's Run may stop at any time). prev may finish what it started;
// what it learns afterwards is found again from Slack's history.
// Rotating the token or signing secret is such a replacement: b answers
// with the new ones only.
func (b *Bot) TakeOver(prev *Bot) {
	prev.mu.Lock()
	threads := maps.Clone(prev.threads)
	progress := maps.Clone(prev.progress)
	channelID := prev.channelID
	prev.mu.Unlock()

	b.metrics = prev.metrics
	b.seen = prev.seen
	b.replies = prev.replies
	if b.pace.gap == prev.pace.gap {
		b.pace = prev.pace
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	maps.Copy(b.threads, threads)
	maps.Copy(b.progress, progress)
	if b.cfg.Channel == prev.cfg.Channel && b.channelID == "" {
		b.channelID = channelID
	}
}

// RegisterMetrics registers the metrics of a bot built with a nil
// Registerer that takes over from no one (Slack switched on by a reload).
func (b *Bot) RegisterMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{b.metrics.calls, b.metrics.paceWait, b.metrics.requests, b.metrics.reconcileRes} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
