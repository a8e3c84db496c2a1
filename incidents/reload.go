package incidents

import (
	"fmt"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
)

// Settings is everything a config reload can change in a running service;
// its fields mirror Options. A new incidents or on-call key that applies
// live belongs here.
type Settings struct {
	Config config.Incidents
	// OnCall is the compiled people: and oncall: sections.
	OnCall *oncall.Config
	// Pagers receive every notification; none means the console pager.
	Pagers []Pager
	// Fallback receives deliveries whose retries are spent; nil means a
	// console pager.
	Fallback    Pager
	ExternalURL string
	// GrafanaURL is dashboards.grafana_url, for links to the exported
	// dashboards.
	GrafanaURL string
}

// settings are the values in force, swapped whole by a reload.
type settings struct {
	cfg      config.Incidents
	oc       *oncall.Config
	url      string
	grafana  string
	fallback Pager
}

func (s *Service) newSettings(n Settings) *settings {
	st := &settings{cfg: n.Config, oc: n.OnCall, url: trimBase(n.ExternalURL), grafana: trimBase(n.GrafanaURL), fallback: n.Fallback}
	if st.oc == nil {
		st.oc, _ = oncall.Compile(nil, config.Oncall{})
	}
	if st.fallback == nil {
		st.fallback = NewConsolePager("console", s.console)
	}
	return st
}

func (s *Service) conf() config.Incidents { return s.set.Load().cfg }
func (s *Service) onCall() *oncall.Config { return s.set.Load().oc }
func (s *Service) baseURL() string        { return s.set.Load().url }
func (s *Service) fallbackPager() Pager   { return s.set.Load().fallback }

// Prepare checks next and returns the commit that applies it to the
// running service; the commit cannot fail. Incidents, their escalation
// state and the outbox are kept: open incidents follow the new policies
// and schedules from their next step, and entries queued for a pager that
// is gone are handed to the fallback pager when they come due.
func (s *Service) Prepare(next Settings) (commit func(), err error) {
	seen := map[string]bool{}
	for _, p := range next.Pagers {
		if seen[p.Name()] {
			return nil, fmt.Errorf("incidents: two pagers named %q", p.Name())
		}
		seen[p.Name()] = true
	}
	st := s.newSettings(next)
	pagers := next.Pagers
	if len(pagers) == 0 {
		pagers = []Pager{NewConsolePager("console", s.console)}
	}
	return func() {
		s.mu.Lock()
		s.pagers, s.sealed = pagers, true
		s.mu.Unlock()
		s.set.Store(st)
		s.kick(s.timerKick)
		s.kick(s.outboxKick)
	}, nil
}
