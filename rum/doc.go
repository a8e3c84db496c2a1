// Package rum is Sentinel's real-user monitoring: the embedded browser
// snippet and the vitals-only bundle for browser probes, the beacon
// collector (size caps, strict decoding, CORS, rate limits, bot filtering,
// PII scrubbing, route folding, sampling weights), and the aggregation of
// what pages report into Prometheus metrics, model outcomes for SLOs and
// alert rules, per-minute summaries for any time window, and JS error groups.
//
// It serves plain net/http handlers so the web layer mounts them as they are;
// it never imports gin, bbolt or any other adapter.
package rum
