// Package slo turns counted good and total events into service level
// objectives: it compiles the slos: section into specs, counts events per
// minute (through a CountStore the store package implements), computes
// SLIs, error budgets, burn rates and multi-window multi-burn-rate tiers as
// pure functions of counts and time, offers the result to alerting and
// incidents as model.SLOState values, and exports Prometheus rules and
// imports OpenSLO and Sloth specs.
//
// Counting is exact: good and total are summed, never averaged ratios, so a
// quiet night weighs what its traffic weighs.
package slo
