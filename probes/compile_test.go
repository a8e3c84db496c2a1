package probes

import (
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
)

func TestInvalidConfigsAreRefusedWithPaths(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // "path: message fragment"
	}{
		{"unknown template name", `
probes:
  - name: p
    steps:
      - {name: a, request: {url: "http://x/"}, extract: {cart: $.cart.id}}
      - {name: b, request: {url: "http://x/{{ .cart_idd }}"}}
`, []string{"probes[0].steps[1].request.url: template uses .cart_idd"}},
		{"template used before extracted", `
probes:
  - name: p
    steps:
      - {name: a, request: {url: "http://x/", json: {id: "{{ .cart }}"}}}
      - {name: b, request: {url: "http://x/"}, extract: {cart: $.cart.id}}
`, []string{"probes[0].steps[0].request.json.id: template uses .cart"}},
		{"bad template", `
probes:
  - name: p
    steps: [{name: a, request: {url: "http://x/", body: "{{ .a "}}]
`, []string{"probes[0].steps[0].request.body: invalid template"}},
		{"bad json path", `
probes:
  - name: p
    steps:
      - {name: a, request: {url: "http://x/"}, extract: {cart_id: "$.cart[" }}
`, []string{"probes[0].steps[0].extract.cart_id: invalid JSON path"}},
		{"json path without $", `
probes:
  - name: p
    steps:
      - {name: a, request: {url: "http://x/"}, expect: {json: {status: paid}, json_exists: [cart.id]}}
`, []string{"probes[0].steps[0].expect.json.status: JSON path \"status\" must start with $", "probes[0].steps[0].expect.json_exists[0]: JSON path"}},
		{"bad url", `
probes:
  - name: p
    steps: [{name: a, request: {url: "shop.example.com/"}}, {name: b, request: {url: "ftp://x/"}}]
`, []string{"probes[0].steps[0].request.url: missing scheme", "probes[0].steps[1].request.url: unsupported scheme"}},
		{"duplicates", `
probes:
  - {name: p, steps: [{name: a, request: {url: "http://x/"}}, {name: a, request: {url: "http://x/"}}]}
  - {name: p, steps: [{name: a, request: {url: "http://x/"}}]}
`, []string{"probes[0].steps[1].name: duplicate step name", "probes[1].name: duplicate probe name"}},
		{"unknown kind", `
probes:
  - {name: p, kind: ftp}
  - {name: q, kind: browser}
`, []string{"probes[0].kind: unknown kind \"ftp\"", "probes[1].steps: a browser probe needs at least one step"}},
		{"durations", `
probes:
  - {name: p, interval: 5s, timeout: 10s, steps: [{name: a, timeout: 20s, request: {url: "http://x/"}}]}
`, []string{"probes[0].timeout: timeout 10s with 0 retries does not fit in the interval 5s", "probes[0].steps[0].timeout: step timeout 20s is longer"}},
		{"bad regex and bodies", `
probes:
  - name: p
    steps:
      - {name: a, request: {url: "http://x/", body: x, form: {a: b}}, expect: {body_matches: "(("}}
`, []string{"probes[0].steps[0].request: set only one of json, form and body", "probes[0].steps[0].expect.body_matches: invalid regular expression"}},
		{"targets", `
probes:
  - {name: t, kind: tcp, target: "redis"}
  - {name: d, kind: dns, target: "shop.example.com", dns: {type: SRV}}
  - {name: c, kind: tls}
  - {name: h, kind: tcp, target: "x:1", steps: [{name: a, request: {url: "http://x/"}}]}
`, []string{"probes[0].target: must be host:port", "probes[1].dns.type: unknown record type", "probes[2].target: missing target", "probes[3].steps: steps are for http probes"}},
		{"labels thresholds", `
probes:
  - {name: p, labels: {probe: x}, failure_threshold: -1, retries: 20, steps: [{name: a, request: {url: "http://x/"}}]}
`, []string{"probes[0].labels.probe: invalid label name", "probes[0].failure_threshold: must be at least 1", "probes[0].retries: must be from 0 to 10"}},
		{"secret name clash", `
probes:
  - name: p
    secrets: {card: "4111"}
    steps: [{name: a, request: {url: "http://x/"}, extract: {card: $.x}}]
`, []string{"probes[0].steps[0].extract.card: \"card\" is also a secret's name"}},
		{"tls files", `
probes:
  - {name: p, tls: {cert_file: /nonexistent.pem}, steps: [{name: a, request: {url: "https://x/"}}]}
`, []string{"probes[0].tls.key_file: required when cert_file is set"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			js, ps := Compile(parseConfig(t, tc.yaml, nil).Probes)
			if len(ps) == 0 {
				t.Fatalf("compiled without problems: %d journeys", len(js))
			}
			if js != nil {
				t.Errorf("journeys returned along with problems")
			}
			text := ps.Error()
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("problems lack %q:\n%s", w, text)
				}
			}
		})
	}
}

func TestConfigDecodingProblems(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"status", `probes: [{name: p, steps: [{name: a, request: {url: "http://x/"}, expect: {status: "200-99"}}]}]`, "probes[0].steps[0].expect.status"},
		{"status class", `probes: [{name: p, steps: [{name: a, request: {url: "http://x/"}, expect: {status: 7xx}}]}]`, "invalid status class"},
		{"extract form", `probes: [{name: p, steps: [{name: a, request: {url: "http://x/"}, extract: {a: {xpath: x}}}]}]`, "unknown key \"xpath\""},
		{"extract bare", `probes: [{name: p, steps: [{name: a, request: {url: "http://x/"}, extract: {a: cart.id}}]}]`, "write a JSON path"},
		{"unknown key", `probes: [{name: p, steps: [{name: a, request: {url: "http://x/"}, expect: {staus: 200}}]}]`, "did you mean \"status\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("test.yaml", []byte(tc.yaml), config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	js := compile(t, `
probe_settings: {location: eu-west}
probes:
  - {name: p, steps: [{name: a, request: {url: "http://x/", json: {a: 1}}}]}
  - {name: q, kind: tls, target: shop.example.com, location: us-east}
`, nil)
	p, q := js[0], js[1]
	if p.Kind != "http" || p.Interval.String() != "30s" || p.Timeout.String() != "10s" || p.Location != "eu-west" ||
		p.FailureThreshold != 3 || p.SuccessThreshold != 2 || p.maxBody != 1<<20 || p.minDaysLeft != -1 {
		t.Errorf("http defaults: %+v", p)
	}
	if p.steps[0].method != "POST" || !p.steps[0].status.Contains(204) || p.steps[0].status.Contains(301) || !p.steps[0].followRedirects {
		t.Errorf("step defaults: %+v", p.steps[0])
	}
	if q.Location != "us-east" || q.minDaysLeft != 14 {
		t.Errorf("tls defaults: %+v", q)
	}
	if p.tlsConfig.InsecureSkipVerify {
		t.Error("verification off by default")
	}
}

func TestStatusSpecForms(t *testing.T) {
	js := compile(t, `
probes:
  - {name: p, steps: [
      {name: a, request: {url: "http://x/"}, expect: {status: 200}},
      {name: b, request: {url: "http://x/"}, expect: {status: [200, "301-302", 4xx]}},
      {name: c, request: {url: "http://x/"}, expect: {status: "2xx"}}]}
`, nil)
	s := js[0].steps
	checks := []struct {
		i, code int
		ok      bool
	}{{0, 200, true}, {0, 201, false}, {1, 302, true}, {1, 303, false}, {1, 404, true}, {2, 299, true}, {2, 300, false}}
	for _, c := range checks {
		if got := s[c.i].status.Contains(c.code); got != c.ok {
			t.Errorf("step %d status %d: %v", c.i, c.code, got)
		}
	}
	if got := s[1].status.String(); got != "200 or 301-302 or 4xx" {
		t.Errorf("String = %q", got)
	}
}
