package statuspage

import (
	"fmt"
	"strings"
)

// Status is a component's condition, in Statuspage's words.
type Status string

// The five statuses, from best to worst (under_maintenance is planned, so
// it ranks just above operational).
const (
	Operational         Status = "operational"
	UnderMaintenance    Status = "under_maintenance"
	DegradedPerformance Status = "degraded_performance"
	PartialOutage       Status = "partial_outage"
	MajorOutage         Status = "major_outage"
)

// Statuses lists the five, best first.
var statuses = [...]Status{Operational, UnderMaintenance, DegradedPerformance, PartialOutage, MajorOutage}

// ParseStatus reads one of the five words.
func ParseStatus(s string) (Status, error) {
	for _, st := range statuses {
		if s == string(st) {
			return st, nil
		}
	}
	words := make([]string, len(statuses))
	for i, st := range statuses {
		words[i] = string(st)
	}
	return "", fmt.Errorf("unknown status %q (want %s)", s, strings.Join(words, ", "))
}

// rank orders statuses from best (0) to worst (4); an unknown value ranks
// as operational.
func (s Status) rank() int {
	for i, st := range statuses {
		if s == st {
			return i
		}
	}
	return 0
}

// Worse reports whether s is worse than o.
func (s Status) Worse(o Status) bool { return s.rank() > o.rank() }

// Worst returns the worse of two statuses.
func Worst(a, b Status) Status {
	if b.Worse(a) {
		return b
	}
	return a
}

// Label is the status as people read it ("Partial outage").
func (s Status) Label() string {
	switch s {
	case UnderMaintenance:
		return "Under maintenance"
	case DegradedPerformance:
		return "Degraded performance"
	case PartialOutage:
		return "Partial outage"
	case MajorOutage:
		return "Major outage"
	}
	return "Operational"
}

// code is the byte a minute of history stores for s (0 means no sample).
func (s Status) code() byte { return byte(s.rank() + 1) }

// statusOfCode reads a stored minute; false for a minute without a sample
// or a byte this Sentinel does not know.
func statusOfCode(b byte) (Status, bool) {
	if b == 0 || int(b) > len(statuses) {
		return "", false
	}
	return statuses[b-1], true
}
