// Package prom connects Sentinel to the Prometheus ecosystem over HTTP: it
// pushes Sentinel's own alerts to an Alertmanager's v2 API, marked with the
// group they belong to so that, when Alertmanager sends them back through
// the webhook, they join that group instead of opening a new one. Heavy
// Alertmanager and Prometheus client code stays in this package.
package prom
