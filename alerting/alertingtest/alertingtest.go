// Package alertingtest is the conformance suite every alerting.Store
// implementation passes (the in-memory one and the engine-backed one), so
// the service behaves the same on each.
package alertingtest

import (
	"context"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/model"
)

// Store runs the suite against stores made by newStore; reopen returns a
// store over the same data (a restart), or the same store when the
// implementation keeps nothing beyond the process.
func Store(t *testing.T, newStore func(t *testing.T) (s alerting.Store, reopen func() alerting.Store)) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	t.Run("alert state round trip", func(t *testing.T) {
		s, reopen := newStore(t)
		rec := alerting.Record{Key: "rule|abc", Rule: "R", Value: 2.5, MutedBy: []string{"s1"}, Alert: model.Alert{
			Name: "R", Fingerprint: "abc", Labels: model.Labels{"alertname": "R", "service": "checkout"},
			Annotations: model.Labels{"summary": "x"}, State: model.AlertFiring, Severity: model.SeverityCritical,
			Source: "rule", GroupKey: "service=checkout", StartsAt: at, FiredAt: at.Add(time.Minute)}}
		other := rec
		other.Key = "rule|def"
		g := alerting.GroupState{Key: "service=checkout", Labels: model.Labels{"service": "checkout"}, Source: "sentinel", Signature: "rule|abc;", Open: true, SentAt: at}
		if err := s.SaveAlertState(ctx, alerting.Change{PutAlerts: []alerting.Record{rec, other}, PutGroups: []alerting.GroupState{g}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveAlertState(ctx, alerting.Change{DeleteAlerts: []string{"rule|def", "rule|missing"}}); err != nil {
			t.Fatal(err)
		}
		s = reopen()
		snap, err := s.LoadAlertState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Alerts) != 1 || len(snap.Groups) != 1 {
			t.Fatalf("snapshot %+v", snap)
		}
		got := snap.Alerts[0]
		if got.Key != rec.Key || got.Alert.Labels["service"] != "checkout" || !got.Alert.FiredAt.Equal(rec.Alert.FiredAt) ||
			got.Alert.State != model.AlertFiring || got.MutedBy[0] != "s1" || got.Value != 2.5 {
			t.Fatalf("record %+v", got)
		}
		if snap.Groups[0].Signature != g.Signature || !snap.Groups[0].Open {
			t.Fatalf("group %+v", snap.Groups[0])
		}
		if err := s.SaveAlertState(ctx, alerting.Change{DeleteGroups: []string{g.Key}}); err != nil {
			t.Fatal(err)
		}
		if snap, _ := reopen().LoadAlertState(ctx); len(snap.Groups) != 0 {
			t.Fatalf("group not deleted")
		}
	})
	t.Run("silences", func(t *testing.T) {
		s, reopen := newStore(t)
		ms, _ := alerting.ParseMatchers(`alertname=~"Checkout.*"`)
		sl := alerting.Silence{ID: "s1", Matchers: ms, StartsAt: at, EndsAt: at.Add(time.Hour), CreatedBy: "alice", Comment: "deploy", CreatedAt: at}
		if err := s.PutSilence(ctx, sl); err != nil {
			t.Fatal(err)
		}
		s = reopen()
		got, err := s.Silences(ctx)
		if err != nil || len(got) != 1 {
			t.Fatalf("%+v %v", got, err)
		}
		if !got[0].Matchers.Matches(model.Labels{"alertname": "CheckoutDown"}) || got[0].CreatedBy != "alice" || !got[0].EndsAt.Equal(sl.EndsAt) {
			t.Fatalf("silence %+v", got[0])
		}
		if err := s.DeleteSilence(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSilence(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := reopen().Silences(ctx); len(got) != 0 {
			t.Fatalf("not deleted: %+v", got)
		}
	})
	t.Run("heartbeats", func(t *testing.T) {
		s, reopen := newStore(t)
		if err := s.PutHeartbeat(ctx, "backup", at); err != nil {
			t.Fatal(err)
		}
		if err := s.PutHeartbeat(ctx, "backup", at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, err := reopen().Heartbeats(ctx)
		if err != nil || !got["backup"].Equal(at.Add(time.Minute)) {
			t.Fatalf("%v %v", got, err)
		}
	})
}
