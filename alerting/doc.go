// Package alerting decides what is worth waking someone for. It evaluates
// typed rules over Sentinel's own signals (probe states after flap
// suppression, RUM measures, SLO budgets), raises the SLO burn-rate tiers,
// watches heartbeats, and takes Alertmanager's webhook deliveries in; it
// applies silences and inhibition, groups alerts by the incidents.group_by
// labels (or Alertmanager's groupKey), and hands each changed group to the
// incident engine through the GroupSink it declares.
//
// The state machine (inactive, pending, firing, resolved) is pure: it takes
// the evaluation time as a parameter, so `for` and `keep_firing_for` are
// tested with a fixed clock. State is persisted through the stores declared
// here, so a restart neither forgets a firing alert nor pages for it again.
// Nothing here imports an adapter; internal/app wires the store, the SLO
// source and the sinks.
package alerting
