package prom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-openapi/runtime"
	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	amalert "github.com/prometheus/alertmanager/api/v2/client/alert"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// AlertSource lists the alerts to push: firing ones and recently resolved
// ones (alerting.Service implements it).
type AlertSource interface {
	OutgoingAlerts(ctx context.Context) ([]model.Alert, error)
}

// PusherOptions configure a Pusher.
type PusherOptions struct {
	Config config.AlertmanagerOut
	Source AlertSource
	// ExternalURL is Sentinel's own URL, for each alert's generatorURL.
	ExternalURL string
	// Client is the HTTP client (nil: a new one with the configured timeout).
	Client     *http.Client
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
}

// Pusher sends Sentinel's alerts to Alertmanager's POST /api/v2/alerts
// every interval, as Prometheus does: firing alerts with an end a few
// intervals ahead (so a Sentinel that stops does not leave them firing
// forever), resolved ones with their end. It speaks through Alertmanager's
// own generated API v2 client and models. Its target can change while it
// runs (Prepare); without a URL it pushes nothing.
type Pusher struct {
	tgt     atomic.Pointer[target]
	src     AlertSource
	client  *http.Client // nil: one per target, with its timeout
	log     *slog.Logger
	now     func() time.Time
	pushes  *prometheus.CounterVec
	reg     prometheus.Registerer
	changed chan struct{} // wakes Run after a new target
}

// target is where and how often to push.
type target struct {
	endpoint    string // "" when no Alertmanager is configured
	api         *amclient.AlertmanagerAPI
	token       config.Secret
	interval    time.Duration
	timeout     time.Duration
	externalURL string
}

// NewPusher checks the URL and builds a pusher. An empty URL makes a
// pusher that waits for one (a reload may add it).
func NewPusher(opts PusherOptions) (*Pusher, error) {
	if opts.Source == nil {
		return nil, errors.New("prom: an alert source is required")
	}
	p := &Pusher{src: opts.Source, client: opts.Client, log: opts.Logger, now: opts.Now, reg: opts.Registerer, changed: make(chan struct{}, 1)}
	commit, err := p.Prepare(opts.Config, opts.ExternalURL)
	if err != nil {
		return nil, err
	}
	commit()
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.pushes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sentinel_alertmanager_pushes_total",
		Help: "Pushes of Sentinel's alerts to Alertmanager, by result (ok, error).",
	}, []string{"result"})
	if p.reg != nil {
		if err := p.reg.Register(p.pushes); err != nil {
			return nil, fmt.Errorf("prom: register metrics: %w", err)
		}
	}
	return p, nil
}

// Prepare checks a new alerting.alertmanager section and returns the
// commit that makes the running pusher use it from its next push.
func (p *Pusher) Prepare(cfg config.AlertmanagerOut, externalURL string) (commit func(), err error) {
	t := &target{token: cfg.BearerToken, interval: cfg.Interval.Std(), timeout: cfg.Timeout.Std(),
		externalURL: strings.TrimRight(externalURL, "/")}
	if t.interval <= 0 {
		t.interval = config.DefaultAlertmanagerPushInterval
	}
	if t.timeout <= 0 {
		t.timeout = config.DefaultAlertmanagerTimeout
	}
	if cfg.URL != "" {
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("alerting.alertmanager.url: %q is not an http(s) URL", cfg.URL)
		}
		t.endpoint = strings.TrimRight(cfg.URL, "/") + "/api/v2/alerts"
		client := p.client
		if client == nil {
			client = &http.Client{Timeout: t.timeout}
		}
		tr := httptransport.NewWithClient(u.Host, path.Join("/", u.Path, "api/v2")+"/", []string{u.Scheme}, client)
		t.api = amclient.New(tr, strfmt.Default)
	}
	return func() {
		p.tgt.Store(t)
		select {
		case p.changed <- struct{}{}:
		default:
		}
	}, nil
}

// Close unregisters the pusher's metrics.
func (p *Pusher) Close() {
	if p.reg != nil {
		p.reg.Unregister(p.pushes)
	}
}

// Run pushes every interval until ctx ends; failures are logged and
// retried at the next interval. A new target is pushed to at once.
func (p *Pusher) Run(ctx context.Context) error {
	for {
		t := p.tgt.Load()
		if err := p.Push(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("push to alertmanager failed; retrying next interval", "err", err)
		}
		timer := time.NewTimer(t.interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		case <-p.changed:
			timer.Stop()
		}
	}
}

// payload builds the v2 body for alerts at now: every alert carries
// alerting.GroupKeyLabel with its group key.
func (p *Pusher) payload(t *target, alerts []model.Alert, now time.Time) models.PostableAlerts {
	out := make(models.PostableAlerts, 0, len(alerts))
	for _, a := range alerts {
		l := models.LabelSet(a.Labels.Clone())
		l[alerting.GroupKeyLabel] = a.GroupKey
		ends := now.Add(4 * t.interval)
		if a.State == model.AlertResolved {
			ends = a.EndsAt
		}
		pa := &models.PostableAlert{
			Alert:       models.Alert{Labels: l},
			Annotations: models.LabelSet(a.Annotations.Clone()),
			StartsAt:    strfmt.DateTime(a.StartsAt),
			EndsAt:      strfmt.DateTime(ends),
		}
		if t.externalURL != "" {
			pa.GeneratorURL = strfmt.URI(t.externalURL + "/api/v1/alerts")
		}
		out = append(out, pa)
	}
	return out
}

// Push sends the current alerts once (nothing without a URL).
func (p *Pusher) Push(ctx context.Context) error {
	t := p.tgt.Load()
	if t.endpoint == "" {
		return nil
	}
	alerts, err := p.src.OutgoingAlerts(ctx)
	if err != nil {
		return fmt.Errorf("list alerts to push: %w", err)
	}
	if len(alerts) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	params := amalert.NewPostAlertsParamsWithContext(ctx).WithAlerts(p.payload(t, alerts, p.now()))
	params.SetTimeout(t.timeout)
	_, err = t.api.Alert.PostAlerts(params, func(op *runtime.ClientOperation) { op.AuthInfo = t.auth() })
	if err != nil {
		p.pushes.WithLabelValues("error").Inc()
		return fmt.Errorf("push %d alerts to %s: %w", len(alerts), t.endpoint, describePushError(err))
	}
	p.pushes.WithLabelValues("ok").Inc()
	return nil
}

// auth sends the bearer token, when one is configured.
func (t *target) auth() runtime.ClientAuthInfoWriter {
	return runtime.ClientAuthInfoWriterFunc(func(r runtime.ClientRequest, _ strfmt.Registry) error {
		if t.token.IsSet() {
			return r.SetHeaderParam("Authorization", "Bearer "+t.token.Reveal())
		}
		return nil
	})
}

// describePushError keeps what Alertmanager said, without the client's
// type names.
func describePushError(err error) error {
	var bad *amalert.PostAlertsBadRequest
	var internal *amalert.PostAlertsInternalServerError
	var api *runtime.APIError
	switch {
	case errors.As(err, &bad):
		return fmt.Errorf("status 400: %s", strings.TrimSpace(bad.Payload))
	case errors.As(err, &internal):
		return fmt.Errorf("status 500: %s", strings.TrimSpace(internal.Payload))
	case errors.As(err, &api):
		return fmt.Errorf("status %d", api.Code)
	}
	return err
}
