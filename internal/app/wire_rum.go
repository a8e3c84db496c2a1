package app

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/rum"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// wireRUM builds the RUM collector: beacons become metrics, outcomes (into
// the fan-out, for SLOs and alerting), per-minute summaries and error groups
// in the store, and JS error log lines (shipped to Loki when configured).
//
// The collector registers its metrics when it is built, so a reload keeps
// the running one: a changed rum: section is logged as needing a restart.
func (c *components) wireRUM(cfg *config.Config) config.Problems {
	// rum.max_body_bytes against server.max_body_bytes is checked (with
	// the key's position) and its default capped in config.
	// The client IP follows server.trusted_proxies across reloads.
	var clientIP atomic.Pointer[func(*http.Request) string]
	clientIP.Store(rumClientIP(cfg))
	log := c.deps.log.With("component", "rum")
	st := store.NewRUM(c.deps.engine, store.RUMOptions{})
	col, err := rum.New(cfg.RUM, c.deps.externalURL, rum.Options{
		Registerer: c.deps.registry,
		Logger:     log,
		ErrorLog:   log,
		Sink:       c.outcomes,
		Counts:     st,
		Writer:     store.WriterID(c.deps.engine),
		Errors:     st,
		ClientIP:   func(r *http.Request) string { return (*clientIP.Load())(r) },
		Now:        c.deps.now,
	})
	if err != nil {
		if rps := (config.Problems)(nil); errors.As(err, &rps) {
			return rps
		}
		return config.Problems{{Path: "rum", Message: err.Error()}}
	}
	c.rum = col
	c.runners = append(c.runners, runner{name: "rum", run: col.Run})
	c.onReload("rum", func(_ context.Context, p *reloadPlan) (func(), error) {
		apply, err := col.Prepare(p.next.RUM, p.next.Server.ExternalURL)
		if err != nil {
			return nil, err
		}
		ip := rumClientIP(p.next)
		return func() { clientIP.Store(ip); apply() }, nil
	})
	c.mounts = append(c.mounts, func(r *web.Routes) {
		web.MountRUM(r, web.RUMHandlers{Script: col.ScriptHandler(), Beacons: col.BeaconHandler()}, col.Service())
	})
	return nil
}

// rumClientIP is the beacon client address as server.trusted_proxies
// resolves it.
func rumClientIP(cfg *config.Config) *func(*http.Request) string {
	f, err := web.ClientIPFunc(cfg.Server.TrustedProxies)
	if err != nil || f == nil {
		// server.trusted_proxies is checked (and reported) with the server
		// section; fall back to the peer address here.
		f = peerAddr
	}
	return &f
}

// peerAddr is the connection's peer host.
func peerAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
