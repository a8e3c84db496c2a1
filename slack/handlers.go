package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/slack-go/slack"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
)

// maxRequestBytes caps a request from Slack; block_actions payloads carry
// the clicked message, which Sentinel keeps small.
const maxRequestBytes = 512 << 10

// actionTimeout bounds the incident change made while Slack waits (Slack
// gives up after 3 seconds).
const actionTimeout = 2 * time.Second

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// verified checks Slack's request signature (timestamp within five
// minutes, HMAC compared in constant time, by slack-go's SecretsVerifier)
// before anything else, then hands the raw body on. A bad or missing
// signature and a stale timestamp get 401.
func (b *Bot) verified(endpoint string, next func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		sv, err := slack.NewSecretsVerifier(r.Header, b.cfg.SigningSecret.Reveal())
		if err != nil {
			reason := "bad signature headers"
			if errors.Is(err, slack.ErrExpiredTimestamp) {
				reason = "stale timestamp"
			} else if errors.Is(err, slack.ErrMissingHeaders) {
				reason = "missing signature"
			}
			b.metrics.request(endpoint, "unauthorized")
			b.log.Warn("refused a request claiming to be from Slack", "endpoint", endpoint, "reason", reason)
			writeError(w, http.StatusUnauthorized, "slack signature: "+reason)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				b.metrics.request(endpoint, "too_large")
				writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", maxRequestBytes))
				return
			}
			writeError(w, http.StatusBadRequest, "cannot read the request body")
			return
		}
		_, _ = sv.Write(body)
		if err := sv.Ensure(); err != nil {
			b.metrics.request(endpoint, "unauthorized")
			b.log.Warn("refused a request claiming to be from Slack", "endpoint", endpoint, "reason", "signature mismatch")
			writeError(w, http.StatusUnauthorized, "slack signature: mismatch")
			return
		}
		next(w, r, body)
	})
}

// Interactions is the handler for POST /slack/interactions (button clicks).
func (b *Bot) Interactions() http.Handler { return b.verified("interactions", b.interaction) }

// Commands is the handler for POST /slack/commands (the slash command).
func (b *Bot) Commands() http.Handler { return b.verified("commands", b.command) }

func (b *Bot) interaction(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		b.metrics.request("interactions", "bad_request")
		writeError(w, http.StatusBadRequest, "body: not a form")
		return
	}
	payload := form.Get("payload")
	if payload == "" {
		b.metrics.request("interactions", "bad_request")
		writeError(w, http.StatusBadRequest, "form field payload is missing")
		return
	}
	var head slack.InteractionCallback
	if json.Unmarshal([]byte(payload), &head) == nil && head.Type == slack.InteractionTypeViewSubmission {
		b.viewSubmission(w, r, head)
		return
	}
	actions, err := ParseInteraction([]byte(payload))
	if err != nil {
		b.metrics.request("interactions", "bad_request")
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(actions) == 0 {
		b.metrics.request("interactions", "ignored")
		w.WriteHeader(http.StatusOK)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	for _, a := range actions {
		if !b.firstDelivery(ctx, "click|"+a.dedupeKey(), slackTime(a.ActionTS)) {
			b.metrics.request("interactions", "duplicate")
			continue
		}
		who := b.caller(ctx, a.UserID)
		text, outcome := "", ""
		if why, ok := b.allowed(who, needResponder, fmt.Sprintf("%s #%d", a.Kind, a.IncidentID)); !ok {
			text, outcome = why, "refused"
		} else {
			text, outcome = b.act(model.ContextWithActor(ctx, who.Actor()), a, who.Person.Name)
		}
		b.record(ctx, who, string(a.Kind), fmt.Sprintf("#%d", a.IncidentID), outcome)
		b.metrics.request("interactions", outcome)
		if text != "" && a.ResponseURL != "" {
			b.queueReply(reply{url: a.ResponseURL, text: text})
		}
	}
	// Slack only needs a quick 200; the page itself is updated through
	// the outbox (chat.update) and any note goes through response_url.
	w.WriteHeader(http.StatusOK)
}

// act applies one button click; it returns a note for the clicker (empty
// when the updated message says it all) and the metric outcome.
func (b *Bot) act(ctx context.Context, a Action, actor string) (string, string) {
	if b.incidents == nil {
		return "Sentinel cannot change incidents right now.", "unavailable"
	}
	var err error
	switch a.Kind {
	case KindAcknowledge:
		_, err = b.incidents.Acknowledge(ctx, a.IncidentID, actor)
	case KindResolve:
		_, err = b.incidents.Resolve(ctx, a.IncidentID, actor)
	case KindEscalate:
		_, err = b.incidents.Escalate(ctx, a.IncidentID, actor)
	case KindLead:
		// The clicker, a linked person, becomes commander.
		name := actor
		_, err = b.incidents.EditIncident(ctx, a.IncidentID, incidents.Edit{Commander: &name}, actor)
	case KindSeverity, KindNote, KindUpdate:
		return b.openIncidentModal(ctx, a)
	}
	switch {
	case err == nil:
		b.log.Info("incident changed from Slack", "incident", a.IncidentID, "action", string(a.Kind), "actor", actor)
		return "", "ok"
	case isConflict(err):
		// A repeated click (or a redelivery) finds the work done.
		return fmt.Sprintf("Nothing to do: %s.", errText(err)), "already_done"
	case isNotFound(err):
		return fmt.Sprintf("There is no incident #%d.", a.IncidentID), "not_found"
	default:
		b.log.Error("incident change from Slack failed", "incident", a.IncidentID, "action", string(a.Kind), "err", err)
		return fmt.Sprintf("Sentinel could not %s #%d; try again in a moment.", a.Kind, a.IncidentID), "error"
	}
}

// errText is the readable end of a wrapped domain error.
func errText(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

func isConflict(err error) bool {
	var c interface{ Conflict() bool }
	return errors.As(err, &c) && c.Conflict()
}

func isInvalid(err error) bool {
	var c interface{ Invalid() bool }
	return errors.As(err, &c) && c.Invalid()
}

func isNotFound(err error) bool {
	var c interface{ NotFound() bool }
	return errors.As(err, &c) && c.NotFound()
}

// cleanName keeps a short, printable form of an outside name.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '<' || r == '>' || r == '&' {
			return -1
		}
		return r
	}, s)
	return clip(strings.TrimSpace(s), 64)
}

// reply is an answer sent to a response_url after the request returned.
type reply struct {
	url, text string
}

func (b *Bot) queueReply(r reply) {
	select {
	case b.replies <- r:
	default:
		b.log.Warn("dropped an answer to Slack: the queue is full")
	}
}

// postResponse sends an ephemeral answer to a response_url, which must
// point at Slack (or at the configured API host, for tests) so a forged
// payload cannot make Sentinel post elsewhere.
func (b *Bot) postResponse(ctx context.Context, r reply) error {
	u, err := url.Parse(r.url)
	if err != nil {
		return fmt.Errorf("response_url: %w", err)
	}
	if !(u.Scheme == "https" && (u.Host == "hooks.slack.com" || strings.HasSuffix(u.Host, ".slack.com"))) && u.Host != b.apiHost {
		return fmt.Errorf("response_url %s is not a Slack address", u.Host)
	}
	body, _ := json.Marshal(map[string]any{"response_type": "ephemeral", "replace_original": false, "text": r.text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	b.metrics.call("response_url", err)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("response_url answered %s", resp.Status)
	}
	return nil
}

// DeliveryClaimer records the deliveries from Slack that were acted on, in
// a store replicas share: Slack redelivers an event or a click it got no
// quick answer for, and the redelivery may reach another replica.
type DeliveryClaimer interface {
	// ClaimDelivery reports whether this call is the first to claim key;
	// sent is when Slack sent it (the same in every redelivery), which
	// bounds how long the claim is kept.
	ClaimDelivery(ctx context.Context, key string, sent time.Time) (bool, error)
	// ClaimDeliveryWithin is ClaimDelivery for a delivery whose copies
	// share no sending time (a modal's submission): sent is when Slack
	// sent this copy, and copies sent less than within apart are one.
	ClaimDeliveryWithin(ctx context.Context, key string, sent time.Time, within time.Duration) (bool, error)
	// ReleaseDeliveryWithin gives back the claim ClaimDeliveryWithin made
	// for the copy sent at sent, so the next copy is acted on.
	ReleaseDeliveryWithin(ctx context.Context, key string, sent time.Time, within time.Duration) error
}

// rememberFor is how long a delivery is known as taken: by this process
// (clicks, events, commands, submissions) and, for a modal's submission,
// by the shared store too (its copies carry no common sending time, so
// copies sent less than this apart are one submission).
const rememberFor = 10 * time.Minute

// releaseTimeout bounds giving a claim back; it runs after the action
// failed, possibly because the request's own time ran out.
const releaseTimeout = 2 * time.Second

// firstDelivery reports whether a delivery is to be acted on: not seen by
// this process lately and, with a shared store, claimed here first. When
// the store cannot answer it is acted on: a note or a click taken twice
// is better than one lost.
func (b *Bot) firstDelivery(ctx context.Context, key string, sent time.Time) bool {
	if !b.seen.first(key, b.now()) {
		return false
	}
	if b.deliveries == nil {
		return true
	}
	won, err := b.deliveries.ClaimDelivery(ctx, key, sent)
	if err != nil {
		b.log.Warn("claiming a Slack delivery failed; acting on it anyway", "err", err)
		return true
	}
	return won
}

// firstSubmission reports whether the copy of view's submission Slack
// sent at sent is to be acted on, by firstDelivery's rules: not seen by
// this process lately and, with a shared store, claimed here first; when
// the store cannot answer it is acted on. giveBack undoes the claim, in
// this process and in the store, when acting failed and the form shows
// why: the person's next submission of the view (on any replica) acts.
func (b *Bot) firstSubmission(ctx context.Context, view string, sent time.Time) (first bool, giveBack func()) {
	key := "view|" + view
	if !b.seen.first(key, b.now()) {
		return false, nil
	}
	giveBack = func() {
		b.seen.forget(key)
		if b.deliveries == nil {
			return
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		if err := b.deliveries.ReleaseDeliveryWithin(rctx, key, sent, rememberFor); err != nil {
			b.log.Warn("giving back a Slack submission's claim failed; its next submission on another replica is taken as done", "view", view, "err", err)
		}
	}
	if b.deliveries == nil {
		return true, giveBack
	}
	won, err := b.deliveries.ClaimDeliveryWithin(ctx, key, sent, rememberFor)
	if err != nil {
		b.log.Warn("claiming a Slack delivery failed; acting on it anyway", "err", err)
		return true, giveBack
	}
	if !won {
		return false, nil
	}
	return true, giveBack
}

// slackTime reads a Slack timestamp ("1712345678.123456"); the zero time
// when it is not one.
func slackTime(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	if !allDigits(sec) || (frac != "" && !allDigits(frac)) {
		return time.Time{}
	}
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s <= 0 {
		return time.Time{}
	}
	frac = (frac + "000000")[:6] // microseconds
	us, _ := strconv.ParseInt(frac, 10, 64)
	return time.Unix(s, us*1000)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// dedupe remembers keys for a while, so a redelivered click acts once.
type dedupe struct {
	ttl  time.Duration
	mu   sync.Mutex
	seen map[string]time.Time
}

func newDedupe(ttl time.Duration) *dedupe { return &dedupe{ttl: ttl, seen: map[string]time.Time{}} }

// first reports whether key was not seen within the TTL, and records it.
func (d *dedupe) first(key string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if at, ok := d.seen[key]; ok && now.Sub(at) < d.ttl {
		return false
	}
	if len(d.seen) >= 10000 {
		for k, at := range d.seen {
			if now.Sub(at) >= d.ttl {
				delete(d.seen, k)
			}
		}
	}
	d.seen[key] = now
	return true
}

// forget drops key, so the next delivery of it counts again.
func (d *dedupe) forget(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.seen, key)
}
