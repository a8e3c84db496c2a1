package slack

import (
	"encoding/json"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// ActionKind is what a button asks for.
type ActionKind string

// The buttons of a page.
const (
	KindAcknowledge ActionKind = "acknowledge"
	KindResolve     ActionKind = "resolve"
	KindEscalate    ActionKind = "escalate"
	KindLead        ActionKind = "lead"
	KindSeverity    ActionKind = "severity"
	KindNote        ActionKind = "note"
	KindUpdate      ActionKind = "update"
)

// actionKind is what the button with actionID asks for; false for
// buttons that are not Sentinel's.
func actionKind(actionID string) (ActionKind, bool) {
	switch actionID {
	case ActionAcknowledge:
		return KindAcknowledge, true
	case ActionResolve:
		return KindResolve, true
	case ActionEscalate:
		return KindEscalate, true
	case ActionLead:
		return KindLead, true
	case ActionSeverity:
		return KindSeverity, true
	case ActionNote:
		return KindNote, true
	case ActionUpdate:
		return KindUpdate, true
	}
	return "", false
}

// Action is one click on a Sentinel button, read from a block_actions
// payload.
type Action struct {
	Kind        ActionKind
	IncidentID  int64
	UserID      string
	UserName    string
	TeamID      string
	ChannelID   string
	MessageTS   string
	ResponseURL string
	ActionTS    string
	// TriggerID lets the click open a modal (for a few seconds, once).
	TriggerID string
}

// dedupeKey identifies a click across Slack's redeliveries.
func (a Action) dedupeKey() string {
	return strings.Join([]string{a.TeamID, a.UserID, string(a.Kind), strconv.FormatInt(a.IncidentID, 10), a.ActionTS, a.MessageTS}, "|")
}

// ParseInteraction reads the payload form field of an interaction. It
// returns the clicks on Sentinel's buttons (none for other interaction
// types and other apps' actions), or an error naming what is malformed.
func ParseInteraction(payload []byte) ([]Action, error) {
	var cb slack.InteractionCallback
	if err := json.Unmarshal(payload, &cb); err != nil {
		return nil, fmt.Errorf("payload: invalid JSON: %v", err)
	}
	if cb.Type != slack.InteractionTypeBlockActions {
		return nil, nil
	}
	if cb.User.ID == "" {
		return nil, fmt.Errorf("payload: user.id is missing")
	}
	var out []Action
	for i, ba := range cb.ActionCallback.BlockActions {
		if ba == nil {
			continue
		}
		kind, ok := actionKind(ba.ActionID)
		if !ok {
			continue
		}
		id, err := strconv.ParseInt(ba.Value, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("payload: actions[%d].value: %q is not an incident ID", i, clip(ba.Value, 40))
		}
		team := cb.Team.ID
		if team == "" {
			team = cb.User.TeamID
		}
		channel := cb.Container.ChannelID
		if channel == "" {
			channel = cb.Channel.ID
		}
		msgTS := cb.Container.MessageTs
		if msgTS == "" {
			msgTS = cb.Message.Timestamp
		}
		name := cb.User.Name
		out = append(out, Action{
			Kind: kind, IncidentID: id, UserID: cb.User.ID, UserName: name, TeamID: team,
			ChannelID: channel, MessageTS: msgTS, ResponseURL: cb.ResponseURL, ActionTS: ba.ActionTs,
			TriggerID: cb.TriggerID,
		})
	}
	return out, nil
}

// Command is a parsed /sentinel invocation.
type Command struct {
	// Verb is declare, ack, resolve, status, oncall, silence or help.
	Verb string
	// Severity and Title of an incident to declare.
	Severity model.Severity
	Title    string
	// ID of the incident to acknowledge or resolve; 0 means "the one meant
	// by the channel, or the only open one".
	ID int64
	// Text of a note or a stakeholder update; Public for a public update.
	Text   string
	Public bool
	// Modal asks for the declare modal (declare without arguments).
	Modal bool
	// Matchers and Duration of a silence.
	Matchers []string
	Duration time.Duration
}

// subcommands are the verbs ParseCommand knows, for "did you mean".
var subcommands = []string{"help", "status", "oncall", "ack", "acknowledge", "resolve", "postmortem", "note", "update", "severity", "lead", "declare", "silence"}

// usage is the help text's list of subcommands.
const usage = "`declare <critical|warning|info> <title>` (or `declare` alone for a form) · `ack [id]` · `resolve [id]` · `note [#id] <text>` · `update [#id] [public] <text>` · `severity [#id] <level>` · `lead [id]` · `status` · `oncall` · `silence <matchers> <duration>` · `postmortem [id]` · `help`"

// maxCommandText caps the text Sentinel reads from a command.
const maxCommandText = 4000

// ParseCommand reads the text after the slash command. Slack escapes &,
// < and > in it; they are unescaped first.
func ParseCommand(text string) (Command, error) {
	if len(text) > maxCommandText {
		return Command{}, fmt.Errorf("the command is longer than %d characters", maxCommandText)
	}
	text = strings.TrimSpace(html.UnescapeString(text))
	verb, rest, _ := strings.Cut(text, " ")
	rest = strings.TrimSpace(rest)
	c := Command{Verb: strings.ToLower(verb)}
	switch c.Verb {
	case "", "help":
		c.Verb = "help"
	case "status", "oncall":
	case "ack", "acknowledge", "resolve", "postmortem", "pm":
		if c.Verb == "pm" {
			c.Verb = "postmortem"
		}
		if c.Verb == "acknowledge" {
			c.Verb = "ack"
		}
		if rest == "" {
			return c, nil
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(rest, "#"), 10, 64)
		if err != nil || id <= 0 {
			return Command{}, fmt.Errorf("%s: %q is not an incident ID (use %s 42)", c.Verb, clip(rest, 40), c.Verb)
		}
		c.ID = id
	case "note", "update":
		id, text := leadingID(rest)
		c.ID = id
		if c.Verb == "update" {
			if first, after, _ := strings.Cut(text, " "); strings.EqualFold(first, "public") {
				c.Public, text = true, strings.TrimSpace(after)
			}
		}
		if text == "" {
			return Command{}, fmt.Errorf("%s: write the text, as in: %s rolled back v42 at 10:42", c.Verb, c.Verb)
		}
		c.Text = text
	case "severity", "sev":
		c.Verb = "severity"
		id, level := leadingID(rest)
		s, err := model.ParseSeverity(strings.ToLower(level))
		if err != nil || level == "" {
			return Command{}, fmt.Errorf("severity: give critical, warning or info, as in: severity critical (or severity #42 critical)")
		}
		c.ID, c.Severity = id, s
	case "lead":
		if rest == "" {
			return c, nil
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(rest, "#"), 10, 64)
		if err != nil || id <= 0 {
			return Command{}, fmt.Errorf("lead: %q is not an incident ID (use lead or lead 42)", clip(rest, 40))
		}
		c.ID = id
	case "declare":
		if rest == "" {
			c.Modal = true
			return c, nil
		}
		sev, title, _ := strings.Cut(rest, " ")
		s, err := model.ParseSeverity(strings.ToLower(sev))
		if err != nil || sev == "" {
			return Command{}, fmt.Errorf("declare: the first word must be a severity (critical, warning or info), as in: declare critical Checkout is down")
		}
		c.Severity, c.Title = s, strings.TrimSpace(title)
		if c.Title == "" {
			return Command{}, fmt.Errorf("declare: a title is required, as in: declare %s Checkout is down", s)
		}
	case "silence":
		fields := strings.Fields(rest)
		if len(fields) < 2 {
			return Command{}, fmt.Errorf("silence: give matchers and a duration, as in: silence service=checkout 2h")
		}
		d, err := model.ParseDuration(fields[len(fields)-1])
		if err != nil || d <= 0 {
			return Command{}, fmt.Errorf("silence: %q is not a duration (such as 30m, 2h or 1d); it comes last", clip(fields[len(fields)-1], 40))
		}
		c.Duration = d.Std()
		for _, f := range fields[:len(fields)-1] {
			for _, m := range splitMatchers(f) {
				if m != "" {
					c.Matchers = append(c.Matchers, m)
				}
			}
		}
		if len(c.Matchers) == 0 {
			return Command{}, fmt.Errorf("silence: at least one matcher is required, such as service=checkout")
		}
	default:
		// The caller shows the usage after the error; it is not repeated here.
		return Command{}, fmt.Errorf("unknown subcommand %q%s", clip(verb, 40), config.DidYouMean(verb, subcommands))
	}
	return c, nil
}

// leadingID takes an optional "#42" off the front of rest.
func leadingID(rest string) (int64, string) {
	first, after, _ := strings.Cut(rest, " ")
	if n, ok := strings.CutPrefix(first, "#"); ok {
		if id, err := strconv.ParseInt(n, 10, 64); err == nil && id > 0 {
			return id, strings.TrimSpace(after)
		}
	}
	return 0, rest
}

// splitMatchers splits a,b into matchers at commas outside quotes, and
// drops the braces of {a="b",c="d"}.
func splitMatchers(s string) []string {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	var out []string
	var cur strings.Builder
	quoted, escaped := false, false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && quoted:
			escaped = true
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	return append(out, cur.String())
}
