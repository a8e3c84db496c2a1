// Package probes runs Sentinel's synthetic checks: multi-step HTTP journeys
// (templated requests, assertions, extraction, a cookie jar per run, phase
// timings) and tcp, dns and tls checks, on a schedule with a concurrency cap,
// retries and flap suppression. Each run becomes a Result (kept through a
// ResultStore), an outcome and a state for the SLO engine and alerting
// (through the sinks it declares), and blackbox_exporter-compatible metrics.
//
// Configuration is compiled once (Compile): templates, JSON paths and regular
// expressions are parsed at load so `sentinel check config` reports them with
// their paths. Nothing here imports an adapter; internal/app wires the
// stores and sinks.
package probes
