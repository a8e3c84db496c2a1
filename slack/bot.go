// Package slack is Sentinel's Slack adapter, built on slack-go: the pager
// that posts pages (Block Kit, with Acknowledge, Resolve and Escalate
// buttons), keeps them in step with the incident (chat.update, thread
// replies), messages the people on call, and optionally opens an incident
// channel; and the HTTP handlers for Slack's button clicks and the
// /sentinel slash command, which check Slack's request signature before
// anything else. It is the only package that imports slack-go.
//
// Exactly once, as near as Slack allows: every post carries message
// metadata (event_type sentinel_page) with the outbox's idempotency key,
// and an entry found in flight after a restart is reconciled by reading
// the channel's history for that key before anything is sent again.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/incidents/postmortem"
)

// PagerName is the name of the Slack pager in the outbox, logs and metrics.
const PagerName = "slack"

// MetadataEventType is the message metadata event type on every post, so
// a restarted Sentinel can recognise its own messages.
const MetadataEventType = "sentinel_page"

// IncidentService is what the Slack handlers do to incidents; the
// incidents package's *Service implements it.
type IncidentService interface {
	Acknowledge(ctx context.Context, id int64, actor string) (*incidents.Incident, error)
	Resolve(ctx context.Context, id int64, actor string) (*incidents.Incident, error)
	Escalate(ctx context.Context, id int64, actor string) (*incidents.Incident, error)
	Declare(ctx context.Context, r incidents.DeclareRequest, actor string) (*incidents.Incident, error)
	List(ctx context.Context, q incidents.ListQuery) ([]*incidents.Incident, error)
	Get(ctx context.Context, id int64) (*incidents.Incident, error)
	OnCall(ctx context.Context) ([]incidents.ScheduleOnCall, error)
	EditIncident(ctx context.Context, id int64, e incidents.Edit, actor string) (*incidents.Incident, error)
	AddPersonNote(ctx context.Context, id int64, text, actor string) (*incidents.Incident, error)
	AddThreadNote(ctx context.Context, id int64, text, actor string) (*incidents.Incident, error)
	AddUpdate(ctx context.Context, id int64, u incidents.NewUpdate, actor string) (*incidents.Incident, incidents.Update, error)
}

// Silencer creates silences for /sentinel silence; alerting's *Service
// implements it.
type Silencer interface {
	CreateSilence(ctx context.Context, n alerting.NewSilence) (alerting.Silence, error)
}

// Postmortems links an incident's postmortem for /sentinel postmortem.
type Postmortems interface {
	Link(ctx context.Context, id int64) (postmortem.Link, error)
}

// Options are what New needs.
type Options struct {
	// Config is the slack: section (with its defaults applied).
	Config config.Slack
	// People maps Slack users to people and back.
	People *oncall.Directory
	// Incidents takes the actions from buttons and commands; nil leaves
	// the handlers answering that incidents are unavailable.
	Incidents IncidentService
	// Silences backs /sentinel silence; nil answers that silences are
	// unavailable.
	Silences Silencer
	// Postmortems backs /sentinel postmortem; nil answers that postmortems
	// are unavailable.
	Postmortems Postmortems
	// ExternalURL is Sentinel's base URL, for runbook links.
	ExternalURL string
	// HTTPClient calls Slack; nil means a dedicated client with
	// Config.Timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Audit records every change made from Slack; nil records nothing.
	Audit Recorder
	// Shared is set when replicas share the store: another replica may
	// have posted an incident's page, so it is looked up in the channel
	// even for incidents opened since this process started.
	Shared bool
	// HandOffs and HandOffClaims announce shift changes (see
	// AnnounceHandOffs); either nil announces none.
	HandOffs      HandOffSource
	HandOffClaims HandOffClaimer
	// Deliveries claims each event, click, replayed command and form
	// submission Slack sends in a store that replicas share, so a redelivery that reaches another replica (or
	// this one after a restart) acts once; nil dedupes in this process
	// only.
	Deliveries DeliveryClaimer
}

// Bot is Sentinel's Slack app: an incidents.Pager and Reconciler, and the
// handlers for interactions and slash commands. It is safe for concurrent
// use; Run must be running for answers sent through response_url.
type Bot struct {
	cfg       config.Slack
	api       *slack.Client
	http      *http.Client
	dir       *directory
	pace      *pacer
	incidents IncidentService
	// handOffs and handOffClaims find and claim shift changes to announce.
	handOffs      HandOffSource
	handOffClaims HandOffClaimer
	silences      Silencer
	pms           Postmortems
	baseURL       string
	log           *slog.Logger
	now           func() time.Time
	started       time.Time
	shared        bool
	metrics       *metrics
	apiHost       string

	mu        sync.Mutex
	channelID string
	threads   map[int64]thread
	progress  map[string]bool

	seen       *dedupe
	deliveries DeliveryClaimer
	replies    chan reply
	audit      Recorder
}

// thread is where an incident's page lives.
type thread struct {
	channel, ts string
	// incChannel is the incident's own channel, when one was opened.
	incChannel string
}

// New builds the bot; it calls nothing until used.
func New(opts Options) (*Bot, error) {
	cfg := opts.Config
	if ps := cfg.Validate("slack"); len(ps) > 0 {
		return nil, ps
	}
	if !cfg.Enabled() {
		return nil, errors.New("slack: not configured (set slack.token and slack.signing_secret)")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: cfg.Timeout.Std(), Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute,
			TLSHandshakeTimeout: 10 * time.Second,
		}}
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	apiURL := cfg.APIURL
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	u, err := url.Parse(apiURL)
	if err != nil {
		return nil, fmt.Errorf("slack.api_url: %w", err)
	}
	api := slack.New(cfg.Token.Reveal(), slack.OptionAPIURL(apiURL), slack.OptionHTTPClient(hc))
	b := &Bot{
		cfg: cfg, api: api, http: hc, incidents: opts.Incidents, silences: opts.Silences, pms: opts.Postmortems,
		baseURL: strings.TrimRight(opts.ExternalURL, "/"), log: opts.Logger.With("component", "slack"),
		now: opts.Now, metrics: m, apiHost: u.Host,
		dir:     newDirectory(opts.People, api, opts.Now),
		pace:    newPacer(cfg.Pace.Std(), opts.Now),
		threads: map[int64]thread{}, progress: map[string]bool{},
		seen:     newDedupe(rememberFor),
		audit:    opts.Audit,
		replies:  make(chan reply, 256),
		handOffs: opts.HandOffs, handOffClaims: opts.HandOffClaims,
		deliveries: opts.Deliveries,
	}
	b.started, b.shared = opts.Now(), opts.Shared
	if isChannelID(cfg.Channel) {
		b.channelID = cfg.Channel
	}
	return b, nil
}

// Name implements incidents.Pager.
func (b *Bot) Name() string { return PagerName }

// Run sends the answers queued for response_url, and announces on-call
// hand-offs, until ctx ends.
func (b *Bot) Run(ctx context.Context) error {
	tick := time.NewTicker(handOffEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if err := b.AnnounceHandOffs(ctx); err != nil && ctx.Err() == nil {
				b.log.Warn("announcing hand-offs failed", "err", err)
			}
		case r := <-b.replies:
			rctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout.Std())
			if err := b.postResponse(rctx, r); err != nil && ctx.Err() == nil {
				b.log.Warn("answer through response_url failed", "err", err)
			}
			cancel()
		}
	}
}

func isChannelID(s string) bool {
	return len(s) > 2 && (s[0] == 'C' || s[0] == 'G' || s[0] == 'D') && strings.ToUpper(s) == s && !strings.HasPrefix(s, "#")
}

// mainChannel returns the page channel's ID, looking a #name up once.
func (b *Bot) mainChannel(ctx context.Context) (string, error) {
	b.mu.Lock()
	id := b.channelID
	b.mu.Unlock()
	if id != "" {
		return id, nil
	}
	name := strings.TrimPrefix(b.cfg.Channel, "#")
	ch, err := b.findChannel(ctx, name)
	if err != nil {
		return "", err
	}
	if ch == "" {
		return "", fmt.Errorf("%w: slack channel #%s not found; invite the app to it or set slack.channel to its ID", incidents.ErrPermanent, name)
	}
	b.mu.Lock()
	b.channelID = ch
	b.mu.Unlock()
	return ch, nil
}

// findChannel looks a channel up by name (conversations.list), "" when
// there is none.
func (b *Bot) findChannel(ctx context.Context, name string) (string, error) {
	params := &slack.GetConversationsParameters{ExcludeArchived: true, Limit: 1000, Types: []string{"public_channel", "private_channel"}}
	for range 50 {
		chans, next, err := b.api.GetConversationsContext(ctx, params)
		b.metrics.call("conversations.list", err)
		if err != nil {
			return "", deliveryError("conversations.list", err)
		}
		for _, c := range chans {
			if c.Name == name {
				return c.ID, nil
			}
		}
		if next == "" {
			break
		}
		params.Cursor = next
	}
	return "", nil
}

// post sends one message, paced per channel, and returns its channel ID
// and timestamp.
func (b *Bot) post(ctx context.Context, channel string, opts ...slack.MsgOption) (string, string, error) {
	waited, err := b.pace.wait(ctx, channel)
	if waited > 0 {
		b.metrics.paceWait.Observe(waited.Seconds())
	}
	if err != nil {
		return "", "", err
	}
	opts = append(opts, slack.MsgOptionDisableLinkUnfurl())
	ch, ts, err := b.api.PostMessageContext(ctx, channel, opts...)
	b.metrics.call("chat.postMessage", err)
	if err != nil {
		return "", "", deliveryError("chat.postMessage", err)
	}
	return ch, ts, nil
}

func metadata(n incidents.Notification, role string) slack.MsgOption {
	payload := map[string]any{"key": n.Key, "role": role, "kind": string(n.Kind)}
	if n.Incident != nil {
		payload["incident_id"] = fmt.Sprint(n.Incident.ID)
	}
	return slack.MsgOptionMetadata(slack.SlackMetadata{EventType: MetadataEventType, EventPayload: payload})
}

// step runs fn once per delivery key and step name: a retried delivery
// (after a 429 half-way) skips what already went out.
func (b *Bot) step(key, name string, fn func() error) error {
	k := key + "|" + name
	b.mu.Lock()
	done := b.progress[k]
	b.mu.Unlock()
	if done {
		return nil
	}
	if err := fn(); err != nil {
		return err
	}
	b.mu.Lock()
	if len(b.progress) > 50000 {
		clear(b.progress)
	}
	b.progress[k] = true
	b.mu.Unlock()
	return nil
}

// done reports whether a step of a delivery already went out.
func (b *Bot) done(key, name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.progress[key+"|"+name]
}

// finish forgets the progress of a delivered key.
func (b *Bot) finish(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.progress {
		if strings.HasPrefix(k, key+"|") {
			delete(b.progress, k)
		}
	}
}

// bestEffort runs a step whose failure must not repeat the page: rate
// limits and transient errors are returned (the delivery is retried and
// the steps already done are skipped); permanent ones are logged and
// skipped.
func (b *Bot) bestEffort(key, name string, fn func() error) error {
	err := b.step(key, name, fn)
	if err != nil && errors.Is(err, incidents.ErrPermanent) {
		b.log.Warn("slack step failed; skipping it", "key", key, "step", name, "err", err)
		b.step(key, name, func() error { return nil })
		return nil
	}
	return err
}
