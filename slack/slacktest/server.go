// Package slacktest is a fake Slack for tests: a Web API server on
// 127.0.0.1 that records every call and answers like Slack (messages with
// metadata, threads, channel history, channels, users, ephemeral messages
// and response_url posts), fails on demand with 429 + Retry-After or 500,
// and signs interactions and slash commands the way Slack sends them to an
// app. slack-go's own slacktest lacks chat.update, 429s and signed
// callbacks, which Sentinel's tests need.
package slacktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Message is a message the fake holds, as conversations.history returns it.
type Message struct {
	Channel  string          `json:"-"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	User     string          `json:"user,omitempty"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	Metadata *Metadata       `json:"metadata,omitempty"`
	// Updates counts chat.update calls on this message.
	Updates int `json:"-"`
	// Broadcast is set for thread replies also shown in the channel.
	Broadcast bool `json:"-"`
}

// Metadata is Slack's message metadata.
type Metadata struct {
	EventType    string         `json:"event_type"`
	EventPayload map[string]any `json:"event_payload"`
}

// Call is one recorded request to the Web API (or a response_url).
type Call struct {
	Method string
	Form   url.Values
	// JSON is the body of JSON requests (response_url posts).
	JSON map[string]any
	At   time.Time
	// Status is the HTTP status the fake answered.
	Status int
	// Token is the bot token the call carried (form or bearer header).
	Token string
}

// Channel is a conversation the fake knows.
type Channel struct {
	ID      string
	Name    string
	Topic   string
	Members []string
}

// User is a workspace member the fake knows.
type User struct {
	ID, Name, Email string
}

type fault struct {
	status     int
	retryAfter int
}

// Server is the fake. All methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu        sync.Mutex
	calls     []Call
	messages  []*Message
	channels  map[string]*Channel // by ID
	users     []User
	faults    map[string][]fault
	seq       int64
	lastTS    int64 // microseconds of the newest message timestamp
	ephemeral []Call
	responses []Call
	watchers  map[string][]chan Call
	triggers  map[string]*trigger
	views     []View
}

// New starts a fake Slack on 127.0.0.1 with the channel #incidents
// (C0INCIDENTS); Close stops it.
func New() *Server {
	s := &Server{channels: map[string]*Channel{}, faults: map[string][]fault{}, watchers: map[string][]chan Call{}}
	s.channels["C0INCIDENTS"] = &Channel{ID: "C0INCIDENTS", Name: "incidents"}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.api)
	mux.HandleFunc("/response/{id}", s.response)
	s.srv = httptest.NewServer(mux)
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// APIURL is the value for slack.OptionAPIURL (and slack.api_url).
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// ResponseURL is a response_url the fake accepts, as Slack puts in
// interaction and command payloads.
func (s *Server) ResponseURL(id string) string { return s.srv.URL + "/response/" + url.PathEscape(id) }

// AddChannel makes a channel known and returns it.
func (s *Server) AddChannel(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[id] = &Channel{ID: id, Name: name}
}

// AddUser makes a workspace member known (for users.lookupByEmail and users.info).
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, u)
}

// Fail makes the next n calls of method answer HTTP status (429 with
// Retry-After: retryAfter seconds when status is 429).
func (s *Server) Fail(method string, n, status, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[method] = append(s.faults[method], fault{status: status, retryAfter: retryAfter})
	}
}

// Watch returns a channel that receives every later call of method as it
// arrives (calls are dropped when its buffer of 1024 is full).
func (s *Server) Watch(method string) <-chan Call {
	ch := make(chan Call, 1024)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchers[method] = append(s.watchers[method], ch)
	return ch
}

// record keeps a call and tells the watchers; callers hold mu.
func (s *Server) record(c Call) {
	s.calls = append(s.calls, c)
	for _, w := range s.watchers[c.Method] {
		select {
		case w <- c:
		default:
		}
	}
}

// Calls returns the recorded calls of method ("" for all), oldest first.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Posted returns the messages posted successfully to a channel ID (thread
// replies included), oldest first; "" returns every message.
func (s *Server) Posted(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if channel == "" || m.Channel == channel {
			out = append(out, *m)
		}
	}
	return out
}

// Responses returns the posts received on response URLs, oldest first.
func (s *Server) Responses() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.responses...)
}

// Channels returns the channels the fake knows, by name.
func (s *Server) Channels() map[string]Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Channel{}
	for _, c := range s.channels {
		out[c.Name] = *c
	}
	return out
}

func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	status := http.StatusOK
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		status = http.StatusBadRequest
	}
	s.mu.Lock()
	c := Call{Method: "response_url", Form: url.Values{"id": {r.PathValue("id")}}, JSON: body, At: time.Now(), Status: status}
	s.record(c)
	s.responses = append(s.responses, c)
	s.mu.Unlock()
	w.WriteHeader(status)
	_, _ = w.Write([]byte("ok"))
}

func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	tok := r.Form.Get("token")
	if tok == "" {
		tok = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	call := Call{Method: method, Form: r.Form, At: time.Now(), Status: http.StatusOK, Token: tok}
	if q := s.faults[method]; len(q) > 0 {
		f := q[0]
		s.faults[method] = q[1:]
		call.Status = f.status
		s.record(call)
		if f.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
		}
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(http.StatusText(f.status)))
		return
	}
	s.record(call)
	if tok == "" {
		writeJSON(w, map[string]any{"ok": false, "error": "not_authed"})
		return
	}
	var out map[string]any
	switch method {
	case "views.open":
		out = s.viewsOpen(r)
	case "auth.test":
		out = map[string]any{"ok": true, "user_id": "UBOT", "team_id": "T0TEST", "bot_id": "B0BOT"}
	case "chat.postMessage":
		out = s.postMessage(r.Form)
	case "chat.update":
		out = s.update(r.Form)
	case "chat.postEphemeral":
		ch := s.channel(r.Form.Get("channel"))
		if ch == nil {
			out = fail("channel_not_found")
			break
		}
		s.ephemeral = append(s.ephemeral, call)
		out = map[string]any{"ok": true, "message_ts": s.nextTS()}
	case "conversations.history":
		out = s.history(r.Form)
	case "conversations.replies":
		out = s.replies(r.Form)
	case "conversations.create":
		out = s.create(r.Form)
	case "conversations.invite":
		ch := s.channel(r.Form.Get("channel"))
		if ch == nil {
			out = fail("channel_not_found")
			break
		}
		ch.Members = append(ch.Members, strings.Split(r.Form.Get("users"), ",")...)
		out = map[string]any{"ok": true, "channel": chanJSON(ch)}
	case "conversations.setTopic":
		ch := s.channel(r.Form.Get("channel"))
		if ch == nil {
			out = fail("channel_not_found")
			break
		}
		ch.Topic = r.Form.Get("topic")
		out = map[string]any{"ok": true, "channel": chanJSON(ch)}
	case "conversations.list":
		var list []map[string]any
		ids := make([]string, 0, len(s.channels))
		for id := range s.channels {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			list = append(list, chanJSON(s.channels[id]))
		}
		out = map[string]any{"ok": true, "channels": list, "response_metadata": map[string]any{"next_cursor": ""}}
	case "users.lookupByEmail":
		out = fail("users_not_found")
		for _, u := range s.users {
			if strings.EqualFold(u.Email, r.Form.Get("email")) {
				out = map[string]any{"ok": true, "user": userJSON(u)}
			}
		}
	case "users.info":
		out = fail("user_not_found")
		for _, u := range s.users {
			if u.ID == r.Form.Get("user") {
				out = map[string]any{"ok": true, "user": userJSON(u)}
			}
		}
	default:
		out = fail("unknown_method")
	}
	writeJSON(w, out)
}

func fail(code string) map[string]any { return map[string]any{"ok": false, "error": code} }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func userJSON(u User) map[string]any {
	return map[string]any{"id": u.ID, "name": u.Name, "profile": map[string]any{"email": u.Email, "real_name": u.Name}}
}

func chanJSON(c *Channel) map[string]any {
	return map[string]any{"id": c.ID, "name": c.Name, "topic": map[string]any{"value": c.Topic}, "is_channel": true}
}

// nextTS hands out increasing message timestamps from the clock, as Slack
// does, so `oldest` and `latest` filters mean what they mean on Slack;
// callers hold mu.
func (s *Server) nextTS() string {
	us := time.Now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000)
}

// tsMicros reads a Slack timestamp ("1700000000.000100") as microseconds;
// "" and garbage read as 0.
func tsMicros(ts string) int64 {
	sec, frac, _ := strings.Cut(ts, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0
	}
	frac = (frac + "000000")[:6]
	f, _ := strconv.ParseInt(frac, 10, 64)
	return n*1_000_000 + f
}

// channel resolves an ID, "#name", "name" or a user ID (a DM); callers hold mu.
func (s *Server) channel(ref string) *Channel {
	if c, ok := s.channels[ref]; ok {
		return c
	}
	name := strings.TrimPrefix(ref, "#")
	for _, c := range s.channels {
		if c.Name == name {
			return c
		}
	}
	if strings.HasPrefix(ref, "U") || strings.HasPrefix(ref, "W") {
		id := "D" + ref[1:]
		c := &Channel{ID: id, Name: "dm-" + ref, Members: []string{ref}}
		s.channels[id] = c
		return c
	}
	return nil
}

func (s *Server) postMessage(f url.Values) map[string]any {
	ch := s.channel(f.Get("channel"))
	if ch == nil {
		return fail("channel_not_found")
	}
	if f.Get("text") == "" && f.Get("blocks") == "" {
		return fail("no_text")
	}
	m := &Message{Channel: ch.ID, TS: s.nextTS(), ThreadTS: f.Get("thread_ts"), User: "UBOT", Text: f.Get("text"), Broadcast: f.Get("reply_broadcast") == "true"}
	if b := f.Get("blocks"); b != "" {
		if !json.Valid([]byte(b)) {
			return fail("invalid_blocks")
		}
		m.Blocks = json.RawMessage(b)
	}
	if md := f.Get("metadata"); md != "" {
		var meta Metadata
		if err := json.Unmarshal([]byte(md), &meta); err != nil || meta.EventType == "" {
			return fail("invalid_metadata_format")
		}
		m.Metadata = &meta
	}
	s.messages = append(s.messages, m)
	return map[string]any{"ok": true, "channel": ch.ID, "ts": m.TS, "message": m}
}

func (s *Server) update(f url.Values) map[string]any {
	ch := s.channel(f.Get("channel"))
	if ch == nil {
		return fail("channel_not_found")
	}
	for _, m := range s.messages {
		if m.Channel == ch.ID && m.TS == f.Get("ts") {
			if t := f.Get("text"); t != "" {
				m.Text = t
			}
			if b := f.Get("blocks"); b != "" {
				if !json.Valid([]byte(b)) {
					return fail("invalid_blocks")
				}
				m.Blocks = json.RawMessage(b)
			}
			m.Updates++
			return map[string]any{"ok": true, "channel": ch.ID, "ts": m.TS, "text": m.Text}
		}
	}
	return fail("message_not_found")
}

// view is a message as returned by history and replies (metadata only
// when asked for).
func view(m *Message, withMeta bool) map[string]any {
	v := map[string]any{"type": "message", "ts": m.TS, "user": m.User, "text": m.Text}
	if m.ThreadTS != "" {
		v["thread_ts"] = m.ThreadTS
	}
	if len(m.Blocks) > 0 {
		v["blocks"] = m.Blocks
	}
	if withMeta && m.Metadata != nil {
		v["metadata"] = m.Metadata
	}
	return v
}

func (s *Server) history(f url.Values) map[string]any {
	ch := s.channel(f.Get("channel"))
	if ch == nil {
		return fail("channel_not_found")
	}
	limit, _ := strconv.Atoi(f.Get("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	withMeta := f.Get("include_all_metadata") == "1" || f.Get("include_all_metadata") == "true"
	inclusive := f.Get("inclusive") == "1" || f.Get("inclusive") == "true"
	oldest, latest := tsMicros(f.Get("oldest")), tsMicros(f.Get("latest"))
	// Like Slack: newest first, pages chained by an opaque cursor (here the
	// number of matching messages already returned).
	skip, _ := strconv.Atoi(f.Get("cursor"))
	var out []map[string]any
	matched, more := 0, false
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		if m.Channel != ch.ID || (m.ThreadTS != "" && !m.Broadcast) {
			continue
		}
		ts := tsMicros(m.TS)
		if oldest > 0 && (ts < oldest || (ts == oldest && !inclusive)) {
			continue
		}
		if latest > 0 && (ts > latest || (ts == latest && !inclusive)) {
			continue
		}
		matched++
		if matched <= skip {
			continue
		}
		if len(out) == limit {
			more = true
			break
		}
		out = append(out, view(m, withMeta))
	}
	resp := map[string]any{"ok": true, "messages": out, "has_more": more}
	if more {
		resp["response_metadata"] = map[string]any{"next_cursor": strconv.Itoa(skip + len(out))}
	}
	return resp
}

func (s *Server) replies(f url.Values) map[string]any {
	ch := s.channel(f.Get("channel"))
	if ch == nil {
		return fail("channel_not_found")
	}
	ts := f.Get("ts")
	withMeta := f.Get("include_all_metadata") == "1"
	var out []map[string]any
	found := false
	for _, m := range s.messages {
		if m.Channel != ch.ID {
			continue
		}
		if m.TS == ts || m.ThreadTS == ts {
			found = found || m.TS == ts
			out = append(out, view(m, withMeta))
		}
	}
	if !found {
		return fail("thread_not_found")
	}
	return map[string]any{"ok": true, "messages": out, "has_more": false}
}

func (s *Server) create(f url.Values) map[string]any {
	name := f.Get("name")
	if name == "" || len(name) > 80 || strings.ToLower(name) != name || strings.ContainsAny(name, " .#") {
		return fail("invalid_name_specials")
	}
	for _, c := range s.channels {
		if c.Name == name {
			return fail("name_taken")
		}
	}
	s.seq++
	c := &Channel{ID: fmt.Sprintf("C%08d", s.seq), Name: name}
	s.channels[c.ID] = c
	return map[string]any{"ok": true, "channel": chanJSON(c)}
}
