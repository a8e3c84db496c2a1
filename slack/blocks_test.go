package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, blocks []slack.Block) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(blocks); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./slack -run Golden -update)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from %s (run with -update if intended):\n%s", name, path, buf.String())
	}
}

func sampleNotification(status incidents.Status) incidents.Notification {
	t0 := time.Date(2026, 3, 25, 10, 0, 0, 0, time.UTC)
	run := "https://sentinel.example.com/probes/checkout?run=01RUN#run-01RUN"
	inc := &incidents.Incident{
		ID: 42, Title: `Checkout <down> & out: step pay, HTTP 503, "payment provider unavailable"`, Severity: model.SeverityCritical, Status: status,
		Summary: "The checkout probe failed 3 runs in a row from local. Step pay failed: expected status 200, got 503.", Labels: model.Labels{"service": "checkout"},
		CreatedAt: t0, Runbook: "checkout-down", SLONames: []string{"checkout-availability"},
		Alerts: []incidents.Alert{
			{Name: "CheckoutProbeFailing", State: model.AlertFiring, Labels: model.Labels{"probe": "checkout", "location": "local"},
				Annotations: model.Labels{"summary": `checkout fails at step pay: HTTP 503, "payment provider unavailable" (from local)`, "run_url": run}},
			{Name: "SLOErrorBudgetBurn", State: model.AlertFiring, Labels: model.Labels{"slo": "checkout-availability", "tier": "page"},
				Annotations: model.Labels{"title": "checkout-availability is burning its 30-day error budget fast",
					"summary": "checkout-availability: 11.2% of the 30-day error budget spent in the last hour; at this rate the rest lasts 7.8 h (as of 10:12 UTC)",
					"detail":  "page tier, 1h/5m: burn rate 81x and 95x (threshold 14.4x, firing)"}},
			{Name: "CheckoutLatency", State: model.AlertResolved, Labels: model.Labels{"probe": "checkout"}},
		},
	}
	left, tte := 0.87, (7*time.Hour + 48*time.Minute).Seconds()
	n := incidents.Notification{Key: "incident/42/e1/p0/s0/schedule:primary/slack", Kind: incidents.KindPage, Incident: inc,
		SLOs: []incidents.SLOImpact{{Name: "checkout-availability", BudgetConsumed: 0.012, Objective: 99.5, Window: (30 * 24 * time.Hour).Seconds(),
			BudgetRemaining: &left, TimeToExhaustion: &tte, CountedFrom: t0, CountedTo: t0.Add(12*time.Minute + 31*time.Second)}},
		URL: "https://sentinel.example.com/incidents/42", Target: oncall.Target{Kind: oncall.TargetSchedule, Name: "primary"},
		Links: []incidents.Link{{Title: "Incident #42", URL: "https://sentinel.example.com/incidents/42"}, {Title: "Failed run", URL: run},
			{Title: "SLO checkout-availability", URL: "https://sentinel.example.com/slos/checkout-availability"},
			{Title: "Runbook checkout-down", URL: "https://sentinel.example.com/runbooks/checkout-down"},
			{Title: "Grafana", URL: "https://grafana.example.com/d/sentinel-slos?from=1774429200000&to=now&var-slo=checkout-availability"}}}
	switch status {
	case incidents.StatusAcknowledged:
		n.Kind = incidents.KindUpdate
		n.Event = &incidents.TimelineEntry{At: t0.Add(3 * time.Minute), Kind: incidents.KindAcknowledged, Actor: "carol", Text: "acknowledged by carol"}
		inc.AcknowledgedBy = "carol"
	case incidents.StatusResolved:
		n.Kind = incidents.KindUpdate
		n.Event = &incidents.TimelineEntry{At: t0.Add(30 * time.Minute), Kind: incidents.KindResolved, Actor: "@dave (Slack user U0DAVE)", Text: "resolved by @dave (Slack user U0DAVE)"}
	}
	return n
}

func TestGoldenBlocks(t *testing.T) {
	view := func(s incidents.Status) pageView {
		return pageView{n: sampleNotification(s), mentions: []string{"<@U0ALICE>", "bob"}, groups: []string{"<!subteam^S0SRE>"},
			baseURL: "https://sentinel.example.com", buttons: true}
	}
	golden(t, "page_triggered", pageBlocks(view(incidents.StatusTriggered)))
	ack := view(incidents.StatusAcknowledged)
	ack.incidentChannel = "C0INC42"
	golden(t, "page_acknowledged", pageBlocks(ack))
	golden(t, "page_resolved", pageBlocks(view(incidents.StatusResolved)))
	golden(t, "dm", dmBlocks(view(incidents.StatusTriggered)))
	low := view(incidents.StatusTriggered)
	low.n.Incident.Severity, low.n.Incident.Urgency = model.SeverityWarning, oncall.UrgencyLow
	golden(t, "page_low_urgency", pageBlocks(low))
	golden(t, "dm_low_urgency", dmBlocks(low))
	golden(t, "announcement", announcementBlocks(&model.Announcement{Kind: "silence_expiring", Text: "Silence on service=checkout ends in 10m while CheckoutProbeFailing fires", Labels: model.Labels{"service": "checkout"}}))
}

// A low-urgency incident's texts say it is not urgent, where phones show
// them too: the notification text, the thread reply of its page.
func TestLowUrgencyTexts(t *testing.T) {
	n := sampleNotification(incidents.StatusTriggered)
	n.Incident.Severity, n.Incident.Urgency = model.SeverityWarning, oncall.UrgencyLow
	if got, want := pageText(n), `:bell: Not urgent: #42 Checkout <down> & out: step pay, HTTP 503, "payment provider unavailable" (warning, triggered)`; got != want {
		t.Errorf("pageText = %q, want %q", got, want)
	}
	if got, want := replyText(n, []string{"<@U0ALICE>"}), ":bell: Notifying (not urgent) <@U0ALICE> (step 1)"; got != want {
		t.Errorf("replyText = %q, want %q", got, want)
	}
	n.Incident.Urgency = oncall.UrgencyHigh
	if got, want := replyText(n, []string{"<@U0ALICE>"}), ":rotating_light: Paging <@U0ALICE> (step 1)"; got != want {
		t.Errorf("replyText = %q, want %q", got, want)
	}
	// Resolved, a low-urgency incident reads like any other.
	n.Incident.Urgency, n.Incident.Status = oncall.UrgencyLow, incidents.StatusResolved
	if got := pageText(n); strings.Contains(got, "Not urgent") {
		t.Errorf("pageText of a resolved incident = %q", got)
	}
}

func TestChannelName(t *testing.T) {
	for title, want := range map[string]string{
		"Checkout down!":         "inc-7-checkout-down",
		"  ":                     "inc-7",
		"Zahlung fällt aus (EU)": "inc-7-zahlung-f-llt-aus-eu",
		"a":                      "inc-7-a",
	} {
		if got := channelName(&incidents.Incident{ID: 7, Title: title}); got != want {
			t.Errorf("%q: %q, want %q", title, got, want)
		}
	}
	long := channelName(&incidents.Incident{ID: 7, Title: string(bytes.Repeat([]byte("ab "), 60))})
	if len(long) > 80 || long[len(long)-1] == '-' {
		t.Errorf("long name %q", long)
	}
}
