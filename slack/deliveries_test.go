package slack_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
	"github.com/sentinel-oss/sentinel/store"
)

// Two replicas share one store (bbolt here; PostgreSQL claims the same
// way): Slack's redelivery of a thread reply, a click or a replayed slash
// command reaching the other replica acts once, not twice.
func TestRedeliveryToAnotherReplicaActsOnce(t *testing.T) {
	ctx := context.Background()
	db, err := store.OpenBolt(ctx, config.Storage{Path: filepath.Join(t.TempDir(), "sentinel.db"), OpenTimeout: model.Duration(time.Second)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	shared := store.NewIncidents(db)
	a := newEnv(t, envOptions{store: shared, deliveries: store.NewDeliveryClaims(db)})
	b := newEnv(t, envOptions{store: shared, fake: a.fake, noRun: true, deliveries: store.NewDeliveryClaims(db)})

	if err := a.svc.HandleAlertGroup(ctx, firing("service=checkout")); err != nil {
		t.Fatal(err)
	}
	page := a.waitPages(t, 1)[0]
	// kinds counts carol's timeline entries of a kind (an escalation
	// also adds Sentinel's own entry for the page it sends).
	kinds := func(kind string) int {
		inc, err := a.svc.Get(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, te := range inc.Timeline {
			if te.Kind == kind && te.Actor == "carol" {
				n++
			}
		}
		return n
	}

	reply := slacktest.MessageEvent(slacktest.Reply{EventID: "EvShared1", UserID: "U024BE7LH", Channel: "C0INCIDENTS", ThreadTS: page.TS, Text: "rolled back v42"})
	for _, e := range []*env{a, b} {
		if resp, err := e.client.Event(ctx, e.srv.URL+"/slack/events", reply); err != nil || resp.Status != 200 {
			t.Fatalf("event = %d %v", resp.Status, err)
		}
	}
	if n := kinds(incidents.KindNote); n != 1 {
		t.Errorf("notes after one reply delivered to both replicas = %d, want 1", n)
	}

	escalated := kinds(incidents.KindEscalated)
	for _, e := range []*env{a, b} {
		if resp := e.click(t, slack.ActionEscalate, 1, "U024BE7LH", "carol", page.TS, "1733400000.000100"); resp.Status != 200 {
			t.Fatalf("click = %d %s", resp.Status, resp.Body)
		}
	}
	if n := kinds(incidents.KindEscalated) - escalated; n != 1 {
		t.Errorf("escalations after one click delivered to both replicas = %d, want 1", n)
	}

	// One signed slash command replayed to the other replica runs once.
	cmd := slacktest.Command{Text: "note #1 checked the CDN", UserID: "U024BE7LH", UserName: "carol", ChannelID: "C0INCIDENTS", ChannelName: "incidents", ResponseURL: a.fake.ResponseURL("cmd")}
	form := cmd.Form()
	sent := time.Now()
	var answers []string
	for _, e := range []*env{a, b} {
		resp, err := e.client.Post(ctx, e.srv.URL+"/slack/commands", form, sent, "")
		if err != nil || resp.Status != 200 {
			t.Fatalf("command = %d %v", resp.Status, err)
		}
		answers = append(answers, resp.Body)
	}
	if !strings.Contains(answers[1], "already received") {
		t.Errorf("the replayed command's answer: %s", answers[1])
	}
	if n := kinds(incidents.KindNote); n != 2 {
		t.Errorf("notes after the reply and one replayed command = %d, want 2", n)
	}
}

// When the shared store cannot answer, the delivery is acted on (a note
// twice is better than a note lost) and the failure is logged.
func TestDeliveryClaimFailureStillActs(t *testing.T) {
	var logs bytes.Buffer
	e := newEnv(t, envOptions{deliveries: failingClaims{}, logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()
	if err := e.svc.HandleAlertGroup(ctx, firing("service=checkout")); err != nil {
		t.Fatal(err)
	}
	page := e.waitPages(t, 1)[0]
	reply := slacktest.MessageEvent(slacktest.Reply{EventID: "EvDown", UserID: "U024BE7LH", Channel: "C0INCIDENTS", ThreadTS: page.TS, Text: "still here"})
	for range 2 { // the second is Slack's redelivery: this process still knows it
		if resp, err := e.client.Event(ctx, e.srv.URL+"/slack/events", reply); err != nil || resp.Status != 200 {
			t.Fatalf("event = %d %v", resp.Status, err)
		}
	}
	inc := e.incident(t, 1)
	notes := 0
	for _, te := range inc.Timeline {
		if te.Kind == incidents.KindNote {
			notes++
		}
	}
	if notes != 1 {
		t.Errorf("notes = %d, want 1", notes)
	}
	if !strings.Contains(logs.String(), "claiming a Slack delivery failed") || !strings.Contains(logs.String(), "store unavailable") {
		t.Errorf("the failure was not logged:\n%s", logs.String())
	}
}

type failingClaims struct{}

func (failingClaims) ClaimDelivery(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("store unavailable")
}

func (failingClaims) ClaimDeliveryWithin(context.Context, string, time.Time, time.Duration) (bool, error) {
	return false, errors.New("store unavailable")
}

func (failingClaims) ReleaseDeliveryWithin(context.Context, string, time.Time, time.Duration) error {
	return errors.New("store unavailable")
}
