package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
)

// The declare modal: its callback ID and the block (and action) IDs of
// its inputs, which a view_submission's state is keyed by.
const (
	DeclareCallback = "sentinel_declare"
	blockTitle      = "title"
	blockSeverity   = "severity"
	blockService    = "service"
	blockSummary    = "summary"
)

// declareModal is what /sentinel declare without arguments opens: title,
// severity, service and summary, as the API's declare takes them.
func declareModal(channel string) slack.ModalViewRequest {
	input := func(block, label string, el slack.BlockElement, optional bool) *slack.InputBlock {
		ib := slack.NewInputBlock(block, plain(label), nil, el)
		ib.Optional = optional
		return ib
	}
	title := slack.NewPlainTextInputBlockElement(plain("Checkout fails for card payments"), blockTitle)
	title.MaxLength = 200
	sev := severitySelect()
	sev.InitialOption = sev.Options[1]
	service := slack.NewPlainTextInputBlockElement(plain("checkout"), blockService)
	service.MaxLength = 100
	summary := slack.NewPlainTextInputBlockElement(plain("What is broken, for whom, since when"), blockSummary)
	summary.Multiline, summary.MaxLength = true, maxInputText
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: DeclareCallback, PrivateMetadata: channel,
		Title: plain("Declare an incident"), Submit: plain("Declare"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			input(blockTitle, "Title", title, false),
			input(blockSeverity, "Severity", sev, false),
			input(blockService, "Service", service, true),
			input(blockSummary, "Summary", summary, true),
		}},
	}
}

// severitySelect is a form's severity menu: critical, warning, info.
func severitySelect() *slack.SelectBlockElement {
	var opts []*slack.OptionBlockObject
	for _, s := range []model.Severity{model.SeverityCritical, model.SeverityWarning, model.SeverityInfo} {
		opts = append(opts, slack.NewOptionBlockObject(string(s), plain(severityIcon(s)+" "+string(s)), nil))
	}
	return slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Severity"), blockSeverity, opts...)
}

// openDeclare opens the declare modal for the trigger of a slash command.
// Slack wants it opened within 3 seconds of the command.
func (b *Bot) openDeclare(ctx context.Context, sc slack.SlashCommand) commandAnswer {
	if sc.TriggerID == "" {
		return ephemeral("Slack sent no trigger for a form; use `%s declare <critical|warning|info> <title>`.", esc(b.cfg.Command))
	}
	_, err := b.api.OpenViewContext(ctx, sc.TriggerID, declareModal(sc.ChannelID))
	b.metrics.call("views.open", err)
	if err != nil {
		b.log.Warn("views.open failed", "err", err)
		return ephemeral("Slack did not open the form (%s); use `%s declare <critical|warning|info> <title>`.", esc(errText(err)), esc(b.cfg.Command))
	}
	return commandAnswer{}
}

// viewAnswer is the body Slack reads after a view_submission: nothing
// closes the modal; response_action "errors" shows messages by block.
type viewAnswer struct {
	ResponseAction string            `json:"response_action,omitempty"`
	Errors         map[string]string `json:"errors,omitempty"`
}

// viewSubmission declares the incident a submitted declare modal
// describes. Slack shows field errors in the modal; a redelivered
// submission of the same view declares nothing twice.
func (b *Bot) viewSubmission(w http.ResponseWriter, r *http.Request, cb slack.InteractionCallback) {
	w.Header().Set("Content-Type", "application/json")
	switch cb.View.CallbackID {
	case DeclareCallback:
	case SeverityCallback, NoteCallback, UpdateCallback:
		b.incidentFormSubmission(w, r, cb)
		return
	default:
		b.metrics.request("interactions", "ignored")
		w.WriteHeader(http.StatusOK)
		return
	}
	if cb.User.ID == "" || cb.View.ID == "" {
		b.metrics.request("interactions", "bad_request")
		writeError(w, http.StatusBadRequest, "payload: user.id and view.id are required")
		return
	}
	value := viewValue(cb)
	req := incidents.DeclareRequest{Title: value(blockTitle), Severity: model.Severity(value(blockSeverity)), Summary: value(blockSummary)}
	if svc := value(blockService); svc != "" {
		req.Labels = model.Labels{"service": svc}
	}
	if err := req.Validate(); err != nil {
		block := blockTitle
		for _, b := range []string{blockSeverity, blockSummary, "label"} {
			if strings.Contains(err.Error(), b) {
				block = b
			}
		}
		if block == "label" {
			block = blockService
		}
		b.metrics.request("interactions", "invalid")
		_ = json.NewEncoder(w).Encode(viewAnswer{ResponseAction: "errors", Errors: map[string]string{block: errText(err)}})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	who := b.caller(ctx, cb.User.ID)
	if why, ok := b.allowed(who, needResponder, "declare an incident"); !ok {
		b.metrics.request("interactions", "refused")
		_ = json.NewEncoder(w).Encode(viewAnswer{ResponseAction: "errors", Errors: map[string]string{blockTitle: why}})
		return
	}
	giveBack, ok := b.claimSubmission(ctx, w, r, cb)
	if !ok {
		return
	}
	inc, err := b.incidents.Declare(model.ContextWithActor(ctx, who.Actor()), req, who.Person.Name)
	if err != nil {
		b.log.Error("declare from the modal failed", "err", err)
		// The form stays open asking to try again: that try must act.
		giveBack()
		b.metrics.request("interactions", "failed")
		_ = json.NewEncoder(w).Encode(viewAnswer{ResponseAction: "errors", Errors: map[string]string{blockTitle: "Sentinel could not declare the incident; try again in a moment."}})
		return
	}
	b.metrics.request("interactions", "declare")
	b.log.Info("incident declared from Slack", "incident", inc.ID, "user", cb.User.ID)
	w.WriteHeader(http.StatusOK)
}

// The incident forms the page's Severity, Add note and Post update
// buttons open; the incident ID travels in the view's private_metadata.
const (
	SeverityCallback = "sentinel_severity_form"
	NoteCallback     = "sentinel_note_form"
	UpdateCallback   = "sentinel_update_form"
	blockText        = "text"
	blockAudience    = "audience"
	// maxInputText is the longest plain_text_input Slack allows.
	maxInputText = 3000
)

// incidentModal is the form a page button opens for incident id; the
// Severity form starts at current, the incident's severity (none when
// it is unknown).
func incidentModal(kind ActionKind, id int64, current model.Severity) slack.ModalViewRequest {
	ref := "#" + strconv.FormatInt(id, 10)
	input := slack.NewInputBlock
	v := slack.ModalViewRequest{Type: slack.VTModal, PrivateMetadata: strconv.FormatInt(id, 10), Close: plain("Cancel")}
	switch kind {
	case KindSeverity:
		sev := severitySelect()
		for _, o := range sev.Options {
			if o.Value == string(current) {
				sev.InitialOption = o
			}
		}
		v.CallbackID, v.Title, v.Submit = SeverityCallback, plain("Severity of "+ref), plain("Set")
		v.Blocks.BlockSet = []slack.Block{input(blockSeverity, plain("Severity"), nil, sev)}
	case KindNote:
		text := slack.NewPlainTextInputBlockElement(plain("Rolled back v42 at 10:42"), blockText)
		text.Multiline, text.MaxLength = true, maxInputText
		v.CallbackID, v.Title, v.Submit = NoteCallback, plain("Note on "+ref), plain("Add note")
		v.Blocks.BlockSet = []slack.Block{input(blockText, plain("Note"), plain("Goes into the timeline and the incident's thread."), text)}
	default: // KindUpdate
		text := slack.NewPlainTextInputBlockElement(plain("What stakeholders need to know"), blockText)
		text.Multiline, text.MaxLength = true, maxInputText
		internal := slack.NewOptionBlockObject("internal", plain("Internal: responders and the timeline"), nil)
		public := slack.NewOptionBlockObject("public", plain("Public: also the status page"), nil)
		audience := slack.NewRadioButtonsBlockElement(blockAudience, internal, public)
		audience.InitialOption = internal
		v.CallbackID, v.Title, v.Submit = UpdateCallback, plain("Update on "+ref), plain("Post update")
		v.Blocks.BlockSet = []slack.Block{input(blockText, plain("Update"), nil, text), input(blockAudience, plain("Who sees it"), nil, audience)}
	}
	return v
}

// openIncidentModal opens the form of a Severity, Add note or Post update
// click; it returns a note for the clicker and the metric outcome.
func (b *Bot) openIncidentModal(ctx context.Context, a Action) (string, string) {
	if a.TriggerID == "" {
		return fmt.Sprintf("Slack sent no trigger for a form; use `%s %s #%d …`.", esc(b.cfg.Command), a.Kind, a.IncidentID), "no_trigger"
	}
	var current model.Severity
	if a.Kind == KindSeverity {
		// Slack's trigger lasts 3 s: a slow or failed read opens the form
		// without a preselected severity rather than not at all.
		if inc, err := b.incidents.Get(ctx, a.IncidentID); err == nil {
			current = inc.Severity
		} else {
			b.log.Warn("reading the incident for its severity form failed", "incident", a.IncidentID, "err", err)
		}
	}
	_, err := b.api.OpenViewContext(ctx, a.TriggerID, incidentModal(a.Kind, a.IncidentID, current))
	b.metrics.call("views.open", err)
	if err != nil {
		b.log.Warn("views.open failed", "err", err)
		return fmt.Sprintf("Slack did not open the form (%s); use `%s %s #%d …`.", esc(errText(err)), esc(b.cfg.Command), a.Kind, a.IncidentID), "error"
	}
	return "", "form_opened"
}

// submitIncidentForm applies a submitted Severity, Note or Update form
// for who (allowed and de-duplicated by the caller). Invalid input and
// refusals are shown in the form by block.
func (b *Bot) submitIncidentForm(ctx context.Context, cb slack.InteractionCallback, value func(string) string, who caller) (viewAnswer, string) {
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil || id <= 0 {
		return viewAnswer{}, "bad_request"
	}
	actor := who.Person.Name
	errorsIn := func(block string, err error) (viewAnswer, string) {
		msg := "Sentinel could not save this; try again in a moment."
		switch {
		case isInvalid(err):
			msg = err.Error()
		case isConflict(err) || isNotFound(err):
			msg = errText(err)
		default:
			b.log.Error("incident form from Slack failed", "incident", id, "form", cb.View.CallbackID, "err", err)
		}
		return viewAnswer{ResponseAction: "errors", Errors: map[string]string{block: clip(msg, 150)}}, "invalid"
	}
	switch cb.View.CallbackID {
	case SeverityCallback:
		sev, perr := model.ParseSeverity(value(blockSeverity))
		if perr != nil {
			return viewAnswer{ResponseAction: "errors", Errors: map[string]string{blockSeverity: "Choose critical, warning or info."}}, "invalid"
		}
		if _, err := b.incidents.EditIncident(ctx, id, incidents.Edit{Severity: &sev}, actor); err != nil {
			return errorsIn(blockSeverity, err)
		}
		return viewAnswer{}, "severity"
	case NoteCallback:
		if _, err := b.incidents.AddPersonNote(ctx, id, value(blockText), actor); err != nil {
			return errorsIn(blockText, err)
		}
		return viewAnswer{}, "note"
	default:
		u := incidents.NewUpdate{Text: value(blockText), Public: value(blockAudience) == "public"}
		if _, _, err := b.incidents.AddUpdate(ctx, id, u, actor); err != nil {
			return errorsIn(blockText, err)
		}
		return viewAnswer{}, "update"
	}
}

// viewValue reads a submitted view's input by block ID (each input's
// action ID is its block ID): a selected option's value, else the text.
func viewValue(cb slack.InteractionCallback) func(block string) string {
	return func(block string) string {
		if cb.View.State == nil {
			return ""
		}
		a := cb.View.State.Values[block][block]
		if a.SelectedOption.Value != "" {
			return a.SelectedOption.Value
		}
		return strings.TrimSpace(a.Value)
	}
}

// incidentFormSubmission answers a submitted incident form: the caller
// must be a responder, and a redelivery of the same view acts once.
func (b *Bot) incidentFormSubmission(w http.ResponseWriter, r *http.Request, cb slack.InteractionCallback) {
	if cb.User.ID == "" || cb.View.ID == "" {
		b.metrics.request("interactions", "bad_request")
		writeError(w, http.StatusBadRequest, "payload: user.id and view.id are required")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	who := b.caller(ctx, cb.User.ID)
	target := "#" + cb.View.PrivateMetadata
	if why, ok := b.allowed(who, needResponder, "change incident "+clip(target, 24)); !ok {
		b.metrics.request("interactions", "refused")
		b.record(ctx, who, "form "+cb.View.CallbackID, clip(target, 24), "refused")
		block := blockText
		if cb.View.CallbackID == SeverityCallback {
			block = blockSeverity
		}
		_ = json.NewEncoder(w).Encode(viewAnswer{ResponseAction: "errors", Errors: map[string]string{block: clip(why, 150)}})
		return
	}
	giveBack, ok := b.claimSubmission(ctx, w, r, cb)
	if !ok {
		return
	}
	ans, outcome := b.submitIncidentForm(model.ContextWithActor(ctx, who.Actor()), cb, viewValue(cb), who)
	if outcome == "bad_request" {
		b.metrics.request("interactions", outcome)
		writeError(w, http.StatusBadRequest, "payload: view.private_metadata is not an incident ID")
		return
	}
	b.metrics.request("interactions", outcome)
	b.record(ctx, who, "form "+cb.View.CallbackID, clip(target, 24), outcome)
	if ans.ResponseAction != "" {
		// The form stays open with the error; a corrected submission of
		// the same view must still count, on whichever replica it lands.
		giveBack()
		_ = json.NewEncoder(w).Encode(ans)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// claimSubmission claims a view submission for this replica. When there is
// nothing to act with (no incident service) or a copy was acted on
// already, it answers Slack itself (200, the form closes) and ok is
// false; else giveBack returns the claim when acting fails.
func (b *Bot) claimSubmission(ctx context.Context, w http.ResponseWriter, r *http.Request, cb slack.InteractionCallback) (giveBack func(), ok bool) {
	if b.incidents == nil {
		b.metrics.request("interactions", "unavailable")
		w.WriteHeader(http.StatusOK)
		return nil, false
	}
	first, giveBack := b.firstSubmission(ctx, cb.View.ID, slackTime(r.Header.Get("X-Slack-Request-Timestamp")))
	if !first {
		b.metrics.request("interactions", "duplicate")
		w.WriteHeader(http.StatusOK)
		return nil, false
	}
	return giveBack, true
}
