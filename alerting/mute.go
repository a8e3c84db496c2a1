package alerting

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Muting: which active alerts silences, inhibition and maintenance windows
// hold, and the announcements made when a silence ends while its alert
// still fires.

// silencesLocked announces silences about to end, or just ended, while
// alerts they mute still fire; it uses the muting of the previous pass.
func (s *Service) silencesLocked(now time.Time) {
	ids := make([]string, 0, len(s.silences))
	for id := range s.silences {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		sl := s.silences[id]
		if sl.Kind == KindMaintenance {
			continue // maintenanceLocked announces and keeps windows
		}
		if sl.ExpiryHandled {
			if now.Sub(sl.EndsAt) > silenceRetention {
				delete(s.silences, id)
				s.dirtySilence[id] = false
			}
			continue
		}
		expired := !now.Before(sl.EndsAt)
		warn := sl.Active(now) && sl.WarnedAt.IsZero() && sl.EndsAt.Sub(now) <= s.cfg.Silences.ExpiryWarning.Std()
		if !expired && !warn {
			continue // nothing to say yet; spare the look at every alert
		}
		muted := s.firingMutedByLocked(id)
		switch {
		case expired:
			var still []*Record
			for _, r := range muted {
				if !s.mutedByOtherLocked(r, id, now) {
					still = append(still, r)
				}
			}
			if len(still) > 0 {
				s.announceLocked("silence_expired", sl, still, now,
					fmt.Sprintf("Silence %s %s (by %s) has expired while %s still firing: %s",
						short(sl.ID), sl.Matchers, sl.CreatedBy, plural(len(still), "alert is", "alerts are"), names(still)))
			}
			sl.ExpiryHandled = true
			s.dirtySilence[id] = true
		case len(muted) > 0:
			s.announceLocked("silence_expiring", sl, muted, now,
				fmt.Sprintf("Silence %s %s (by %s) expires in %s, at %s, while %s it mutes still firing: %s",
					short(sl.ID), sl.Matchers, sl.CreatedBy, sl.EndsAt.Sub(now).Round(time.Second), sl.EndsAt.UTC().Format(time.RFC3339),
					plural(len(muted), "alert", "alerts"), names(muted)))
			sl.WarnedAt = now
			s.dirtySilence[id] = true
		}
	}
}

func (s *Service) firingMutedByLocked(id string) []*Record {
	var out []*Record
	for _, r := range s.alerts {
		if r.Alert.State == model.AlertFiring && slices.Contains(r.MutedBy, id) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func (s *Service) mutedByOtherLocked(r *Record, except string, now time.Time) bool {
	for id, sl := range s.silences {
		if id != except && sl.Mutes(r.Alert.Labels, now) {
			return true
		}
	}
	return false
}

func (s *Service) announceLocked(kind string, sl *Silence, recs []*Record, now time.Time, text string) {
	sev := model.SeverityInfo
	labels := model.Labels{"silence_id": sl.ID}
	for _, r := range recs {
		if r.Alert.Severity.Rank() > sev.Rank() {
			sev = r.Alert.Severity
		}
	}
	for k, v := range groupLabels(s.groupBy, recs[0].Alert.Labels) {
		labels[k] = v
	}
	labels["group_key"] = recs[0].Alert.GroupKey
	s.pendingAnn = append(s.pendingAnn, model.Announcement{Kind: kind, Text: text, Labels: labels, Severity: sev, At: now})
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func names(recs []*Record) string {
	var parts []string
	for i, r := range recs {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(recs)-5))
			break
		}
		parts = append(parts, r.Alert.Name+" "+r.Alert.GroupKey)
	}
	return strings.Join(parts, ", ")
}

// refreshMutesLocked recomputes which silences mute each active alert and
// which alerts are inhibited: SLO ticket alerts by their SLO's firing page
// alert, any alert by alerting.inhibit_rules; and which maintenance windows
// hold them.
func (s *Service) refreshMutesLocked(now time.Time) {
	s.maintenanceLocked(now)
	m := s.mutingLocked(now)
	for _, r := range s.alerts {
		if r.Alert.Source == SourceSLO && r.Alert.State == model.AlertFiring && r.Alert.Labels["tier"] == "page" {
			m.pages[r.Alert.Labels["slo"]] = r.Alert.Fingerprint
		}
	}
	for _, r := range s.alerts {
		s.applyMutesLocked(m, r)
	}
}

// muteNewLocked applies muting to records an ingest just added or changed,
// without revisiting every tracked alert, so the cost of a delivery does
// not grow with the alerts already tracked. When one of them can be an
// inhibition source, or a maintenance window began, every alert is
// revisited instead.
func (s *Service) muteNewLocked(recs []*Record, now time.Time) {
	if len(recs) == 0 {
		return
	}
	if s.maintenanceLocked(now) || !s.inhibitValid {
		s.refreshMutesLocked(now)
		return
	}
	m := s.mutingLocked(now)
	for _, r := range recs {
		s.applyMutesLocked(m, r)
	}
}

// muting is what one muting pass matches alerts against.
type muting struct {
	silences []*Silence // active silences, by ID
	windows  []*Silence // active maintenance windows, by ID
	idx      inhibitIndex
	pages    map[string]string // slo -> fingerprint of its firing page alert
}

func (s *Service) mutingLocked(now time.Time) muting {
	m := muting{idx: s.inhibitSourcesLocked(), windows: s.activeWindowsLocked(now), pages: map[string]string{}}
	for _, sl := range s.silences {
		if sl.Kind == "" && sl.Active(now) {
			m.silences = append(m.silences, sl)
		}
	}
	sort.Slice(m.silences, func(i, j int) bool { return m.silences[i].ID < m.silences[j].ID })
	return m
}

// applyMutesLocked sets what holds r: silences, inhibition, windows.
func (s *Service) applyMutesLocked(m muting, r *Record) {
	if r.Alert.State != model.AlertFiring && r.Alert.State != model.AlertPending {
		return
	}
	var muted []string
	for _, sl := range m.silences {
		if sl.Matchers.Matches(r.Alert.Labels) {
			muted = append(muted, sl.ID)
		}
	}
	inhibited := ""
	if r.Alert.Source == SourceSLO && r.Alert.Labels["tier"] == "ticket" {
		inhibited = m.pages[r.Alert.Labels["slo"]]
	}
	if inhibited == "" {
		inhibited = s.inhibitedBy(m.idx, r.Alert.Labels, r.Alert.Fingerprint)
	}
	var maint []string
	for _, w := range m.windows {
		if w.Matchers.Matches(r.Alert.Labels) {
			maint = append(maint, w.ID)
		}
	}
	if !slices.Equal(muted, r.MutedBy) || inhibited != r.InhibitedBy || !slices.Equal(maint, r.MaintenanceBy) {
		r.MutedBy, r.InhibitedBy, r.MaintenanceBy = muted, inhibited, maint
		// Saved and handed over, but not markLocked: muting does not make
		// an alert more or less of an inhibition source.
		s.dirty[r.Key] = true
		s.touched[r.Alert.GroupKey] = true
	}
	r.Alert.Silenced = len(r.MutedBy) > 0 || r.InhibitedBy != "" || len(r.MaintenanceBy) > 0
}
