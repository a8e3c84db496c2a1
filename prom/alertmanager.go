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
// own generated API v2 client and models.
type Pusher struct {
	endpoint    string
	api         *amclient.AlertmanagerAPI
	token       config.Secret
	interval    time.Duration
	timeout     time.Duration
	src         AlertSource
	client      *http.Client
	externalURL string
	log         *slog.Logger
	now         func() time.Time
	pushes      *prometheus.CounterVec
	reg         prometheus.Registerer
}

// NewPusher checks the URL and builds a pusher.
func NewPusher(opts PusherOptions) (*Pusher, error) {
	cfg := opts.Config
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("alerting.alertmanager.url: %q is not an http(s) URL", cfg.URL)
	}
	if opts.Source == nil {
		return nil, errors.New("prom: an alert source is required")
	}
	p := &Pusher{
		endpoint: strings.TrimRight(cfg.URL, "/") + "/api/v2/alerts", token: cfg.BearerToken,
		interval: cfg.Interval.Std(), timeout: cfg.Timeout.Std(), src: opts.Source, client: opts.Client,
		externalURL: strings.TrimRight(opts.ExternalURL, "/"), log: opts.Logger, now: opts.Now, reg: opts.Registerer,
	}
	if p.interval <= 0 {
		p.interval = config.DefaultAlertmanagerPushInterval
	}
	if p.timeout <= 0 {
		p.timeout = config.DefaultAlertmanagerTimeout
	}
	if p.client == nil {
		p.client = &http.Client{Timeout: p.timeout}
	}
	tr := httptransport.NewWithClient(u.Host, path.Join("/", u.Path, "api/v2")+"/", []string{u.Scheme}, p.client)
	p.api = amclient.New(tr, strfmt.Default)
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

// Close unregisters the pusher's metrics.
func (p *Pusher) Close() {
	if p.reg != nil {
		p.reg.Unregister(p.pushes)
	}
}

// Run pushes every interval until ctx ends; failures are logged and
// retried at the next interval.
func (p *Pusher) Run(ctx context.Context) error {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		if err := p.Push(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("push to alertmanager failed; retrying next interval", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// payload builds the v2 body for alerts at now: every alert carries
// alerting.GroupKeyLabel with its group key.
func (p *Pusher) payload(alerts []model.Alert, now time.Time) models.PostableAlerts {
	out := make(models.PostableAlerts, 0, len(alerts))
	for _, a := range alerts {
		l := models.LabelSet(a.Labels.Clone())
		l[alerting.GroupKeyLabel] = a.GroupKey
		ends := now.Add(4 * p.interval)
		if a.State == model.AlertResolved {
			ends = a.EndsAt
		}
		pa := &models.PostableAlert{
			Alert:       models.Alert{Labels: l},
			Annotations: models.LabelSet(a.Annotations.Clone()),
			StartsAt:    strfmt.DateTime(a.StartsAt),
			EndsAt:      strfmt.DateTime(ends),
		}
		if p.externalURL != "" {
			pa.GeneratorURL = strfmt.URI(p.externalURL + "/api/v1/alerts")
		}
		out = append(out, pa)
	}
	return out
}

// Push sends the current alerts once.
func (p *Pusher) Push(ctx context.Context) error {
	alerts, err := p.src.OutgoingAlerts(ctx)
	if err != nil {
		return fmt.Errorf("list alerts to push: %w", err)
	}
	if len(alerts) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	params := amalert.NewPostAlertsParamsWithContext(ctx).WithAlerts(p.payload(alerts, p.now()))
	params.SetTimeout(p.timeout)
	_, err = p.api.Alert.PostAlerts(params, func(op *runtime.ClientOperation) { op.AuthInfo = p.auth() })
	if err != nil {
		p.pushes.WithLabelValues("error").Inc()
		return fmt.Errorf("push %d alerts to %s: %w", len(alerts), p.endpoint, describePushError(err))
	}
	p.pushes.WithLabelValues("ok").Inc()
	return nil
}

// auth sends the bearer token, when one is configured.
func (p *Pusher) auth() runtime.ClientAuthInfoWriter {
	return runtime.ClientAuthInfoWriterFunc(func(r runtime.ClientRequest, _ strfmt.Registry) error {
		if p.token.IsSet() {
			return r.SetHeaderParam("Authorization", "Bearer "+p.token.Reveal())
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
