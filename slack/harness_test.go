package slack_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/incidents/postmortem"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

// people: carol has a Slack ID; alice is found by email; bob is not in Slack.
var people = []config.Person{
	{Name: "alice", Email: "alice@shop.example.com"},
	{Name: "bob", Email: "bob@shop.example.com"},
	{Name: "carol", Email: "carol@shop.example.com", SlackID: "U024BE7LH", Role: config.RoleResponder},
}

// env is Sentinel's incident service and Slack app against a fake Slack,
// with the app's handlers served on loopback.
type env struct {
	fake   *slacktest.Server
	svc    *incidents.Service
	bot    *slack.Bot
	srv    *httptest.Server
	client slacktest.Client
	sil    *fakeSilencer
	store  incidents.Store
	audit  *fakeRecorder
}

type envOptions struct {
	store      incidents.Store
	slack      func(*config.Slack)
	incidents  func(*config.Incidents)
	oncall     config.Oncall
	now        func() time.Time
	fake       *slacktest.Server
	noRun      bool
	wrap       func(*slack.Bot) incidents.Pager
	registerer prometheus.Registerer
	// handOffClaims turns hand-off announcements on.
	handOffClaims slack.HandOffClaimer
	// deliveries claims Slack's deliveries in a shared store.
	deliveries slack.DeliveryClaimer
	logger     *slog.Logger
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	fake := o.fake
	if fake == nil {
		fake = slacktest.New()
		t.Cleanup(fake.Close)
		fake.AddUser(slacktest.User{ID: "U0ALICE", Name: "alice", Email: "alice@shop.example.com"})
		fake.AddUser(slacktest.User{ID: "U024BE7LH", Name: "carol", Email: "carol@shop.example.com"})
		fake.AddUser(slacktest.User{ID: "U0DAVE", Name: "dave", Email: "dave@elsewhere.example.com"})
	}
	scfg := config.DefaultSlack()
	scfg.Token = config.NewSecret("xoxb-test-token")
	scfg.SigningSecret = config.NewSecret(secret)
	scfg.APIURL = fake.APIURL()
	scfg.Channel = "#incidents"
	scfg.Pace = model.Duration(10 * time.Millisecond)
	if o.slack != nil {
		o.slack(&scfg)
	}
	icfg := config.DefaultIncidents()
	icfg.Delivery.Backoff = model.Duration(50 * time.Millisecond)
	if o.incidents != nil {
		o.incidents(&icfg)
	}
	oc, ps := oncall.Compile(people, o.oncall)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if o.store == nil {
		o.store = incidents.NewMemoryStore()
	}
	if o.now == nil {
		o.now = time.Now
	}
	svc, err := incidents.New(incidents.Options{
		Config: icfg, OnCall: oc, Store: o.store, ExternalURL: "https://sentinel.example.com", Now: o.now,
		Console: &strings.Builder{}, Fallback: incidents.NewConsolePager("fallback", &strings.Builder{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	sil := &fakeSilencer{}
	rec := &fakeRecorder{}
	var handOffs slack.HandOffSource
	if o.handOffClaims != nil {
		handOffs = svc
	}
	bot, err := slack.New(slack.Options{
		Audit: rec, HandOffs: handOffs, HandOffClaims: o.handOffClaims, Deliveries: o.deliveries, Logger: o.logger,
		Config: scfg, People: svc.People(), Incidents: svc, Silences: sil, Postmortems: fakePostmortems{},
		ExternalURL: "https://sentinel.example.com", Now: o.now, Registerer: o.registerer,
	})
	if err != nil {
		t.Fatal(err)
	}
	var pager incidents.Pager = bot
	if o.wrap != nil {
		pager = o.wrap(bot)
	}
	if err := svc.AddPager(pager); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /slack/interactions", bot.Interactions())
	mux.Handle("POST /slack/commands", bot.Commands())
	mux.Handle("POST /slack/events", bot.Events())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() { _ = bot.Run(ctx) })
	if !o.noRun {
		wg.Go(func() { _ = svc.Run(ctx) })
	}
	return &env{fake: fake, svc: svc, bot: bot, srv: srv, client: slacktest.Client{Secret: secret}, sil: sil, store: o.store, audit: rec}
}

// firing is an alert group with one firing probe alert.
func firing(key string) model.AlertGroup {
	return model.AlertGroup{
		Key: key, Labels: model.Labels{"service": "checkout"}, Source: "sentinel", Firing: true,
		Alerts: []model.Alert{{
			Name: "CheckoutProbeFailing", Fingerprint: "fp-" + key, State: model.AlertFiring, Severity: model.SeverityCritical,
			Labels:      model.Labels{"service": "checkout", "probe": "checkout", "step": "pay"},
			Annotations: model.Labels{"summary": "checkout failing in local: step pay answered 500"},
			Runbook:     "checkout-down", Source: "rule",
			StartsAt: time.Now().Add(-2 * time.Minute), FiredAt: time.Now(),
		}},
	}
}

// pages are the messages in #incidents carrying a page's metadata.
func (e *env) pages() []slacktest.Message {
	var out []slacktest.Message
	for _, m := range e.fake.Posted("C0INCIDENTS") {
		if m.Metadata != nil && m.Metadata.EventPayload["role"] == "page" {
			out = append(out, m)
		}
	}
	return out
}

func (e *env) waitPages(t testing.TB, n int) []slacktest.Message {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, "page in Slack", func() bool { return len(e.pages()) >= n })
	return e.pages()
}

func (e *env) incident(t testing.TB, id int64) *incidents.Incident {
	t.Helper()
	inc, err := e.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func (e *env) click(t testing.TB, action string, id int64, user, name, msgTS, actionTS string) slacktest.Response {
	t.Helper()
	resp, err := e.client.Interaction(context.Background(), e.srv.URL+"/slack/interactions", slacktest.BlockActions(slacktest.Click{
		ActionID: action, Value: itoa(id), UserID: user, UserName: name, ChannelID: "C0INCIDENTS",
		MessageTS: msgTS, ResponseURL: e.fake.ResponseURL("r-" + actionTS), ActionTS: actionTS,
	}))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (e *env) command(t testing.TB, text, user, channelName string) (int, map[string]string) {
	t.Helper()
	resp, err := e.client.SlashCommand(context.Background(), e.srv.URL+"/slack/commands", slacktest.Command{
		Text: text, UserID: user, UserName: strings.ToLower(strings.TrimPrefix(user, "U0")), ChannelID: "C0INCIDENTS",
		ChannelName: channelName, ResponseURL: e.fake.ResponseURL("cmd"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	_ = json.Unmarshal([]byte(resp.Body), &body)
	return resp.Status, body
}

func itoa(i int64) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// blocksHaveButtons reports whether a message's blocks hold the action IDs.
func blocksHaveButtons(m slacktest.Message, ids ...string) bool {
	for _, id := range ids {
		if !strings.Contains(string(m.Blocks), `"action_id":"`+id+`"`) {
			return false
		}
	}
	return true
}

type fakeSilencer struct {
	mu  sync.Mutex
	got []alerting.NewSilence
}

func (f *fakeSilencer) CreateSilence(_ context.Context, n alerting.NewSilence) (alerting.Silence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(n.Matchers) == 0 || n.Duration <= 0 {
		return alerting.Silence{}, alerting.ErrInvalid
	}
	f.got = append(f.got, n)
	return alerting.Silence{ID: "sil-1", EndsAt: time.Now().Add(n.Duration)}, nil
}

// fakePostmortems links every resolved-looking incident's postmortem; #99
// has none.
type fakePostmortems struct{}

func (fakePostmortems) Link(_ context.Context, id int64) (postmortem.Link, error) {
	if id == 99 {
		return postmortem.Link{}, incidents.ErrNotFound
	}
	return postmortem.Link{IncidentID: id, Title: "Checkout is down", Status: "draft",
		URL: "https://sentinel.example.com/incidents/1/postmortem", MarkdownURL: "https://sentinel.example.com/api/v1/incidents/1/postmortem.md", OpenActionItems: 2}, nil
}

// fakeRecorder keeps audit entries as "actor|role|channel|action|target|outcome".
type fakeRecorder struct {
	mu  sync.Mutex
	got []string
}

func (f *fakeRecorder) Record(_ context.Context, a model.Actor, action, target, outcome, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, strings.Join([]string{a.Name, a.Role, a.Channel, action, target, outcome}, "|"))
	return nil
}

func (f *fakeRecorder) entries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}
