package app

import (
	"context"
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
)

// rum.max_body_bytes against server.max_body_bytes is config's check
// (TestRUMBodyCappedByServer), made where the key's position is known.
func TestCheckReportsRUMProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*config.Config)
		want []string
	}{
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
