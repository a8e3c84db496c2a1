package statuspage

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sentinel-oss/sentinel/model"
)

// The thresholds of an SLO's page tier (fast burn) on the error ratio of
// the last five minutes: below partialRatio the component is degraded,
// from it a partial outage, from majorRatio a major outage.
const (
	partialRatio = 0.5
	majorRatio   = 0.9
)

// verdict is what the signals say about a component: the status and why
// (for responders; never shown publicly). known is false when no signal has
// any data yet.
type verdict struct {
	status Status
	why    string
	known  bool
}

// probeVerdict reads one probe's states, one per location, after flap
// suppression: failing everywhere is a major outage, somewhere a partial
// one.
func probeVerdict(name string, states []model.ProbeState) verdict {
	var ran, failing []string
	for _, s := range states {
		if s.Probe != name || s.LastRun.IsZero() {
			continue
		}
		ran = append(ran, s.Location)
		if s.Failing {
			failing = append(failing, s.Location)
		}
	}
	switch {
	case len(ran) == 0:
		return verdict{status: Operational, why: fmt.Sprintf("probe %s has not run yet", name)}
	case len(failing) == 0:
		return verdict{status: Operational, why: fmt.Sprintf("probe %s passes (%s)", name, locations(ran)), known: true}
	case len(failing) == len(ran):
		return verdict{status: MajorOutage, why: fmt.Sprintf("probe %s fails in every location (%s)", name, locations(failing)), known: true}
	}
	return verdict{status: PartialOutage, why: fmt.Sprintf("probe %s fails in %d of %d locations (%s)", name, len(failing), len(ran), locations(failing)), known: true}
}

func locations(l []string) string {
	l = slices.Clone(l)
	slices.Sort(l)
	return strings.Join(slices.Compact(l), ", ")
}

// sloVerdict reads one SLO's state: only the page tier (the fast burn the
// SRE workbook pages on) reaches the public, graded by the error ratio of
// the last five minutes; a slow burn (ticket tier) is for engineers.
func sloVerdict(name string, states []model.SLOState) verdict {
	i := slices.IndexFunc(states, func(s model.SLOState) bool { return s.Name == name })
	if i < 0 || states[i].Events == 0 {
		return verdict{status: Operational, why: fmt.Sprintf("SLO %s has no events yet", name)}
	}
	s := states[i]
	fast := slices.IndexFunc(s.Tiers, func(t model.BurnTier) bool { return t.Name == "page" && t.Firing }) >= 0
	if !fast {
		return verdict{status: Operational, why: fmt.Sprintf("SLO %s is not burning fast", name), known: true}
	}
	ratio := s.BurnRates["5m"] * (1 - s.Objective/100)
	why := fmt.Sprintf("SLO %s burns fast; %.1f%% of events failed in the last 5 minutes", name, 100*ratio)
	switch {
	case ratio >= majorRatio:
		return verdict{status: MajorOutage, why: why, known: true}
	case ratio >= partialRatio:
		return verdict{status: PartialOutage, why: why, known: true}
	}
	return verdict{status: DegradedPerformance, why: why, known: true}
}

// automatic is the component's status from its signals alone: the worst
// of its probes and SLOs (a service has several).
func (c *Component) automatic(probes []model.ProbeState, slos []model.SLOState) verdict {
	var out verdict
	out.status = Operational
	var whys []string
	consider := func(v verdict) {
		out.known = out.known || v.known
		if v.status.Worse(out.status) {
			out.status = v.status
		}
		whys = append(whys, v.why)
	}
	for _, p := range c.probes {
		consider(probeVerdict(p, probes))
	}
	for _, s := range c.slos {
		consider(sloVerdict(s, slos))
	}
	out.why = strings.Join(whys, "; ")
	return out
}
