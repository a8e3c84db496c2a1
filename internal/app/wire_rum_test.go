package app

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
)

func TestCheckReportsRUMProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*config.Config)
		want []string
	}{
		{
			name: "beacon limit above the server's body cap",
			edit: func(c *config.Config) { c.Server.MaxBodyBytes = 4096 },
			want: []string{"rum.max_body_bytes", "server.max_body_bytes (4096)"},
		},
		{
			name: "the collector validates its section under rum paths",
			edit: func(c *config.Config) { c.RUM.SampleRate = 2; c.RUM.Routes = []string{"cart"} },
			want: []string{"rum.sample_rate", "rum.routes[0]"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, "")
			tc.edit(cfg)
			err := Check(context.Background(), cfg)
			if err == nil {
				t.Fatal("Check accepted the config")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestReloadKeepsRUMCollector reloads a changed rum: section: the reload
// succeeds (the collector, whose metrics are registered, is kept), a
// restart is asked for, and the endpoints keep answering.
func TestReloadKeepsRUMCollector(t *testing.T) {
	cfg := testConfig(t, "rum: {allowed_origins: [\"https://shop.example.com\"], routes: [/cart]}\n")
	next := nextConfig(t, cfg, "rum: {allowed_origins: [\"https://shop.example.com\"], routes: [/cart, /checkout]}\n")
	logs := &lockedBuffer{}
	a, err := New(context.Background(), Options{
		Config:     cfg,
		Stderr:     logs,
		LoadConfig: func() (*config.Config, error) { return next, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer started(t, a)()
	if err := a.Reload(context.Background()); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if !strings.Contains(logs.String(), "config change needs a restart") || !strings.Contains(logs.String(), "key=rum") {
		t.Errorf("no restart warning for the rum section in:\n%s", logs)
	}
	if code, _ := get(t, a.URL()+"/rum.js", ""); code != http.StatusOK {
		t.Errorf("GET /rum.js after reload = %d", code)
	}
	if code, body := get(t, a.URL()+"/api/v1/rum/vitals", adminToken); code != http.StatusOK {
		t.Errorf("GET /api/v1/rum/vitals after reload = %d %s", code, body)
	}
}
