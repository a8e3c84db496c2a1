package app

import (
	"context"
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
)

// TestWarnsWhenNobodyCanSignIn: no tokens, or only an ingest token, is a
// dead end named at start (with the key to set); a person's token is not.
func TestWarnsWhenNobodyCanSignIn(t *testing.T) {
	for _, tc := range []struct {
		name, auth string
		warn       bool
	}{
		{"no tokens", "", true},
		{"ingest only", "auth: {tokens: [{name: am, token: ingest-token-0123456789, role: ingest}]}\n", true},
		{"a viewer", "auth: {tokens: [{name: v, token: viewer-token-0123456789, role: viewer}]}\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse("w.yaml", []byte("server: {listen: 127.0.0.1:0}\n"+tc.auth), config.Options{})
			if err != nil {
				t.Fatal(err)
			}
			cfg.Storage.Path = t.TempDir() + "/s.db"
			logs := &lockedBuffer{}
			a, err := New(context.Background(), Options{Config: cfg, Stderr: logs})
			if err != nil {
				t.Fatal(err)
			}
			a.closeResources()
			got := strings.Contains(logs.String(), "nobody can sign in") && strings.Contains(logs.String(), "auth.tokens")
			if got != tc.warn {
				t.Errorf("warned %v, want %v:\n%s", got, tc.warn, logs)
			}
		})
	}
}
