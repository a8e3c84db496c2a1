package slacktest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Ephemeral returns the chat.postEphemeral calls answered ok.
func (s *Server) Ephemeral() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.ephemeral...)
}

// Sign returns Slack's v0 signature of body at timestamp ts with secret:
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body)).
func Sign(secret string, ts int64, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(h, "v0:%d:", ts)
	h.Write(body)
	return "v0=" + hex.EncodeToString(h.Sum(nil))
}

// Client sends requests to an app the way Slack does: form-encoded
// bodies signed with the app's signing secret.
type Client struct {
	// Secret is the signing secret; Now is the clock stamped on requests
	// (nil means time.Now).
	Secret string
	Now    func() time.Time
	// HTTP sends the requests (nil means a fresh client).
	HTTP *http.Client
}

// Response is an app's answer.
type Response struct {
	Status int
	Body   string
}

// Post sends form to url signed at the client's now (ts overrides it when
// non-zero; a non-empty badSig replaces the signature).
func (c Client) Post(ctx context.Context, target string, form url.Values, ts time.Time, badSig string) (Response, error) {
	return c.send(ctx, target, "application/x-www-form-urlencoded", []byte(form.Encode()), ts, badSig)
}

// Event posts a signed Events API body (JSON), as Slack does.
func (c Client) Event(ctx context.Context, target string, body []byte) (Response, error) {
	return c.send(ctx, target, "application/json", body, time.Time{}, "")
}

func (c Client) send(ctx context.Context, target, contentType string, body []byte, ts time.Time, badSig string) (Response, error) {
	if ts.IsZero() {
		if c.Now != nil {
			ts = c.Now()
		} else {
			ts = time.Now()
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts.Unix(), 10))
	sig := Sign(c.Secret, ts.Unix(), body)
	if badSig != "" {
		sig = badSig
	}
	req.Header.Set("X-Slack-Signature", sig)
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return Response{Status: resp.StatusCode, Body: string(b)}, nil
}

// Click describes a button click in a message.
type Click struct {
	ActionID, Value   string
	UserID, UserName  string
	ChannelID         string
	MessageTS         string
	ResponseURL       string
	ActionTS          string // defaults to a fresh value; reuse one to model a redelivery
	TeamID, TriggerID string
}

// BlockActions builds the block_actions payload Slack sends for a click.
func BlockActions(c Click) []byte {
	if c.ActionTS == "" {
		c.ActionTS = strconv.FormatFloat(float64(time.Now().UnixNano())/1e9, 'f', 6, 64)
	}
	if c.TeamID == "" {
		c.TeamID = "T0TEST"
	}
	p := map[string]any{
		"type":         "block_actions",
		"api_app_id":   "A0SENTINEL",
		"token":        "verification-token-unused",
		"trigger_id":   c.TriggerID,
		"response_url": c.ResponseURL,
		"team":         map[string]any{"id": c.TeamID, "domain": "shop"},
		"user":         map[string]any{"id": c.UserID, "username": c.UserName, "name": c.UserName, "team_id": c.TeamID},
		"channel":      map[string]any{"id": c.ChannelID, "name": "incidents"},
		"container":    map[string]any{"type": "message", "message_ts": c.MessageTS, "channel_id": c.ChannelID, "is_ephemeral": false},
		"message":      map[string]any{"type": "message", "ts": c.MessageTS, "text": "page"},
		"actions": []any{map[string]any{
			"type": "button", "action_id": c.ActionID, "block_id": "sentinel_actions", "value": c.Value,
			"text": map[string]any{"type": "plain_text", "text": c.ActionID}, "action_ts": c.ActionTS,
		}},
	}
	b, _ := json.Marshal(p)
	return b
}

// Interaction posts a signed interaction payload (form field payload).
func (c Client) Interaction(ctx context.Context, target string, payload []byte) (Response, error) {
	return c.Post(ctx, target, url.Values{"payload": {string(payload)}}, time.Time{}, "")
}

// Command describes a slash command invocation.
type Command struct {
	Command, Text     string
	UserID, UserName  string
	ChannelID         string
	ChannelName       string
	ResponseURL       string
	TeamID, TriggerID string
}

// Form is the form body Slack posts for a slash command. Like Slack, it
// gives every invocation a trigger_id of its own unless one is set.
func (cmd Command) Form() url.Values {
	if cmd.Command == "" {
		cmd.Command = "/sentinel"
	}
	if cmd.TriggerID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cmd.TriggerID = "13345224609." + hex.EncodeToString(b[:])
	}
	if cmd.TeamID == "" {
		cmd.TeamID = "T0TEST"
	}
	return url.Values{
		"token": {"verification-token-unused"}, "team_id": {cmd.TeamID}, "team_domain": {"shop"},
		"channel_id": {cmd.ChannelID}, "channel_name": {cmd.ChannelName}, "user_id": {cmd.UserID},
		"user_name": {cmd.UserName}, "command": {cmd.Command}, "text": {cmd.Text},
		"api_app_id": {"A0SENTINEL"}, "response_url": {cmd.ResponseURL}, "trigger_id": {cmd.TriggerID},
	}
}

// SlashCommand posts a signed slash command.
func (c Client) SlashCommand(ctx context.Context, target string, cmd Command) (Response, error) {
	return c.Post(ctx, target, cmd.Form(), time.Time{}, "")
}

// HasMetadataKey reports whether m carries the idempotency key in its metadata.
func (m Message) HasMetadataKey(key string) bool {
	return m.Metadata != nil && fmt.Sprint(m.Metadata.EventPayload["key"]) == key
}

// BlockText is every string in m's blocks, one a line, unescaped: what a
// test searches for words and mentions.
func (m Message) BlockText() string {
	var v any
	if err := json.Unmarshal(m.Blocks, &v); err != nil {
		return ""
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x)
			b.WriteByte('\n')
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k])
			}
		}
	}
	walk(v)
	return b.String()
}

// Mentions reports whether m's text or blocks mention the Slack ID.
func (m Message) Mentions(id string) bool {
	return strings.Contains(m.Text, "<@"+id+">") || strings.Contains(m.BlockText(), "<@"+id+">")
}

// Reply describes a message a person writes in a thread.
type Reply struct {
	EventID, UserID, Channel, ThreadTS, Text string
	// TS defaults to a fresh value; BotID and SubType mark a bot's post
	// or an edit.
	TS, BotID, SubType string
}

// MessageEvent builds the event_callback body Slack sends for a reply
// (message.channels).
func MessageEvent(r Reply) []byte {
	if r.TS == "" {
		r.TS = strconv.FormatFloat(float64(time.Now().UnixNano())/1e9, 'f', 6, 64)
	}
	ev := map[string]any{"type": "message", "channel": r.Channel, "user": r.UserID, "text": r.Text,
		"ts": r.TS, "thread_ts": r.ThreadTS, "event_ts": r.TS, "channel_type": "channel"}
	if r.BotID != "" {
		ev["bot_id"] = r.BotID
	}
	if r.SubType != "" {
		ev["subtype"] = r.SubType
	}
	b, _ := json.Marshal(map[string]any{
		"token": "verification-token-unused", "team_id": "T0TEST", "api_app_id": "A0SENTINEL",
		"type": "event_callback", "event_id": r.EventID, "event_time": time.Now().Unix(), "event": ev,
	})
	return b
}
