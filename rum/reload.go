package rum

import (
	"reflect"
	"strings"

	"golang.org/x/time/rate"

	"github.com/sentinel-oss/sentinel/config"
)

// settings are what the rum: section and the external URL decide, built
// once and swapped whole by a reload, so a beacon reads one consistent set.
type settings struct {
	cfg     config.RUM
	router  *Router
	scrub   *Scrubber
	script  *script
	origins map[string]bool
	anyOrig bool
	// allowOrigin holds each listed origin as a header value, set on
	// answers without allocating.
	allowOrigin map[string][]string
	ipLimits    *limiterSet
	siteLims    map[string]*rate.Limiter
}

// newSettings builds the settings of cfg. Rate limiters whose limits are
// unchanged from prev are kept, so a reload does not hand every client a
// fresh burst.
func newSettings(cfg config.RUM, externalURL string, prev *settings) (*settings, error) {
	st := &settings{
		cfg:         cfg,
		router:      NewRouter(cfg.Routes),
		scrub:       NewScrubber(cfg.AllowedQueryParams),
		origins:     map[string]bool{},
		allowOrigin: map[string][]string{},
		siteLims:    map[string]*rate.Limiter{},
	}
	for _, o := range cfg.AllowedOrigins {
		if o == "*" {
			st.anyOrig = true
		}
		st.origins[o] = true
		st.allowOrigin[o] = []string{o}
	}
	samePerIP := prev != nil && prev.cfg.RateLimit.PerIP == cfg.RateLimit.PerIP &&
		prev.cfg.RateLimit.PerIPBurst == cfg.RateLimit.PerIPBurst && prev.cfg.RateLimit.TrackedIPs == cfg.RateLimit.TrackedIPs
	if samePerIP {
		st.ipLimits = prev.ipLimits
	} else {
		st.ipLimits = newLimiterSet(cfg.RateLimit.PerIP, cfg.RateLimit.PerIPBurst, cfg.RateLimit.TrackedIPs)
	}
	samePerSite := prev != nil && prev.cfg.RateLimit.PerSite == cfg.RateLimit.PerSite && prev.cfg.RateLimit.PerSiteBurst == cfg.RateLimit.PerSiteBurst
	for _, s := range append([]string{cfg.Site}, cfg.Sites...) {
		if lim, ok := prev.siteLimiter(s); ok && samePerSite {
			st.siteLims[s] = lim
			continue
		}
		st.siteLims[s] = rate.NewLimiter(rate.Limit(cfg.RateLimit.PerSite), cfg.RateLimit.PerSiteBurst)
	}
	var err error
	st.script, err = newScript(cfg, strings.TrimSuffix(externalURL, "/")+BeaconPath)
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (s *settings) siteLimiter(site string) (*rate.Limiter, bool) {
	if s == nil {
		return nil, false
	}
	lim, ok := s.siteLims[site]
	return lim, ok
}

// Prepare checks a reloaded rum: section and returns the commit that
// applies it to the running collector: allowed origins, sites, sample
// rate, routes, query parameters, limits and the /rum.js settings change
// for the next beacon; counts, error groups and metrics are kept. Beacons
// already being read finish under the settings they started with.
func (c *Collector) Prepare(cfg config.RUM, externalURL string) (commit func(), err error) {
	if ps := cfg.Validate("rum"); len(ps) > 0 {
		return nil, ps
	}
	prev := c.set.Load()
	st, err := newSettings(cfg, externalURL, prev)
	if err != nil {
		return nil, err
	}
	sameScrub := reflect.DeepEqual(prev.cfg.AllowedQueryParams, cfg.AllowedQueryParams)
	sameSeries := reflect.DeepEqual(prev.cfg.Routes, cfg.Routes) && prev.cfg.Site == cfg.Site && reflect.DeepEqual(prev.cfg.Sites, cfg.Sites)
	return func() {
		c.set.Store(st)
		if !sameSeries {
			// Bounded by the routes and sites in force: drop the old ones'.
			c.series.Clear()
		}
		if !sameScrub {
			// Cached scrubbed errors kept query parameters by the old list.
			c.scrubbed.reset()
		}
	}, nil
}
