package config

// Dashboards is the dashboards: section: where the Grafana dashboards that
// `sentinel dashboards export` writes are served, so pages can link to
// them.
type Dashboards struct {
	// GrafanaURL is the base URL of the Grafana holding the exported
	// dashboards (https://grafana.example.com); empty: no Grafana links.
	GrafanaURL string `yaml:"grafana_url"`
}

// Validate reports a Grafana URL that is not http(s).
func (d Dashboards) Validate(path string) Problems {
	var ps Problems
	if d.GrafanaURL != "" {
		CheckURL(&ps, JoinPath(path, "grafana_url"), d.GrafanaURL, "https", "http")
	}
	return ps
}
