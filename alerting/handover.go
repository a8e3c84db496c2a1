package alerting

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Handing changed alert groups to the sink (incidents), in order, and
// recording what was sent.

// flush delivers pending announcements, then hands every changed group to
// the sink, in order (so "the maintenance window has ended" comes before
// the page it lets through). Hand-overs that fail are retried next time.
func (s *Service) flush(ctx context.Context, now time.Time) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.mu.Lock()
	fence := s.fence
	s.mu.Unlock()
	if fence != nil {
		if err := fence(); err != nil {
			return fmt.Errorf("hand alert groups over: %w", err)
		}
	}
	s.mu.Lock()
	batches := s.collectLocked(now)
	anns := s.pendingAnn
	s.pendingAnn = nil
	s.mu.Unlock()

	var errs []error
	var failed []model.Announcement
	for _, a := range anns {
		if s.announcer == nil {
			s.log.Warn("announcement with no announcer", "kind", a.Kind, "text", a.Text)
			continue
		}
		if err := s.announcer.Announce(ctx, a); err != nil {
			failed = append(failed, a)
			errs = append(errs, fmt.Errorf("announce %s: %w", a.Kind, err))
			continue
		}
		s.m.announcements.WithLabelValues(a.Kind).Inc()
	}
	for _, b := range batches {
		var err error
		if s.sink != nil {
			err = s.sink.HandleAlertGroup(ctx, b.group)
		}
		s.mu.Lock()
		if err != nil {
			s.m.handoffs.WithLabelValues("error").Inc()
			s.touched[b.group.Key] = true
			errs = append(errs, fmt.Errorf("hand group %s to incidents: %w", b.group.Key, err))
		} else {
			s.m.handoffs.WithLabelValues("ok").Inc()
			s.applySentLocked(b, now)
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.pendingAnn = append(failed, s.pendingAnn...)
	err := s.saveLocked(ctx)
	s.mu.Unlock()
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		s.log.Error("alert hand-over incomplete; will retry", "err", err)
		return err
	}
	return nil
}

// annotationRefresh is the least time between two hand-overs of an open
// group whose only change is its alerts' annotations (figures in a
// summary move at every evaluation; the incident's title and Slack
// message follow them at this pace).
const annotationRefresh = time.Minute

// collectLocked builds the groups whose firing set, muting or resolutions
// changed since they were last handed over, and the open groups whose
// firing alerts' annotations changed (at most once per annotationRefresh).
// A group is first handed over when one of its alerts fires unmuted; from
// then on every change is.
func (s *Service) collectLocked(now time.Time) []batch {
	for k, gs := range s.groups {
		if gs.Open && !s.touched[k] && now.Sub(gs.SentAt) >= annotationRefresh && gs.Annotations != annotationDigest(s.members[k]) {
			s.touched[k] = true
		}
	}
	byKey := map[string][]*Record{}
	for k := range s.touched {
		var recs []*Record
		for _, r := range s.members[k] {
			if r.Alert.State == model.AlertFiring || (r.Alert.State == model.AlertResolved && !r.ResolvedReported) {
				recs = append(recs, r)
			}
		}
		if len(recs) > 0 || (s.groups[k] != nil && s.groups[k].Open) {
			byKey[k] = recs
		}
	}
	clear(s.touched)
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []batch
	for _, key := range keys {
		recs := byKey[key]
		sort.Slice(recs, func(i, j int) bool { return recs[i].Key < recs[j].Key })
		var firing, resolved []*Record
		unmuted := false
		for _, r := range recs {
			if r.Alert.State == model.AlertFiring {
				firing = append(firing, r)
				unmuted = unmuted || !r.Alert.Silenced
			} else {
				resolved = append(resolved, r)
			}
		}
		gs := s.groups[key]
		open := gs != nil && gs.Open
		if !open && !unmuted {
			for _, r := range resolved {
				r.ResolvedReported = true
				s.dirty[r.Key] = true
			}
			continue
		}
		sig, ann := signature(firing), annotationDigest(s.members[key])
		if open && sig == gs.Signature && len(resolved) == 0 && ann == gs.Annotations {
			continue
		}
		meta := s.metaLocked(key, recs)
		g := model.AlertGroup{Key: key, Labels: meta.Labels.Clone(), Source: meta.Source, Firing: len(firing) > 0}
		b := batch{sig: sig, ann: ann}
		for _, r := range firing {
			g.Alerts = append(g.Alerts, copyAlert(r.Alert))
		}
		for _, r := range resolved {
			g.Alerts = append(g.Alerts, copyAlert(r.Alert))
			b.resolved = append(b.resolved, r.Key)
		}
		b.group = g
		out = append(out, b)
	}
	return out
}

func (s *Service) metaLocked(key string, recs []*Record) GroupState {
	if gs := s.groups[key]; gs != nil {
		return *gs
	}
	for _, r := range s.members[key] {
		if r.GroupSource != "" { // an Alertmanager group, named as it came
			return GroupState{Key: key, Labels: r.GroupLabels.Clone(), Source: r.GroupSource}
		}
	}
	m := GroupState{Key: key, Source: GroupSourceSentinel}
	if len(recs) > 0 {
		m.Labels = groupLabels(s.groupBy, recs[0].Alert.Labels)
	}
	return m
}

func (s *Service) applySentLocked(b batch, now time.Time) {
	gs := s.groups[b.group.Key]
	if gs == nil {
		gs = &GroupState{Key: b.group.Key, Labels: b.group.Labels, Source: b.group.Source}
		s.groups[b.group.Key] = gs
	}
	gs.Signature, gs.Open, gs.SentAt, gs.Annotations = b.sig, b.group.Firing, now, b.ann
	if gs.Open {
		s.dirtyGroups[gs.Key] = true
	} else {
		delete(s.groups, gs.Key)
		s.dirtyGroups[gs.Key] = false
	}
	for _, k := range b.resolved {
		if r := s.alerts[k]; r != nil && r.Alert.State == model.AlertResolved {
			r.ResolvedReported = true
			s.dirty[k] = true
		}
	}
}

func signature(firing []*Record) string {
	var b strings.Builder
	for _, r := range firing {
		b.WriteString(r.Key)
		if r.Alert.Silenced {
			b.WriteString("~")
		}
		b.WriteByte(';')
	}
	return b.String()
}

// annotationDigest digests the annotations of a group's firing alerts.
func annotationDigest(members map[string]*Record) string {
	keys := make([]string, 0, len(members))
	for k, r := range members {
		if r.Alert.State == model.AlertFiring {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := fnv.New64a()
	for _, k := range keys {
		a := members[k].Alert.Annotations
		h.Write([]byte(k))
		for _, name := range a.Keys() {
			h.Write([]byte{0})
			h.Write([]byte(name))
			h.Write([]byte{0})
			h.Write([]byte(a[name]))
		}
		h.Write([]byte{1})
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

func copyAlert(a model.Alert) model.Alert {
	a.Labels = a.Labels.Clone()
	a.Annotations = a.Annotations.Clone()
	return a
}
