package dashboards

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/model"
)

// SilenceForm is the new-silence form as a person filled it in, kept to
// show again when the silence is refused.
type SilenceForm struct {
	// Matchers holds one matcher a line, such as service="checkout".
	Matchers string
	// Duration is how long the silence lasts, such as 2h or 1d.
	Duration string
	Comment  string
}

// DefaultSilenceDuration fills the form's duration.
const DefaultSilenceDuration = "2h"

// maxSilenceMatchersField bounds the matchers field (the silence itself is
// checked by alerting).
const maxSilenceMatchersField = 32 << 10

// ParseSilenceForm reads the new-silence form.
func ParseSilenceForm(form url.Values) SilenceForm {
	return SilenceForm{Matchers: textarea(form.Get("matchers")), Duration: strings.TrimSpace(form.Get("duration")), Comment: textarea(form.Get("comment"))}
}

// NewSilence is the silence the form asks for, by author. Errors wrap
// ErrInvalid and start with the field they are about.
func (f SilenceForm) NewSilence(author string) (alerting.NewSilence, error) {
	n := alerting.NewSilence{Comment: strings.TrimSpace(f.Comment), Author: author}
	if len(f.Matchers) > maxSilenceMatchersField {
		return n, formError(fmt.Sprintf("matchers: at most %d bytes", maxSilenceMatchersField))
	}
	for _, line := range strings.Split(f.Matchers, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			n.Matchers = append(n.Matchers, alerting.MatcherInput{Text: line})
		}
	}
	if f.Duration == "" {
		return n, formError("duration: say how long the silence lasts, such as 2h or 1d")
	}
	d, err := model.ParseDuration(f.Duration)
	if err != nil || d <= 0 {
		return n, formError(fmt.Sprintf("duration %.40q: want a positive duration such as 30m, 2h or 1d", f.Duration))
	}
	n.Duration = d.Std()
	return n, nil
}

// formError is a form field's problem: its text names the field, and it
// wraps ErrInvalid.
type formError string

func (e formError) Error() string { return string(e) }
func (e formError) Unwrap() error { return ErrInvalid }

// AlertsState is what the alerts page shows besides the alerts and
// silences: the message about the action just taken, the alert whose
// labels fill the new-silence form, or a refused form with its reason.
type AlertsState struct {
	Flash string
	// Prefill is the fingerprint of an alert to silence: its labels fill
	// the form's matchers.
	Prefill string
	Form    *SilenceForm
	// Problem says why the form was refused.
	Problem string
}

type alertRow struct {
	Name       string
	State      string
	Severity   string
	Labels     []labelPair
	Since      time.Time
	FiredAt    time.Time
	Summary    string
	Silenced   bool
	SilencedBy []string
	Inhibited  bool
	// InhibitedBy names the alert inhibiting it (its name and labels), when
	// that alert is listed.
	InhibitedBy string
	Runbook     string
	Fingerprint string
	// Maintenance names the maintenance windows the alert falls in.
	Maintenance []string
}

type silenceRow struct {
	ID        string
	Short     string
	Status    string
	Matchers  []string
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedBy string
	Comment   string
	ExpiredBy string
	CanExpire bool
}

type alertsData struct {
	Configured bool
	Firing     int
	Pending    int
	// Muted counts the alerts that do not page: silenced, inhibited or in
	// maintenance (the API's silenced).
	Muted      int
	Alerts     []alertRow
	Silences   []silenceRow
	Active     int
	CanSilence bool
	Form       SilenceForm
	Problem    string
	Field      string
	MaxShown   bool
	// MoreSilences counts the silences past the listed ones (expired
	// ones, as they sort last).
	MoreSilences int
	// InMaintenance counts the alerts muted by a maintenance window.
	InMaintenance int
	// Windows are the maintenance windows kept: active, then pending, then
	// ended; Recurring the configured recurring ones.
	Windows       []windowRow
	ActiveWindows int
	MoreWindows   int
	Recurring     []recurringRow
	// Maintenance is whether maintenance windows are shown at all.
	Maintenance bool
}

// windowRow is one maintenance window on the alerts page.
type windowRow struct {
	ID, Short, Name, Status string
	Matchers                []string
	StartsAt, EndsAt        time.Time
	Comment, CreatedBy      string
	EndedBy                 string
}

// recurringRow is one configured recurring window.
type recurringRow struct {
	Name                string
	Intervals, Matchers []string
	Active              bool
	CurrentEnd          time.Time
	NextStart, NextEnd  time.Time
}

// maxWindowRows bounds the maintenance windows listed; recurringHorizon is
// how far ahead a recurring window's next occurrence is looked for.
const (
	maxWindowRows    = 30
	recurringHorizon = 35 * 24 * time.Hour
)

// maxAlertRows and maxSilenceRows bound the rows the page lists (about
// 0.7 KB each), so it stays under 200 KB; the rest are counted.
const (
	maxAlertRows   = 200
	maxSilenceRows = 50
)

// Alerts renders the alerts that are pending or firing, with their labels
// and whether a silence or an inhibition mutes them, then the silences
// (active, pending and recently expired); responders also get the form to
// create a silence and a button to expire each one.
func (d *Dashboards) Alerts(ctx context.Context, w io.Writer, v Viewer, st AlertsState) error {
	data := alertsData{CanSilence: v.CanRespond(), Form: SilenceForm{Duration: DefaultSilenceDuration}}
	if st.Form != nil {
		data.Form = *st.Form
	}
	data.Problem = st.Problem
	if st.Problem != "" {
		switch {
		case strings.HasPrefix(st.Problem, "duration") || strings.Contains(st.Problem, "ends_at") || strings.Contains(st.Problem, "may last"):
			data.Field = "duration"
		case strings.HasPrefix(st.Problem, "comment"):
			data.Field = "comment"
		default:
			data.Field = "matchers"
		}
		data.Problem = capitalFirst(st.Problem)
	}
	if d.opts.Alerts == nil {
		return d.render(w, "alerts", page{Title: "Alerts", Nav: "alerts", Viewer: v, Flash: st.Flash, Data: data})
	}
	data.Configured = true
	alerts, err := d.opts.Alerts.Alerts(ctx)
	if err != nil {
		return fmt.Errorf("read alerts: %w", err)
	}
	sils, err := d.opts.Alerts.Silences(ctx)
	if err != nil {
		return fmt.Errorf("read silences: %w", err)
	}
	now := d.now()
	// Firing before pending; within each, the oldest first (as alerting
	// hands them).
	slices.SortStableFunc(alerts, func(a, b alerting.ActiveAlert) int {
		return stateRank(a.State) - stateRank(b.State)
	})
	windowNames := map[string]string{}
	if d.opts.Maintenance != nil {
		if err := d.maintenanceRows(ctx, &data, windowNames); err != nil {
			return err
		}
	}
	byFingerprint := make(map[string]alerting.ActiveAlert, len(alerts))
	for _, a := range alerts {
		byFingerprint[a.Fingerprint] = a
	}
	for _, a := range alerts {
		if a.State == model.AlertFiring {
			data.Firing++
		} else {
			data.Pending++
		}
		// The row tells a silence from an inhibition or a maintenance
		// window; the tile counts them all.
		muted := len(a.SilencedBy) > 0
		if a.Silenced || muted || a.InhibitedBy != "" || len(a.MaintenanceBy) > 0 {
			data.Muted++
		}
		if len(a.MaintenanceBy) > 0 {
			data.InMaintenance++
		}
		if a.Fingerprint == st.Prefill && st.Prefill != "" && st.Form == nil {
			data.Form.Matchers = matchersFor(a.Labels)
			data.Form.Comment = ""
		}
		if len(data.Alerts) >= maxAlertRows {
			data.MaxShown = true
			continue
		}
		row := alertRow{
			Name: a.Name, State: string(a.State), Severity: string(a.Severity), Since: a.StartsAt, FiredAt: a.FiredAt,
			Summary: a.Annotations["summary"], Silenced: muted, SilencedBy: a.SilencedBy, Inhibited: a.InhibitedBy != "",
			Runbook: a.Runbook, Fingerprint: a.Fingerprint,
		}
		if src, ok := byFingerprint[a.InhibitedBy]; ok && a.InhibitedBy != "" {
			row.InhibitedBy = src.Name
			if src.GroupKey != "alertname="+src.Name {
				row.InhibitedBy += " " + src.GroupKey
			}
		}
		for _, id := range a.MaintenanceBy {
			name := windowNames[id]
			if name == "" {
				name = short(id)
			}
			row.Maintenance = append(row.Maintenance, name)
		}
		keys := make([]string, 0, len(a.Labels))
		for k := range a.Labels {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			row.Labels = append(row.Labels, labelPair{k, a.Labels[k]})
		}
		if row.Runbook != "" && d.opts.Runbooks != nil {
			if _, err := d.opts.Runbooks.Get(row.Runbook); err != nil {
				row.Runbook = ""
			}
		}
		data.Alerts = append(data.Alerts, row)
	}
	// Active first, then pending, then expired; newest first within each.
	slices.SortStableFunc(sils, func(a, b alerting.Silence) int {
		return silenceRank(a.Status(now)) - silenceRank(b.Status(now))
	})
	for _, s := range sils {
		status := s.Status(now)
		row := silenceRow{ID: s.ID, Short: short(s.ID), Status: string(status), StartsAt: s.StartsAt, EndsAt: s.EndsAt,
			CreatedBy: s.CreatedBy, Comment: s.Comment, ExpiredBy: s.ExpiredBy, CanExpire: v.CanRespond() && status != alerting.SilenceExpired}
		for _, m := range s.Matchers {
			row.Matchers = append(row.Matchers, m.String())
		}
		if status == alerting.SilenceActive {
			data.Active++
		}
		if len(data.Silences) >= maxSilenceRows {
			data.MoreSilences++
			continue
		}
		data.Silences = append(data.Silences, row)
	}
	return d.render(w, "alerts", page{Title: "Alerts", Nav: "alerts", Viewer: v, Flash: st.Flash, Data: data})
}

// maintenanceRows lists the maintenance windows (active, pending, then
// ended, latest first) and the recurring ones, and names each window by ID
// in names for the alert rows.
func (d *Dashboards) maintenanceRows(ctx context.Context, data *alertsData, names map[string]string) error {
	ws, err := d.opts.Maintenance.MaintenanceWindows(ctx)
	if err != nil {
		return fmt.Errorf("read maintenance windows: %w", err)
	}
	now := d.now()
	data.Maintenance = true
	rank := map[string]int{"active": 0, "pending": 1, "ended": 2}
	slices.SortStableFunc(ws, func(a, b alerting.Silence) int {
		ra, rb := rank[a.WindowState(now)], rank[b.WindowState(now)]
		if ra != rb {
			return ra - rb
		}
		if ra == 1 {
			return a.StartsAt.Compare(b.StartsAt)
		}
		return b.EndsAt.Compare(a.EndsAt)
	})
	for _, w := range ws {
		name := w.Recurring
		if name == "" {
			name = "one-off"
		}
		names[w.ID] = name + " " + short(w.ID)
		status := w.WindowState(now)
		if status == "active" {
			data.ActiveWindows++
		}
		if len(data.Windows) >= maxWindowRows {
			data.MoreWindows++
			continue
		}
		data.Windows = append(data.Windows, windowRow{ID: w.ID, Short: short(w.ID), Name: name, Status: status, Matchers: w.Matchers.Texts(),
			StartsAt: w.StartsAt, EndsAt: w.EndsAt, Comment: w.Comment, CreatedBy: w.CreatedBy, EndedBy: w.ExpiredBy})
	}
	for _, r := range d.opts.Maintenance.RecurringMaintenanceAt(now, recurringHorizon) {
		data.Recurring = append(data.Recurring, recurringRow{Name: r.Name, Intervals: r.TimeIntervals, Matchers: r.Matchers.Texts(),
			Active: r.Active, CurrentEnd: r.CurrentEnd, NextStart: r.NextStart, NextEnd: r.NextEnd})
	}
	return nil
}

func stateRank(s model.AlertState) int {
	if s == model.AlertFiring {
		return 0
	}
	return 1
}

func silenceRank(s alerting.SilenceStatus) int {
	switch s {
	case alerting.SilenceActive:
		return 0
	case alerting.SilencePending:
		return 1
	}
	return 2
}

// short is the first eight characters of a silence ID, as people quote it.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// matchersFor writes an alert's labels as matchers, one a line, for the
// silence form.
func matchersFor(l model.Labels) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		m, err := alerting.NewMatcher(k, alerting.MatchEqual, l[k])
		if err != nil {
			continue
		}
		b.WriteString(m.String())
		b.WriteByte('\n')
	}
	return b.String()
}
