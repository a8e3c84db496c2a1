package model

import (
	"encoding/json"
	"fmt"
)

// Severity ranks how urgent an alert or incident is.
type Severity string

// The three severities of the contract; SLO burn tiers map page to Critical
// and ticket to Warning.
const (
	SeverityCritical Severity = "critical"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"
)

// ParseSeverity accepts exactly the contract's three words.
func ParseSeverity(s string) (Severity, error) {
	switch Severity(s) {
	case SeverityCritical, SeverityWarning, SeverityInfo:
		return Severity(s), nil
	}
	return "", fmt.Errorf("unknown severity %q (want critical, warning or info)", s)
}

// Rank orders severities: critical 3, warning 2, info 1, anything else 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// UnmarshalYAML refuses words other than the three severities.
func (s *Severity) UnmarshalYAML(unmarshal func(any) error) error {
	var raw string
	if err := unmarshal(&raw); err != nil {
		return err
	}
	v, err := ParseSeverity(raw)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// UnmarshalJSON refuses words other than the three severities.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var raw string
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("severity must be a string")
	}
	v, err := ParseSeverity(raw)
	if err != nil {
		return err
	}
	*s = v
	return nil
}
