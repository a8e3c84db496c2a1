package slack_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
)

func TestSlashCommands(t *testing.T) {
	e := newEnv(t, envOptions{oncall: config.Oncall{Schedules: []config.Schedule{{
		Name: "primary", Timezone: "UTC",
		Rotation: &config.Rotation{Every: model.Duration(7 * 24 * time.Hour), Handoff: "Mon 09:00", Members: []string{"alice", "bob"}},
	}}}})
	ctx := context.Background()
	type step struct {
		text, user, channel string
		wantType            string
		wantText            []string
	}
	steps := []step{
		{"", "U0ALICE", "incidents", "ephemeral", []string{"declare", "silence", "help"}},
		{"help", "U0ALICE", "incidents", "ephemeral", []string{"/sentinel"}},
		{"status", "U0ALICE", "incidents", "ephemeral", []string{"No incident is open"}},
		{"ack", "U0ALICE", "incidents", "ephemeral", []string{"No incident is open"}},
		{"declare critical Checkout is down", "U024BE7LH", "incidents", "in_channel", []string{"<@U024BE7LH> declared", "#1", "Checkout is down"}},
		{"declare loud Checkout", "U024BE7LH", "incidents", "ephemeral", []string{"severity"}},
		{"declare warning", "U024BE7LH", "incidents", "ephemeral", []string{"title is required"}},
		{"status", "U0ALICE", "incidents", "ephemeral", []string{"#1", "Checkout is down", "triggered"}},
		{"oncall", "U0ALICE", "incidents", "ephemeral", []string{"primary"}},
		{"ack", "U024BE7LH", "incidents", "in_channel", []string{"acknowledged #1"}},
		{"ack 1", "U024BE7LH", "incidents", "ephemeral", []string{"already acknowledged"}},
		{"ack 99", "U024BE7LH", "incidents", "ephemeral", []string{"Cannot ack #99"}},
		{"declare info Second thing", "U0ALICE", "incidents", "in_channel", []string{"#2"}},
		{"resolve", "U0ALICE", "incidents", "ephemeral", []string{"Several incidents are open"}},
		{"resolve", "U0ALICE", "inc-2-second-thing", "in_channel", []string{"resolved #2"}},
		{"resolve #1", "U0ALICE", "incidents", "in_channel", []string{"resolved #1"}},
		{"silence service=checkout,env=~prod.* 2h", "U024BE7LH", "incidents", "in_channel", []string{"silenced", "service=checkout, env=~prod.*", "sil-1"}},
		{"silence service=checkout", "U024BE7LH", "incidents", "ephemeral", []string{"duration"}},
		{"postmortem 1", "U0ALICE", "incidents", "ephemeral", []string{"Postmortem of #1", "draft", "/incidents/1/postmortem|Open it", "\n2 open action items."}},
		{"postmortem 99", "U0ALICE", "incidents", "ephemeral", []string{"Cannot find the postmortem of #99"}},
		{"postmortem x", "U0ALICE", "incidents", "ephemeral", []string{"not an incident ID"}},
		{"frobnicate", "U0ALICE", "incidents", "ephemeral", []string{"unknown subcommand"}},
		{"oncal", "U0ALICE", "incidents", "ephemeral", []string{`unknown subcommand "oncal" (did you mean "oncall"?)` + "\nUsage: /sentinel `declare"}},
	}
	for _, s := range steps {
		status, body := e.command(t, s.text, s.user, s.channel)
		if n := strings.Count(body["text"], "`ack [id]`"); n > 1 {
			t.Errorf("%q: the usage appears %d times: %q", s.text, n, body["text"])
		}
		if status != http.StatusOK {
			t.Fatalf("%q: status %d", s.text, status)
		}
		if body["response_type"] != s.wantType {
			t.Errorf("%q: response_type %q, want %q (%s)", s.text, body["response_type"], s.wantType, body["text"])
		}
		for _, w := range s.wantText {
			if !strings.Contains(body["text"], w) {
				t.Errorf("%q: answer %q lacks %q", s.text, body["text"], w)
			}
		}
	}
	inc := e.incident(t, 1)
	if inc.Status != incidents.StatusResolved || inc.Timeline[0].Actor != "carol" {
		t.Fatalf("incident 1: %s, declared by %q", inc.Status, inc.Timeline[0].Actor)
	}
	if got := e.incident(t, 2).Timeline[0].Actor; got != "alice" {
		t.Fatalf("incident 2 declared by %q; want alice, found by her Slack email", got)
	}
	if len(e.sil.got) != 1 || e.sil.got[0].Duration != 2*time.Hour || e.sil.got[0].Author != "carol" || len(e.sil.got[0].Matchers) != 2 {
		t.Fatalf("silences %+v", e.sil.got)
	}
	// Declared incidents are paged like any other.
	testutil.Eventually(t, 5*time.Second, "pages of declared incidents", func() bool { return len(e.pages()) == 2 })
	_ = ctx
}

func TestCommandBodyTooLarge(t *testing.T) {
	e := newEnv(t, envOptions{})
	status, _ := e.command(t, strings.Repeat("x", 600<<10), "U0DAVE", "incidents")
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", status)
	}
}

func TestInteractionBadPayloads(t *testing.T) {
	e := newEnv(t, envOptions{})
	cases := map[string]struct {
		payload string
		want    int
	}{
		"not json":      {"{", http.StatusBadRequest},
		"no user":       {`{"type":"block_actions","actions":[{"action_id":"sentinel_ack","block_id":"b","value":"1"}]}`, http.StatusBadRequest},
		"bad id":        {`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"sentinel_ack","block_id":"b","value":"x"}]}`, http.StatusBadRequest},
		"other type":    {`{"type":"view_submission","user":{"id":"U1"}}`, http.StatusOK},
		"other action":  {`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"other","block_id":"b","value":"1"}]}`, http.StatusOK},
		"missing incid": {`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"sentinel_ack","block_id":"b","value":"7"}]}`, http.StatusOK},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := e.client.Interaction(context.Background(), e.srv.URL+"/slack/interactions", []byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d (%s)", r.Status, tc.want, r.Body)
			}
		})
	}
}
