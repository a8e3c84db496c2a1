package probes

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func jsonDecode(r *http.Request, v any) error { return json.NewDecoder(r.Body).Decode(v) }

func newShop(t *testing.T) (*shop, *httptest.Server) {
	s := &shop{}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func TestCheckoutJourneyPasses(t *testing.T) {
	_, srv := newShop(t)
	js := compile(t, shopYAML, map[string]string{"BASE": srv.URL, "CARD": "4242424242424242"})
	reg := prometheus.NewRegistry()
	rec := &recorder{}
	svc, err := New(Options{Probes: js, Registerer: reg, Outcomes: rec, States: rec})
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.RunOnce(context.Background(), "checkout")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Success {
		var b bytes.Buffer
		_ = Format(&b, res)
		t.Fatalf("journey failed:\n%s", b.String())
	}
	if len(res.Steps) != 4 {
		t.Fatalf("steps = %d, want 4", len(res.Steps))
	}
	for _, s := range res.Steps {
		for _, p := range phaseOrder {
			if _, ok := s.Phases[p]; !ok {
				t.Errorf("step %s: phase %s missing", s.Name, p)
			}
		}
	}
	if res.Steps[0].Phases[PhaseConnect] <= 0 {
		t.Errorf("home connect phase = %v, want > 0 (a fresh connection per run)", res.Steps[0].Phases[PhaseConnect])
	}
	if res.Steps[2].Status != 201 || res.Steps[3].Status != 200 {
		t.Errorf("statuses = %d, %d", res.Steps[2].Status, res.Steps[3].Status)
	}
	if len(res.ID) != 26 || res.Location != "local" {
		t.Errorf("id %q location %q", res.ID, res.Location)
	}
	// RunOnce records nothing; record does.
	svc.record(context.Background(), js[0], res)
	if got := testutil.ToFloat64(svc.metrics.success.WithLabelValues("checkout", "local")); got != 1 {
		t.Errorf("probe_success = %v, want 1", got)
	}
	outs, states := rec.snapshot()
	if len(outs) != 1 || outs[0].Good != 1 || outs[0].Total != 1 || outs[0].Labels["service"] != "checkout" || outs[0].Labels["location"] != "local" {
		t.Errorf("outcomes = %+v", outs)
	}
	if len(states) != 1 || states[0].Failing {
		t.Errorf("states = %+v", states)
	}
	b, _ := json.Marshal(res)
	for _, key := range []string{`"id"`, `"at"`, `"success"`, `"duration"`, `"location"`, `"steps"`, `"phases"`, `"status"`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("result JSON lacks %s: %s", key, b)
		}
	}
}

func TestCheckoutFailureNamesStepAndAssertion(t *testing.T) {
	shop, srv := newShop(t)
	shop.fail(503, `{"error":"payment backend down","card":"4242 4242 4242 4242","token":"sk_live_abcdef"}`)
	js := compile(t, shopYAML, map[string]string{"BASE": srv.URL, "CARD": "4242424242424242"})
	js2 := compile(t, strings.Replace(shopYAML, `secrets: {card: "${CARD}"}`, `secrets: {card: "${CARD}", key: sk_live_abcdef}`, 1), map[string]string{"BASE": srv.URL, "CARD": "4242424242424242"})
	reg := prometheus.NewRegistry()
	rec := &recorder{}
	svc, err := New(Options{Probes: js2, Registerer: reg, States: rec})
	if err != nil {
		t.Fatal(err)
	}
	_ = js
	res, _ := svc.RunOnce(context.Background(), "checkout")
	if res.Success {
		t.Fatal("journey passed against a failing checkout")
	}
	if res.FailedStep != "pay" {
		t.Errorf("failed step = %q, want pay", res.FailedStep)
	}
	if res.Error != "expected status 200, got 503" {
		t.Errorf("error = %q", res.Error)
	}
	pay := res.Steps[3]
	if pay.Status != 503 || pay.Excerpt == "" {
		t.Errorf("pay step = %+v", pay)
	}
	if strings.Contains(pay.Excerpt, "4242") || strings.Contains(pay.Excerpt, "sk_live_abcdef") {
		t.Errorf("excerpt leaks a card or secret: %s", pay.Excerpt)
	}
	if !strings.Contains(pay.Excerpt, "<card>") || !strings.Contains(pay.Excerpt, "<secret>") {
		t.Errorf("excerpt not masked as expected: %s", pay.Excerpt)
	}
	svc.record(context.Background(), js2[0], res)
	// The state alerting reads names the step, its status, the error and
	// what the response said (masked before anything reads it).
	if _, states := rec.snapshot(); len(states) != 1 || states[0].Step != "pay" || states[0].Status != 503 ||
		states[0].Error != "expected status 200, got 503" || states[0].ErrorExcerpt != "payment backend down" || states[0].RunID != res.ID {
		t.Errorf("state = %+v", states)
	}
	want := `
# HELP probe_success Whether the probe's last run succeeded (1) or failed (0).
# TYPE probe_success gauge
probe_success{location="local",probe="checkout"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "probe_success"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(svc.metrics.status.WithLabelValues("checkout", "pay", "local")); got != 503 {
		t.Errorf("probe_http_status_code{step=pay} = %v", got)
	}
	if got := testutil.ToFloat64(svc.metrics.runs.WithLabelValues("checkout", "local", "failure")); got != 1 {
		t.Errorf("runs failure = %v", got)
	}
	var out bytes.Buffer
	if err := Format(&out, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FAIL checkout", "pay", "503", "expected status 200, got 503", "STEP"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Format output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestJSONAssertionMessage(t *testing.T) {
	shop, srv := newShop(t)
	shop.fail(200, `{"status":"failed","order":{"id":77}}`)
	js := compile(t, shopYAML, map[string]string{"BASE": srv.URL, "CARD": "4242424242424242"})
	svc, _ := New(Options{Probes: js})
	res, _ := svc.RunOnce(context.Background(), "checkout")
	if res.Success || res.Error != `$.status: expected "paid", got "failed"` {
		t.Fatalf("error = %q", res.Error)
	}
}
