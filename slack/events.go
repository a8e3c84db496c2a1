package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
)

// Events is the handler for POST /slack/events, Slack's Events API: it
// answers the URL check Slack makes when the request URL is set, and
// takes a reply a person writes in an incident's thread into the
// incident's timeline as their note. The request is signature-checked
// like the others; an event Slack delivers again (same event_id) acts
// once. Slack waits 3 seconds, so the work is bounded like a click's.
func (b *Bot) Events() http.Handler { return b.verified("events", b.event) }

func (b *Bot) event(w http.ResponseWriter, r *http.Request, body []byte) {
	var outer struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
		EventID   string `json:"event_id"`
		EventTime int64  `json:"event_time"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		b.metrics.request("events", "bad_request")
		writeError(w, http.StatusBadRequest, "body: not a Slack event (JSON): "+err.Error())
		return
	}
	switch outer.Type {
	case slackevents.URLVerification:
		b.metrics.request("events", "url_verification")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(outer.Challenge))
		return
	case slackevents.CallbackEvent:
	default:
		b.metrics.request("events", "ignored")
		w.WriteHeader(http.StatusOK)
		return
	}
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		// An event type slack-go cannot read is nothing Sentinel asked for.
		b.metrics.request("events", "ignored")
		w.WriteHeader(http.StatusOK)
		return
	}
	msg, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok || !isThreadReply(msg) {
		b.metrics.request("events", "ignored")
		w.WriteHeader(http.StatusOK)
		return
	}
	if outer.EventID == "" { // Slack always sends one; without it a redelivery could not be told
		b.metrics.request("events", "ignored")
		w.WriteHeader(http.StatusOK)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	var sent time.Time
	if outer.EventTime > 0 {
		sent = time.Unix(outer.EventTime, 0)
	}
	if !b.firstDelivery(ctx, "event|"+outer.EventID, sent) {
		b.metrics.request("events", "duplicate")
		w.WriteHeader(http.StatusOK)
		return
	}
	b.metrics.request("events", b.threadReply(ctx, msg))
	w.WriteHeader(http.StatusOK)
}

// isThreadReply is a new message a person wrote in some thread: not the
// thread's first message, not an edit, a deletion or a bot's post.
func isThreadReply(m *slackevents.MessageEvent) bool {
	return m.SubType == "" && m.BotID == "" && m.User != "" && m.ThreadTimeStamp != "" &&
		m.ThreadTimeStamp != m.TimeStamp && strings.TrimSpace(m.Text) != ""
}

// threadReply adds the reply as its author's note when the thread is an
// incident's page; it returns the outcome for the metrics.
func (b *Bot) threadReply(ctx context.Context, m *slackevents.MessageEvent) string {
	if b.incidents == nil {
		return "ignored"
	}
	id, found, err := b.threadIncident(ctx, m.Channel, m.ThreadTimeStamp)
	if err != nil {
		b.log.Warn("finding the incident of a thread reply failed", "channel", cleanName(m.Channel), "thread_ts", cleanName(m.ThreadTimeStamp), "err", err)
		return "error"
	}
	if !found {
		return "ignored" // a thread that is not an incident's
	}
	who := b.caller(ctx, m.User)
	target := fmt.Sprintf("#%d", id)
	if _, ok := b.allowed(who, needResponder, "add a note to incident "+target); !ok {
		b.record(ctx, who, "thread note", target, "refused")
		return "refused"
	}
	if _, err := b.incidents.AddThreadNote(model.ContextWithActor(ctx, who.Actor()), id, noteText(m.Text), who.Person.Name); err != nil {
		b.log.Warn("a thread reply was not taken as a note", "incident", id, "person", who.Person.Name, "err", err)
		b.record(ctx, who, "thread note", target, "not done: "+clip(err.Error(), 200))
		return "error"
	}
	b.record(ctx, who, "thread note", target, "ok")
	return "note"
}

// noteText is a reply's text cut to what a note may hold.
func noteText(s string) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= incidents.MaxNoteText {
		return s
	}
	return string([]rune(s)[:incidents.MaxNoteText-1]) + "…"
}

// threadIncident finds the incident whose page (or a copy of it) starts
// the thread at channel and ts: in memory, else from the message's
// metadata (one conversations.history call).
func (b *Bot) threadIncident(ctx context.Context, channel, ts string) (int64, bool, error) {
	b.mu.Lock()
	for id, th := range b.threads {
		if th.channel == channel && th.ts == ts {
			b.mu.Unlock()
			return id, true, nil
		}
	}
	b.mu.Unlock()
	resp, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: channel, Latest: ts, Inclusive: true, Limit: 1, IncludeAllMetadata: true})
	b.metrics.call("conversations.history", err)
	if err != nil {
		return 0, false, deliveryError("conversations.history", err)
	}
	for _, msg := range resp.Messages {
		p := msg.Metadata.EventPayload
		if msg.Timestamp != ts || msg.Metadata.EventType != MetadataEventType || (p["role"] != "page" && p["role"] != "copy" && p["role"] != "channel") {
			continue
		}
		raw, _ := p["incident_id"].(string)
		if id, err := strconv.ParseInt(raw, 10, 64); err == nil && id > 0 {
			return id, true, nil
		}
	}
	return 0, false, nil
}
