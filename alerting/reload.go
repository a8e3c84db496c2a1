package alerting

import (
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Settings is everything a config reload can change in a running service.
// Its fields mirror Options; a new alerting key that applies live belongs
// here (and in apply below).
type Settings struct {
	Config config.Alerting
	// Rules come from Compile.
	Rules []*Rule
	// GroupBy are the incidents.group_by labels (default [service]).
	GroupBy []string
	// SLONames are the configured SLOs, counted or not. Burn alerts of an
	// SLO a reload removed resolve.
	SLONames []string
	// ExternalURL is the base of links in annotations.
	ExternalURL string
}

// Prepare readies the service's next settings and returns the commit that
// applies them; it cannot fail (Compile has checked the rules). Alert
// state is kept: an alert whose rule is still configured keeps its
// pending or firing state and its start (a changed `for` applies from its
// next evaluation); alerts whose rule, heartbeat or SLO this reload
// removed resolve at the evaluation Run makes right after the commit (only
// those: a replica still on the old config must not resolve what a newer
// one fires); RUM rules keep
// their measured windows when their measure and route are unchanged. A
// changed group_by groups new alerts; alerts already grouped keep their
// group until they resolve.
func (s *Service) Prepare(next Settings) (commit func()) {
	next.Config = next.Config.WithDefaults()
	if len(next.GroupBy) == 0 {
		next.GroupBy = []string{"service"}
	}
	hbByName, watchdogs := heartbeatIndex(next.Config.Heartbeats)
	sloNames := toSet(next.SLONames)
	// Matcher syntax, inhibition rules, time intervals and maintenance
	// windows; Compile has reported any problem with them.
	muting, _ := compileMuting(next.Config, s.log)
	return func() {
		s.mu.Lock()
		s.setMutingLocked(muting)
		// What this reload removes; what it (re-)adds is no longer retired.
		for _, r := range s.rules {
			s.retired[SourceRule+"|"+r.Name] = true
		}
		for name := range s.hbByName {
			s.retired[SourceHeartbeat+"|"+name] = true
		}
		for name := range s.sloNames {
			s.retired[SourceSLO+"|"+name] = true
		}
		for _, r := range next.Rules {
			delete(s.retired, SourceRule+"|"+r.Name)
		}
		for name := range hbByName {
			delete(s.retired, SourceHeartbeat+"|"+name)
		}
		for name := range sloNames {
			delete(s.retired, SourceSLO+"|"+name)
		}
		s.cfg, s.rules, s.groupBy = next.Config, next.Rules, next.GroupBy
		s.hbByName, s.watchdogs, s.sloNames = hbByName, watchdogs, sloNames
		s.externalURL = strings.TrimRight(next.ExternalURL, "/")
		s.mu.Unlock()
		s.rum.reconfigure(next.Rules)
		select {
		case s.reloaded <- struct{}{}:
		default: // one is due already
		}
	}
}

// heartbeatIndex maps heartbeats by name, and Alertmanager watchdog alert
// names to their heartbeat.
func heartbeatIndex(hbs []config.Heartbeat) (byName map[string]config.Heartbeat, watchdogs map[string]string) {
	byName, watchdogs = map[string]config.Heartbeat{}, map[string]string{}
	for _, h := range hbs {
		byName[h.Name] = h
		if h.AlertmanagerAlert != "" {
			watchdogs[h.AlertmanagerAlert] = h.Name
		}
	}
	return byName, watchdogs
}

// resolveOrphansLocked ends the alerts whose source a reload removed: a
// rule, heartbeat or SLO. They resolve (a pending one goes back to
// inactive) like a condition that cleared, so their incidents hear of it.
func (s *Service) resolveOrphansLocked(now time.Time) {
	if len(s.retired) == 0 {
		return
	}
	for _, rec := range s.alerts {
		if rec.Alert.State != model.AlertPending && rec.Alert.State != model.AlertFiring {
			continue
		}
		var key string
		switch rec.Alert.Source {
		case SourceRule:
			key = SourceRule + "|" + rec.Rule
		case SourceHeartbeat:
			key = SourceHeartbeat + "|" + rec.Alert.Labels["heartbeat"]
		case SourceSLO:
			key = SourceSLO + "|" + rec.Alert.Labels["slo"]
		}
		if s.retired[key] && Advance(&rec.Alert, &rec.KeepFiringSince, false, now, 0, 0) {
			if rec.Alert.State == model.AlertResolved {
				rec.ResolvedReported = false
			}
			s.markLocked(rec)
		}
	}
}

// reconfigure follows a new rule set: windows of RUM rules whose name,
// measure and route are unchanged are kept; others start empty.
func (w *rumWindows) reconfigure(rules []*Rule) {
	w.mu.Lock()
	defer w.mu.Unlock()
	old := map[string]*Rule{}
	for _, r := range w.rules {
		old[r.Name] = r
	}
	series, dirty := map[string]map[int64]*rumMinute{}, map[string]map[int64]bool{}
	var kept []*Rule
	for _, r := range rules {
		if r.Kind != KindRUM {
			continue
		}
		kept = append(kept, r)
		if o := old[r.Name]; o != nil && o.RUMMeasure == r.RUMMeasure && o.Route == r.Route {
			series[r.Name], dirty[r.Name] = w.series[r.Name], w.dirty[r.Name]
		} else {
			series[r.Name], dirty[r.Name] = map[int64]*rumMinute{}, map[int64]bool{}
		}
	}
	w.rules, w.series, w.dirty = kept, series, dirty
	w.n.Store(int32(len(kept)))
}
