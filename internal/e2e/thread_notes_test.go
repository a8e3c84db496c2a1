package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// TestThreadReplyBecomesNoteThroughTheBinary: the real binary, the fake
// Slack, and a signed Events API delivery of carol's reply under the
// incident's page: the incident's timeline gains her note, marked as
// written in the thread, and the thread does not get it back.
func TestThreadReplyBecomesNoteThroughTheBinary(t *testing.T) {
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	fake.AddUser(slacktest.User{ID: slackUser, Name: "carol", Email: "carol@shop.example.com"})
	addr := freeAddr(t)
	cfg := write(t, "sentinel.yaml", fmt.Sprintf("server: {listen: %q, external_url: %q}\nstorage: {path: %q}\n%s",
		addr, "http://"+addr, filepath.Join(t.TempDir(), "s.db"), tokensYAML)+pagingYAML(fake.APIURL(), ""))
	p := startBinary(t, cfg, addr, 30*time.Second)
	code, body, err := api(t.Context(), http.MethodPost, p.base()+"/api/v1/incidents", responderToken,
		map[string]any{"title": "Checkout slow", "severity": "warning"})
	if err != nil || code != http.StatusCreated {
		t.Fatalf("declare: %d %s %v", code, body, err)
	}
	var page []slacktest.Message
	deadline := time.Now().Add(15 * time.Second)
	for page = pages(fake)["1"]; len(page) == 0 && time.Now().Before(deadline); page = pages(fake)["1"] {
		time.Sleep(20 * time.Millisecond)
	}
	if len(page) == 0 {
		t.Fatalf("incident 1 was not paged; log:\n%s", p.stderr.String())
	}
	// Let the declaration's own deliveries settle, then count redraws.
	time.Sleep(500 * time.Millisecond)
	drawn := pages(fake)["1"][0].Updates
	resp, err := (slacktest.Client{Secret: slackSecret}).Event(t.Context(), p.base()+"/slack/events", slacktest.MessageEvent(slacktest.Reply{
		EventID: "Ev1", UserID: slackUser, Channel: page[0].Channel, ThreadTS: page[0].TS, Text: "rolled back v42 at 10:42"}))
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("event: %d %s %v", resp.Status, resp.Body, err)
	}
	code, body, err = api(t.Context(), http.MethodGet, p.base()+"/api/v1/incidents/1", viewerToken, nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("incident: %d %s %v", code, body, err)
	}
	var inc struct {
		Timeline []struct{ Kind, Actor, Text, Via string }
	}
	if err := json.Unmarshal(body, &inc); err != nil {
		t.Fatal(err)
	}
	last := inc.Timeline[len(inc.Timeline)-1]
	if last.Kind != "note" || last.Actor != "carol" || last.Text != "rolled back v42 at 10:42" || last.Via != "slack_thread" {
		t.Fatalf("last timeline entry = %+v", last)
	}
	// The note's delivery redraws the page (chat.update); the thread
	// stays without it.
	deadline = time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && pages(fake)["1"][0].Updates == drawn {
		time.Sleep(20 * time.Millisecond)
	}
	if pages(fake)["1"][0].Updates == drawn {
		t.Fatalf("the note's delivery never redrew the page; log:\n%s", p.stderr.String())
	}
	for _, m := range fake.Posted(page[0].Channel) {
		if m.ThreadTS == page[0].TS && strings.Contains(m.Text, "rolled back v42") {
			t.Fatalf("the note was posted back into the thread: %q", m.Text)
		}
	}
}
