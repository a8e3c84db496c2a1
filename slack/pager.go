package slack

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
)

// Deliver implements incidents.Pager. A page for an incident without a
// message posts one (with the buttons, the people on call mentioned) and,
// when configured, opens the incident channel; later pages and updates
// edit that message in place (chat.update) and reply in its thread. Pages
// also go as direct messages to the people they reach. The post carrying
// the idempotency key in its metadata is the point of no return: steps
// after it that fail for good are logged, not repeated.
func (b *Bot) Deliver(ctx context.Context, n incidents.Notification) error {
	var err error
	switch {
	case n.Kind == incidents.KindAnnouncement:
		err = b.announce(ctx, n)
	case n.Incident != nil:
		err = b.deliverIncident(ctx, n)
	}
	if err == nil {
		b.finish(n.Key)
	}
	return err
}

func (b *Bot) announce(ctx context.Context, n incidents.Notification) error {
	if n.Announcement == nil {
		return nil
	}
	ch, err := b.mainChannel(ctx)
	if err != nil {
		return err
	}
	return b.step(n.Key, "post", func() error {
		_, _, err := b.post(ctx, ch, slack.MsgOptionText(incidents.Subject(n), false),
			slack.MsgOptionBlocks(announcementBlocks(n.Announcement)...), metadata(n, "announcement"))
		return err
	})
}

// people are the ones a notification is about: the recipients of a page,
// everyone paged so far for an update.
func people(n incidents.Notification) []oncall.Person {
	if n.Kind == incidents.KindPage {
		return n.Recipients
	}
	return n.Responders
}

// mentions renders people as Slack mentions (names when no Slack ID is
// known) and returns the IDs found.
func (b *Bot) mentions(ctx context.Context, ps []oncall.Person) (mentions, ids []string, err error) {
	for _, p := range ps {
		id, err := b.dir.slackID(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		if id == "" {
			mentions = append(mentions, esc(p.Name))
			continue
		}
		mentions = append(mentions, "<@"+id+">")
		ids = append(ids, id)
	}
	return mentions, ids, nil
}

func (b *Bot) groups(n incidents.Notification) []string {
	var out []string
	for _, g := range b.cfg.UserGroups {
		out = append(out, "<!subteam^"+g+">")
	}
	if n.Kind == incidents.KindPage && n.Target.Kind == oncall.TargetUserGroup && n.Target.Name != "" {
		out = append(out, "<!subteam^"+esc(n.Target.Name)+">")
	}
	return out
}

func (b *Bot) deliverIncident(ctx context.Context, n incidents.Notification) error {
	inc := n.Incident
	main, err := b.mainChannel(ctx)
	if err != nil {
		return err
	}
	mentions, ids, err := b.mentions(ctx, people(n))
	if err != nil {
		return err
	}
	// The page shows everyone paged so far; replies and DMs reach the
	// recipients of this notification.
	onCall := mentions
	if n.Kind == incidents.KindPage && len(n.Responders) > 0 {
		if onCall, _, err = b.mentions(ctx, n.Responders); err != nil {
			return err
		}
	}
	if n.IsRefresh() {
		// A refresh redraws a message this process knows; it never reads
		// the channel's history for one (refreshes come every minute while
		// figures move, and history calls are rate-limited): the next
		// event finds the message after a restart.
		th, ok := b.cached(inc.ID)
		if !ok {
			return nil
		}
		view := b.pageView(ctx, n, onCall, th.incChannel)
		return b.bestEffort(n.Key, "update", func() error { return b.redraw(ctx, th, n, view) })
	}
	th, ok, err := b.thread(ctx, main, inc)
	if err != nil {
		return err
	}
	view := b.pageView(ctx, n, onCall, th.incChannel)
	if !ok || b.done(n.Key, "page") { // first post, or a retry of one
		err := b.step(n.Key, "page", func() error {
			ch, ts, err := b.post(ctx, main, slack.MsgOptionText(pageText(n), false),
				slack.MsgOptionBlocks(pageBlocks(view)...), metadata(n, "page"))
			if err != nil {
				return err
			}
			th = thread{channel: ch, ts: ts}
			b.remember(inc.ID, th)
			return nil
		})
		if err != nil {
			return err
		}
		th, _ = b.cached(inc.ID)
		if b.cfg.IncidentChannels && inc.Status.Open() {
			if err := b.openIncidentChannel(ctx, n, th, view, ids); err != nil {
				return err
			}
		}
	} else {
		if err := b.bestEffort(n.Key, "update", func() error { return b.redraw(ctx, th, n, view) }); err != nil {
			return err
		}
		reply := replyText(n, append(mentions, view.groups...))
		if reply == "" {
			return nil // a note taken from the thread: only the message changes
		}
		if err := b.step(n.Key, "reply", func() error {
			_, _, err := b.post(ctx, th.channel, slack.MsgOptionTS(th.ts),
				slack.MsgOptionText(reply, false), metadata(n, "reply"))
			return err
		}); err != nil {
			return err
		}
		if th.incChannel != "" {
			if err := b.bestEffort(n.Key, "incident-channel", func() error {
				_, _, err := b.post(ctx, th.incChannel, slack.MsgOptionText(replyText(n, mentions), false))
				return err
			}); err != nil {
				return err
			}
		}
	}
	if n.Kind != incidents.KindPage {
		return nil
	}
	if n.Target.Kind == oncall.TargetChannel && n.Target.Name != "" && !b.isMain(n.Target.Name, main) {
		if err := b.bestEffort(n.Key, "channel:"+n.Target.Name, func() error {
			_, _, err := b.post(ctx, n.Target.Name, slack.MsgOptionText(pageText(n), false),
				slack.MsgOptionBlocks(pageBlocks(view)...), metadata(n, "copy"))
			return err
		}); err != nil {
			return err
		}
	}
	if inc.Status != incidents.StatusTriggered {
		return nil
	}
	dm := dmBlocks(view)
	for _, id := range ids {
		if err := b.bestEffort(n.Key, "dm:"+id, func() error {
			_, _, err := b.post(ctx, id, slack.MsgOptionText(pageText(n), false), slack.MsgOptionBlocks(dm...), metadata(n, "dm"))
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// pageView is what the incident's message shows: onCall are the mentions
// of everyone paged so far; the commander is mentioned when known.
func (b *Bot) pageView(ctx context.Context, n incidents.Notification, onCall []string, incChannel string) pageView {
	v := pageView{n: n, mentions: onCall, groups: b.groups(n), baseURL: b.baseURL, buttons: true, incidentChannel: incChannel}
	if n.Incident != nil && n.Incident.Commander != "" {
		v.commander = b.mention(ctx, n.Incident.Commander)
	}
	return v
}

// redraw edits the incident's message in place (chat.update), paced per
// channel like posts: Slack limits chat.update too.
func (b *Bot) redraw(ctx context.Context, th thread, n incidents.Notification, view pageView) error {
	waited, err := b.pace.wait(ctx, "chat.update:"+th.channel)
	if waited > 0 {
		b.metrics.paceWait.Observe(waited.Seconds())
	}
	if err != nil {
		return err
	}
	_, _, _, err = b.api.UpdateMessageContext(ctx, th.channel, th.ts,
		slack.MsgOptionText(pageText(n), false), slack.MsgOptionBlocks(pageBlocks(view)...))
	b.metrics.call("chat.update", err)
	return deliveryError("chat.update", err)
}

func (b *Bot) isMain(target, main string) bool {
	return target == main || strings.TrimPrefix(target, "#") == strings.TrimPrefix(b.cfg.Channel, "#")
}

// openIncidentChannel creates inc-<id>-<slug> (or finds it, when an
// earlier attempt made it), invites the people paged, sets the topic,
// posts the summary with the buttons, and notes the channel in the page's
// thread (also shown in the main channel).
func (b *Bot) openIncidentChannel(ctx context.Context, n incidents.Notification, th thread, view pageView, ids []string) error {
	inc := n.Incident
	name := channelName(inc)
	var chID string
	if err := b.bestEffort(n.Key, "create", func() error {
		ch, err := b.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name})
		b.metrics.call("conversations.create", err)
		if slackCode(err) == "name_taken" {
			id, ferr := b.findChannel(ctx, name)
			if ferr != nil {
				return ferr
			}
			if id == "" {
				return fmt.Errorf("%w: channel #%s exists but the app cannot see it", incidents.ErrPermanent, name)
			}
			chID = id
			return nil
		}
		if err != nil {
			return deliveryError("conversations.create", err)
		}
		chID = ch.ID
		return nil
	}); err != nil {
		return err
	}
	if chID == "" {
		return nil // skipped for good, or made by an attempt whose ID we lost
	}
	th.incChannel = chID
	b.remember(inc.ID, th)
	view.incidentChannel = chID
	if len(ids) > 0 {
		if err := b.bestEffort(n.Key, "invite", func() error {
			_, err := b.api.InviteUsersToConversationContext(ctx, chID, ids...)
			b.metrics.call("conversations.invite", err)
			if c := slackCode(err); c == "already_in_channel" || c == "cant_invite_self" {
				return nil
			}
			return deliveryError("conversations.invite", err)
		}); err != nil {
			return err
		}
	}
	if err := b.bestEffort(n.Key, "topic", func() error {
		topic := clip(fmt.Sprintf("#%d %s | %s", inc.ID, inc.Title, inc.Severity), 240)
		if n.URL != "" {
			topic = clip(topic+" | "+n.URL, 250)
		}
		_, err := b.api.SetTopicOfConversationContext(ctx, chID, topic)
		b.metrics.call("conversations.setTopic", err)
		return deliveryError("conversations.setTopic", err)
	}); err != nil {
		return err
	}
	if err := b.bestEffort(n.Key, "first", func() error {
		_, _, err := b.post(ctx, chID, slack.MsgOptionText(pageText(n), false), slack.MsgOptionBlocks(pageBlocks(view)...), metadata(n, "channel"))
		return err
	}); err != nil {
		return err
	}
	return b.bestEffort(n.Key, "note", func() error {
		_, _, err := b.post(ctx, th.channel, slack.MsgOptionTS(th.ts), slack.MsgOptionBroadcast(),
			slack.MsgOptionText(fmt.Sprintf("Incident channel for #%d: <#%s>", inc.ID, chID), false))
		return err
	})
}

func (b *Bot) cached(id int64) (thread, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	th, ok := b.threads[id]
	return th, ok
}

func (b *Bot) remember(id int64, th thread) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.threads) >= 20000 {
		for k := range b.threads { // drop the oldest incidents
			if k < id-10000 {
				delete(b.threads, k)
			}
		}
	}
	b.threads[id] = th
}

// thread finds the incident's page: in memory, or (for incidents older
// than this process) in the channel's recent history by its metadata.
func (b *Bot) thread(ctx context.Context, main string, inc *incidents.Incident) (thread, bool, error) {
	if th, ok := b.cached(inc.ID); ok {
		return th, true, nil
	}
	if inc.CreatedAt.After(b.started) && !b.shared {
		return thread{}, false, nil // opened since we started: we would know its page
	}
	id := strconv.FormatInt(inc.ID, 10)
	var found *thread
	err := b.scanHistory(ctx, main, inc.CreatedAt, func(m slack.Message) bool {
		p := m.Metadata.EventPayload
		if p["incident_id"] == id && p["role"] == "page" {
			found = &thread{channel: main, ts: m.Timestamp}
			return true
		}
		return false
	})
	if err != nil || found == nil {
		return thread{}, false, err
	}
	b.remember(inc.ID, *found)
	return *found, true, nil
}

// scanHistory reads the channel's recent messages that carry Sentinel's
// metadata, newest first, until fn returns true.
func (b *Bot) scanHistory(ctx context.Context, channel string, since time.Time, fn func(slack.Message) bool) error {
	params := &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: min(b.cfg.HistoryLimit, 200), IncludeAllMetadata: true}
	budget := b.cfg.HistoryLimit
	if !since.IsZero() {
		// Nothing about an incident is older than the incident: read every
		// message since it opened (less a margin for clock skew), however
		// busy the channel, up to a hard cap.
		from := since.Add(-historySkew)
		params.Oldest = fmt.Sprintf("%d.%06d", from.Unix(), from.Nanosecond()/1000)
		params.Limit = 200
		budget = max(budget, maxHistoryScan)
	}
	read := 0
	for read < budget {
		resp, err := b.api.GetConversationHistoryContext(ctx, params)
		b.metrics.call("conversations.history", err)
		if err != nil {
			return deliveryError("conversations.history", err)
		}
		for _, m := range resp.Messages {
			if m.Metadata.EventType == MetadataEventType && fn(m) {
				return nil
			}
		}
		read += len(resp.Messages)
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" || len(resp.Messages) == 0 {
			return nil
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	return nil
}

// historySkew allows for Slack's clock and ours disagreeing when history
// is read from an incident's opening time; maxHistoryScan caps that read.
const (
	historySkew    = 5 * time.Minute
	maxHistoryScan = 20000
)

// Reconcile implements incidents.Reconciler: a delivery found in flight
// after a restart went out if a message carrying its idempotency key is in
// the channel's recent history or in the incident's page thread.
func (b *Bot) Reconcile(ctx context.Context, n incidents.Notification) (bool, error) {
	main, err := b.mainChannel(ctx)
	if err != nil {
		return false, err
	}
	var incID string
	if n.Incident != nil {
		incID = strconv.FormatInt(n.Incident.ID, 10)
	}
	found := false
	var page *thread
	var since time.Time
	if n.Incident != nil {
		since = n.Incident.CreatedAt
	}
	err = b.scanHistory(ctx, main, since, func(m slack.Message) bool {
		p := m.Metadata.EventPayload
		if p["key"] == n.Key {
			found = true
			return true
		}
		if incID != "" && page == nil && p["incident_id"] == incID && p["role"] == "page" {
			page = &thread{channel: main, ts: m.Timestamp}
		}
		return false
	})
	if err != nil {
		return false, err
	}
	if page != nil && n.Incident != nil {
		if _, ok := b.cached(n.Incident.ID); !ok {
			b.remember(n.Incident.ID, *page)
		}
	}
	if found || page == nil {
		b.metrics.reconciled(found)
		return found, nil
	}
	msgs, _, _, err := b.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
		ChannelID: page.channel, Timestamp: page.ts, Limit: 200, IncludeAllMetadata: true, Inclusive: true})
	b.metrics.call("conversations.replies", err)
	if err != nil {
		return false, deliveryError("conversations.replies", err)
	}
	for _, m := range msgs {
		if m.Metadata.EventType == MetadataEventType && m.Metadata.EventPayload["key"] == n.Key {
			found = true
			break
		}
	}
	b.metrics.reconciled(found)
	return found, nil
}
