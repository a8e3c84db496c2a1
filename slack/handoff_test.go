package slack_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// handOffClaims keeps claims like the store does: once per key.
type handOffClaims struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (h *handOffClaims) ClaimHandOff(_ context.Context, schedule, part string, start time.Time) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := schedule + "|" + part + "|" + start.UTC().Format(time.RFC3339Nano)
	if h.seen[k] {
		return false, nil
	}
	h.seen[k] = true
	return true, nil
}

func (h *handOffClaims) ReleaseHandOff(_ context.Context, schedule, part string, start time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.seen, schedule+"|"+part+"|"+start.UTC().Format(time.RFC3339Nano))
	return nil
}

// TestHandOffAnnouncedOnce: at a shift change of a Berlin schedule the
// incoming person gets one direct message naming the schedule, the shift
// in Berlin time and who hands over, and #incidents a note; a second look
// and a restart over the same claims send nothing more; a hand-off older
// than a few minutes at start-up is not announced; a person linked to no
// Slack user gets no message, and the log says why.
func TestHandOffAnnouncedOnce(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2026, 12, 5, 7, 59, 0, 0, time.UTC)} // 08:59 in Berlin
	claims := &handOffClaims{seen: map[string]bool{}}
	store := incidents.NewMemoryStore()
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	fake.AddUser(slacktest.User{ID: "U024BE7LH", Name: "carol", Email: "carol@shop.example.com"})
	fake.AddUser(slacktest.User{ID: "U0ALICE", Name: "alice", Email: "alice@shop.example.com"})
	logs := &testutil.LockedBuffer{}
	opts := envOptions{
		store: store, fake: fake, now: clock.now, handOffClaims: claims, logger: slog.New(slog.NewTextHandler(logs, nil)),
		oncall: config.Oncall{Schedules: []config.Schedule{{
			Name: "primary", Timezone: "Europe/Berlin",
			Rotation: &config.Rotation{Every: model.Duration(24 * time.Hour), Handoff: "09:00", Members: []string{"alice", "carol", "bob"}, Start: "2026-12-01"},
		}}},
	}
	e := newEnv(t, opts)
	announce := func(e *env) {
		t.Helper()
		if err := e.bot.AnnounceHandOffs(ctx); err != nil {
			t.Fatal(err)
		}
	}
	posts := func() (dms, notes []slacktest.Message) {
		for _, m := range fake.Posted("") {
			switch {
			case strings.HasPrefix(m.Channel, "D"):
				dms = append(dms, m)
			case strings.Contains(m.Text, "takes over"):
				notes = append(notes, m)
			}
		}
		return dms, notes
	}
	// alice's shift began yesterday at 09:00 Berlin: too old to announce.
	announce(e)
	if dms, notes := posts(); len(dms)+len(notes) != 0 {
		t.Fatalf("an old hand-off was announced: %+v %+v", dms, notes)
	}
	clock.set(time.Date(2026, 12, 5, 8, 0, 20, 0, time.UTC)) // 09:00:20 in Berlin
	announce(e)
	announce(e)
	dms, notes := posts()
	if len(dms) != 1 || len(notes) != 1 {
		t.Fatalf("after the hand-off: %d direct messages %+v, %d notes %+v", len(dms), dms, len(notes), notes)
	}
	t.Logf("direct message to %s: %s", dms[0].Channel, dms[0].Text)
	t.Logf("note in %s: %s", notes[0].Channel, notes[0].Text)
	if dms[0].Channel != "D024BE7LH" {
		t.Fatalf("the message went to %s, not carol's direct messages", dms[0].Channel)
	}
	if want := ":pager: You are on call for *primary* from Sat 5 Dec 09:00 CET until Sun 6 Dec 09:00 CET; alice hands over to you."; dms[0].Text != want {
		t.Fatalf("direct message %q, want %q", dms[0].Text, want)
	}
	if want := ":arrows_counterclockwise: *primary*: carol takes over from alice, on call until Sun 6 Dec 09:00 CET."; notes[0].Text != want {
		t.Fatalf("note %q, want %q", notes[0].Text, want)
	}
	// A restart over the same store and claims: nothing more.
	e2 := newEnv(t, opts)
	clock.set(time.Date(2026, 12, 5, 8, 2, 0, 0, time.UTC))
	announce(e2)
	if dms, notes := posts(); len(dms) != 1 || len(notes) != 1 {
		t.Fatalf("after a restart: %d direct messages, %d notes", len(dms), len(notes))
	}
	// bob, next, is in no Slack workspace: no message, a note, a log line.
	clock.set(time.Date(2026, 12, 6, 8, 1, 0, 0, time.UTC))
	announce(e2)
	dms, notes = posts()
	if len(dms) != 1 || len(notes) != 2 || !strings.Contains(notes[1].Text, "bob takes over from carol") {
		t.Fatalf("bob's hand-off: %d direct messages, notes %+v", len(dms), notes)
	}
	if !strings.Contains(logs.String(), "not linked to a Slack user") || !strings.Contains(logs.String(), "person=bob") {
		t.Fatalf("the log does not say why bob got no message:\n%s", logs)
	}
}

// TestHandOffRetriedAfterSlackFails: when Slack refuses the direct
// message, its claim is given back (the note, a part of its own, goes out)
// and the next look 30 s later sends the message once; when Slack refuses
// the note, the note alone is tried again.
func TestHandOffRetriedAfterSlackFails(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2026, 12, 5, 8, 0, 10, 0, time.UTC)} // 09:00:10 in Berlin
	claims := &handOffClaims{seen: map[string]bool{}}
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	fake.AddUser(slacktest.User{ID: "U024BE7LH", Name: "carol", Email: "carol@shop.example.com"})
	logs := &testutil.LockedBuffer{}
	reg := prometheus.NewRegistry()
	e := newEnv(t, envOptions{
		store: incidents.NewMemoryStore(), fake: fake, now: clock.now, handOffClaims: claims, logger: slog.New(slog.NewTextHandler(logs, nil)), registerer: reg,
		oncall: config.Oncall{Schedules: []config.Schedule{{
			Name: "primary", Timezone: "Europe/Berlin",
			Rotation: &config.Rotation{Every: model.Duration(24 * time.Hour), Handoff: "09:00", Members: []string{"alice", "carol", "bob"}, Start: "2026-12-01"},
		}}},
	})
	announce := func() {
		t.Helper()
		if err := e.bot.AnnounceHandOffs(ctx); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (dms, notes int) {
		t.Helper()
		for _, m := range fake.Posted("") {
			switch {
			case m.Channel == "D024BE7LH" && strings.HasPrefix(m.Text, ":pager: You are on call for *primary*"):
				dms++
			case strings.Contains(m.Text, "carol takes over from alice"):
				notes++
			case strings.Contains(m.Text, "bob takes over from carol"): // the next day's, below
			default:
				t.Errorf("unexpected post %+v", m)
			}
		}
		return dms, notes
	}
	fake.Fail("chat.postMessage", 1, 500, 0) // the direct message, sent first
	announce()
	if dms, notes := count(); dms != 0 || notes != 1 {
		t.Fatalf("while Slack refused the message: %d direct messages, %d notes; want 0 and 1", dms, notes)
	}
	if !strings.Contains(logs.String(), "hand-off message failed; trying again in 30 s") {
		t.Fatalf("the log does not say the message failed:\n%s", logs)
	}
	const retries = `
# HELP sentinel_slack_requests_total Requests from Slack (interactions, commands) by endpoint and outcome.
# TYPE sentinel_slack_requests_total counter
sentinel_slack_requests_total{endpoint="handoffs",outcome="claimed"} 1
sentinel_slack_requests_total{endpoint="handoffs",outcome="retry"} 1
`
	if err := promtest.GatherAndCompare(reg, strings.NewReader(retries), "sentinel_slack_requests_total"); err != nil {
		t.Error(err)
	}
	clock.set(clock.now().Add(30 * time.Second))
	announce()
	announce()
	if dms, notes := count(); dms != 1 || notes != 1 {
		t.Fatalf("after the retry: %d direct messages, %d notes; want 1 and 1", dms, notes)
	}

	// The next day's hand-off (carol to bob, who has no Slack user: no
	// direct message): Slack refuses the note, the next look posts it.
	clock.set(time.Date(2026, 12, 6, 8, 0, 10, 0, time.UTC))
	fake.Fail("chat.postMessage", 1, 500, 0)
	announce()
	bobNotes := func() (n int) {
		for _, m := range fake.Posted("") {
			if strings.Contains(m.Text, "bob takes over from carol") {
				n++
			}
		}
		return n
	}
	if n := bobNotes(); n != 0 {
		t.Fatalf("%d notes while Slack refused them", n)
	}
	if !strings.Contains(logs.String(), "hand-off note failed; trying again in 30 s") {
		t.Fatalf("the log does not say the note failed:\n%s", logs)
	}
	clock.set(clock.now().Add(30 * time.Second))
	announce()
	announce()
	if n := bobNotes(); n != 1 {
		t.Fatalf("after the note's retry: %d notes, want 1", n)
	}
	if dms, _ := count(); dms != 1 {
		t.Fatalf("the note's retry sent %d direct messages to carol, want still 1", dms)
	}
}
