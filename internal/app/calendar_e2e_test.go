package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"
)

// TestOnCallCalendarFeed: a responder makes a feed of a schedule and one
// of a person's shifts; the secret address serves RFC 5545 without any
// sign-in, which a real iCalendar parser reads: eight weeks of hand-offs
// at the schedule's local time, in its time zone; revoking it answers 404.
func TestOnCallCalendarFeed(t *testing.T) {
	cfg := testConfig(t, `    - {name: alice, token: `+aliceToken+`, role: responder}
    - {name: viewer, token: viewer-token-0123456789abcdef01, role: viewer}
people: [{name: alice, email: alice@example.com}, {name: bob, email: bob@example.com}]
oncall:
  schedules:
    - name: primary
      timezone: Europe/Berlin
      rotation: {every: 1w, handoff: "Mon 09:00", members: [alice, bob], start: "2026-01-05"}
`)
	a, err := New(context.Background(), Options{Config: cfg, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	started(t, a)
	api := a.URL() + "/api/v1/oncall/calendars"
	for _, bad := range []struct {
		token string
		body  map[string]any
		want  int
	}{
		{aliceToken, map[string]any{"schedule": "nope"}, 400},
		{aliceToken, map[string]any{"schedule": "primary", "person": "mallory"}, 400},
		{"viewer-token-0123456789abcdef01", map[string]any{"schedule": "primary"}, 403},
	} {
		if code, body := call(t, http.MethodPost, api, bad.token, bad.body); code != bad.want {
			t.Errorf("POST %v = %d %s, want %d", bad.body, code, body, bad.want)
		}
	}
	make := func(body map[string]any) (id, url string) {
		code, out := call(t, http.MethodPost, api, aliceToken, body)
		var f struct{ ID, URL string }
		if code != http.StatusCreated || json.Unmarshal(out, &f) != nil {
			t.Fatalf("POST %v = %d %s", body, code, out)
		}
		_, path, ok := strings.Cut(f.URL, "/oncall/calendars/")
		if !ok || !strings.HasSuffix(path, ".ics") || len(path) < 40 {
			t.Fatalf("feed URL %q", f.URL)
		}
		return f.ID, a.URL() + "/oncall/calendars/" + path
	}
	_, schedURL := make(map[string]any{"schedule": "primary"})
	bobID, bobURL := make(map[string]any{"schedule": "primary", "person": "bob@example.com"})

	fetch := func(u string) []ical.Event {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
			t.Fatalf("GET feed = %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
		}
		cal, err := ical.NewDecoder(bytes.NewReader(raw)).Decode()
		if err != nil {
			t.Fatalf("go-ical: %v", err)
		}
		return cal.Events()
	}
	now := time.Now()
	all := fetch(schedURL)
	// Weekly shifts from a week back to eight weeks ahead: 10 or 11.
	if len(all) < 10 || len(all) > 11 {
		t.Fatalf("%d events in the schedule's feed", len(all))
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	var last time.Time
	for i, ev := range all {
		start, err1 := ev.DateTimeStart(nil)
		end, err2 := ev.DateTimeEnd(nil)
		if err1 != nil || err2 != nil || start.Location().String() != "Europe/Berlin" {
			t.Fatalf("event %d: %v %v in %v", i, err1, err2, start.Location())
		}
		b := start.In(berlin)
		if b.Weekday() != time.Monday || b.Hour() != 9 || end.Sub(start) < 167*time.Hour || end.Sub(start) > 169*time.Hour {
			t.Errorf("event %d runs %s to %s, want Monday 09:00 Berlin for a week", i, b, end.In(berlin))
		}
		if i > 0 && !start.Equal(last) {
			t.Errorf("event %d starts at %s, the previous ended at %s", i, start, last)
		}
		last = end
	}
	if first, _ := all[0].DateTimeStart(nil); first.After(now) || last.Before(now.Add(8*7*24*time.Hour)) {
		t.Errorf("feed covers %s to %s, want from before now to eight weeks ahead", first, last)
	}
	mine := fetch(bobURL)
	for _, ev := range mine {
		if s, _ := ev.Props.Text("SUMMARY"); s != "On call: primary (bob)" {
			t.Errorf("bob's feed holds %q", s)
		}
	}
	if len(mine) < 5 || len(mine) > 6 {
		t.Errorf("bob has %d shifts in nine weeks of alternating weeks", len(mine))
	}

	if code, _ := call(t, http.MethodDelete, api+"/"+bobID, aliceToken, nil); code != http.StatusNoContent {
		t.Fatalf("revoke = %d", code)
	}
	for _, u := range []string{bobURL, a.URL() + "/oncall/calendars/not-a-token.ics"} {
		if code, _ := get(t, u, ""); code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", u, code)
		}
	}
	if code, body := get(t, api, "viewer-token-0123456789abcdef01"); code != 200 || strings.Contains(body, "token") || !strings.Contains(body, `"schedule":"primary"`) {
		t.Errorf("list = %d %s", code, body)
	}
}
