package slack

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

// Action IDs of the page's buttons; the value of each is the incident ID.
const (
	ActionAcknowledge = "sentinel_ack"
	ActionResolve     = "sentinel_resolve"
	ActionEscalate    = "sentinel_escalate"
	// ActionLead makes the clicker the incident's commander; the other
	// three open a modal (views.open) answered by a view_submission.
	ActionLead     = "sentinel_lead"
	ActionSeverity = "sentinel_severity"
	ActionNote     = "sentinel_note"
	ActionUpdate   = "sentinel_update"
)

// Block Kit limits Slack enforces (text lengths in characters).
const (
	maxHeader  = 150
	maxSection = 3000
	maxField   = 2000
	maxAlerts  = 10
)

// esc escapes the three characters Slack's mrkdwn treats as control
// characters, so a title cannot forge a mention or a link.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// clip cuts s to at most n characters, marking the cut.
func clip(s string, n int) string { return model.Clip(s, n) }

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, clip(s, maxSection), false, false)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

// severityIcon is the emoji shown before a severity.
func severityIcon(s model.Severity) string {
	switch s {
	case model.SeverityCritical:
		return ":red_circle:"
	case model.SeverityWarning:
		return ":large_orange_circle:"
	}
	return ":large_blue_circle:"
}

func statusIcon(s incidents.Status) string {
	switch s {
	case incidents.StatusAcknowledged:
		return ":eyes:"
	case incidents.StatusResolved:
		return ":white_check_mark:"
	}
	return ":rotating_light:"
}

// slackDate renders t with Slack's date formatting (shown in the reader's
// time zone) and a UTC fallback.
func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// pageView is what a page message shows besides the notification.
type pageView struct {
	n incidents.Notification
	// mentions are Slack mentions of the people on call (<@U…>) or their
	// names when they have no Slack ID.
	mentions []string
	// groups are user groups to mention (<!subteam^S…>).
	groups []string
	// incidentChannel is the incident's own channel ID, when one exists.
	incidentChannel string
	// baseURL is Sentinel's external URL, for runbook links.
	baseURL string
	// buttons shows the action buttons (while the incident is open).
	buttons bool
	// commander is the incident commander's mention (or name); "" when
	// nobody leads.
	commander string
}

// pageText is the notification text of a page: what phones and screen
// readers show.
func pageText(n incidents.Notification) string {
	inc := n.Incident
	if inc == nil {
		return incidents.Subject(n)
	}
	if lowUrgencyOpen(inc) {
		return fmt.Sprintf("%s Not urgent: #%d %s (%s, %s)", incidentIcon(inc), inc.ID, clip(inc.Title, 200), inc.Severity, inc.Status)
	}
	return fmt.Sprintf("%s #%d %s (%s, %s)", incidentIcon(inc), inc.ID, clip(inc.Title, 200), inc.Severity, inc.Status)
}

// lowUrgencyOpen reports whether inc is open at low urgency: its
// notifications are phrased as not urgent.
func lowUrgencyOpen(inc *incidents.Incident) bool {
	return inc.Status.Open() && inc.UrgencyNow() == oncall.UrgencyLow
}

// incidentIcon is the status icon, a bell instead of the siren for a
// low-urgency incident that is triggered.
func incidentIcon(inc *incidents.Incident) string {
	if inc.Status == incidents.StatusTriggered && inc.UrgencyNow() == oncall.UrgencyLow {
		return ":bell:"
	}
	return statusIcon(inc.Status)
}

// urgencyText is the urgency field of the page.
func urgencyText(inc *incidents.Incident) string {
	if inc.UrgencyNow() == oncall.UrgencyLow {
		return "low: notified once, no escalation"
	}
	return "high"
}

// pageBlocks builds the page message: header, fields, summary, alerts,
// SLO impact, links and the buttons.
func pageBlocks(v pageView) []slack.Block {
	inc := v.n.Incident
	if inc == nil {
		return nil
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(clip(fmt.Sprintf("#%d %s", inc.ID, inc.Title), maxHeader)), slack.HeaderBlockOptionBlockID("sentinel_header")),
	}
	status := fmt.Sprintf("%s %s", statusIcon(inc.Status), inc.Status)
	switch by := statusActor(v.n); {
	case by == incidents.ActorSentinel && inc.Status == incidents.StatusResolved:
		status += ": every alert cleared"
	case by != "":
		status += " by " + esc(clip(by, 100))
	}
	onCall := "nobody"
	if len(v.mentions) > 0 || len(v.groups) > 0 {
		onCall = strings.Join(append(append([]string(nil), v.mentions...), v.groups...), ", ")
	}
	fields := []*slack.TextBlockObject{
		mrkdwn(fmt.Sprintf("*Severity*\n%s %s", severityIcon(inc.Severity), inc.Severity)),
		mrkdwn("*Urgency*\n" + urgencyText(inc)),
		mrkdwn("*Status*\n" + clip(status, maxField)),
		mrkdwn("*On call*\n" + clip(onCall, maxField)),
		mrkdwn("*Since*\n" + slackDate(inc.CreatedAt)),
	}
	if v.commander != "" {
		fields = append(fields, mrkdwn("*Commander*\n"+clip(v.commander, maxField)))
	}
	blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil, slack.SectionBlockOptionBlockID("sentinel_fields")))
	if s := strings.TrimSpace(inc.Summary); s != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(esc(s)), nil, nil, slack.SectionBlockOptionBlockID("sentinel_summary")))
	}
	if u := latestUpdate(inc); u != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(u), nil, nil, slack.SectionBlockOptionBlockID("sentinel_update")))
	}
	if c := changeLines(v.n.Changes); c != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(c), nil, nil, slack.SectionBlockOptionBlockID("sentinel_changes")))
	}
	if a := alertLines(inc); a != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(a), nil, nil, slack.SectionBlockOptionBlockID("sentinel_alerts")))
	}
	if b := budgetLines(v.n.SLOs); b != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(b), nil, nil, slack.SectionBlockOptionBlockID("sentinel_slos")))
	}
	if links := linkElements(v); len(links) > 0 {
		blocks = append(blocks, slack.NewContextBlock("sentinel_links", links...))
	}
	if v.buttons && inc.Status.Open() {
		blocks = append(blocks, actionBlock(inc))
	}
	return blocks
}

// linkSafe escapes what would end a Slack link early.
var linkSafe = strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C", " ", "%20")

// maxChanges bounds the changes a page lists.
const maxChanges = 5

// changeLines lists the changes to the incident's services before it
// started, newest first, linked when they carry a URL.
func changeLines(cs []incidents.RecentChange) string {
	if len(cs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("*Changes before it started*")
	for i, c := range cs {
		if i == maxChanges {
			fmt.Fprintf(&b, "\n… and %d more", len(cs)-maxChanges)
			break
		}
		words := esc(clip(c.Words, 300))
		if c.URL != "" {
			words = fmt.Sprintf("<%s|%s>", linkSafe.Replace(c.URL), words)
		}
		b.WriteString("\n:arrows_counterclockwise: " + words)
	}
	return clip(b.String(), maxSection)
}

// latestUpdate shows the last stakeholder update: whether the public saw
// it, when, who wrote it and what it said.
func latestUpdate(inc *incidents.Incident) string {
	if len(inc.Updates) == 0 {
		return ""
	}
	u := inc.Updates[len(inc.Updates)-1]
	audience := "internal"
	if u.Public {
		audience = "public"
	}
	return clip(fmt.Sprintf("*Latest update* (%s, %s by %s)\n%s", audience, slackDate(u.At), esc(clip(u.Author, 100)), esc(u.Text)), maxSection)
}

// statusActor is who brought the incident to its status: the incident
// says so; older snapshots tell it by their event.
func statusActor(n incidents.Notification) string {
	inc := n.Incident
	switch inc.Status {
	case incidents.StatusAcknowledged:
		if inc.AcknowledgedBy != "" {
			return inc.AcknowledgedBy
		}
	case incidents.StatusResolved:
		if inc.ResolvedBy != "" {
			return inc.ResolvedBy
		}
	default:
		return ""
	}
	if e := n.Event; e != nil && (e.Kind == incidents.KindAcknowledged || e.Kind == incidents.KindResolved) {
		return e.Actor
	}
	return ""
}

// actionBlock holds the buttons an incident in its status can use.
func actionBlock(inc *incidents.Incident) *slack.ActionBlock {
	id := strconv.FormatInt(inc.ID, 10)
	var els []slack.BlockElement
	if inc.Status == incidents.StatusTriggered {
		els = append(els, slack.NewButtonBlockElement(ActionAcknowledge, id, plain("Acknowledge")).WithStyle(slack.StylePrimary))
	}
	resolve := slack.NewButtonBlockElement(ActionResolve, id, plain("Resolve"))
	els = append(els, resolve)
	escalate := slack.NewButtonBlockElement(ActionEscalate, id, plain("Escalate")).WithStyle(slack.StyleDanger)
	escalate.Confirm = slack.NewConfirmationBlockObject(plain("Escalate?"),
		mrkdwn(fmt.Sprintf("Page the next step of the escalation policy for #%d now?", inc.ID)), plain("Escalate"), plain("Cancel"))
	els = append(els, escalate,
		slack.NewButtonBlockElement(ActionLead, id, plain("I'll lead")),
		slack.NewButtonBlockElement(ActionSeverity, id, plain("Severity")),
		slack.NewButtonBlockElement(ActionNote, id, plain("Add note")),
		slack.NewButtonBlockElement(ActionUpdate, id, plain("Post update")))
	return slack.NewActionBlock("sentinel_actions", els...)
}

// maxLinks is the most elements Slack takes in a context block.
const maxLinks = 10

// linkElements are the page's links: those the notification carries
// (incident, failed run, SLO pages, runbook, Grafana), the runbook even
// without an external URL, and the incident channel.
func linkElements(v pageView) []slack.MixedElement {
	var out []slack.MixedElement
	hasRunbook := false
	for _, l := range v.n.Links {
		if len(out) == maxLinks-1 {
			break
		}
		hasRunbook = hasRunbook || strings.HasPrefix(l.Title, "Runbook ")
		out = append(out, mrkdwn(fmt.Sprintf("<%s|%s>", l.URL, esc(clip(l.Title, 100)))))
	}
	if len(v.n.Links) == 0 && v.n.URL != "" {
		out = append(out, mrkdwn(fmt.Sprintf("<%s|Open incident #%d>", v.n.URL, v.n.Incident.ID)))
	}
	if inc := v.n.Incident; inc.Runbook != "" && !hasRunbook && len(out) < maxLinks-1 {
		out = append(out, mrkdwn(runbookLink(v.baseURL, inc.Runbook)))
	}
	if v.incidentChannel != "" {
		out = append(out, mrkdwn(fmt.Sprintf("Channel: <#%s>", v.incidentChannel)))
	}
	return out
}

// runbookLink links a runbook by name in Sentinel's UI.
func runbookLink(base, name string) string {
	if base == "" {
		return "Runbook: " + esc(name)
	}
	return fmt.Sprintf("<%s/runbooks/%s|Runbook: %s>", strings.TrimRight(base, "/"), url.PathEscape(name), esc(name))
}

// alertLines lists the incident's alerts, firing first: name, state and
// summary (which names the failing step, status and error, or the SLO's
// budget), the labels that tell alerts of one name apart when there is no
// summary, and a burn alert's tier and windows.
func alertLines(inc *incidents.Incident) string {
	if len(inc.Alerts) == 0 {
		return ""
	}
	alerts := append([]incidents.Alert(nil), inc.Alerts...)
	sort.SliceStable(alerts, func(i, j int) bool {
		return alerts[i].State == model.AlertFiring && alerts[j].State != model.AlertFiring
	})
	var b strings.Builder
	firing := 0
	for _, a := range alerts {
		if a.State == model.AlertFiring {
			firing++
		}
	}
	fmt.Fprintf(&b, "*Alerts* (%d firing of %d)", firing, len(alerts))
	for i, a := range alerts {
		if i == maxAlerts {
			fmt.Fprintf(&b, "\n… and %d more", len(alerts)-maxAlerts)
			break
		}
		icon := ":fire:"
		if a.State != model.AlertFiring {
			icon = ":white_check_mark:"
		}
		fmt.Fprintf(&b, "\n%s *%s* %s", icon, esc(clip(a.Name, 100)), a.State)
		sum := a.Annotations["summary"]
		keys := []string{"tier"}
		if sum == "" {
			keys = []string{"probe", "step", "slo", "tier", "route", "location"}
		}
		var about []string
		for _, k := range keys {
			if v := a.Labels[k]; v != "" {
				about = append(about, k+"="+v)
			}
		}
		if len(about) > 0 {
			fmt.Fprintf(&b, " (%s)", esc(clip(strings.Join(about, ", "), 200)))
		}
		if sum != "" {
			fmt.Fprintf(&b, ": %s", esc(clip(sum, 300)))
		}
		if d := a.Annotations["detail"]; d != "" && a.State == model.AlertFiring {
			fmt.Fprintf(&b, "\n      _%s_", esc(clip(d, 300)))
		}
	}
	return b.String()
}

// budgetLines is the error-budget block: for each SLO the incident
// affects, what this incident spent of its budget, what is left, and how
// long that lasts at the current rate.
func budgetLines(slos []incidents.SLOImpact) string {
	if len(slos) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("*Error budget*")
	for _, s := range slos {
		fmt.Fprintf(&b, "\n• *%s*", esc(s.Name))
		if s.Objective > 0 && s.Window > 0 {
			fmt.Fprintf(&b, " (%s%% over %s)", strconv.FormatFloat(s.Objective, 'f', -1, 64),
				model.Duration(time.Duration(s.Window*float64(time.Second))))
		}
		b.WriteString(": " + esc(s.Words()))
	}
	return b.String()
}

// dmBlocks is the direct message to a person paged: who, what and the buttons.
func dmBlocks(v pageView) []slack.Block {
	inc := v.n.Incident
	if inc == nil {
		return nil
	}
	text := fmt.Sprintf("%s You are paged for *#%d %s* (%s %s).", statusIcon(inc.Status), inc.ID, esc(clip(inc.Title, 200)), severityIcon(inc.Severity), inc.Severity)
	if lowUrgencyOpen(inc) {
		text = fmt.Sprintf("%s Not urgent: *#%d %s* (%s %s) needs a look when you can. You are notified once; it does not escalate or repeat by itself.",
			incidentIcon(inc), inc.ID, esc(clip(inc.Title, 200)), severityIcon(inc.Severity), inc.Severity)
	}
	if s := strings.TrimSpace(inc.Summary); s != "" && s != inc.Title {
		text += "\n" + esc(clip(s, 1000))
	}
	if v.n.URL != "" {
		text += fmt.Sprintf("\n<%s|Open incident>", v.n.URL)
	}
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil, slack.SectionBlockOptionBlockID("sentinel_dm"))}
	if inc.Status.Open() {
		blocks = append(blocks, actionBlock(inc))
	}
	return blocks
}

// replyText is the thread reply for a timeline event or a later page.
// replyText is the thread reply announcing n; "" when everything it
// announces was written in the thread itself.
func replyText(n incidents.Notification, mentions []string) string {
	var b strings.Builder
	if n.Kind == incidents.KindPage {
		if n.Incident != nil && lowUrgencyOpen(n.Incident) {
			b.WriteString(":bell: Notifying (not urgent) ")
		} else {
			b.WriteString(":rotating_light: Paging ")
		}
		if len(mentions) > 0 {
			b.WriteString(strings.Join(mentions, ", "))
		} else {
			b.WriteString(esc(n.Target.String()))
		}
		fmt.Fprintf(&b, " (step %d", n.Step+1)
		if n.Pass > 0 {
			fmt.Fprintf(&b, ", repeat %d", n.Pass)
		}
		b.WriteString(")")
		return b.String()
	}
	events := n.Events
	if len(events) == 0 && n.Event != nil {
		events = []incidents.TimelineEntry{*n.Event}
	}
	if len(events) > 0 {
		// Replies written in the thread are there already.
		events = slices.DeleteFunc(slices.Clone(events), func(e incidents.TimelineEntry) bool { return e.Via == incidents.ViaSlackThread })
		if len(events) == 0 {
			return ""
		}
	}
	for i, e := range events {
		if i > 0 {
			b.WriteByte('\n')
		}
		if e.Kind == incidents.KindNote {
			fmt.Fprintf(&b, "%s *%s*: %s", eventIcon(e.Kind), esc(clip(e.Actor, 100)), esc(clip(e.Text, 1000)))
			continue
		}
		fmt.Fprintf(&b, "%s %s", eventIcon(e.Kind), esc(clip(e.Text, 1000)))
	}
	if len(events) > 0 {
		return clip(b.String(), maxSection)
	}
	return esc(incidents.Subject(n))
}

func eventIcon(kind string) string {
	switch kind {
	case incidents.KindAcknowledged:
		return ":eyes:"
	case incidents.KindResolved:
		return ":white_check_mark:"
	case incidents.KindEscalated, incidents.KindPaged:
		return ":rotating_light:"
	case incidents.KindReopened, incidents.KindAlertFiring:
		return ":fire:"
	case incidents.KindAlertResolved:
		return ":large_green_circle:"
	case incidents.KindStakeholderUpdate:
		return ":loudspeaker:"
	case incidents.KindCommander:
		return ":bust_in_silhouette:"
	case incidents.KindSeverity, incidents.KindUrgency:
		return ":arrow_up_down:"
	case incidents.KindTitle:
		return ":pencil2:"
	}
	return ":memo:"
}

// announcementBlocks shows an announcement from alerting.
func announcementBlocks(a *model.Announcement) []slack.Block {
	text := fmt.Sprintf(":loudspeaker: %s", esc(clip(a.Text, maxSection-200)))
	if len(a.Labels) > 0 {
		text += fmt.Sprintf("\n`%s`", esc(clip(a.Labels.String(), 180)))
	}
	return []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil, slack.SectionBlockOptionBlockID("sentinel_announcement"))}
}

// channelName is an incident channel's name: inc-<id>-<slug of the
// title>, at most 80 characters of lowercase letters, digits and dashes.
func channelName(inc *incidents.Incident) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(inc.Title) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	prefix := fmt.Sprintf("inc-%d", inc.ID)
	slug := strings.Trim(b.String(), "-")
	if slug == "" {
		return prefix
	}
	name := prefix + "-" + slug
	if len(name) > 80 {
		name = strings.TrimRight(name[:80], "-")
	}
	return name
}
