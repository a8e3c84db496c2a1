package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Slack is the slack: section: where pages go in Slack and how Slack's
// callbacks (buttons, the slash command) are authenticated. Slack is on
// when a token is set; the signing secret is then required too.
type Slack struct {
	// Token is the bot token (xoxb-...) used for the Web API.
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// SigningSecret checks that interactions and commands come from Slack.
	SigningSecret     Secret `yaml:"signing_secret"`
	SigningSecretFile string `yaml:"signing_secret_file"`
	// APIURL is the base of the Web API (tests point it at a fake).
	APIURL string `yaml:"api_url"`
	// Channel receives pages: a channel ID (C0123ABCD) or "#name".
	Channel string `yaml:"channel"`
	// IncidentChannels creates a channel inc-<id>-<slug> for every new
	// incident, invites the responders and links it from the page.
	IncidentChannels bool `yaml:"incident_channels"`
	// Command is the slash command the app registers (/sentinel).
	Command string `yaml:"command"`
	// UserGroups are Slack user group IDs (S0123ABCD) mentioned in every
	// page, besides the people on call.
	UserGroups []string `yaml:"user_groups"`
	// Pace is the least time between two messages to one channel; Slack
	// allows about one per second.
	Pace model.Duration `yaml:"pace"`
	// HistoryLimit is how many recent channel messages are read to find a
	// page sent before a restart.
	HistoryLimit int `yaml:"history_limit"`
	// Timeout bounds one Web API call.
	Timeout model.Duration `yaml:"timeout"`
	// UnlinkedUsers is what Slack users who map to no person may do:
	// "none" (the default: every command and button answers how to get
	// linked, and changes nothing) or "viewer" (the read-only commands
	// status, oncall, help and postmortem answer them).
	UnlinkedUsers string `yaml:"unlinked_users"`
}

// Values of slack.unlinked_users.
const (
	UnlinkedNone   = "none"
	UnlinkedViewer = "viewer"
)

// DefaultSlack is the slack: section with its defaults (and no token, so off).
func DefaultSlack() Slack {
	return Slack{
		APIURL:        "https://slack.com/api/",
		Command:       "/sentinel",
		Pace:          model.Duration(time.Second),
		HistoryLimit:  200,
		Timeout:       model.Duration(5 * time.Second),
		UnlinkedUsers: UnlinkedNone,
	}
}

// Enabled reports whether Slack is configured (a token or a signing secret
// is set; Validate then asks for the rest).
func (s Slack) Enabled() bool { return s.Token.IsSet() || s.SigningSecret.IsSet() }

var (
	slackChannelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
	slackChannelNm = regexp.MustCompile(`^#?[a-z0-9][a-z0-9_-]{0,79}$`)
	slackGroupID   = regexp.MustCompile(`^S[A-Z0-9]{2,}$`)
	slackCommand   = regexp.MustCompile(`^/[a-z0-9_-]{1,31}$`)
)

// Validate reports every problem in the slack: section, with paths under
// path (normally "slack"). An unconfigured section has none.
func (s Slack) Validate(path string) Problems {
	var ps Problems
	if !s.Enabled() {
		return nil
	}
	if !s.Token.IsSet() {
		ps.Add(JoinPath(path, "token"), "missing bot token (set token or token_file; it starts with xoxb-)")
	} else if strings.ContainsAny(s.Token.Reveal(), " \t\r\n") {
		ps.Add(JoinPath(path, "token"), "must not contain spaces or line breaks")
	}
	if !s.SigningSecret.IsSet() {
		ps.Add(JoinPath(path, "signing_secret"), "missing signing secret (set signing_secret or signing_secret_file); without it Slack's button clicks cannot be trusted")
	}
	CheckURL(&ps, JoinPath(path, "api_url"), s.APIURL, "https", "http")
	switch {
	case s.Channel == "":
		ps.Add(JoinPath(path, "channel"), "missing channel for pages (a channel ID such as C0123ABCD, or \"#incidents\")")
	case !slackChannelID.MatchString(s.Channel) && !slackChannelNm.MatchString(s.Channel):
		ps.Add(JoinPath(path, "channel"), "%q is neither a channel ID (C0123ABCD) nor a channel name (#incidents)", s.Channel)
	}
	if !slackCommand.MatchString(s.Command) {
		ps.Add(JoinPath(path, "command"), "%q is not a slash command (want / and up to 31 lowercase letters, digits, - or _)", s.Command)
	}
	for i, g := range s.UserGroups {
		if !slackGroupID.MatchString(g) {
			ps.Add(fmt.Sprintf("%s.user_groups[%d]", path, i), "%q is not a Slack user group ID (S0123ABCD)", g)
		}
	}
	if s.Pace < 0 || s.Pace.Std() > time.Minute {
		ps.Add(JoinPath(path, "pace"), "must be between 0 and 1m")
	}
	if s.HistoryLimit < 1 || s.HistoryLimit > 1000 {
		ps.Add(JoinPath(path, "history_limit"), "must be between 1 and 1000, got %d", s.HistoryLimit)
	}
	if s.Timeout <= 0 {
		ps.Add(JoinPath(path, "timeout"), "must be greater than 0")
	}
	if s.UnlinkedUsers != UnlinkedNone && s.UnlinkedUsers != UnlinkedViewer {
		ps.Add(JoinPath(path, "unlinked_users"), "unknown value %q (want none or viewer)", s.UnlinkedUsers)
	}
	return ps
}
