package incidents

import (
	"fmt"
	"time"

	"github.com/sentinel-oss/sentinel/incidents/oncall"
)

// followSeverity brings an open incident's urgency in line with its
// severity once the severity changed (an alert raised it, a person set
// it), under its policy's urgency key. Rising to high urgency while
// triggered starts the escalation again from the first step, in a new
// epoch, after an update announcing why; falling to low urgency stops
// further steps and repeats. An acknowledged incident changes urgency
// without a page: someone has it. Each change is a timeline entry.
func (s *Service) followSeverity(tx Tx, inc *Incident, seen int, now time.Time) error {
	if !inc.Status.Open() {
		return nil
	}
	p := s.policyOf(inc)
	want := p.UrgencyFor(inc.Severity)
	if want == inc.UrgencyNow() {
		inc.Urgency = want
		return nil
	}
	inc.Urgency = want
	e := &inc.Escalation
	if want == oncall.UrgencyLow {
		text := fmt.Sprintf("urgency lowered to low: the incident is %s now", inc.Severity)
		switch {
		case inc.Status != StatusTriggered:
		case e.Step < 0:
			text += fmt.Sprintf("; step 1 of policy %s will be notified once, without escalation or repeats", p.Name)
		case e.NextAt != nil:
			e.NextAt = nil
			text += "; no further escalation steps or repeats"
		}
		inc.note(now, KindUrgency, ActorSentinel, "%s", text)
		return nil
	}
	if inc.Status == StatusAcknowledged {
		inc.note(now, KindUrgency, ActorSentinel, "urgency raised to high: the incident is %s now; it stays acknowledged by %s, so nobody is paged", inc.Severity, actorOr(inc.AcknowledgedBy))
		return nil
	}
	inc.note(now, KindUrgency, ActorSentinel, "urgency raised to high: the incident is %s now; escalation starts from step 1 of policy %s", inc.Severity, p.Name)
	if err := s.publish(tx, inc, seen, false, now); err != nil { // the update before the step's pages
		return err
	}
	return s.startEscalation(tx, inc, now)
}
