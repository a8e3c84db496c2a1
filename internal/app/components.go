package app

import (
	"context"
	"github.com/sentinel-oss/sentinel/audit"
	"github.com/sentinel-oss/sentinel/changes"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/probes"
	"github.com/sentinel-oss/sentinel/rum"
	"github.com/sentinel-oss/sentinel/slo"
	"github.com/sentinel-oss/sentinel/statuspage"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// componentDeps are the shared things every component is built with.
type componentDeps struct {
	log      *slog.Logger
	registry prometheus.Registerer
	engine   store.Engine
	now      func() time.Time
	// externalURL is server.external_url, for links in pages and snippets.
	externalURL string
	// build identifies the binary (for Alertmanager's status endpoint).
	build BuildInfo
	// started is when the process started.
	started time.Time
}

// runner is one long-lived loop, started under the app's errgroup.
type runner struct {
	name string
	run  func(context.Context) error
}

// components are the parts built from one config. Each domain's wire_*.go
// file builds its part and registers runners, HTTP mounts and sinks here;
// Check builds them too, without starting anything.
type components struct {
	deps    componentDeps
	runners []runner
	// reloads are the components' parts in a config reload (reload.go).
	reloads  []reloadStep
	mounts   []func(*web.Routes)
	outcomes *outcomeFanout
	states   *stateFanout

	probes *probes.Service
	slo    *slo.Engine
	// rum is built once; reloads keep it (it registers metrics at build).
	rum *rum.Collector
	// vitalsScript is RUM's vitals collector bundle, for browser probes to
	// inject into the pages they drive.
	vitalsScript []byte
	// incidents receives alert groups and announcements from alerting.
	incidents *incidents.Service
	// alerting evaluates rules and takes webhooks, silences and heartbeats.
	alerting *alerting.Service
	// slackSlot holds the Slack app (pager and handlers) while slack: is
	// configured; a reload replaces or removes it.
	slackSlot *slackSlot
	// changes keeps change markers (wire_changes.go).
	changes *changes.Service
	// audit records who changed what (wire_audit.go).
	audit *audit.Log
	// post holds the runbook catalogue and the postmortem service (wire_postmortems.go).
	post postmortemParts
	// statusPage decides the public status page's component statuses and
	// records their history (wire_statuspage.go).
	statusPage *statuspage.Service
}

// buildComponents constructs every component from cfg, collecting every
// problem (with its config path) instead of stopping at the first. The
// order follows the data flow: consumers first, so producers can be handed
// the sinks they emit into.
func buildComponents(cfg *config.Config, deps componentDeps) (*components, config.Problems) {
	c := &components{deps: deps, outcomes: &outcomeFanout{}, states: &stateFanout{}, vitalsScript: rum.VitalsScript()}
	var ps config.Problems
	for _, build := range []func(*config.Config) config.Problems{
		c.wireAudit, // first: Slack and the web server record into it
		c.wireSLO,
		c.wireIncidents,
		c.wireChanges, // after incidents, which list the changes before them
		c.wireSlack,
		c.wireAlerting,
		c.wirePostmortems, // after incidents and alerting (the runbook catalogue)
		c.wireProbes,
		c.wireRUM,
		c.wireStatusPage, // after probes, SLOs and incidents, which it reads
		c.wireDashboards, // last: it reads every component built above
	} {
		ps = append(ps, build(cfg)...)
	}
	return c, ps
}

// fanout hands each value to every consumer. Consumers are added while
// building, before anything runs; after that the list is only read.
type fanout[T any] struct {
	mu    sync.RWMutex
	sinks []func(context.Context, T)
}

func (f *fanout[T]) subscribe(sink func(context.Context, T)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sinks = append(f.sinks, sink)
}

func (f *fanout[T]) emit(ctx context.Context, v T) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, sink := range f.sinks {
		sink(ctx, v)
	}
}

// outcomeFanout hands each outcome from probes, RUM and the events API to
// every consumer (SLOs, alerting).
type outcomeFanout struct{ fanout[model.Outcome] }

func (f *outcomeFanout) add(s interface {
	RecordOutcome(context.Context, model.Outcome)
}) {
	f.subscribe(s.RecordOutcome)
}

// RecordOutcome passes o to every consumer.
func (f *outcomeFanout) RecordOutcome(ctx context.Context, o model.Outcome) { f.emit(ctx, o) }

var _ rum.BatchSink = (*outcomeFanout)(nil)

// RecordOutcomes passes each of os to every consumer, taking the lock once
// (rum.BatchSink: a beacon's outcomes come together).
func (f *outcomeFanout) RecordOutcomes(ctx context.Context, os []model.Outcome) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, o := range os {
		for _, sink := range f.sinks {
			sink(ctx, o)
		}
	}
}

// stateFanout hands each probe state (after flap suppression) to every consumer.
type stateFanout struct{ fanout[model.ProbeState] }

func (f *stateFanout) add(s interface {
	RecordProbeState(context.Context, model.ProbeState)
}) {
	f.subscribe(s.RecordProbeState)
}

// RecordProbeState passes s to every consumer.
func (f *stateFanout) RecordProbeState(ctx context.Context, s model.ProbeState) { f.emit(ctx, s) }
