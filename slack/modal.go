package slack

import (
	"context"
	"encoding/json"
	"net/http"
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
	var opts []*slack.OptionBlockObject
	for _, s := range []model.Severity{model.SeverityCritical, model.SeverityWarning, model.SeverityInfo} {
		opts = append(opts, slack.NewOptionBlockObject(string(s), plain(severityIcon(s)+" "+string(s)), nil))
	}
	sev := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Severity"), blockSeverity, opts...)
	sev.InitialOption = opts[1]
	service := slack.NewPlainTextInputBlockElement(plain("checkout"), blockService)
	service.MaxLength = 100
	summary := slack.NewPlainTextInputBlockElement(plain("What is broken, for whom, since when"), blockSummary)
	summary.Multiline, summary.MaxLength = true, 3000
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
	if cb.View.CallbackID != DeclareCallback {
		b.metrics.request("interactions", "ignored")
		w.WriteHeader(http.StatusOK)
		return
	}
	if cb.User.ID == "" || cb.View.ID == "" {
		b.metrics.request("interactions", "bad_request")
		writeError(w, http.StatusBadRequest, "payload: user.id and view.id are required")
		return
	}
	value := func(block string) string {
		a := cb.View.State.Values[block][block]
		if a.SelectedOption.Value != "" {
			return a.SelectedOption.Value
		}
		return strings.TrimSpace(a.Value)
	}
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
	if b.incidents == nil || !b.seen.first("view|"+cb.View.ID, b.now()) {
		b.metrics.request("interactions", "duplicate")
		w.WriteHeader(http.StatusOK)
		return
	}
	inc, err := b.incidents.Declare(model.ContextWithActor(ctx, who.Actor()), req, who.Person.Name)
	if err != nil {
		b.log.Error("declare from the modal failed", "err", err)
		b.metrics.request("interactions", "failed")
		_ = json.NewEncoder(w).Encode(viewAnswer{ResponseAction: "errors", Errors: map[string]string{blockTitle: "Sentinel could not declare the incident; try again in a moment."}})
		return
	}
	b.metrics.request("interactions", "declare")
	b.log.Info("incident declared from Slack", "incident", inc.ID, "user", cb.User.ID)
	w.WriteHeader(http.StatusOK)
}
