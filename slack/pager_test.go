package slack_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goslack "github.com/slack-go/slack"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
	"github.com/sentinel-oss/sentinel/store"
)

func TestAlertPagesAndButtonsAcknowledgeAndResolve(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	if err := e.svc.HandleAlertGroup(ctx, firing("service=checkout")); err != nil {
		t.Fatal(err)
	}
	page := e.waitPages(t, 1)[0]
	if !blocksHaveButtons(page, slack.ActionAcknowledge, slack.ActionResolve, slack.ActionEscalate) {
		t.Fatalf("page lacks the three buttons: %s", page.Blocks)
	}
	if !strings.HasPrefix(page.Metadata.EventPayload["key"].(string), "incident/1/") || page.Metadata.EventType != slack.MetadataEventType {
		t.Fatalf("page metadata %+v", page.Metadata)
	}
	for _, want := range []string{"#1 checkout failing in local", "step pay answered 500", "checkout-down"} {
		if !strings.Contains(string(page.Blocks), want) {
			t.Errorf("page blocks lack %q: %s", want, page.Blocks)
		}
	}

	// carol (slack_id in people:) acknowledges.
	if r := e.click(t, slack.ActionAcknowledge, 1, "U024BE7LH", "carol", page.TS, "1.1"); r.Status != http.StatusOK {
		t.Fatalf("ack click: %d %s", r.Status, r.Body)
	}
	inc := e.incident(t, 1)
	if inc.Status != incidents.StatusAcknowledged {
		t.Fatalf("status %s after ack", inc.Status)
	}
	if last := inc.Timeline[len(inc.Timeline)-1]; last.Actor != "carol" {
		t.Fatalf("ack actor %q, want carol", last.Actor)
	}
	testutil.Eventually(t, 5*time.Second, "chat.update after ack", func() bool {
		m := e.pages()[0]
		return m.Updates >= 1 && strings.Contains(string(m.Blocks), "acknowledged by carol") && !blocksHaveButtons(m, slack.ActionAcknowledge)
	})

	// A redelivery of the same click changes nothing and says nothing new.
	before := len(e.incident(t, 1).Timeline)
	if r := e.click(t, slack.ActionAcknowledge, 1, "U024BE7LH", "carol", page.TS, "1.1"); r.Status != http.StatusOK {
		t.Fatalf("redelivered click: %d", r.Status)
	}
	if got := len(e.incident(t, 1).Timeline); got != before {
		t.Fatalf("redelivery changed the timeline: %d -> %d entries", before, got)
	}

	// A stranger (linked to no person) clicks Resolve: nothing changes, and
	// the answer, seen only by them, says how to get linked.
	if r := e.click(t, slack.ActionResolve, 1, "U0DAVE", "dave", page.TS, "1.2"); r.Status != http.StatusOK {
		t.Fatalf("stranger's resolve click: %d", r.Status)
	}
	if inc = e.incident(t, 1); inc.Status != incidents.StatusAcknowledged {
		t.Fatalf("status %s after a stranger's resolve, want acknowledged", inc.Status)
	}
	testutil.Eventually(t, 5*time.Second, "answer to the stranger", func() bool {
		for _, r := range e.fake.Responses() {
			if txt, _ := r.JSON["text"].(string); strings.Contains(txt, "not linked") && strings.Contains(txt, "U0DAVE") && r.JSON["response_type"] == "ephemeral" {
				return true
			}
		}
		return false
	})

	// carol resolves.
	if r := e.click(t, slack.ActionResolve, 1, "U024BE7LH", "carol", page.TS, "1.2b"); r.Status != http.StatusOK {
		t.Fatalf("resolve click: %d", r.Status)
	}
	inc = e.incident(t, 1)
	if inc.Status != incidents.StatusResolved {
		t.Fatalf("status %s after resolve", inc.Status)
	}
	if last := inc.Timeline[len(inc.Timeline)-1]; last.Actor != "carol" {
		t.Fatalf("resolve actor %q, want carol", last.Actor)
	}
	testutil.Eventually(t, 5*time.Second, "chat.update after resolve", func() bool {
		m := e.pages()[0]
		return m.Updates >= 2 && strings.Contains(string(m.Blocks), "resolved") && !blocksHaveButtons(m, slack.ActionResolve)
	})
	// Thread replies for the timeline, each with its key.
	testutil.Eventually(t, 5*time.Second, "thread replies", func() bool {
		n := 0
		for _, m := range e.fake.Posted("C0INCIDENTS") {
			if m.ThreadTS == page.TS && m.Metadata != nil && m.Metadata.EventPayload["role"] == "reply" {
				n++
			}
		}
		return n >= 2
	})
	// Acknowledging a resolved incident answers through response_url.
	e.click(t, slack.ActionAcknowledge, 1, "U024BE7LH", "carol", page.TS, "1.3")
	testutil.Eventually(t, 5*time.Second, "ephemeral note", func() bool {
		for _, r := range e.fake.Responses() {
			if strings.Contains(r.JSON["text"].(string), "resolved") && r.JSON["response_type"] == "ephemeral" {
				return true
			}
		}
		return false
	})
	if n := len(e.pages()); n != 1 {
		t.Fatalf("%d page messages, want 1", n)
	}
}

func TestBadSignatureAndStaleTimestampChangeNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	if err := e.svc.HandleAlertGroup(ctx, firing("service=checkout")); err != nil {
		t.Fatal(err)
	}
	page := e.waitPages(t, 1)[0]
	payload := slacktest.BlockActions(slacktest.Click{ActionID: slack.ActionAcknowledge, Value: "1", UserID: "U024BE7LH", UserName: "carol", ChannelID: "C0INCIDENTS", MessageTS: page.TS})
	form := url.Values{"payload": {string(payload)}}
	target := e.srv.URL + "/slack/interactions"
	cases := []struct {
		name   string
		client slacktest.Client
		ts     time.Time
		badSig string
	}{
		{"bad signature", e.client, time.Time{}, "v0=" + strings.Repeat("ab", 32)},
		{"wrong secret", slacktest.Client{Secret: "not-the-secret"}, time.Time{}, ""},
		{"six minutes old", e.client, time.Now().Add(-6 * time.Minute), ""},
		{"six minutes ahead", e.client, time.Now().Add(6 * time.Minute), ""},
		{"garbage signature", e.client, time.Time{}, "sha1=nothex"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.client.Post(ctx, target, form, tc.ts, tc.badSig)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401 (%s)", r.Status, r.Body)
			}
			r, err = tc.client.Post(ctx, e.srv.URL+"/slack/commands", slacktest.Command{Text: "declare critical x", UserID: "U0DAVE"}.Form(), tc.ts, tc.badSig)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("command status %d, want 401", r.Status)
			}
		})
	}
	// Unsigned.
	resp, err := http.PostForm(target, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned: %d", resp.StatusCode)
	}
	if inc := e.incident(t, 1); inc.Status != incidents.StatusTriggered || len(e.pages()[0].Blocks) == 0 {
		t.Fatalf("incident changed: %s", inc.Status)
	}
	list, _ := e.svc.List(ctx, incidents.ListQuery{Limit: 10})
	if len(list) != 1 {
		t.Fatalf("%d incidents, want 1 (a refused command declared one)", len(list))
	}
	if got := e.fake.Calls("chat.update"); len(got) != 0 {
		t.Fatalf("%d chat.update calls after refused requests", len(got))
	}
}

func TestRateLimitedPageArrivesOnceAfterRetryAfter(t *testing.T) {
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	fake.Fail("chat.postMessage", 2, http.StatusTooManyRequests, 1)
	e := newEnv(t, envOptions{fake: fake})
	if err := e.svc.HandleAlertGroup(context.Background(), firing("service=checkout")); err != nil {
		t.Fatal(err)
	}
	e.waitPages(t, 1)
	calls := fake.Calls("chat.postMessage")
	if len(calls) < 3 || calls[0].Status != 429 || calls[1].Status != 429 || calls[2].Status != 200 {
		t.Fatalf("calls: %+v", calls)
	}
	for i := 1; i <= 2; i++ {
		if gap := calls[i].At.Sub(calls[i-1].At); gap < 990*time.Millisecond {
			t.Errorf("attempt %d came %s after the 429; Slack asked for 1s", i+1, gap)
		}
	}
	// Let the outbox settle, then check there is exactly one page.
	testutil.Eventually(t, 5*time.Second, "outbox delivered", func() bool {
		es, _ := e.store.Entries(context.Background())
		for _, en := range es {
			if en.State != incidents.EntryDone {
				return false
			}
		}
		return len(es) > 0
	})
	if n := len(e.pages()); n != 1 {
		t.Fatalf("%d pages, want exactly 1", n)
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	fake.Fail("chat.postMessage", 1, http.StatusInternalServerError, 0)
	e := newEnv(t, envOptions{fake: fake})
	if err := e.svc.HandleAlertGroup(context.Background(), firing("service=checkout")); err != nil {
		t.Fatal(err)
	}
	e.waitPages(t, 1)
	if calls := fake.Calls("chat.postMessage"); calls[0].Status != 500 {
		t.Fatalf("first call %d", calls[0].Status)
	}
}

// dyingPager posts through the bot, then "dies": it blocks until the
// delivery's context ends, so the outbox never records the delivery.
type dyingPager struct {
	bot    *slack.Bot
	post   bool
	posted chan struct{}
	once   sync.Once
}

func (d *dyingPager) Name() string { return d.bot.Name() }

func (d *dyingPager) Deliver(ctx context.Context, n incidents.Notification) error {
	if d.post {
		if err := d.bot.Deliver(ctx, n); err != nil {
			return err
		}
	}
	d.once.Do(func() { close(d.posted) })
	<-ctx.Done()
	return ctx.Err()
}

func TestRestartMidDeliveryNoSecondPage(t *testing.T) {
	for _, tc := range []struct {
		name       string
		postedOnce bool // the first process reached Slack before dying
		buried     int  // other messages posted to the channel before the restart
	}{
		{"posted before the crash", true, 0},
		{"crashed before posting", false, 0},
		// More messages than slack.history_limit (200) bury the page: it is
		// still found, because history is read back to the incident's start.
		{"posted, then buried by a busy channel", true, 450},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := slacktest.New()
			t.Cleanup(fake.Close)
			path := filepath.Join(t.TempDir(), "sentinel.db")
			clock := time.Now()
			var mu sync.Mutex
			now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
			ctx := context.Background()

			// First life: claim the page, post it (or not), die before Complete.
			db, err := store.OpenBolt(ctx, config.Storage{Path: path, OpenTimeout: model.Duration(time.Second)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			dp := &dyingPager{post: tc.postedOnce, posted: make(chan struct{})}
			e1 := newEnv(t, envOptions{fake: fake, store: store.NewIncidents(db), now: now, noRun: true,
				wrap: func(b *slack.Bot) incidents.Pager { dp.bot = b; return dp }})
			if err := e1.svc.HandleAlertGroup(ctx, firing("service=checkout")); err != nil {
				t.Fatal(err)
			}
			dctx, die := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); _, _ = e1.svc.DeliverDue(dctx) }()
			<-dp.posted
			die()
			<-done
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			wantPosts := 0
			if tc.postedOnce {
				wantPosts = 1
			}
			if n := len(fake.Calls("chat.postMessage")); n != wantPosts {
				t.Fatalf("first life made %d posts", n)
			}
			other := goslack.New("xoxb-other-app", goslack.OptionAPIURL(fake.APIURL()))
			for i := range tc.buried {
				if _, _, err := other.PostMessage("#incidents", goslack.MsgOptionText("chatter "+itoa(int64(i)), false)); err != nil {
					t.Fatal(err)
				}
			}

			// Second life: the lease ends, the entry is reclaimed and reconciled.
			mu.Lock()
			clock = clock.Add(2 * time.Minute)
			mu.Unlock()
			db2, err := store.OpenBolt(ctx, config.Storage{Path: path, OpenTimeout: model.Duration(time.Second)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db2.Close() })
			e2 := newEnv(t, envOptions{fake: fake, store: store.NewIncidents(db2), now: now, noRun: true})
			if _, err := e2.svc.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
			entries, err := e2.store.Entries(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].State != incidents.EntryDone {
				t.Fatalf("entries %+v", entries)
			}
			if n := len(e2.pages()); n != 1 {
				t.Fatalf("%d pages in Slack after the restart, want exactly 1", n)
			}
			if n := len(fake.Calls("chat.postMessage")); n != wantPosts+tc.buried+1-min(wantPosts, 1) {
				t.Fatalf("%d chat.postMessage calls in all: the page was posted again", n)
			}
			if tc.postedOnce && len(fake.Calls("conversations.history")) == 0 {
				t.Fatal("the restart did not read the channel history")
			}
			// The restarted process finds the old page for later updates.
			if _, err := e2.svc.Acknowledge(ctx, 1, "carol"); err != nil {
				t.Fatal(err)
			}
			if _, err := e2.svc.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
			if n := len(fake.Calls("chat.update")); n != 1 || len(e2.pages()) != 1 {
				t.Fatalf("after ack: %d chat.update, %d pages", n, len(e2.pages()))
			}
		})
	}
}

func TestDirectMessagesAndLookupByEmailOnce(t *testing.T) {
	e := newEnv(t, envOptions{oncall: config.Oncall{EscalationPolicies: []config.EscalationPolicy{{
		Name: "default", Steps: []config.EscalationStep{{Notify: []string{"user:alice", "user:bob"}}},
	}}}})
	ctx := context.Background()
	if err := e.svc.HandleAlertGroup(ctx, firing("service=checkout")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Declare(ctx, incidents.DeclareRequest{Title: "Payments slow", Severity: model.SeverityWarning}, "carol"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "two DMs to alice", func() bool { return len(e.fake.Posted("D0ALICE")) >= 2 })
	dm := e.fake.Posted("D0ALICE")[0]
	if !blocksHaveButtons(dm, slack.ActionAcknowledge, slack.ActionResolve, slack.ActionEscalate) {
		t.Fatalf("DM lacks buttons: %s", dm.Blocks)
	}
	if !e.pages()[0].Mentions("U0ALICE") {
		t.Fatalf("page does not mention alice: %s", e.pages()[0].Blocks)
	}
	if !strings.Contains(string(e.pages()[0].Blocks), "bob") {
		t.Fatalf("page does not name bob (not in Slack): %s", e.pages()[0].Blocks)
	}
	lookups := map[string]int{}
	for _, c := range e.fake.Calls("users.lookupByEmail") {
		lookups[c.Form.Get("email")]++
	}
	if lookups["alice@shop.example.com"] != 1 || lookups["bob@shop.example.com"] != 1 {
		t.Fatalf("lookups %v, want one per address", lookups)
	}
}

func TestIncidentChannel(t *testing.T) {
	e := newEnv(t, envOptions{
		slack: func(c *config.Slack) { c.IncidentChannels = true; c.UserGroups = []string{"S0SRE"} },
		oncall: config.Oncall{EscalationPolicies: []config.EscalationPolicy{{
			Name: "default", Steps: []config.EscalationStep{{Notify: []string{"user:carol"}}},
		}}},
	})
	if _, err := e.svc.Declare(context.Background(), incidents.DeclareRequest{Title: "Checkout down!", Severity: model.SeverityCritical}, "carol"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "incident channel note", func() bool {
		for _, m := range e.fake.Posted("C0INCIDENTS") {
			if m.Broadcast && strings.Contains(m.Text, "Incident channel") {
				return true
			}
		}
		return false
	})
	ch, ok := e.fake.Channels()["inc-1-checkout-down"]
	if !ok {
		t.Fatalf("no channel inc-1-checkout-down: %v", e.fake.Channels())
	}
	if !strings.Contains(ch.Topic, "#1 Checkout down!") || len(ch.Members) != 1 || ch.Members[0] != "U024BE7LH" {
		t.Fatalf("channel %+v", ch)
	}
	first := e.fake.Posted(ch.ID)
	if len(first) == 0 || !blocksHaveButtons(first[0], slack.ActionAcknowledge) {
		t.Fatalf("first message in the incident channel: %+v", first)
	}
	if !strings.Contains(e.pages()[0].BlockText(), "<!subteam^S0SRE>") {
		t.Fatalf("user group not mentioned: %s", e.pages()[0].Blocks)
	}
}

// TestAlertJoiningUpdatesThePageAndThread: a second alert joining the
// acknowledged incident redraws the page (which lists both) and is told in
// its thread; when a person resolves while it still fires and it then
// clears, the thread hears of it and nobody is paged again.
func TestAlertJoiningUpdatesThePageAndThread(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	g := firing("service=checkout")
	if err := e.svc.HandleAlertGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	page := e.waitPages(t, 1)[0]
	if _, err := e.svc.Acknowledge(ctx, 1, "carol"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the ack drawn", func() bool { return e.pages()[0].Updates >= 1 })
	updates := e.pages()[0].Updates
	g.Alerts = append(g.Alerts, model.Alert{Name: "SLOErrorBudgetBurn", Fingerprint: "fp-burn", State: model.AlertFiring, Severity: model.SeverityCritical,
		Labels:      model.Labels{"service": "checkout", "slo": "checkout-availability", "tier": "page"},
		Annotations: model.Labels{"summary": "checkout-availability: 24 min of the 3.6 h 30-day error budget spent in the last hour"}, FiredAt: time.Now()})
	joined := time.Now()
	if err := e.svc.HandleAlertGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the page redrawn with both alerts", func() bool {
		m := e.pages()[0]
		return m.Updates > updates && strings.Contains(string(m.Blocks), "2 firing of 2") &&
			strings.Contains(string(m.Blocks), "SLOErrorBudgetBurn") && strings.Contains(string(m.Blocks), "CheckoutProbeFailing")
	})
	t.Logf("alert joined to message redrawn: %s", time.Since(joined).Round(time.Millisecond))
	reply := func(substr string) bool {
		for _, m := range e.fake.Posted("C0INCIDENTS") {
			if m.ThreadTS == page.TS && strings.Contains(m.Text, substr) {
				return true
			}
		}
		return false
	}
	testutil.Eventually(t, 5*time.Second, "a thread reply for the joining alert", func() bool {
		return reply("alert SLOErrorBudgetBurn (slo=checkout-availability, tier=page) fired")
	})

	// Resolved while both fire; the probe alert clears: told, not paged.
	dms := countDMs(e)
	if _, err := e.svc.Resolve(ctx, 1, "carol"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the resolve told", func() bool { return reply("resolved by carol while 2 alerts were still firing") })
	g.Alerts[0].State = model.AlertResolved
	if err := e.svc.HandleAlertGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the clearing told in the thread", func() bool {
		return reply("alert CheckoutProbeFailing (probe=checkout) cleared after the incident was resolved; 1 alert still firing")
	})
	if inc := e.incident(t, 1); inc.Status != incidents.StatusResolved {
		t.Fatalf("status %s after an alert cleared", inc.Status)
	}
	if n := len(e.pages()); n != 1 {
		t.Errorf("%d page messages, want 1", n)
	}
	if n := countDMs(e); n != dms {
		t.Errorf("%d direct pages after the resolve, %d before", n, dms)
	}
}

// countDMs counts the direct messages Sentinel sent.
func countDMs(e *env) int {
	n := 0
	for _, m := range e.fake.Posted("") {
		if strings.HasPrefix(m.Channel, "D") && m.Metadata != nil && m.Metadata.EventPayload["role"] == "dm" {
			n++
		}
	}
	return n
}

// TestRefreshRedrawsWithoutAReply: a summary whose figure moved redraws
// the page (its title follows) and posts nothing in the thread.
func TestRefreshRedrawsWithoutAReply(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	g := firing("service=checkout")
	if err := e.svc.HandleAlertGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	page := e.waitPages(t, 1)[0]
	posts := len(e.fake.Posted(""))
	g.Alerts[0].Annotations = model.Labels{"summary": "checkout failing in local: step pay answered 502"}
	if err := e.svc.HandleAlertGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the page redrawn with the new title", func() bool {
		m := e.pages()[0]
		return m.Updates >= 1 && strings.Contains(string(m.Blocks), "#1 checkout failing in local: step pay answered 502")
	})
	if n := len(e.fake.Posted("")); n != posts {
		t.Errorf("%d messages after a refresh, %d before: a refresh posts nothing", n, posts)
	}
	if e.pages()[0].TS != page.TS {
		t.Error("the refresh posted a new page")
	}
}
