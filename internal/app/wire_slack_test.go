package app

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// TestSlackEndToEnd runs the whole of Sentinel in-process against the fake
// Slack: an alert group pages with buttons, a signed click acknowledges
// through the real router, and a bad signature gets 401.
func TestSlackEndToEnd(t *testing.T) {
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	const secret = "0123456789abcdef0123456789abcdef"
	cfg := testConfig(t, `people: [{name: carol, email: carol@shop.example.com, slack_id: U024BE7LH, role: responder}]
slack:
  token: xoxb-test
  signing_secret: `+secret+`
  api_url: `+fake.APIURL()+`
  channel: "#incidents"
  pace: 10ms
`)
	a, err := New(context.Background(), Options{Config: cfg, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	started(t, a)
	ctx := context.Background()
	err = a.comps.incidents.HandleAlertGroup(ctx, model.AlertGroup{Key: "service=checkout", Labels: model.Labels{"service": "checkout"}, Firing: true,
		Alerts: []model.Alert{{Name: "CheckoutDown", Fingerprint: "f1", State: model.AlertFiring, Severity: model.SeverityCritical, Labels: model.Labels{"service": "checkout"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var page slacktest.Message
	testutil.Eventually(t, 10*time.Second, "page in Slack", func() bool {
		for _, m := range fake.Posted("C0INCIDENTS") {
			if m.Metadata != nil && m.Metadata.EventPayload["role"] == "page" {
				page = m
				return true
			}
		}
		return false
	})
	for _, id := range []string{slack.ActionAcknowledge, slack.ActionResolve, slack.ActionEscalate} {
		if !strings.Contains(string(page.Blocks), id) {
			t.Fatalf("page lacks %s", id)
		}
	}
	client := slacktest.Client{Secret: secret}
	payload := slacktest.BlockActions(slacktest.Click{ActionID: slack.ActionAcknowledge, Value: "1", UserID: "U024BE7LH", UserName: "carol", ChannelID: "C0INCIDENTS", MessageTS: page.TS})
	bad, err := client.Post(ctx, a.URL()+"/slack/interactions", url.Values{"payload": {string(payload)}}, time.Now().Add(-6*time.Minute), "")
	if err != nil {
		t.Fatal(err)
	}
	if bad.Status != http.StatusUnauthorized {
		t.Fatalf("stale click: %d", bad.Status)
	}
	r, err := client.Interaction(ctx, a.URL()+"/slack/interactions", payload)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("click: %v %+v", err, r)
	}
	inc, err := a.comps.incidents.Get(ctx, 1)
	if err != nil || inc.Status != incidents.StatusAcknowledged || inc.Timeline[len(inc.Timeline)-1].Actor != "carol" {
		t.Fatalf("incident after click: %v %+v", err, inc)
	}
	testutil.Eventually(t, 10*time.Second, "chat.update", func() bool { return len(fake.Calls("chat.update")) > 0 })
	cmd, err := client.SlashCommand(ctx, a.URL()+"/slack/commands", slacktest.Command{Text: "status", UserID: "U024BE7LH", ChannelID: "C0INCIDENTS"})
	if err != nil || cmd.Status != http.StatusOK || !strings.Contains(cmd.Body, "#1") {
		t.Fatalf("status command: %v %+v", err, cmd)
	}
	sil, err := client.SlashCommand(ctx, a.URL()+"/slack/commands", slacktest.Command{Text: "silence service=checkout 1h", UserID: "U024BE7LH", ChannelID: "C0INCIDENTS"})
	if err != nil || sil.Status != http.StatusOK || !strings.Contains(sil.Body, "in_channel") || !strings.Contains(sil.Body, "silenced") {
		t.Fatalf("silence command: %v %+v", err, sil)
	}
	list, err := a.comps.alerting.Silences(ctx)
	if err != nil || len(list) != 1 || list[0].CreatedBy != "carol" {
		t.Fatalf("silences: %v %+v", err, list)
	}
}
