package model

import "time"

// SLOState is one SLO's evaluated state, the value the slo package offers to
// alerting (burn tiers, budget) and to incidents (budget consumed).
type SLOState struct {
	Name    string
	Service string
	// Probe is the probe whose runs a probe SLI counts; "" for others.
	Probe     string
	Labels    Labels
	Objective float64 // percent, as configured: 99.9
	Window    time.Duration
	// SLI is good/total over the window; 1 when there were no events.
	SLI float64
	// BudgetRemaining is the fraction of the error budget left (negative when overspent).
	BudgetRemaining float64
	// BudgetProjected is true when the budget's allowance is projected
	// from the traffic seen so far (event SLIs early in their window), so
	// the shares of it move as traffic comes in.
	BudgetProjected bool
	// BurnRates by window name: "5m", "30m", "1h", "2h", "6h", "1d", "3d", "window".
	BurnRates map[string]float64
	// Events is the total number of events in the window.
	Events int64
	// Tiers are the multi-window multi-burn-rate conditions, firing or not.
	Tiers []BurnTier
	// Exhausted is true when the budget is spent (BudgetRemaining <= 0).
	Exhausted bool
	// TimeToExhaustion is how long the remaining budget lasts at the rate
	// the last hour spent it (SpentLastHour over SpentOver), as the SLO
	// engine projects it; nil when not burning, 0 when spent.
	TimeToExhaustion *time.Duration
	// SpentLastHour is the share of the window's error budget the last
	// hour spent, as the SLO engine's budget model counts it; nil when
	// unknown.
	SpentLastHour *float64
	// SpentOver is how much of the last hour SpentLastHour covers: the
	// hour, or less while the SLO's data is younger than that.
	SpentOver   time.Duration
	EvaluatedAt time.Time
	// Alerting customises the SLO's burn alerts (slos[].alerting).
	Alerting SLOAlerting
}

// SLOAlerting customises an SLO's burn alerts: one alert name for both
// tiers (empty: the default), labels and annotations added to both, and per
// tier.
type SLOAlerting struct {
	Name        string
	Labels      Labels
	Annotations Labels
	Page        SLOAlertTier
	Ticket      SLOAlertTier
}

// SLOAlertTier customises one tier of an SLO's burn alerts.
type SLOAlertTier struct {
	Disabled    bool
	Labels      Labels
	Annotations Labels
}

// Tier returns the settings of tier "page" or "ticket".
func (a SLOAlerting) Tier(name string) SLOAlertTier {
	if name == "page" {
		return a.Page
	}
	return a.Ticket
}

// BurnTier is one multi-window multi-burn-rate condition of an SLO.
type BurnTier struct {
	Name        string // "page" or "ticket"
	Severity    Severity
	LongWindow  time.Duration
	ShortWindow time.Duration
	Factor      float64 // k: the burn rate both windows must exceed
	LongRate    float64
	ShortRate   float64
	// Firing is true when both windows exceed Factor and the minimum-events guard passed.
	Firing bool
}

// AlertState is where an alert is in its lifecycle.
type AlertState string

// Alert states, as Prometheus names them.
const (
	AlertInactive AlertState = "inactive"
	AlertPending  AlertState = "pending"
	AlertFiring   AlertState = "firing"
	AlertResolved AlertState = "resolved"
)

// Alert is one alert instance, from Sentinel's own rules, a heartbeat, an
// SLO burn tier, or an Alertmanager delivery.
type Alert struct {
	Name         string // rule or alertname
	Fingerprint  string // stable identity of the labels
	Labels       Labels
	Annotations  Labels
	State        AlertState
	Severity     Severity
	Runbook      string // runbook name, when the rule or a matching runbook names one
	Source       string // "rule", "slo", "heartbeat", "alertmanager"
	GroupKey     string // the incidents.group_by values, or Alertmanager's groupKey
	Silenced     bool
	StartsAt     time.Time // when it became pending (or firing for outside alerts)
	FiredAt      time.Time // when it became firing
	EndsAt       time.Time // when it resolved; zero while active
	GeneratorURL string
}

// AlertGroup is the set of alerts sharing a group key, handed from alerting
// to incidents at every change.
type AlertGroup struct {
	Key    string
	Labels Labels // the group_by labels, or Alertmanager's groupLabels
	Source string // "sentinel" or "alertmanager"
	Alerts []Alert
	// Firing is true while any alert in the group fires.
	Firing bool
}

// Announcement is something alerting wants people told about that is not an
// alert of its own, such as a silence expiring while its alert still fires;
// incidents sends it through the pagers.
type Announcement struct {
	Kind     string // "silence_expiring", "silence_expired"
	Text     string
	Labels   Labels
	Severity Severity
	At       time.Time
}
