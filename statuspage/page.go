package statuspage

import (
	"fmt"
	"net/url"
	"slices"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Page is the compiled status_page: section: what the page shows and the
// signals behind each component. It is immutable; a reload builds a new
// one.
type Page struct {
	Enabled bool
	Title   string
	// LogoURL is the logo's address; LogoOrigin its scheme://host, for the
	// page's Content-Security-Policy ("" without a logo).
	LogoURL, LogoOrigin string
	// HistoryDays is how many days the uptime bars show.
	HistoryDays int
	RateLimit   config.StatusRateLimit
	Components  []*Component
}

// Component is one line of the page and the signals it follows.
type Component struct {
	// ID is derived from Name (config.StatusComponent.ID); Position is its
	// place on the page, from 1.
	ID, Name, Description string
	Position              int
	// Kind is "probe", "slo" or "service"; Source the probe, SLO or
	// service name. Both are for the authenticated API only.
	Kind, Source string

	// probes and slos are the signals the component follows; services
	// the service names it stands for (for matching incidents).
	probes, slos, services []string
	// labelSets are the label sets of the component and its signals,
	// which maintenance windows are matched against.
	labelSets []model.Labels
}

// Component finds a component by ID.
func (p *Page) Component(id string) (*Component, bool) {
	for _, c := range p.Components {
		if c.ID == id {
			return c, true
		}
	}
	return nil, false
}

// Compile checks the section against the probes and SLOs it refers to and
// builds the page. Problems carry config paths under status_page.
func Compile(sp config.StatusPage, probes []config.Probe, slos []config.SLO) (*Page, config.Problems) {
	ps := sp.Validate("status_page")
	p := &Page{Enabled: sp.Enabled, Title: sp.Title, LogoURL: sp.LogoURL, HistoryDays: sp.HistoryDays(), RateLimit: sp.RateLimit}
	if u, err := url.Parse(sp.LogoURL); err == nil && sp.LogoURL != "" {
		p.LogoOrigin = u.Scheme + "://" + u.Host
	}
	probeByName := map[string]config.Probe{}
	for _, pr := range probes {
		probeByName[pr.Name] = pr
	}
	sloByName := map[string]config.SLO{}
	for _, s := range slos {
		sloByName[s.Name] = s
	}
	for i, sc := range sp.Components {
		path := fmt.Sprintf("status_page.components[%d]", i)
		c := &Component{ID: sc.ID(), Name: sc.Name, Description: sc.Description, Position: i + 1}
		c.Kind, c.Source = sc.Source()
		switch c.Kind {
		case "probe":
			pr, ok := probeByName[sc.Probe]
			if !ok {
				ps.Add(path+".probe", "no probe named %q", sc.Probe)
				continue
			}
			c.addProbe(pr)
		case "slo":
			s, ok := sloByName[sc.SLO]
			if !ok {
				ps.Add(path+".slo", "no SLO named %q", sc.SLO)
				continue
			}
			if s.SLI.Prometheus != nil {
				ps.Add(path+".slo", "SLO %q is computed by Prometheus; Sentinel has no figures of its own to follow (point the component at its probe or service)", sc.SLO)
				continue
			}
			c.addSLO(s)
		case "service":
			c.services = []string{sc.Service}
			c.labelSets = append(c.labelSets, model.Labels{"service": sc.Service})
			for _, pr := range probes {
				if pr.Labels["service"] == sc.Service {
					c.addProbe(pr)
				}
			}
			for _, s := range slos {
				if s.Service == sc.Service && s.SLI.Prometheus == nil {
					c.addSLO(s)
				}
			}
			if len(c.probes) == 0 && len(c.slos) == 0 {
				ps.Add(path+".service", "no probe (labels: {service: %s}) and no SLO (service: %s) belongs to service %q", sc.Service, sc.Service, sc.Service)
				continue
			}
		default:
			continue // Validate said so
		}
		p.Components = append(p.Components, c)
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return p, nil
}

func (c *Component) addProbe(pr config.Probe) {
	c.probes = append(c.probes, pr.Name)
	if s := pr.Labels["service"]; s != "" && !slices.Contains(c.services, s) {
		c.services = append(c.services, s)
	}
	l := pr.Labels.Clone()
	if l == nil {
		l = model.Labels{}
	}
	l["probe"], l["location"] = pr.Name, pr.Location
	c.labelSets = append(c.labelSets, l)
}

func (c *Component) addSLO(s config.SLO) {
	c.slos = append(c.slos, s.Name)
	if s.Service != "" && !slices.Contains(c.services, s.Service) {
		c.services = append(c.services, s.Service)
	}
	l := s.Labels.Clone()
	if l == nil {
		l = model.Labels{}
	}
	l["slo"] = s.Name
	if s.Service != "" {
		l["service"] = s.Service
	}
	c.labelSets = append(c.labelSets, l)
}

// MatchedBy reports whether a matcher (a maintenance window's) selects the
// component: it matches the component's own labels or one of its signals'.
func (c *Component) MatchedBy(match func(model.Labels) bool) bool {
	if match == nil {
		return false
	}
	for _, l := range c.labelSets {
		if match(l) {
			return true
		}
	}
	return false
}

// Concerns reports whether an incident is about the component: its labels
// or one of its alerts' name the component's service, probe or SLO, or it
// burns one of the component's SLOs.
func (c *Component) Concerns(labels model.Labels, slos []string, alertLabels []model.Labels) bool {
	for _, s := range slos {
		if slices.Contains(c.slos, s) {
			return true
		}
	}
	for _, l := range append([]model.Labels{labels}, alertLabels...) {
		if l == nil {
			continue
		}
		if v := l["service"]; v != "" && slices.Contains(c.services, v) {
			return true
		}
		if v := l["probe"]; v != "" && slices.Contains(c.probes, v) {
			return true
		}
		if v := l["slo"]; v != "" && slices.Contains(c.slos, v) {
			return true
		}
	}
	return false
}
