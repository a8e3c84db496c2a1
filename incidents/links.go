package incidents

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Link is a place a notification points to, the same for every pager.
type Link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// runURLAnnotation is the alert annotation holding a failed probe run's
// link (alerting sets it on probe alerts).
const runURLAnnotation = "run_url"

// links are where a notification about inc points: the incident, the
// failed probe run, the SLO pages, the runbook, and the Grafana dashboard
// (with dashboards.grafana_url). Links need server.external_url; without
// it only Grafana's (and a run link an alert carries) remain.
func (s *Service) links(inc *Incident) []Link {
	var out []Link
	base := s.baseURL()
	if base != "" {
		out = append(out, Link{Title: fmt.Sprintf("Incident #%d", inc.ID), URL: fmt.Sprintf("%s/incidents/%d", base, inc.ID)})
	}
	if run := failedRun(inc); run != "" {
		out = append(out, Link{Title: "Failed run", URL: run})
	}
	if base != "" {
		for _, n := range inc.SLONames {
			out = append(out, Link{Title: "SLO " + n, URL: base + "/slos/" + url.PathEscape(n)})
		}
		if inc.Runbook != "" {
			out = append(out, Link{Title: "Runbook " + inc.Runbook, URL: base + "/runbooks/" + url.PathEscape(inc.Runbook)})
		}
	}
	if g := s.grafanaLink(inc); g != "" {
		out = append(out, Link{Title: "Grafana", URL: g})
	}
	return out
}

// failedRun is the run link of the incident's probe alert: a firing one
// first, else the latest alert that has one.
func failedRun(inc *Incident) string {
	run := ""
	for _, a := range inc.Alerts {
		u := a.Annotations[runURLAnnotation]
		if u == "" {
			continue
		}
		if a.State == model.AlertFiring {
			return u
		}
		run = u
	}
	return run
}

// grafanaLink opens the exported dashboard that shows what the incident is
// about over its time: the SLO board filtered to its SLOs, else the probe
// board filtered to its probes; from an hour before it started to its end
// (or now).
func (s *Service) grafanaLink(inc *Incident) string {
	grafana := s.set.Load().grafana
	if grafana == "" {
		return ""
	}
	q := url.Values{}
	board := ""
	switch {
	case len(inc.SLONames) > 0:
		board = "sentinel-slos"
		for _, n := range inc.SLONames {
			q.Add("var-slo", n)
		}
	default:
		for _, a := range inc.Alerts {
			if p := a.Labels["probe"]; p != "" && !contains(q["var-probe"], p) {
				q.Add("var-probe", p)
			}
		}
		if len(q) == 0 {
			return ""
		}
		board = "sentinel-probes"
	}
	q.Set("from", fmt.Sprint(inc.CreatedAt.Add(-time.Hour).UnixMilli()))
	q.Set("to", "now")
	if inc.ResolvedAt != nil {
		q.Set("to", fmt.Sprint(inc.ResolvedAt.Add(15*time.Minute).UnixMilli()))
	}
	return grafana + "/d/" + board + "?" + q.Encode()
}

// trimBase is a base URL without its trailing slash.
func trimBase(u string) string { return strings.TrimRight(u, "/") }
