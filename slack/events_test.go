package slack_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// TestThreadRepliesBecomeNotes drives POST /slack/events with signed
// bodies: Slack's URL check is answered; a linked responder's reply in
// an incident's thread becomes their note, marked as written in the
// thread and not posted back there; the same event delivered again, a
// bot's post, an edit, a reply elsewhere, an unlinked user's reply and a
// viewer's add nothing; after a restart the thread is found by its message's
// metadata.
func TestThreadRepliesBecomeNotes(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	url := e.srv.URL + "/slack/events"
	send := func(body []byte) slacktest.Response {
		t.Helper()
		resp, err := e.client.Event(ctx, url, body)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := send([]byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)); r.Status != 200 || r.Body != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("url_verification = %d %q", r.Status, r.Body)
	}
	unsigned, err := (slacktest.Client{Secret: "not-the-secret"}).Event(ctx, url, slacktest.MessageEvent(slacktest.Reply{EventID: "Ev0", UserID: "U024BE7LH", Channel: "C0INCIDENTS", ThreadTS: "1.000001", Text: "x"}))
	if err != nil || unsigned.Status != 401 {
		t.Fatalf("a wrongly signed event = %d %v", unsigned.Status, err)
	}
	if r := send([]byte(`{"type":`)); r.Status != 400 || !strings.Contains(r.Body, "not a Slack event") {
		t.Fatalf("malformed body = %d %s", r.Status, r.Body)
	}

	if err := e.svc.HandleAlertGroup(ctx, firing("service=checkout")); err != nil {
		t.Fatal(err)
	}
	page := e.waitPages(t, 1)[0]
	reply := func(id, user, text string, edit func(*slacktest.Reply)) {
		t.Helper()
		r := slacktest.Reply{EventID: id, UserID: user, Channel: "C0INCIDENTS", ThreadTS: page.TS, Text: text}
		if edit != nil {
			edit(&r)
		}
		if resp := send(slacktest.MessageEvent(r)); resp.Status != 200 {
			t.Fatalf("event %s = %d %s", id, resp.Status, resp.Body)
		}
	}
	notes := func() []incidents.TimelineEntry {
		inc, err := e.svc.Get(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		var out []incidents.TimelineEntry
		for _, te := range inc.Timeline {
			if te.Kind == incidents.KindNote {
				out = append(out, te)
			}
		}
		return out
	}
	reply("Ev1", "U024BE7LH", "rolled back v42 at 10:42", nil)
	reply("Ev1", "U024BE7LH", "rolled back v42 at 10:42", nil) // Slack's redelivery
	reply("Ev2", "U024BE7LH", "from a bot", func(r *slacktest.Reply) { r.BotID = "B0OTHER" })
	reply("Ev3", "U024BE7LH", "edited", func(r *slacktest.Reply) { r.SubType = "message_changed" })
	reply("Ev4", "U024BE7LH", "in another thread", func(r *slacktest.Reply) { r.ThreadTS = "1.000001" })
	reply("Ev5", "U0DAVE", "I am not linked", nil)
	got := notes()
	if len(got) != 1 || got[0].Actor != "carol" || got[0].Text != "rolled back v42 at 10:42" || got[0].Via != incidents.ViaSlackThread {
		t.Fatalf("notes = %+v, want carol's one reply", got)
	}
	if want := "Slack user U0DAVE||slack|slack thread note|#1|refused"; !strings.Contains(strings.Join(e.audit.entries(), "\n"), want) {
		t.Errorf("audit %q, want %q", e.audit.entries(), want)
	}
	if want := "carol|responder|slack|slack thread note|#1|ok"; !strings.Contains(strings.Join(e.audit.entries(), "\n"), want) {
		t.Errorf("audit %q, want %q", e.audit.entries(), want)
	}

	// A restarted bot (no thread in memory) finds the incident by the
	// page's metadata; a note from the API still gets its thread reply.
	e2 := newEnv(t, envOptions{store: e.store, fake: e.fake, noRun: true})
	for _, r := range []slacktest.Reply{
		{EventID: "Ev6", UserID: "U0ALICE", Channel: "C0INCIDENTS", ThreadTS: page.TS, Text: "a viewer's reply"},
		{EventID: "Ev7", UserID: "U024BE7LH", Channel: "C0INCIDENTS", ThreadTS: page.TS, Text: "payments back"},
	} {
		resp, err := e2.client.Event(ctx, e2.srv.URL+"/slack/events", slacktest.MessageEvent(r))
		if err != nil || resp.Status != 200 {
			t.Fatalf("after a restart = %d %v", resp.Status, err)
		}
	}
	if got := notes(); len(got) != 2 || got[1].Actor != "carol" || got[1].Text != "payments back" {
		t.Fatalf("notes after a restart = %+v; audit %q", got, e2.audit.entries())
	}
	if want := "alice|viewer|slack|slack thread note|#1|refused"; !strings.Contains(strings.Join(e2.audit.entries(), "\n"), want) {
		t.Errorf("audit %q, want %q", e2.audit.entries(), want)
	}
	if _, err := e.svc.AddPersonNote(ctx, 1, "status page updated", "bob"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the API note told in the thread", func() bool {
		return strings.Contains(threadText(e, page.TS), ":memo: *bob*: status page updated")
	})
	// An incident's deliveries go out in order: the thread notes' ran
	// before bob's, and none may have been posted back.
	if th := threadText(e, page.TS); strings.Contains(th, "rolled back v42") || strings.Contains(th, "payments back") {
		t.Fatalf("a note written in the thread was posted back to it:\n%s", th)
	}
}

func threadText(e *env, ts string) string {
	var b strings.Builder
	for _, m := range e.fake.Posted("C0INCIDENTS") {
		if m.ThreadTS == ts {
			fmt.Fprintln(&b, m.Text)
		}
	}
	return b.String()
}

// FuzzEvents: any signed body to POST /slack/events is answered without
// a server error (in-process, signed as Slack signs).
func FuzzEvents(f *testing.F) {
	e := newEnv(f, envOptions{})
	f.Add([]byte(`{"type":"url_verification","challenge":"c"}`))
	f.Add(slacktest.MessageEvent(slacktest.Reply{EventID: "Ev1", UserID: "U024BE7LH", Channel: "C0INCIDENTS", ThreadTS: "1.000001", Text: "x"}))
	f.Add([]byte(`{"type":"event_callback","event_id":"Ev2","event":{"type":"message","subtype":"message_changed","message":null}}`))
	f.Add([]byte(`{"type":"event_callback","event":{"type":"app_mention"}}`))
	f.Add([]byte(`{"type":"event_callback","event_id":"Ev3","event":{"type":"message","user":"U1","thread_ts":"0","ts":"1","text":"\u0000"}}`))
	fuzzSigned(f, e, e.bot.Events(), func(c slacktest.Client, body []byte) (slacktest.Response, error) {
		return c.Event(context.Background(), "http://sentinel.test/slack/events", body)
	})
}

// TestIncidentChannelThreadReplyBecomesNote: a reply under the page's
// copy in the incident's own channel is found by that message's metadata
// and becomes the person's note too.
func TestIncidentChannelThreadReplyBecomesNote(t *testing.T) {
	e := newEnv(t, envOptions{
		slack: func(c *config.Slack) { c.IncidentChannels = true },
		oncall: config.Oncall{EscalationPolicies: []config.EscalationPolicy{{
			Name: "default", Steps: []config.EscalationStep{{Notify: []string{"user:carol"}}},
		}}},
	})
	ctx := context.Background()
	if _, err := e.svc.Declare(ctx, incidents.DeclareRequest{Title: "Checkout down!", Severity: model.SeverityCritical}, "carol"); err != nil {
		t.Fatal(err)
	}
	var first []slacktest.Message
	testutil.Eventually(t, 5*time.Second, "the incident channel's first message", func() bool {
		ch, ok := e.fake.Channels()["inc-1-checkout-down"]
		if ok {
			first = e.fake.Posted(ch.ID)
		}
		return len(first) > 0
	})
	resp, err := e.client.Event(ctx, e.srv.URL+"/slack/events", slacktest.MessageEvent(slacktest.Reply{
		EventID: "EvC1", UserID: "U024BE7LH", Channel: first[0].Channel, ThreadTS: first[0].TS, Text: "feature flag new-checkout off"}))
	if err != nil || resp.Status != 200 {
		t.Fatalf("event = %d %v", resp.Status, err)
	}
	inc, err := e.svc.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	last := inc.Timeline[len(inc.Timeline)-1]
	if last.Kind != incidents.KindNote || last.Actor != "carol" || last.Text != "feature flag new-checkout off" {
		t.Fatalf("last timeline entry = %+v", last)
	}
}
