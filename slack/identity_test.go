package slack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// In these tests nobody is on a schedule: alice (found by her Slack
// email) is therefore a viewer, carol a responder by her people: entry,
// and dave is linked to no person.

func TestUnlinkedSlackUserChangesNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, text := range []string{"declare critical Checkout is down", "silence service=checkout 2h", "ack 1", "status", "oncall", "help", "frobnicate"} {
		status, body := e.command(t, text, "U0DAVE", "incidents")
		if status != http.StatusOK || body["response_type"] != "ephemeral" {
			t.Fatalf("%q: %d %v", text, status, body)
		}
		for _, w := range []string{"not linked to a person", "your Slack ID is U0DAVE", "ask an admin"} {
			if !strings.Contains(strings.ToLower(body["text"]), strings.ToLower(w)) {
				t.Errorf("%q: answer %q lacks %q", text, body["text"], w)
			}
		}
	}
	list, err := e.svc.List(context.Background(), incidents.ListQuery{})
	if err != nil || len(list) != 0 {
		t.Fatalf("incidents after a stranger's commands: %d (%v)", len(list), err)
	}
	if len(e.sil.got) != 0 {
		t.Fatalf("a stranger created silences: %+v", e.sil.got)
	}
}

func TestUnlinkedUsersViewerOpensReadOnlyCommands(t *testing.T) {
	e := newEnv(t, envOptions{slack: func(c *config.Slack) { c.UnlinkedUsers = config.UnlinkedViewer }})
	cases := map[string]string{"status": "No incident is open", "oncall": "No on-call schedule", "help": "declare", "frobnicate": "unknown subcommand"}
	for text, want := range cases {
		_, body := e.command(t, text, "U0DAVE", "incidents")
		if !strings.Contains(body["text"], want) {
			t.Errorf("%q: answer %q lacks %q", text, body["text"], want)
		}
	}
	_, body := e.command(t, "declare critical Checkout is down", "U0DAVE", "incidents")
	if !strings.Contains(body["text"], "not linked") {
		t.Fatalf("declare by a stranger: %q", body["text"])
	}
	if list, _ := e.svc.List(context.Background(), incidents.ListQuery{}); len(list) != 0 {
		t.Fatalf("a stranger declared %d incidents", len(list))
	}
}

func TestSlackActsWithThePersonsRole(t *testing.T) {
	e := newEnv(t, envOptions{})
	// alice is a viewer: she reads, she does not declare.
	if _, body := e.command(t, "status", "U0ALICE", "incidents"); !strings.Contains(body["text"], "No incident is open") {
		t.Fatalf("viewer's status: %q", body["text"])
	}
	_, body := e.command(t, "declare critical Checkout is down", "U0ALICE", "incidents")
	if !strings.Contains(body["text"], "your role is viewer") || body["response_type"] != "ephemeral" {
		t.Fatalf("viewer's declare: %v", body)
	}
	// carol is a responder.
	_, body = e.command(t, "declare critical Checkout is down", "U024BE7LH", "incidents")
	if !strings.Contains(body["text"], "declared") {
		t.Fatalf("responder's declare: %v", body)
	}
	inc := e.incident(t, 1)
	if inc.Timeline[0].Actor != "carol" {
		t.Fatalf("declared by %q, want carol", inc.Timeline[0].Actor)
	}
	// alice's Acknowledge button is refused and answered through response_url.
	if r := e.click(t, slack.ActionAcknowledge, 1, "U0ALICE", "alice", "1.1", "9.1"); r.Status != http.StatusOK {
		t.Fatalf("click: %d", r.Status)
	}
	if got := e.incident(t, 1).Status; got != incidents.StatusTriggered {
		t.Fatalf("a viewer's click made the incident %s", got)
	}
	waitResponse(t, e, "your role is viewer")
	want := []string{
		"alice|viewer|slack|slack command declare|declare critical Checkout is down|refused",
		"carol|responder|slack|slack command declare|declare critical Checkout is down|ok",
		"alice|viewer|slack|slack acknowledge|#1|refused",
	}
	if got := e.audit.entries(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestOnCallPeopleAreResponders(t *testing.T) {
	e := newEnv(t, envOptions{oncall: config.Oncall{EscalationPolicies: []config.EscalationPolicy{{
		Name: "default", Steps: []config.EscalationStep{{Notify: config.Targets{"user:alice"}}},
	}}}})
	_, body := e.command(t, "declare warning Slow search", "U0ALICE", "incidents")
	if !strings.Contains(body["text"], "declared") {
		t.Fatalf("alice, named by a policy, could not declare: %q", body["text"])
	}
}

func TestReplayedSlashCommandActsOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	form := slacktest.Command{Text: "declare critical Checkout is down", UserID: "U024BE7LH", UserName: "carol",
		ChannelID: "C0INCIDENTS", ChannelName: "incidents", ResponseURL: e.fake.ResponseURL("cmd")}.Form()
	ts := time.Now()
	var answers []string
	for range 2 {
		r, err := e.client.Post(context.Background(), e.srv.URL+"/slack/commands", form, ts, "")
		if err != nil || r.Status != http.StatusOK {
			t.Fatalf("post: %v %d", err, r.Status)
		}
		var body map[string]string
		_ = json.Unmarshal([]byte(r.Body), &body)
		answers = append(answers, body["text"])
	}
	if !strings.Contains(answers[0], "declared") || !strings.Contains(answers[1], "already received") {
		t.Fatalf("answers %q", answers)
	}
	list, _ := e.svc.List(context.Background(), incidents.ListQuery{})
	if len(list) != 1 {
		t.Fatalf("a replayed command made %d incidents, want 1", len(list))
	}
	// A new invocation of the same text (a new trigger_id) is a new command.
	if _, body := e.command(t, "declare critical Checkout is down", "U024BE7LH", "incidents"); !strings.Contains(body["text"], "#2") {
		t.Fatalf("second declare: %q", body["text"])
	}
}

func TestDefaultRoles(t *testing.T) {
	e := newEnv(t, envOptions{oncall: config.Oncall{Schedules: []config.Schedule{{
		Name: "primary", Timezone: "UTC",
		Rotation: &config.Rotation{Every: model.Duration(7 * 24 * time.Hour), Handoff: "Mon 09:00", Members: []string{"alice", "carol"}},
	}}}})
	p, ok := e.svc.People().Resolve("alice")
	if !ok || p.Role != config.RoleResponder {
		t.Fatalf("alice on a schedule: %+v", p)
	}
	if p, _ := e.svc.People().Resolve("bob"); p.Role != config.RoleViewer {
		t.Fatalf("bob on nothing: role %q, want viewer", p.Role)
	}
}

func waitResponse(t *testing.T, e *env, want string) {
	t.Helper()
	testutil.Eventually(t, 5*time.Second, "an answer through response_url saying "+want, func() bool {
		for _, r := range e.fake.Responses() {
			if txt, _ := r.JSON["text"].(string); strings.Contains(txt, want) {
				return true
			}
		}
		return false
	})
}
