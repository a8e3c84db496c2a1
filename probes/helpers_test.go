package probes

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// parse reads a probes YAML document through the real config loader, with
// ${BASE} (and other vars) from env.
func parseConfig(t testing.TB, yaml string, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(yaml), config.Options{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		ReadFile:  func(string) ([]byte, error) { return nil, nil },
	})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// compile parses and compiles, failing the test on any problem.
func compile(t testing.TB, yaml string, env map[string]string) []*Journey {
	t.Helper()
	js, ps := Compile(parseConfig(t, yaml, env).Probes)
	if len(ps) > 0 {
		t.Fatalf("compile: %v", ps)
	}
	return js
}

// shop is a loopback storefront with a cart and a checkout that can fail.
type shop struct {
	mu           sync.Mutex
	checkoutCode int
	checkoutBody string
}

func (s *shop) fail(code int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkoutCode, s.checkoutBody = code, body
}

func (s *shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/":
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "sess-1", Path: "/"})
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<html><h1>Shop</h1><a href="/product/42">Kettle</a><button>Add to cart</button></html>`))
	case r.Method == http.MethodGet && r.URL.Path == "/product/42":
		_, _ = w.Write([]byte(`<html><h1>Kettle</h1><span data-sku="TEST-1">TEST-1</span></html>`))
	case r.Method == http.MethodPost && r.URL.Path == "/api/cart":
		if c, err := r.Cookie("session"); err != nil || c.Value != "sess-1" {
			http.Error(w, `{"error":"no session"}`, http.StatusUnauthorized)
			return
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			http.Error(w, "want JSON", http.StatusUnsupportedMediaType)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"cart":{"id":"c-123","items":[{"sku":"TEST-1","qty":1}]}}`))
	case r.Method == http.MethodPost && r.URL.Path == "/api/checkout":
		s.mu.Lock()
		code, body := s.checkoutCode, s.checkoutBody
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if code != 0 {
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
			return
		}
		var in struct {
			CartID string `json:"cart_id"`
			Card   string `json:"card"`
		}
		if err := jsonDecode(r, &in); err != nil || in.CartID != "c-123" || in.Card != "4242424242424242" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"status":"rejected"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"paid","order":{"id":77}}`))
	default:
		http.NotFound(w, r)
	}
}

const shopYAML = `
probes:
  - name: checkout
    interval: 30s
    timeout: 10s
    labels: {service: checkout}
    secrets: {card: "${CARD}"}
    steps:
      - name: home
        request: {method: GET, url: "${BASE}/"}
        expect:  {status: 200, body_contains: "Add to cart", max_duration: 5s}
      - name: product
        request: {url: "${BASE}/product/42"}
        expect:  {status: "200-299", body_matches: "<h1>Kettle</h1>"}
      - name: add-to-cart
        request: {method: POST, url: "${BASE}/api/cart", json: {sku: TEST-1, qty: 1}}
        expect:  {status: 201, json_exists: ["$.cart.id"], headers: {Content-Type: json}}
        extract: {cart_id: $.cart.id, session: {cookie: session}}
      - name: pay
        request: {method: POST, url: "${BASE}/api/checkout",
                  json: {cart_id: "{{ .cart_id }}", card: "{{ .card }}"}}
        expect:  {status: 200, json: {$.status: paid, $.order.id: 77}}
`

// recorder is a Sink and StateSink that keeps what it is given.
type recorder struct {
	mu       sync.Mutex
	outcomes []model.Outcome
	states   []model.ProbeState
}

func (r *recorder) RecordOutcome(_ context.Context, o model.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, o)
}

func (r *recorder) RecordProbeState(_ context.Context, s model.ProbeState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
}

func (r *recorder) snapshot() ([]model.Outcome, []model.ProbeState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]model.Outcome(nil), r.outcomes...), append([]model.ProbeState(nil), r.states...)
}
