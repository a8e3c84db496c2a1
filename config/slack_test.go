package config

import (
	"strings"
	"testing"
)

func TestSlackValidate(t *testing.T) {
	base := func() Slack {
		s := DefaultSlack()
		s.Token, s.SigningSecret, s.Channel = NewSecret("xoxb-1"), NewSecret("s3cret"), "#incidents"
		return s
	}
	cases := []struct {
		name string
		edit func(*Slack)
		want []string
	}{
		{"off", func(s *Slack) { *s = DefaultSlack() }, nil},
		{"ok", func(*Slack) {}, nil},
		{"channel id", func(s *Slack) { s.Channel = "C0123ABCD" }, nil},
		{"no secret", func(s *Slack) { s.SigningSecret = Secret{} }, []string{"slack.signing_secret: missing"}},
		{"no token", func(s *Slack) { s.Token = Secret{} }, []string{"slack.token: missing"}},
		{"no channel", func(s *Slack) { s.Channel = "" }, []string{"slack.channel: missing"}},
		{"bad channel", func(s *Slack) { s.Channel = "#Inc idents" }, []string{"slack.channel"}},
		{"bad command", func(s *Slack) { s.Command = "sentinel" }, []string{"slack.command"}},
		{"bad group", func(s *Slack) { s.UserGroups = []string{"U123"} }, []string{"slack.user_groups[0]"}},
		{"bad url", func(s *Slack) { s.APIURL = "slack.com/api" }, []string{"slack.api_url"}},
		{"history", func(s *Slack) { s.HistoryLimit = 0 }, []string{"slack.history_limit"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.edit(&s)
			ps := s.Validate("slack")
			if len(ps) != len(tc.want) {
				t.Fatalf("problems %v, want %v", ps, tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(ps[i].String(), w) {
					t.Errorf("problem %q lacks %q", ps[i], w)
				}
			}
		})
	}
}

func TestSlackFromYAMLWithFileSecrets(t *testing.T) {
	src := "slack: {token_file: /t, signing_secret_file: /s, channel: \"#incidents\", incident_channels: true}\n"
	cfg, err := Parse("x.yaml", []byte(src), Options{ReadFile: func(p string) ([]byte, error) { return []byte("value-of" + p + "\n"), nil }})
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Slack
	if s.Token.Reveal() != "value-of/t" || s.SigningSecret.Reveal() != "value-of/s" || !s.IncidentChannels || s.Command != "/sentinel" || s.Pace.Std().Seconds() != 1 {
		t.Fatalf("%+v", s)
	}
	if ps := s.Validate("slack"); len(ps) > 0 {
		t.Fatal(ps)
	}
	if _, err := Parse("x.yaml", []byte("slack: {tokn: x}\n"), Options{}); err == nil || !strings.Contains(err.Error(), "tokn") {
		t.Fatalf("unknown key accepted: %v", err)
	}
}
