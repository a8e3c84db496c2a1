package config

import (
	"strings"
	"testing"
)

func TestRUMSection(t *testing.T) {
	src := `
rum:
  allowed_origins: [https://shop.example.com]
  sample_rate: 0.5
  routes: [/product/:id, /cart]
  allowed_query_params: [utm_source]
  rate_limit: {per_ip: 5}
`
	cfg, err := Parse("x.yaml", []byte(src), Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.RUM
	if r.SampleRate != 0.5 || len(r.Routes) != 2 || r.RateLimit.PerIP != 5 || r.RateLimit.PerIPBurst != 20 || r.Site != "default" || r.MaxBodyBytes != 65536 {
		t.Errorf("rum section %+v", r)
	}
	_, err = Parse("x.yaml", []byte("rum:\n  sample_rate: 2\n  routes: [cart]\n"), Options{})
	if err == nil || !strings.Contains(err.Error(), "x.yaml:2:16: rum.sample_rate: must be between 0 and 1") || !strings.Contains(err.Error(), "rum.routes[0]") {
		t.Errorf("validation: %v", err)
	}
	if _, err := Parse("x.yaml", []byte("rum:\n  rate_limit: {per_ipp: 1}\n"), Options{}); err == nil || !strings.Contains(err.Error(), "per_ipp") {
		t.Errorf("unknown nested key: %v", err)
	}
}

// A lowered server.max_body_bytes caps rum.max_body_bytes' default instead
// of refusing a value the operator never wrote; a written value above it is
// refused at its position.
func TestRUMBodyCappedByServer(t *testing.T) {
	cfg, err := Parse("x.yaml", []byte("server:\n  max_body_bytes: 2000\n"), Options{})
	if err != nil {
		t.Fatalf("unwritten rum.max_body_bytes refused: %v", err)
	}
	if cfg.RUM.MaxBodyBytes != 2000 {
		t.Errorf("rum.max_body_bytes = %d, want capped to 2000", cfg.RUM.MaxBodyBytes)
	}
	cfg, err = Parse("x.yaml", []byte("server:\n  max_body_bytes: 500\n"), Options{})
	if err != nil || cfg.RUM.MaxBodyBytes != 1024 {
		t.Errorf("below rum's minimum: %v, %d", err, cfg.RUM.MaxBodyBytes)
	}
	_, err = Parse("x.yaml", []byte("server:\n  max_body_bytes: 2000\nrum:\n  max_body_bytes: 65536\n"), Options{})
	want := "x.yaml:4:19: rum.max_body_bytes: 65536 is more than server.max_body_bytes (2000)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("written value: got %v, want %q", err, want)
	}
	if _, err := Parse("x.yaml", []byte("server:\n  max_body_bytes: 2000\nrum:\n  max_body_bytes: 2000\n"), Options{}); err != nil {
		t.Errorf("written value at the limit: %v", err)
	}
}
