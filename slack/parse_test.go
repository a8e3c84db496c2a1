package slack

import (
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

func TestParseCommand(t *testing.T) {
	cases := []struct {
		in      string
		want    Command
		wantErr string
	}{
		{"", Command{Verb: "help"}, ""},
		{"  HELP ", Command{Verb: "help"}, ""},
		{"status", Command{Verb: "status"}, ""},
		{"oncall", Command{Verb: "oncall"}, ""},
		{"ack", Command{Verb: "ack"}, ""},
		{"acknowledge #42", Command{Verb: "ack", ID: 42}, ""},
		{"resolve 7", Command{Verb: "resolve", ID: 7}, ""},
		{"resolve seven", Command{}, "not an incident ID"},
		{"ack -3", Command{}, "not an incident ID"},
		{"declare critical Checkout &amp; payments down", Command{Verb: "declare", Severity: model.SeverityCritical, Title: "Checkout & payments down"}, ""},
		{"declare WARNING  spaced   title ", Command{Verb: "declare", Severity: model.SeverityWarning, Title: "spaced   title"}, ""},
		{"declare", Command{Verb: "declare", Modal: true}, ""},
		{"note #42 rolled back v42 at 10:42", Command{Verb: "note", ID: 42, Text: "rolled back v42 at 10:42"}, ""},
		{"note 42 is the answer", Command{Verb: "note", Text: "42 is the answer"}, ""},
		{"note", Command{}, "write the text"},
		{"update public A fix is rolling out.", Command{Verb: "update", Public: true, Text: "A fix is rolling out."}, ""},
		{"update #3 waiting on the provider", Command{Verb: "update", ID: 3, Text: "waiting on the provider"}, ""},
		{"update public", Command{}, "write the text"},
		{"severity critical", Command{Verb: "severity", Severity: model.SeverityCritical}, ""},
		{"sev #9 info", Command{Verb: "severity", ID: 9, Severity: model.SeverityInfo}, ""},
		{"severity sev1", Command{}, "critical, warning or info"},
		{"lead", Command{Verb: "lead"}, ""},
		{"lead #5", Command{Verb: "lead", ID: 5}, ""},
		{"lead me", Command{}, "not an incident ID"},
		{"declare critical", Command{}, "title is required"},
		{"declare urgent x", Command{}, "severity"},
		{"silence service=checkout 2h", Command{Verb: "silence", Matchers: []string{"service=checkout"}, Duration: 2 * time.Hour}, ""},
		{`silence {service="a,b",env!=dev} region=~eu.* 1d`, Command{Verb: "silence", Matchers: []string{`service="a,b"`, "env!=dev", "region=~eu.*"}, Duration: 24 * time.Hour}, ""},
		{"silence 2h", Command{}, "matchers and a duration"},
		{"silence service=x soon", Command{}, "not a duration"},
		{"silence , 2h", Command{}, "at least one matcher"},
		{"page everyone", Command{}, `unknown subcommand "page"`},
		{"stauts", Command{}, `unknown subcommand "stauts" (did you mean "status"?)`},
		{strings.Repeat("a", 5000), Command{}, "longer than"},
	}
	for _, tc := range cases {
		got, err := ParseCommand(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got.Verb != tc.want.Verb || got.ID != tc.want.ID || got.Severity != tc.want.Severity || got.Title != tc.want.Title ||
			got.Duration != tc.want.Duration || got.Text != tc.want.Text || got.Public != tc.want.Public || got.Modal != tc.want.Modal || strings.Join(got.Matchers, "|") != strings.Join(tc.want.Matchers, "|") {
			t.Errorf("%q: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseInteraction(t *testing.T) {
	p := slacktest.BlockActions(slacktest.Click{ActionID: ActionResolve, Value: "12", UserID: "U1", UserName: "ann", ChannelID: "C1", MessageTS: "1.2", ActionTS: "3.4", ResponseURL: "https://hooks.slack.com/x"})
	got, err := ParseInteraction(p)
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %+v", err, got)
	}
	a := got[0]
	if a.Kind != KindResolve || a.IncidentID != 12 || a.UserID != "U1" || a.UserName != "ann" || a.ChannelID != "C1" ||
		a.MessageTS != "1.2" || a.ActionTS != "3.4" || a.TeamID != "T0TEST" || a.ResponseURL != "https://hooks.slack.com/x" {
		t.Fatalf("%+v", a)
	}
}

func FuzzParseInteraction(f *testing.F) {
	f.Add(slacktest.BlockActions(slacktest.Click{ActionID: ActionAcknowledge, Value: "1", UserID: "U1"}))
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"sentinel_ack","block_id":"b","value":"1"},{"name":"x"}]}`))
	f.Add([]byte(`{"type":"block_actions","state":{"values":{"a":{"b":{"type":"x"}}}},"message":{"blocks":[{"type":"section"}]}}`))
	f.Add([]byte(`{"type":"view_submission","view":{"blocks":[{"type":"input"}]}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		acts, err := ParseInteraction(payload)
		if err != nil && acts != nil {
			t.Fatal("actions with an error")
		}
		for _, a := range acts {
			if a.IncidentID <= 0 || a.UserID == "" {
				t.Fatalf("accepted %+v", a)
			}
		}
	})
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"", "help", "declare critical x", "declare", "note #1 x", "update public y", "sev #2 info", "lead 3", "ack #3", "silence a=b,c=~\"d,e\" 2h", "resolve 99999999999999999999", "silence {a=\"\\\"\"} 1w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseCommand(text)
		if err != nil {
			return
		}
		switch c.Verb {
		case "help", "status", "oncall", "ack", "resolve", "postmortem", "lead":
		case "note", "update":
			if strings.TrimSpace(c.Text) == "" {
				t.Fatalf("%s without text: %+v", c.Verb, c)
			}
		case "severity":
			if c.Severity.Rank() == 0 {
				t.Fatalf("severity without a level: %+v", c)
			}
		case "declare":
			if !c.Modal && (c.Title == "" || c.Severity.Rank() == 0) {
				t.Fatalf("declare without title or severity: %+v", c)
			}
		case "silence":
			if len(c.Matchers) == 0 || c.Duration <= 0 {
				t.Fatalf("silence without matchers or duration: %+v", c)
			}
		default:
			t.Fatalf("unknown verb %q accepted", c.Verb)
		}
	})
}

// Slack's timestamps ("seconds.microseconds") name when a delivery was
// sent; anything else reads as unknown (the zero time).
func TestSlackTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"1733400000.000100":  time.Unix(1733400000, 100_000),
		"1733400000.5":       time.Unix(1733400000, 500_000_000),
		"1733400000":         time.Unix(1733400000, 0),
		"1733400000.1234567": time.Unix(1733400000, 123_456_000),
		"":                   {},
		"x.1":                {},
		"-5.1":               {},
		"1733400000.-1":      {},
		"1733400000.abc":     {},
	} {
		if got := slackTime(in); !got.Equal(want) {
			t.Errorf("slackTime(%q) = %v, want %v", in, got, want)
		}
	}
}
