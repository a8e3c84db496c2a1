package alerting

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Inhibition: alerting.inhibit_rules in Alertmanager's syntax, applied to
// every source of alerts, beside the built-in rule that an SLO's firing
// page tier mutes its ticket tier.

// inhibitRule is one compiled alerting.inhibit_rules[] entry.
type inhibitRule struct {
	source, target Matchers
	equal          []string
}

// compileInhibitRules parses the rules' matchers with Alertmanager's
// parser in the configured syntax; problems carry their config paths.
func compileInhibitRules(cfg config.Alerting, p MatcherParser) ([]inhibitRule, config.Problems) {
	var ps config.Problems
	var out []inhibitRule
	for i, rc := range cfg.InhibitRules {
		path := fmt.Sprintf("alerting.inhibit_rules[%d]", i)
		src, sps := configMatchers(p, path, "source", rc.SourceMatchers, rc.SourceMatch, rc.SourceMatchRE)
		tgt, tps := configMatchers(p, path, "target", rc.TargetMatchers, rc.TargetMatch, rc.TargetMatchRE)
		ps = append(append(ps, sps...), tps...)
		for k, n := range rc.Equal {
			if !p.ValidLabelName(n) {
				ps.Add(fmt.Sprintf("%s.equal[%d]", path, k), "invalid label name %q", n)
			}
		}
		out = append(out, inhibitRule{source: src, target: tgt, equal: append([]string(nil), rc.Equal...)})
	}
	return out, ps
}

// configMatchers reads a rule side's matchers: the matcher list (each
// entry may hold several, as Alertmanager reads it) and the deprecated
// match (equality) and match_re (regex) maps, in name order.
func configMatchers(p MatcherParser, path, side string, texts []string, eq, re map[string]string) (Matchers, config.Problems) {
	var ps config.Problems
	var out Matchers
	for k, text := range texts {
		ms, err := p.Parse(text)
		if err == nil {
			err = p.Check(ms)
		}
		if err != nil {
			ps.Add(fmt.Sprintf("%s.%s_matchers[%d]", path, side, k), "%v", err)
			continue
		}
		out = append(out, ms...)
	}
	for _, kv := range []struct {
		key string
		m   map[string]string
		op  MatchType
	}{{side + "_match", eq, MatchEqual}, {side + "_match_re", re, MatchRegexp}} {
		names := make([]string, 0, len(kv.m))
		for n := range kv.m {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			m, err := NewMatcher(n, kv.op, kv.m[n])
			if err != nil {
				ps.Add(config.JoinPath(path, kv.key, n), "%v", err)
				continue
			}
			out = append(out, m)
		}
	}
	return out, ps
}

// equalKey is the values of the rule's equal labels, the part a source
// and a target must share (a missing label reads as empty on both sides,
// as in Alertmanager).
func (r inhibitRule) equalKey(l model.Labels) string {
	var b strings.Builder
	for _, n := range r.equal {
		b.WriteString(l[n])
		b.WriteByte(0xff)
	}
	return b.String()
}

// inhibitSource is a firing alert that can inhibit through one rule.
type inhibitSource struct {
	fingerprint string
	// alsoTarget is set when the source matches the rule's target side too.
	alsoTarget bool
}

// inhibitIndex holds, per rule, the firing source alerts by equal key,
// built once per muting pass.
type inhibitIndex []map[string][]inhibitSource

// inhibitSourcesLocked returns the index of firing sources, rebuilt only
// after a change to an alert that a rule's source side selects (see
// noteInhibitSourceLocked).
func (s *Service) inhibitSourcesLocked() inhibitIndex {
	if !s.inhibitValid {
		s.inhibitIdx, s.inhibitValid = s.indexInhibitSourcesLocked(), true
	}
	return s.inhibitIdx
}

// noteInhibitSourceLocked drops the source index when r (changed, added or
// removed) can be an inhibition source.
func (s *Service) noteInhibitSourceLocked(r *Record) {
	if !s.inhibitValid {
		return
	}
	for _, rule := range s.inhibit {
		if rule.source.Matches(r.Alert.Labels) {
			s.inhibitValid = false
			return
		}
	}
}

// indexInhibitSourcesLocked collects the firing alerts that each rule's
// source matchers select. Muted sources inhibit too, as in Alertmanager.
func (s *Service) indexInhibitSourcesLocked() inhibitIndex {
	if len(s.inhibit) == 0 {
		return nil
	}
	idx := make(inhibitIndex, len(s.inhibit))
	for i := range idx {
		idx[i] = map[string][]inhibitSource{}
	}
	for _, r := range s.alerts {
		if r.Alert.State != model.AlertFiring {
			continue
		}
		for i, rule := range s.inhibit {
			if rule.source.Matches(r.Alert.Labels) {
				k := rule.equalKey(r.Alert.Labels)
				idx[i][k] = append(idx[i][k], inhibitSource{fingerprint: r.Alert.Fingerprint, alsoTarget: rule.target.Matches(r.Alert.Labels)})
			}
		}
	}
	for _, byKey := range idx {
		for _, srcs := range byKey {
			sort.Slice(srcs, func(a, b int) bool { return srcs[a].fingerprint < srcs[b].fingerprint })
		}
	}
	return idx
}

// inhibitedBy returns the fingerprint of a firing alert inhibiting one
// with labels l (and fingerprint fp), or "". As in Alertmanager, an alert
// that matches a rule's source side as well as its target side is
// inhibited only by a source that does not match the target side, so two
// such alerts cannot mute each other (and none mutes itself).
func (s *Service) inhibitedBy(idx inhibitIndex, l model.Labels, fp string) string {
	if idx == nil {
		return ""
	}
	for i, rule := range s.inhibit {
		if len(idx[i]) == 0 || !rule.target.Matches(l) {
			continue // no firing source: nothing to match targets against
		}
		twoSided := rule.source.Matches(l)
		for _, src := range idx[i][rule.equalKey(l)] {
			if src.fingerprint == fp || (twoSided && src.alsoTarget) {
				continue
			}
			return src.fingerprint
		}
	}
	return ""
}
