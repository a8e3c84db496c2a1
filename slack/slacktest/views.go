package slacktest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// triggerLife is how long Slack accepts a trigger_id for views.open.
const triggerLife = 3 * time.Second

// View is a modal opened through views.open.
type View struct {
	ID        string
	TriggerID string
	// JSON is the view as the app sent it.
	JSON map[string]any
}

type trigger struct {
	at   time.Time
	used bool
}

// NewTrigger issues a trigger_id, as Slack does with every slash command
// and interaction; views.open accepts it once, within 3 seconds.
func (s *Server) NewTrigger() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("%d.%d.%x", time.Now().Unix(), s.seq, s.seq*7919)
	if s.triggers == nil {
		s.triggers = map[string]*trigger{}
	}
	s.triggers[id] = &trigger{at: time.Now()}
	return id
}

// Views lists the modals opened so far.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]View(nil), s.views...)
}

// viewsOpen answers views.open (JSON body or form) with Slack's checks:
// a known, fresh, unused trigger; a modal with a title and submit of at
// most 24 characters, 1 to 100 blocks, and input blocks with a label and
// an element. Called with s.mu held.
func (s *Server) viewsOpen(r *http.Request) map[string]any {
	var req struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if json.Unmarshal(body, &req) != nil {
			return fail("invalid_json")
		}
	} else {
		req.TriggerID, req.View = r.Form.Get("trigger_id"), json.RawMessage(r.Form.Get("view"))
	}
	t := s.triggers[req.TriggerID]
	switch {
	case req.TriggerID == "" || t == nil:
		return fail("invalid_trigger_id")
	case t.used:
		return fail("trigger_exchanged")
	case time.Since(t.at) > triggerLife:
		return fail("expired_trigger_id")
	}
	var v map[string]any
	if json.Unmarshal(req.View, &v) != nil {
		return fail("invalid_arguments")
	}
	text := func(o any) string {
		m, _ := o.(map[string]any)
		s, _ := m["text"].(string)
		return s
	}
	blocks, _ := v["blocks"].([]any)
	switch {
	case v["type"] != "modal":
		return fail("invalid_arguments")
	case text(v["title"]) == "" || utf8.RuneCountInString(text(v["title"])) > 24:
		return fail("invalid_arguments")
	case v["submit"] != nil && utf8.RuneCountInString(text(v["submit"])) > 24:
		return fail("invalid_arguments")
	case len(blocks) == 0 || len(blocks) > 100:
		return fail("invalid_arguments")
	}
	for _, b := range blocks {
		m, _ := b.(map[string]any)
		if m["type"] == "input" && (text(m["label"]) == "" || m["element"] == nil) {
			return fail("invalid_arguments")
		}
	}
	t.used = true
	s.seq++
	id := fmt.Sprintf("V%08d", s.seq)
	s.views = append(s.views, View{ID: id, TriggerID: req.TriggerID, JSON: v})
	out := map[string]any{"id": id, "team_id": "T0TEST", "state": map[string]any{"values": map[string]any{}}, "hash": fmt.Sprintf("%d.h", s.seq)}
	for k, val := range v {
		out[k] = val
	}
	return map[string]any{"ok": true, "view": out}
}

// Submission is what a person entered in a modal: values by block ID
// (each block's action ID is its block ID, as Sentinel builds them);
// Selects are the values of select menus.
type Submission struct {
	View             View
	UserID, UserName string
	Values           map[string]string
	Selects          map[string]string
}

// ViewSubmission builds the view_submission payload Slack sends when a
// person submits a modal.
func ViewSubmission(sub Submission) []byte {
	values := map[string]any{}
	for block, v := range sub.Values {
		values[block] = map[string]any{block: map[string]any{"type": "plain_text_input", "value": v}}
	}
	for block, v := range sub.Selects {
		values[block] = map[string]any{block: map[string]any{"type": "static_select",
			"selected_option": map[string]any{"value": v, "text": map[string]any{"type": "plain_text", "text": v}}}}
	}
	view := map[string]any{}
	for k, v := range sub.View.JSON {
		view[k] = v
	}
	view["id"], view["state"], view["team_id"] = sub.View.ID, map[string]any{"values": values}, "T0TEST"
	p := map[string]any{
		"type": "view_submission", "api_app_id": "A0SENTINEL", "token": "verification-token-unused",
		"team": map[string]any{"id": "T0TEST", "domain": "shop"},
		"user": map[string]any{"id": sub.UserID, "username": sub.UserName, "name": sub.UserName, "team_id": "T0TEST"},
		"view": view,
	}
	b, _ := json.Marshal(p)
	return b
}
