package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
)

// commandAnswer is the JSON body Slack shows for a slash command:
// ephemeral (only the caller sees it) or in_channel (everyone does).
type commandAnswer struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

func ephemeral(format string, args ...any) commandAnswer {
	return commandAnswer{ResponseType: "ephemeral", Text: fmt.Sprintf(format, args...)}
}

func inChannel(format string, args ...any) commandAnswer {
	return commandAnswer{ResponseType: "in_channel", Text: fmt.Sprintf(format, args...)}
}

func (b *Bot) command(w http.ResponseWriter, r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sc, err := slack.SlashCommandParse(r)
	if err != nil {
		b.metrics.request("commands", "bad_request")
		writeError(w, http.StatusBadRequest, "body: not a slash command form")
		return
	}
	var ans commandAnswer
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	cmd, err := ParseCommand(sc.Text)
	switch {
	case !b.firstDelivery(ctx, commandKey(r), slackTime(r.Header.Get("X-Slack-Request-Timestamp"))):
		// The same signed request again (a replay inside the signature's
		// five minutes): it acted the first time.
		b.metrics.request("commands", "duplicate")
		ans = ephemeral("This command was already received; it ran once.")
	case err != nil:
		if why, ok := b.allowed(b.caller(ctx, sc.UserID), needViewer, "use "+b.cfg.Command); !ok {
			b.metrics.request("commands", "refused")
			ans = ephemeral("%s", why)
			break
		}
		b.metrics.request("commands", "usage")
		ans = ephemeral("%s\nUsage: %s %s", esc(err.Error()), esc(b.cfg.Command), usage)
	default:
		who := b.caller(ctx, sc.UserID)
		if why, ok := b.allowed(who, commandNeeds(cmd.Verb), commandWhat(b.cfg.Command, cmd.Verb)); !ok {
			b.metrics.request("commands", "refused")
			ans = ephemeral("%s", why)
			if commandNeeds(cmd.Verb) != needViewer {
				b.record(ctx, who, "command "+cmd.Verb, clip(sc.Text, 200), "refused")
			}
			break
		}
		ans = b.run(model.ContextWithActor(ctx, who.Actor()), sc, cmd, who.Person.Name)
		if commandNeeds(cmd.Verb) != needViewer {
			// The answer says what happened: in the channel when it acted.
			outcome := "ok"
			if ans.ResponseType == "ephemeral" {
				outcome = "not done: " + clip(ans.Text, 200)
			}
			b.record(ctx, who, "command "+cmd.Verb, clip(sc.Text, 200), outcome)
		}
		b.metrics.request("commands", cmd.Verb)
	}
	if ans == (commandAnswer{}) {
		w.WriteHeader(http.StatusOK) // a modal opened: Slack wants an empty answer
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ans)
}

// commandKey identifies one signed request: Slack signs the timestamp and
// the body (which holds the command's trigger_id), so the signature
// differs for every command Slack sends and repeats only in a replay.
func commandKey(r *http.Request) string {
	return "command|" + r.Header.Get("X-Slack-Request-Timestamp") + "|" + r.Header.Get("X-Slack-Signature")
}

// readOnlyVerbs are the commands that change nothing.
var readOnlyVerbs = map[string]bool{"help": true, "status": true, "oncall": true, "postmortem": true}

// commandNeeds is what a verb asks of its caller: every verb not known to
// be read-only counts as a change.
func commandNeeds(verb string) need {
	if readOnlyVerbs[verb] {
		return needViewer
	}
	return needResponder
}

// commandWhat names a command for a refusal.
func commandWhat(command, verb string) string {
	return "run " + command + " " + verb
}

// run carries out a parsed command for the Slack user who sent it; actor
// is the linked person's name (allowed has checked the caller).
func (b *Bot) run(ctx context.Context, sc slack.SlashCommand, cmd Command, actor string) commandAnswer {
	if cmd.Verb == "help" {
		return ephemeral("*%s* manages incidents from Slack:\n%s\nIDs are optional in an incident's own channel, or when only one incident is open.", esc(b.cfg.Command), usage)
	}
	if cmd.Verb == "silence" {
		return b.silence(ctx, sc, cmd, actor)
	}
	if cmd.Verb == "postmortem" {
		return b.postmortem(ctx, sc, cmd)
	}
	if b.incidents == nil {
		return ephemeral("Sentinel cannot reach its incidents right now.")
	}
	who := "<@" + cleanName(sc.UserID) + ">"
	switch cmd.Verb {
	case "status":
		return b.status(ctx)
	case "oncall":
		return b.oncall(ctx)
	case "declare":
		if cmd.Modal {
			return b.openDeclare(ctx, sc)
		}
		inc, err := b.incidents.Declare(ctx, incidents.DeclareRequest{Title: cmd.Title, Severity: cmd.Severity}, actor)
		if err != nil {
			return b.failed("declare the incident", err)
		}
		return inChannel("%s declared %s #%d *%s* (%s). Paging now.", who, severityIcon(inc.Severity), inc.ID, esc(inc.Title), inc.Severity)
	case "ack", "resolve":
		id, ans, ok := b.pick(ctx, sc, cmd)
		if !ok {
			return ans
		}
		var inc *incidents.Incident
		var err error
		verb := "acknowledged"
		if cmd.Verb == "ack" {
			inc, err = b.incidents.Acknowledge(ctx, id, actor)
		} else {
			verb = "resolved"
			inc, err = b.incidents.Resolve(ctx, id, actor)
		}
		if err != nil {
			return b.failed(cmd.Verb+" #"+strconv.FormatInt(id, 10), err)
		}
		return inChannel("%s %s #%d *%s*.", who, verb, inc.ID, esc(inc.Title))
	case "note", "update", "severity", "lead":
		return b.runIncident(ctx, sc, cmd, who, actor)
	}
	return ephemeral("Usage: %s %s", esc(b.cfg.Command), usage)
}

// runIncident carries out what people do to run an incident: a note, a
// stakeholder update, a severity, taking the lead. Notes and updates are
// told in the incident's thread by the pager, so the answer is private.
// actor is the caller's person (allowed has checked the role), who leads
// when they take the lead.
func (b *Bot) runIncident(ctx context.Context, sc slack.SlashCommand, cmd Command, who, actor string) commandAnswer {
	id, ans, ok := b.pick(ctx, sc, cmd)
	if !ok {
		return ans
	}
	ref := "#" + strconv.FormatInt(id, 10)
	switch cmd.Verb {
	case "note":
		if _, err := b.incidents.AddPersonNote(ctx, id, cmd.Text, actor); err != nil {
			return b.failed("add the note to "+ref, err)
		}
		return ephemeral("Noted on %s; it is in the timeline and the incident's thread.", ref)
	case "update":
		if _, _, err := b.incidents.AddUpdate(ctx, id, incidents.NewUpdate{Text: cmd.Text, Public: cmd.Public}, actor); err != nil {
			return b.failed("post the update on "+ref, err)
		}
		if cmd.Public {
			return ephemeral("Posted a public update on %s (shown on the status page).", ref)
		}
		return ephemeral("Posted an internal update on %s.", ref)
	case "severity":
		sev := cmd.Severity
		inc, err := b.incidents.EditIncident(ctx, id, incidents.Edit{Severity: &sev}, actor)
		if err != nil {
			return b.failed("change the severity of "+ref, err)
		}
		return inChannel("%s set the severity of #%d *%s* to %s %s.", who, inc.ID, esc(inc.Title), severityIcon(sev), sev)
	}
	// lead: the caller, a linked person, becomes commander.
	name := actor
	inc, err := b.incidents.EditIncident(ctx, id, incidents.Edit{Commander: &name}, actor)
	if err != nil {
		return b.failed("name you commander of "+ref, err)
	}
	return inChannel("%s leads #%d *%s*.", who, inc.ID, esc(inc.Title))
}

// failed explains an error to the caller: domain errors in their own
// words, anything else as a retry hint (and logged).
func (b *Bot) failed(what string, err error) commandAnswer {
	if isConflict(err) || isNotFound(err) {
		return ephemeral("Cannot %s: %s.", what, esc(errText(err)))
	}
	if isInvalid(err) {
		return ephemeral("Cannot %s: %s.", what, esc(err.Error()))
	}
	b.log.Error("slash command failed", "what", what, "err", err)
	return ephemeral("Sentinel could not %s; try again in a moment.", what)
}

// pick finds the incident an ack or resolve without an ID means: the one
// whose channel this is, else the only open one.
func (b *Bot) pick(ctx context.Context, sc slack.SlashCommand, cmd Command) (int64, commandAnswer, bool) {
	if cmd.ID > 0 {
		return cmd.ID, commandAnswer{}, true
	}
	if rest, ok := strings.CutPrefix(sc.ChannelName, "inc-"); ok {
		num, _, _ := strings.Cut(rest, "-")
		if id, err := strconv.ParseInt(num, 10, 64); err == nil && id > 0 {
			return id, commandAnswer{}, true
		}
	}
	open, err := b.incidents.List(ctx, incidents.ListQuery{Status: "open", Limit: 2})
	if err != nil {
		return 0, b.failed("list open incidents", err), false
	}
	switch len(open) {
	case 0:
		return 0, ephemeral("No incident is open."), false
	case 1:
		return open[0].ID, commandAnswer{}, true
	}
	return 0, ephemeral("Several incidents are open; name one: `%s %s 42` (see `%s status`).", esc(b.cfg.Command), cmd.Verb, esc(b.cfg.Command)), false
}

func (b *Bot) status(ctx context.Context) commandAnswer {
	open, err := b.incidents.List(ctx, incidents.ListQuery{Status: "open", Limit: 20})
	if err != nil {
		return b.failed("list open incidents", err)
	}
	if len(open) == 0 {
		return ephemeral(":white_check_mark: No incident is open.")
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "*Open incidents* (%d%s)", len(open), map[bool]string{true: "+", false: ""}[len(open) == 20])
	for _, inc := range open {
		fmt.Fprintf(&sb, "\n%s #%d *%s* · %s · %s since %s", severityIcon(inc.Severity), inc.ID, esc(clip(inc.Title, 150)), inc.Severity, inc.Status, slackDate(inc.CreatedAt))
	}
	return ephemeral("%s", sb.String())
}

func (b *Bot) oncall(ctx context.Context) commandAnswer {
	scheds, err := b.incidents.OnCall(ctx)
	if err != nil {
		return b.failed("read the on-call schedules", err)
	}
	if len(scheds) == 0 {
		return ephemeral("No on-call schedule is configured.")
	}
	var sb strings.Builder
	sb.WriteString("*On call*")
	for _, s := range scheds {
		who := "nobody"
		if s.OnCall != nil {
			who = b.mention(ctx, s.OnCall.User) + " until " + slackDate(s.OnCall.Until)
		}
		fmt.Fprintf(&sb, "\n• *%s*: %s", esc(s.Name), who)
		if s.Next != nil {
			fmt.Fprintf(&sb, " (next: %s)", b.mention(ctx, s.Next.User))
		}
	}
	return ephemeral("%s", sb.String())
}

// mention shows a person by Slack mention when their ID is known.
func (b *Bot) mention(ctx context.Context, name string) string {
	p, ok := b.dir.people.Resolve(name)
	if !ok {
		return esc(name)
	}
	if id, err := b.dir.slackID(ctx, p); err == nil && id != "" {
		return "<@" + id + ">"
	}
	return esc(p.Name)
}

func (b *Bot) silence(ctx context.Context, sc slack.SlashCommand, cmd Command, actor string) commandAnswer {
	if b.silences == nil {
		return ephemeral("Silences are not available in this Sentinel.")
	}
	sl, err := b.silences.CreateSilence(ctx, alerting.NewSilence{
		Matchers: alerting.TextInputs(cmd.Matchers...), Duration: cmd.Duration, Author: actor,
		Comment: "from Slack " + b.cfg.Command + " by " + actor,
	})
	if err != nil {
		return b.failed("create the silence", err)
	}
	return inChannel("<@%s> silenced `%s` until %s (silence %s).", cleanName(sc.UserID), esc(strings.Join(cmd.Matchers, ", ")), slackDate(sl.EndsAt), esc(sl.ID))
}

// postmortem links an incident's postmortem: its status, the page to edit
// it and the Markdown export. Asking is a question: the answer is ephemeral.
func (b *Bot) postmortem(ctx context.Context, sc slack.SlashCommand, cmd Command) commandAnswer {
	if b.pms == nil || b.incidents == nil {
		return ephemeral("Postmortems are not available in this Sentinel.")
	}
	id, ans, ok := b.pick(ctx, sc, cmd)
	if !ok {
		return ans
	}
	link, err := b.pms.Link(ctx, id)
	if err != nil {
		return b.failed("find the postmortem of #"+strconv.FormatInt(id, 10), err)
	}
	text := fmt.Sprintf("Postmortem of #%d *%s*: %s\n<%s|Open it> · <%s|Markdown>", link.IncidentID, esc(link.Title), link.Status, link.URL, link.MarkdownURL)
	if link.OpenActionItems > 0 {
		items := "items"
		if link.OpenActionItems == 1 {
			items = "item"
		}
		text += fmt.Sprintf("\n%d open action %s.", link.OpenActionItems, items)
	}
	return ephemeral("%s", text)
}
