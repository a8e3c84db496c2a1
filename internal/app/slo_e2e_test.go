package app

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/internal/testutil"
)

// TestFreshSLOBudgetAfterTwentySecondsOfFailures is the budget model end to
// end: a fresh 30-day 99.9% SLO over a checkout probe that runs every
// second, and 20 seconds in which checkout fails. The window expects
// 2,592,000 runs, so 2,592 may fail; about 20 did, which leaves about
// 0.992 of the budget (not the -3,000% a budget over the runs seen so far
// would claim). The API, the incident and the page agree on it.
func TestFreshSLOBudgetAfterTwentySecondsOfFailures(t *testing.T) {
	var failing atomic.Bool
	var failed, runs atomic.Int64
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		if failing.Load() {
			failed.Add(1)
			http.Error(w, "payment provider down", http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, `{"status": "paid"}`)
	}))
	defer shop.Close()
	cfg := testConfig(t, `probes:
  - name: checkout
    interval: 1s
    timeout: 900ms
    labels: {service: checkout}
    steps:
      - {name: pay, request: {method: POST, url: "`+shop.URL+`/api/checkout"}, expect: {status: 200}}
slos:
  - {name: checkout-availability, service: checkout, objective: 99.9, window: 30d, sli: {probe: checkout}}
alerting:
  rules:
    - {name: CheckoutProbeFailing, when: {probe: checkout}, for: 0s, severity: critical}
`)
	a, err := New(context.Background(), Options{Config: cfg, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	started(t, a)
	base := a.URL()
	testutil.Eventually(t, 10*time.Second, "the first good runs", func() bool { return runs.Load() >= 2 })
	failing.Store(true)
	time.Sleep(20 * time.Second) // the failure lasts 20 s: that is what is measured, not a wait for a condition
	failing.Store(false)
	done := runs.Load()
	testutil.Eventually(t, 10*time.Second, "a good run after the failure", func() bool { return runs.Load() >= done+2 })

	var s struct {
		SLI       float64 `json:"sli"`
		Remaining float64 `json:"error_budget_remaining"`
		Budget    struct {
			Unit     string   `json:"unit"`
			Expected float64  `json:"expected"`
			Allowed  float64  `json:"allowed"`
			Spent    float64  `json:"spent"`
			Minutes  *float64 `json:"remaining_minutes"`
		} `json:"error_budget"`
		TTE *float64 `json:"time_to_exhaustion"`
	}
	var body string
	testutil.Eventually(t, 15*time.Second, "every failed run counted", func() bool {
		var code int
		code, body = get(t, base+"/api/v1/slos/checkout-availability", adminToken)
		return code == http.StatusOK && json.Unmarshal([]byte(body), &s) == nil && s.Budget.Spent == float64(failed.Load())
	})
	n := failed.Load()
	if n < 18 || n > 22 {
		t.Fatalf("%d runs failed in 20 s at a 1 s interval", n)
	}
	want := 1 - float64(n)/2592
	t.Logf("%d of %d runs failed; error_budget_remaining %.5f (%d of 2,592 allowed)", n, runs.Load(), s.Remaining, n)
	if s.Budget.Unit != "runs" || s.Budget.Expected != 2_592_000 || math.Abs(s.Budget.Allowed-2592) > 1e-6 || math.Abs(s.Remaining-want) > 1e-9 {
		t.Errorf("budget = %s, want %d of 2,592 runs spent: %.5f left", body, n, want)
	}
	if math.Abs(s.Remaining-0.992) > 0.001 { // 18 to 23 failed runs
		t.Errorf("error_budget_remaining = %.5f, want about 0.992", s.Remaining)
	}
	// 2,592 runs of 1 s are 43.2 minutes of failing checks.
	if s.Budget.Minutes == nil || math.Abs(*s.Budget.Minutes-(2592-float64(n))/60) > 1e-6 {
		t.Errorf("remaining minutes = %v", s.Budget.Minutes)
	}

	// The incident the failure opened reports its share from the same model.
	var list struct {
		Incidents []struct {
			ID   int64 `json:"id"`
			SLOs []struct {
				Name      string   `json:"name"`
				Consumed  float64  `json:"budget_consumed"`
				Remaining *float64 `json:"budget_remaining"`
			} `json:"slos"`
		} `json:"incidents"`
	}
	code, b := get(t, base+"/api/v1/incidents", adminToken)
	if code != http.StatusOK || json.Unmarshal([]byte(b), &list) != nil || len(list.Incidents) == 0 {
		t.Fatalf("incidents = %d %s", code, b)
	}
	var inc struct {
		SLOs []struct {
			Name     string  `json:"name"`
			Consumed float64 `json:"budget_consumed"`
		} `json:"slos"`
	}
	_, b = get(t, base+"/api/v1/incidents/"+strconv.FormatInt(list.Incidents[0].ID, 10), adminToken)
	if err := json.Unmarshal([]byte(b), &inc); err != nil || len(inc.SLOs) != 1 {
		t.Fatalf("incident = %s", b)
	}
	if c := inc.SLOs[0].Consumed; c <= 0 || c > float64(n)/2592+1e-9 {
		t.Errorf("incident consumed %v of the budget, want at most %d/2,592 = %.4f", c, n, float64(n)/2592)
	}
	if strings.Contains(b, "e+") {
		t.Errorf("incident holds an absurd figure: %s", b)
	}
	// The list says the same of it (its share; the budget now is the
	// SLO's, on its own page).
	if got := list.Incidents[0].SLOs; len(got) != 1 || got[0].Name != inc.SLOs[0].Name ||
		math.Abs(got[0].Consumed-inc.SLOs[0].Consumed) > 1e-9 || got[0].Remaining != nil {
		t.Errorf("incident list slos = %+v, want %s with budget_consumed %v as on the incident", got, inc.SLOs[0].Name, inc.SLOs[0].Consumed)
	}
}
