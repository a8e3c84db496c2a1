package config

import (
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Defaults, in one place. docs/configuration.md lists the same values; a
// test keeps the two in step.

// Default returns the built-in configuration that `sentinel serve` runs with
// when no file is given.
func Default() *Config {
	return &Config{
		Auth: Auth{OIDC: OIDC{Scopes: []string{"email", "profile"}, PersonClaim: OIDCClaimEmail}},
		Server: Server{
			Listen:            "127.0.0.1:8080",
			ExternalURL:       "",
			MaxBodyBytes:      1 << 20,
			ShutdownTimeout:   model.Duration(3 * time.Second),
			ReadHeaderTimeout: model.Duration(5 * time.Second),
			ReadTimeout:       model.Duration(30 * time.Second),
			IdleTimeout:       model.Duration(2 * time.Minute),
			MaxHeaderBytes:    64 << 10,
		},
		Incidents: DefaultIncidents(),
		Storage: Storage{
			Driver:      DriverBolt,
			Path:        "./data/sentinel.db",
			OpenTimeout: model.Duration(time.Second),
		},
		RUM: DefaultRUM(),
		ProbeSettings: ProbeSettings{
			Location:      DefaultProbeLocation,
			Retention:     model.Duration(DefaultProbeRetention),
			MaxConcurrent: DefaultProbeMaxConcurrent,
		},
		Logging: Logging{
			Level:  "info",
			Format: "text",
			Loki: Loki{
				BufferEntries: 10000,
				BatchWait:     model.Duration(time.Second),
				BatchBytes:    1 << 20,
				Timeout:       model.Duration(10 * time.Second),
			},
		},
		Alerting: DefaultAlerting(),
		Runbooks: DefaultRunbooks(),
		Slack:    DefaultSlack(),

		Postmortems: DefaultPostmortems(),
		UI:          DefaultUI(),
		StatusPage:  DefaultStatusPage(),
		Audit:       DefaultAudit(),
	}
}

// applyElementDefaults fills defaults inside list elements and values that
// derive from other settings, after decoding.
func applyElementDefaults(c *Config) {
	applyProbeDefaults(c)
	c.Alerting = c.Alerting.WithDefaults()
	if c.Server.ExternalURL == "" {
		c.Server.ExternalURL = defaultExternalURL(c.Server)
	}
	capRUMBody(c)
}

// capRUMBody lowers an unwritten rum.max_body_bytes to server.max_body_bytes,
// as alerting.webhook.max_body_bytes is: the operator who lowered the server
// limit never chose the beacon default, so it must not be an error. It stays
// at least rum's minimum (1024); the server limit cuts first anyway. A value
// written in the file is left alone and checked in validate.
func capRUMBody(c *Config) {
	if c.written("rum.max_body_bytes") || c.Server.MaxBodyBytes <= 0 {
		return
	}
	if c.RUM.MaxBodyBytes > c.Server.MaxBodyBytes {
		c.RUM.MaxBodyBytes = max(c.Server.MaxBodyBytes, minRUMBodyBytes)
	}
}

func defaultExternalURL(s Server) string {
	scheme := "http"
	if s.TLS.Enabled() {
		scheme = "https"
	}
	host := s.Listen
	if len(host) > 0 && host[0] == ':' {
		host = "localhost" + host
	}
	return scheme + "://" + host
}
