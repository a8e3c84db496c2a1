package app

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/internal/testutil"
)

// TestAmtoolAgainstSentinel drives a running Sentinel with Debian's amtool
// (package prometheus-alertmanager), tokens passed with --http.config.file
// as an operator would: an alert posted with an ingest token opens an
// incident; a responder adds a silence, a viewer queries it and sees the
// alert suppressed; the silence is expired and the alert is active again.
func TestAmtoolAgainstSentinel(t *testing.T) {
	amtool := testutil.RequireTool(t, "prometheus-alertmanager", "amtool")
	const (
		viewerTok    = "amtool-viewer-token-0123456789"
		responderTok = "amtool-responder-token-0123456789"
		ingestTok    = "amtool-ingest-token-0123456789"
	)
	cfg := testConfig(t, `    - {name: grafana, token: `+viewerTok+`, role: viewer}
    - {name: alice, token: `+responderTok+`, role: responder}
    - {name: prometheus, token: `+ingestTok+`, role: ingest}
alerting:
  inhibit_rules:
    - {source_matchers: [alertname="RegionDown"], target_matchers: ['severity=~"critical|warning"'], equal: [region]}
    - {source_match: {alertname: DatacenterDown}, target_match_re: {service: "check.*"}}
  time_intervals:
    - name: nightly
      time_intervals: [{times: [{start_time: "02:00", end_time: "04:00"}], weekdays: ["monday:friday"], location: Europe/Berlin}]
  maintenance:
    - {time_intervals: [nightly], matchers: [service=db]}
`)
	a, err := New(context.Background(), Options{Config: cfg, Stderr: io.Discard, Build: BuildInfo{Version: "0.25.0", Commit: "abc", GoVersion: "go"}})
	if err != nil {
		t.Fatal(err)
	}
	started(t, a)
	dir := t.TempDir()
	httpConfig := func(tok string) string {
		p := filepath.Join(dir, tok+".yml")
		if err := os.WriteFile(p, []byte("authorization:\n  type: Bearer\n  credentials: "+tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(tok string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		full := append([]string{"--alertmanager.url=" + a.URL(), "--http.config.file=" + httpConfig(tok)}, args...)
		out, err := exec.CommandContext(ctx, amtool, full...).CombinedOutput()
		if err != nil {
			t.Fatalf("amtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	// Grafana reads config.original as an Alertmanager config: amtool's
	// own check must pass it.
	_, body := get(t, a.URL()+"/api/v2/status", viewerTok)
	var status struct{ Config struct{ Original string } }
	if err := json.Unmarshal([]byte(body), &status); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgFile, []byte(status.Config.Original), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run(viewerTok, "check-config", cfgFile); !strings.Contains(out, "SUCCESS") {
		t.Fatalf("amtool check-config of the status config:\n%s\n%s", out, status.Config.Original)
	}

	run(ingestTok, "alert", "add", "CheckoutDown", "service=checkout", "severity=critical", "--annotation=summary=checkout is down")
	if out := run(viewerTok, "alert", "query"); !regexp.MustCompile(`CheckoutDown\s+\S+ \S+ UTC\s+checkout is down\s+active`).MatchString(out) {
		t.Fatalf("alert query:\n%s", out)
	}
	testutil.Eventually(t, 10*time.Second, "an incident for the posted alert", func() bool {
		_, body := get(t, a.URL()+"/api/v1/incidents", viewerTok)
		return strings.Contains(body, `"dedup_key":"service=checkout"`)
	})

	id := strings.TrimSpace(run(responderTok, "silence", "add", "service=checkout", "--comment=deploy", "--author=alice", "--duration=1h"))
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("silence add printed %q, want a silence ID", id)
	}
	var sils []struct {
		ID        string `json:"id"`
		CreatedBy string `json:"createdBy"`
		Comment   string `json:"comment"`
		Status    struct{ State string }
		Matchers  []struct {
			Name, Value      string
			IsRegex, IsEqual bool
		}
	}
	if err := json.Unmarshal([]byte(run(viewerTok, "silence", "query", "-o", "json", "service=checkout")), &sils); err != nil {
		t.Fatal(err)
	}
	if len(sils) != 1 || sils[0].ID != id || sils[0].CreatedBy != "alice" || sils[0].Comment != "deploy" || sils[0].Status.State != "active" ||
		len(sils[0].Matchers) != 1 || sils[0].Matchers[0].Name != "service" || sils[0].Matchers[0].Value != "checkout" || !sils[0].Matchers[0].IsEqual {
		t.Fatalf("silence query: %+v", sils)
	}
	if out := run(viewerTok, "alert", "query"); strings.Contains(out, "CheckoutDown") {
		t.Fatalf("a silenced alert is listed without --silenced:\n%s", out)
	}
	if out := run(viewerTok, "alert", "query", "--silenced"); !regexp.MustCompile(`CheckoutDown.*suppressed`).MatchString(out) {
		t.Fatalf("alert query --silenced:\n%s", out)
	}
	if _, body := get(t, a.URL()+"/api/v1/alerts", viewerTok); !strings.Contains(body, `"silenced_by":["`+id+`"]`) {
		t.Fatalf("Sentinel's own API does not show the silence: %s", body)
	}

	run(responderTok, "silence", "expire", id)
	if out := strings.TrimSpace(run(viewerTok, "silence", "query", "-q")); out != "" {
		t.Fatalf("active silences after expire: %q", out)
	}
	if out := run(viewerTok, "silence", "query", "--expired", "-q"); strings.TrimSpace(out) != id {
		t.Fatalf("expired silences: %q", out)
	}
	if out := run(viewerTok, "alert", "query"); !regexp.MustCompile(`CheckoutDown.*active`).MatchString(out) {
		t.Fatalf("alert query after expire:\n%s", out)
	}
}
