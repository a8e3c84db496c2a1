package probes

import (
	"time"

	"github.com/sentinel-oss/sentinel/config"
)

// Prepare returns the commit that applies a reloaded probes: list
// (compiled by Compile) and probe_settings to the running service: probes
// change as Reload says; runs started from now take the new concurrency
// caps and browser settings (runs in flight finish under the old ones);
// the next prune uses the new retention.
func (s *Service) Prepare(js []*Journey, settings config.ProbeSettings) (commit func()) {
	conc := settings.MaxConcurrent
	if conc <= 0 {
		conc = config.DefaultProbeMaxConcurrent
	}
	retain := settings.Retention.Std()
	if retain <= 0 {
		retain = config.DefaultProbeRetention
	}
	env := newBrowserEnv(settings.Browser, s.vitals, s.log)
	return func() {
		s.mu.Lock()
		if cap(s.sem) != conc {
			s.sem = make(chan struct{}, conc)
		}
		s.retain = retain
		s.mu.Unlock()
		if cur := s.runner.browser.Load(); cur == nil || cur.executable != env.executable || cur.profileDir != env.profileDir || cap(cur.slots) != cap(env.slots) {
			s.runner.browser.Store(env)
		}
		s.Reload(js)
	}
}

func (s *Service) semaphore() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sem
}

func (s *Service) retention() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.retain
}
