package alerting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/timeinterval"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Maintenance windows: planned work during which the alerts a window's
// matchers select are recorded as muted and do not page, while probes keep
// running. Recurring windows come from alerting.maintenance over
// alerting.time_intervals (Alertmanager's syntax, read by its timeinterval
// package); each occurrence is recorded as a window when it starts, so the
// log of windows (announcements, the alerts page, SLO budgets that leave
// windows out) says what actually happened even if the config changes
// later. One-off windows are made through the API.

// recurringWindow is one compiled alerting.maintenance[] entry.
type recurringWindow struct {
	name      string
	intervals []string
	spans     []timeinterval.TimeInterval
	matchers  Matchers
	comment   string
}

// contains reports whether t falls in any of the window's spans.
func (w recurringWindow) contains(t time.Time) bool {
	for _, sp := range w.spans {
		if sp.ContainsTime(t) {
			return true
		}
	}
	return false
}

// maxOccurrence bounds how far an occurrence is followed to find its start
// or end; Alertmanager's spans are whole minutes, so steps of a minute are
// exact.
const maxOccurrence = 400 * 24 * time.Hour

// occurrence returns the span [start, end) of the occurrence of w that
// contains t (which it must).
func (w recurringWindow) occurrence(t time.Time) (start, end time.Time) {
	m := t.Truncate(time.Minute)
	start = m
	for d := time.Minute; d <= maxOccurrence && w.contains(m.Add(-d)); d += time.Minute {
		start = m.Add(-d)
	}
	end = m.Add(time.Minute)
	for end.Sub(m) < maxOccurrence && w.contains(end) {
		end = end.Add(time.Minute)
	}
	return start, end
}

// next returns the next occurrence starting after t, looking horizon ahead.
func (w recurringWindow) next(t time.Time, horizon time.Duration) (start, end time.Time, ok bool) {
	m := t.Truncate(time.Minute).Add(time.Minute)
	inside := w.contains(t)
	for d := time.Duration(0); d <= horizon; d += time.Minute {
		at := m.Add(d)
		c := w.contains(at)
		if c && !inside {
			start, end = w.occurrence(at)
			return start, end, true
		}
		inside = c
	}
	return time.Time{}, time.Time{}, false
}

// occurrenceID names an occurrence of a recurring window by its entry and
// start, so every replica (and a restarted one) records it once.
func occurrenceID(name string, start time.Time) string {
	h := sha256.Sum256([]byte(name + "\x00" + start.UTC().Format(time.RFC3339)))
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// compileTimeIntervals reads alerting.time_intervals with Alertmanager's
// timeinterval package, field by field, so a problem names its place.
func compileTimeIntervals(cfg config.Alerting) (map[string][]timeinterval.TimeInterval, config.Problems) {
	var ps config.Problems
	out := map[string][]timeinterval.TimeInterval{}
	for i, spec := range cfg.TimeIntervals {
		base := fmt.Sprintf("alerting.time_intervals[%d]", i)
		var spans []timeinterval.TimeInterval
		for j, sp := range spec.TimeIntervals {
			p := fmt.Sprintf("%s.time_intervals[%d]", base, j)
			var ti timeinterval.TimeInterval
			for k, tr := range sp.Times {
				var r timeinterval.TimeRange
				b, _ := json.Marshal(map[string]string{"start_time": tr.StartTime, "end_time": tr.EndTime})
				if err := json.Unmarshal(b, &r); err != nil {
					ps.Add(fmt.Sprintf("%s.times[%d]", p, k), "%v (want start_time and end_time as HH:MM, start before end, within 00:00 to 24:00)", err)
					continue
				}
				ti.Times = append(ti.Times, r)
			}
			ti.Weekdays = parseRanges[timeinterval.WeekdayRange](&ps, p+".weekdays", sp.Weekdays, "monday:friday or saturday")
			ti.DaysOfMonth = parseRanges[timeinterval.DayOfMonthRange](&ps, p+".days_of_month", sp.DaysOfMonth, "1:7 or -1 (the last day)")
			ti.Months = parseRanges[timeinterval.MonthRange](&ps, p+".months", sp.Months, "january:march or 12")
			ti.Years = parseRanges[timeinterval.YearRange](&ps, p+".years", sp.Years, "2026 or 2026:2027")
			if sp.Location != "" {
				var loc timeinterval.Location
				if err := json.Unmarshal([]byte(strconv.Quote(sp.Location)), &loc); err != nil {
					ps.Add(p+".location", "unknown time zone %q (want an IANA name such as Europe/Berlin)", sp.Location)
				} else {
					ti.Location = &loc
				}
			}
			spans = append(spans, ti)
		}
		out[spec.Name] = spans
	}
	return out, ps
}

// parseRanges reads each range text with Alertmanager's parser for T.
func parseRanges[T any](ps *config.Problems, path string, texts []string, example string) []T {
	var out []T
	for k, text := range texts {
		var r T
		if err := json.Unmarshal([]byte(strconv.Quote(text)), &r); err != nil {
			ps.Add(fmt.Sprintf("%s[%d]", path, k), "%q: %v (want a value or range such as %s)", text, cleanTimeIntervalError(err), example)
			continue
		}
		out = append(out, r)
	}
	return out
}

// cleanTimeIntervalError drops the YAML wrapping the timeinterval package
// leaves on its errors.
func cleanTimeIntervalError(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); strings.HasPrefix(s, "yaml:") && i > 0 {
		return s[i+2:]
	}
	return s
}

// compileMaintenance builds the recurring windows of alerting.maintenance.
func compileMaintenance(cfg config.Alerting, p MatcherParser, intervals map[string][]timeinterval.TimeInterval) ([]recurringWindow, config.Problems) {
	var ps config.Problems
	var out []recurringWindow
	for i, mc := range cfg.Maintenance {
		path := fmt.Sprintf("alerting.maintenance[%d]", i)
		w := recurringWindow{name: mc.Name, intervals: append([]string(nil), mc.TimeIntervals...), comment: mc.Comment}
		for _, n := range mc.TimeIntervals {
			w.spans = append(w.spans, intervals[n]...)
		}
		ms, err := buildMatchers(p, TextInputs(mc.Matchers...))
		if err != nil {
			// "matchers[1]: ..." names the entry: fold it into the path.
			msg := err.Error()
			where, rest, ok := strings.Cut(msg, ": ")
			if ok && strings.HasPrefix(where, "matchers") {
				ps.Add(path+"."+where, "%s", rest)
			} else {
				ps.Add(path+".matchers", "%s", msg)
			}
		}
		w.matchers = ms
		out = append(out, w)
	}
	return out, ps
}

// maintenanceLocked records the occurrences of recurring windows that have
// begun, announces windows starting and ending, and forgets windows ended
// longer ago than alerting.maintenance_retention. It reports whether a
// window began or ended (so every alert's muting needs a fresh look).
func (s *Service) maintenanceLocked(now time.Time) bool {
	changed := false
	for _, w := range s.recurring {
		if !w.contains(now) {
			continue
		}
		// The occurrence's span is found once and kept while it lasts
		// (long windows take many steps to measure).
		span, ok := s.occurrences[w.name]
		if !ok || now.Before(span[0]) || !now.Before(span[1]) {
			start, end := w.occurrence(now)
			span = [2]time.Time{start, end}
			s.occurrences[w.name] = span
		}
		start, end := span[0], span[1]
		id := occurrenceID(w.name, start)
		if _, ok := s.silences[id]; ok {
			continue // recorded (perhaps ended early by hand)
		}
		sl := &Silence{ID: id, Kind: KindMaintenance, Recurring: w.name, Matchers: append(Matchers(nil), w.matchers...),
			StartsAt: start.UTC(), EndsAt: end.UTC(), CreatedBy: "alerting.maintenance", Comment: w.comment, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
		s.silences[id] = sl
		s.dirtySilence[id] = true
		changed = true
	}
	ids := make([]string, 0, len(s.silences))
	for id, sl := range s.silences {
		if sl.Kind == KindMaintenance {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return s.silences[ids[i]].StartsAt.Before(s.silences[ids[j]].StartsAt) })
	retention := s.cfg.MaintenanceRetention.Std()
	for _, id := range ids {
		w := s.silences[id]
		switch {
		case w.ExpiryHandled:
			if now.Sub(w.EndsAt) > retention {
				delete(s.silences, id)
				s.dirtySilence[id] = false
			}
		case w.Active(now) && !w.StartAnnounced:
			s.announceWindowLocked("maintenance_started", w, now)
			w.StartAnnounced = true
			s.dirtySilence[id] = true
			changed = true
		case !now.Before(w.EndsAt):
			if w.StartAnnounced {
				s.announceWindowLocked("maintenance_ended", w, now)
			}
			w.ExpiryHandled = true
			s.dirtySilence[id] = true
			changed = true
		}
	}
	return changed
}

// maintenanceName is how people see a window: its recurring entry's name, or
// "maintenance" and the start of its ID.
func maintenanceName(w *Silence) string {
	if w.Recurring != "" {
		return w.Recurring
	}
	return "maintenance " + short(w.ID)
}

// announceWindowLocked tells people a window started or ended, with the
// alerts it mutes (or muted) that fire.
func (s *Service) announceWindowLocked(kind string, w *Silence, now time.Time) {
	var firing []*Record
	for _, r := range s.alerts {
		if r.Alert.State == model.AlertFiring && w.Matchers.Matches(r.Alert.Labels) {
			firing = append(firing, r)
		}
	}
	sort.Slice(firing, func(i, j int) bool { return firing[i].Key < firing[j].Key })
	var text string
	if kind == "maintenance_started" {
		text = fmt.Sprintf("Maintenance window %s %s has started; until %s alerts it selects do not page.",
			maintenanceName(w), w.Matchers, w.EndsAt.UTC().Format(time.RFC3339))
		if len(firing) > 0 {
			text += fmt.Sprintf(" Muted now: %s.", names(firing))
		}
	} else {
		how := "has ended"
		if w.ExpiredBy != "" {
			how = "was ended early by " + w.ExpiredBy
		}
		text = fmt.Sprintf("Maintenance window %s %s %s; alerts it selected page again.", maintenanceName(w), w.Matchers, how)
		if len(firing) > 0 {
			text += fmt.Sprintf(" Still firing: %s.", names(firing))
		}
	}
	if w.Comment != "" {
		text += " (" + w.Comment + ")"
	}
	labels := model.Labels{"maintenance_id": w.ID, "maintenance": maintenanceName(w)}
	for _, m := range w.Matchers {
		if m.Type == MatchEqual && m.Value != "" {
			labels[m.Name] = m.Value
		}
	}
	s.pendingAnn = append(s.pendingAnn, model.Announcement{Kind: kind, Text: text, Labels: labels, Severity: model.SeverityInfo, At: now})
}

// WindowState names a maintenance window's status as people say it:
// pending, active or ended.
func (s Silence) WindowState(now time.Time) string {
	if st := s.Status(now); st != SilenceExpired {
		return string(st)
	}
	return "ended"
}

// activeWindowsLocked lists the maintenance windows active at now.
func (s *Service) activeWindowsLocked(now time.Time) []*Silence {
	var out []*Silence
	for _, sl := range s.silences {
		if sl.Kind == KindMaintenance && sl.Active(now) {
			out = append(out, sl)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// CreateMaintenance validates and stores a one-off maintenance window; it
// may not start in the past. The alerts it selects are muted at once if
// it has begun.
func (s *Service) CreateMaintenance(ctx context.Context, n NewSilence) (Silence, error) {
	return s.createMute(ctx, n, KindMaintenance)
}

// UpdateMaintenance changes a one-off window as a silence changes (in
// place, or ended and replaced); occurrences of recurring windows are
// changed in the config (ErrConflict).
func (s *Service) UpdateMaintenance(ctx context.Context, id string, n NewSilence) (Silence, error) {
	return s.updateMute(ctx, id, n, KindMaintenance)
}

// EndMaintenance ends a window now; its end is announced.
func (s *Service) EndMaintenance(ctx context.Context, id, actor string) (Silence, error) {
	return s.endMute(ctx, id, actor, KindMaintenance)
}

// MaintenanceWindow returns one window; ErrNotFound when there is none.
func (s *Service) MaintenanceWindow(ctx context.Context, id string) (Silence, error) {
	return s.getMute(ctx, id, KindMaintenance)
}

// MaintenanceWindows returns every window kept: one-off ones and the
// recorded occurrences of recurring ones, newest first.
func (s *Service) MaintenanceWindows(ctx context.Context) ([]Silence, error) {
	return s.listMutes(ctx, KindMaintenance)
}

// RecurringMaintenance is an alerting.maintenance entry as pages show it.
type RecurringMaintenance struct {
	Name          string
	TimeIntervals []string
	Matchers      Matchers
	Comment       string
	// Active is whether an occurrence holds at the time asked; CurrentEnd
	// is then when it ends.
	Active     bool
	CurrentEnd time.Time
	// NextStart and NextEnd are the next occurrence within the horizon
	// asked (zero when there is none).
	NextStart, NextEnd time.Time
}

// RecurringMaintenanceAt lists the configured recurring windows with their
// state at now and their next occurrence within horizon.
func (s *Service) RecurringMaintenanceAt(now time.Time, horizon time.Duration) []RecurringMaintenance {
	s.mu.Lock()
	ws := slices.Clone(s.recurring)
	s.mu.Unlock()
	out := make([]RecurringMaintenance, 0, len(ws))
	for _, w := range ws {
		r := RecurringMaintenance{Name: w.name, TimeIntervals: w.intervals, Matchers: w.matchers, Comment: w.comment, Active: w.contains(now)}
		if r.Active {
			_, r.CurrentEnd = w.occurrence(now)
		}
		if start, end, ok := w.next(now, horizon); ok {
			r.NextStart, r.NextEnd = start, end
		}
		out = append(out, r)
	}
	return out
}

// WindowSpan is the part of a maintenance window inside a span of time,
// for SLO budgets that leave windows out and charts that mark them.
type WindowSpan struct {
	ID, Name string
	From, To time.Time
}

// MaintenanceSpans returns the windows whose matchers select labels (an
// SLO's labels: slo, service and its own) and that overlap [from, to),
// clipped to it and sorted by start; a window ended early counts until it
// was ended. It reads the windows held in memory, never the store, so it
// can be asked on every SLO evaluation.
func (s *Service) MaintenanceSpans(labels model.Labels, from, to time.Time) []WindowSpan {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []WindowSpan
	for _, w := range s.silences {
		if w.Kind != KindMaintenance || !w.EndsAt.After(from) || !w.StartsAt.Before(to) || !w.Matchers.Matches(labels) {
			continue
		}
		sp := WindowSpan{ID: w.ID, Name: maintenanceName(w), From: w.StartsAt, To: w.EndsAt}
		if sp.From.Before(from) {
			sp.From = from
		}
		if sp.To.After(to) {
			sp.To = to
		}
		out = append(out, sp)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].From.Equal(out[j].From) {
			return out[i].From.Before(out[j].From)
		}
		return out[i].ID < out[j].ID
	})
	return out
}
