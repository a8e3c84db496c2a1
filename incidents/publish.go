package incidents

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// How a change reaches the pagers: every change of an incident is stored
// by commit, which hands the timeline entries people should hear of to
// every pager as one update (Slack edits its message and replies in the
// thread), or, when only what the incident shows changed (a title kept
// current, an alert's summary), a refresh. New kinds of timeline entries
// are announced unless announced says otherwise, so features that add
// entries (notes, severity, commander) reach Slack without a change here.

// announced reports whether a timeline entry is news for the pagers. The
// entries that open an incident travel with its first page, and the pages
// of escalation steps speak for themselves; delivery failures and notes
// kept for the record (runbook diagnostics, postmortem status) change no
// one's view.
func announced(e TimelineEntry) bool {
	switch e.Kind {
	case KindTriggered, KindDeclared, KindDeliveryError, KindDiagnostic, KindPostmortem:
		return false
	case KindPaged, KindEscalated:
		return e.Actor != ActorSentinel // a person's escalation is news; a step's own page carries itself
	}
	return true
}

// commit stores inc after a change and tells the pagers: the announced
// timeline entries since seen, or a refresh when only its view changed
// since it read as before (viewKey; "" when unknown).
func (s *Service) commit(tx Tx, inc *Incident, seen int, before string, now time.Time) error {
	inc.Revision++
	view := viewKey(inc)
	refresh := before != "" && before != view && inc.publishedView != view
	if err := s.publish(tx, inc, seen, refresh, now); err != nil {
		return err
	}
	return tx.Put(inc)
}

// publish enqueues, for every pager, one update announcing the entries inc
// gained since seen (and since the last publish in this transaction), or a
// refresh when there are none but refresh is set.
func (s *Service) publish(tx Tx, inc *Incident, seen int, refresh bool, now time.Time) error {
	from := min(max(seen, inc.published), len(inc.Timeline))
	var events []TimelineEntry
	for _, e := range inc.Timeline[from:] {
		if announced(e) {
			events = append(events, e)
		}
	}
	inc.published = len(inc.Timeline)
	if len(events) == 0 && !refresh {
		return nil
	}
	inc.publishedView = viewKey(inc) // what the pagers will show
	for _, pg := range s.activePagers() {
		n := s.notification(inc, KindUpdate)
		n.Pass, n.Step = inc.Escalation.Pass, inc.Escalation.Step
		n.Event, n.Events = nil, events
		if len(events) > 0 {
			last := events[len(events)-1]
			n.Event = &last
			n.Key = fmt.Sprintf("incident/%d/update/%d/%s", inc.ID, len(inc.Timeline), pg.Name())
		} else {
			n.Key = fmt.Sprintf("incident/%d/refresh/%d/%s", inc.ID, inc.Revision, pg.Name())
		}
		if _, err := tx.Enqueue(OutboxEntry{Key: n.Key, Pager: pg.Name(), Notification: n, DueAt: now, CreatedAt: now}); err != nil {
			return err
		}
	}
	return nil
}

// viewKey digests what pagers show of an incident besides its timeline:
// title, summary, severity, urgency, status, commander and each alert's state and
// annotations. Two equal keys need no refresh.
func viewKey(inc *Incident) string {
	h := fnv.New64a()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	w(inc.Title)
	w(inc.Summary)
	w(string(inc.Severity))
	w(string(inc.UrgencyNow()))
	w(string(inc.Status))
	w(inc.Commander)
	for _, a := range inc.Alerts {
		w(a.Fingerprint)
		w(string(a.State))
		keys := make([]string, 0, len(a.Annotations))
		for k := range a.Annotations {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			w(k)
			w(a.Annotations[k])
		}
	}
	return fmt.Sprintf("%x", h.Sum64())
}

// alertRef names an alert in a timeline entry: its name and the labels
// that tell it from others of that name, as in
// "SLOErrorBudgetBurn (slo=checkout-availability, tier=page)".
func alertRef(name string, labels model.Labels) string {
	var parts []string
	for _, k := range [...]string{"slo", "tier", "probe", "route", "rum", "heartbeat"} {
		if v := labels[k]; v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	if len(parts) == 0 {
		return name
	}
	return name + " (" + strings.Join(parts, ", ") + ")"
}

// alertRefs lists alerts for a timeline entry.
func alertRefs(alerts []Alert) string {
	refs := make([]string, 0, len(alerts))
	for _, a := range alerts {
		refs = append(refs, alertRef(a.Name, a.Labels))
	}
	return strings.Join(refs, ", ")
}

// firingAlerts are the incident's alerts still firing.
func firingAlerts(inc *Incident) []Alert {
	var out []Alert
	for _, a := range inc.Alerts {
		if a.State == model.AlertFiring {
			out = append(out, a)
		}
	}
	return out
}

// plural is "1 alert", "2 alerts".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// wasWere is "was" for one, "were" for more.
func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// retitle keeps an incident opened by alerts in step with them: its title
// is the lead alert's title annotation (a rule's title template), else
// its summary, else its name and the group's labels; its summary is that
// alert's description. The lead is the first of the most severe alerts:
// the one that opened the incident (what broke), unless a more severe one
// joined later (a page-tier burn after a ticket-tier one), which then says
// what the incident is now. Alerts of the same severity joining later
// (burn rates) do not take the title over, and the lead's figures stay as
// they were when it cleared.
// Declared incidents and titles a person chose are left alone, and so is
// a resolved incident: alerts still firing after a person resolved it must
// not rewrite what it said then (a burn alert's live figures in its title).
func retitle(inc *Incident) {
	if inc.Source == SourceDeclared || inc.TitleEdited || len(inc.Alerts) == 0 || inc.Status == StatusResolved {
		return
	}
	lead := &inc.Alerts[0]
	for i := range inc.Alerts {
		if inc.Alerts[i].Severity.Rank() > lead.Severity.Rank() {
			lead = &inc.Alerts[i]
		}
	}
	title := firstNonEmpty(lead.Annotations["title"], lead.Annotations["summary"])
	if title == "" {
		name, labels := lead.Name, inc.Labels
		if name == "" {
			// Alertmanager's API takes alerts without an alertname: their
			// own labels say what they are.
			name, labels = "Alert", lead.Labels
		}
		title = name
		if set := withValues(labels); len(set) > 0 {
			title += " [" + set.String() + "]"
		}
	}
	inc.Title = model.Clip(strings.Join(strings.Fields(title), " "), maxTitleLen)
	if sum := firstNonEmpty(lead.Annotations["description"], lead.Annotations["summary"]); sum != "" {
		inc.Summary = model.Clip(sum, maxSummaryLen)
	}
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// withValues is labels without those whose value is empty (a group label
// its alerts lack), which say nothing in a title.
func withValues(labels model.Labels) model.Labels {
	out := make(model.Labels, len(labels))
	for k, v := range labels {
		if v != "" {
			out[k] = v
		}
	}
	return out
}
