package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sentinel-oss/sentinel/slack/slacktest"
	"github.com/sentinel-oss/sentinel/store/pgtest"
)

// replicaCrashConfig is one of three replicas on one PostgreSQL database:
// a checkout probe every second against a target that always fails, a
// rule paging on it, and incidents paged through Slack (reached through
// slackAPI, the replica's own proxy in front of the fake) with a short
// delivery lease (4 s), so a delivery a kill left claimed is reconciled
// within seconds by whichever replica claims it next.
func replicaCrashConfig(addr, dsn, shop, slackAPI string) string {
	return fmt.Sprintf(`server: {listen: %q, external_url: %q}
storage: {driver: postgres, dsn: %q}
%sprobes:
  - name: checkout
    interval: 1s
    timeout: 800ms
    failure_threshold: 2
    labels: {service: checkout}
    steps:
      - {name: pay, request: {method: POST, url: "%s/api/checkout", json: {card: "4242"}}, expect: {status: 200}}
rum:
  allowed_origins: ["https://shop.example.com"]
  routes: [/product/:id]
slos:
  - {name: orders, service: orders, objective: 99, window: 30d, sli: {events: {}}}
alerting:
  evaluation_interval: 1s
  rules:
    - {name: CheckoutProbeFailing, when: {probe: checkout}, for: 0s, severity: critical}
`+ledgerYAML+`incidents:
  ack_timeout: 0s
  delivery: {timeout: 1s, lease: 4s, backoff: 500ms, max_backoff: 1s}
`, addr, "http://"+addr, dsn, tokensYAML, shop) + pagingYAML(slackAPI, "  timeout: 1s\n  history_limit: 1000\n")
}

// pagingYAML pages carol, alone on the primary schedule, through Slack at
// slackAPI; extra adds to the slack section.
func pagingYAML(slackAPI, extra string) string {
	return fmt.Sprintf(`people: [{name: carol, email: carol@shop.example.com, slack_id: %s}]
oncall:
  schedules:
    - {name: primary, timezone: UTC, rotation: {every: 1w, members: [carol]}}
  escalation_policies:
    - {name: default, steps: [{notify: "schedule:primary"}]}
slack:
  token: xoxb-e2e
  signing_secret: %s
  api_url: %s
  channel: "#incidents"
  pace: 0s
`, slackUser, slackSecret, slackAPI) + extra
}

// postgresCluster starts a throwaway PostgreSQL cluster for one test and
// stops it when the test ends; without PostgreSQL the test is skipped
// (failed under CI=true).
func postgresCluster(t *testing.T) (*pgtest.Cluster, string) {
	t.Helper()
	bin, err := pgtest.FindBin()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v: CI must install the Debian package \"postgresql\" (.ci/run does)", err)
		}
		t.Skipf("%v; install the Debian package \"postgresql\" to run this test", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, err := pgtest.Start(ctx, bin)
	if err != nil {
		t.Fatalf("start postgresql: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Logf("stop postgresql: %v", err)
		}
	})
	return c, bin
}

// Kill moments of TestReplicaCrash, one per round in turn.
const (
	// killRandom kills a replica at a seeded random moment under load.
	killRandom = "random moment"
	// killDeclare kills the replica an incident is being declared on,
	// a random 0-5 ms after the request went out: before or after commit.
	killDeclare = "during a declaration"
	// killClaimed kills the replica whose page reaches its Slack proxy,
	// before Slack sees it: the delivery is claimed and never sent.
	killClaimed = "after a claim, during the call"
	// killAnswered kills the replica whose page Slack has just posted,
	// before the answer reaches it: sent and never recorded.
	killAnswered = "after Slack's answer, before it is recorded"
)

// slot is one replica position: its address, config and current process.
type slot struct {
	i   int
	cfg string
	mu  sync.Mutex
	p   *process // nil while it is being restarted
}

func (s *slot) current() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return nil
	}
	select {
	case <-s.p.done:
		return nil
	default:
		return s.p
	}
}

// trap is armed for one kill on the Slack path: the first page any
// replica posts fires it.
type trap struct {
	mode  atomic.Pointer[string]
	fired chan int // the slot killed
	// hold, when set, delays a killClaimed kill until it is closed (or
	// 10 s pass), so a test can first read the answer of the request
	// that made the page; the delivery is asynchronous, so the answer
	// does not wait for this page.
	hold atomic.Pointer[chan struct{}]
}

// slackProxy forwards one replica's Slack API calls to the fake and, when
// the trap is armed, kills that replica on its next page: before
// forwarding (killClaimed) or after the fake answered (killAnswered).
func slackProxy(t *testing.T, fake *slacktest.Server, s *slot, tr *trap) *httptest.Server {
	t.Helper()
	target := strings.TrimSuffix(fake.APIURL(), "/api/")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mode := ""
		if strings.HasSuffix(r.URL.Path, "/chat.postMessage") {
			if f, err := url.ParseQuery(string(body)); err == nil && strings.Contains(f.Get("metadata"), `"role":"page"`) {
				if m := tr.mode.Load(); m != nil && tr.mode.CompareAndSwap(m, nil) {
					mode = *m
				}
			}
		}
		kill := func() {
			if p := s.current(); p != nil {
				p.kill()
			}
			tr.fired <- s.i
		}
		if mode == killClaimed {
			if h := tr.hold.Load(); h != nil {
				select {
				case <-*h:
				case <-time.After(10 * time.Second):
				}
			}
			kill()
			http.Error(w, "replica killed", http.StatusServiceUnavailable)
			return
		}
		req, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := httpClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if mode == killAnswered {
			kill()
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestReplicaCrash runs three `sentinel serve` processes on one PostgreSQL
// database, the fake Slack and a checkout that always fails, declares
// incidents through all three, and kills one replica with SIGKILL each
// round, in turn: at a random moment, during a declaration, after a claim
// while its page is on the way to Slack, and after Slack posted the page
// but before the replica heard. Each killed replica is restarted. The
// seed is logged (SENTINEL_CRASH_SEED replays it); SENTINEL_REPLICA_ROUNDS
// sets the rounds (default 4: each kill moment once). Afterwards every
// incident the API answered 201 exists, and every incident, declared or
// opened by the rule, has exactly one page.
func TestReplicaCrash(t *testing.T) {
	rounds := envInt("SENTINEL_REPLICA_ROUNDS", 4)
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("SENTINEL_CRASH_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("replica crash test: %d rounds, seed %d (SENTINEL_CRASH_SEED=%d replays the choices)", rounds, seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5e17))

	cluster, _ := postgresCluster(t)
	if err := cluster.CreateDatabase(t.Context(), "sentinel"); err != nil {
		t.Fatal(err)
	}
	dsn := cluster.DSNFor("sentinel")
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"payment backend down"}`, http.StatusInternalServerError)
	}))
	t.Cleanup(shop.Close)

	tr := &trap{fired: make(chan int, 4)}
	slots := make([]*slot, 3)
	for i := range slots {
		s := &slot{i: i}
		proxy := slackProxy(t, fake, s, tr)
		addr := freeAddr(t)
		s.cfg = write(t, fmt.Sprintf("replica-%d.yaml", i), replicaCrashConfig(addr, dsn, shop.URL, proxy.URL+"/api/"))
		// One at a time: the first applies the schema migrations.
		s.p = startBinary(t, s.cfg, addr, 30*time.Second)
		slots[i] = s
	}
	live := func() *process {
		for _, i := range rng.Perm(len(slots)) {
			if p := slots[i].current(); p != nil {
				return p
			}
		}
		return nil
	}

	led := newLedger()
	var n atomic.Int64
	declare := func(ctx context.Context, p *process) {
		k := n.Add(1)
		code, body, err := api(ctx, http.MethodPost, p.base()+"/api/v1/incidents", responderToken, map[string]any{
			"title": fmt.Sprintf("replica crash %d", k), "severity": "critical", "summary": "replica crash test",
			"labels": map[string]string{"service": fmt.Sprintf("svc-%d", k)}})
		if err != nil || code != http.StatusCreated {
			return
		}
		var inc incidentJSON
		if json.Unmarshal(body, &inc) == nil && inc.ID > 0 {
			led.mu.Lock()
			led.declared[inc.ID] = true
			led.mu.Unlock()
		}
	}
	// Any live replica, for the ledger's other writes.
	anyLive := func() string {
		for _, i := range rand.Perm(len(slots)) {
			if p := slots[i].current(); p != nil {
				return p.base()
			}
		}
		return ""
	}
	ctx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { // about 8 incidents a second, spread over the live replicas
		lr := rand.New(rand.NewPCG(seed+1, 2))
		for ctx.Err() == nil {
			time.Sleep(time.Duration(80+lr.IntN(80)) * time.Millisecond)
			if p := slots[lr.IntN(len(slots))].current(); p != nil {
				declare(ctx, p)
			}
		}
	})
	// Acknowledgements, clicks, resolves, webhooks, beacons, events,
	// silences, heartbeats, overrides and postmortem edits, each kind to
	// any live replica.
	for w := 1; w < ledgerWorkers; w++ {
		wr := rand.New(rand.NewPCG(seed+uint64(100+w), uint64(w)))
		wg.Go(func() { loadWorker(ctx, w, 0, wr, anyLive, led, fake) })
	}
	defer func() { stopLoad(); wg.Wait() }()

	modes := []string{killRandom, killDeclare, killClaimed, killAnswered}
	for round := range rounds {
		mode := modes[round%len(modes)]
		var victim *slot
		switch mode {
		case killRandom:
			time.Sleep(time.Duration(300+rng.IntN(1700)) * time.Millisecond) // the moment is the experiment
			victim = slots[rng.IntN(len(slots))]
			victim.current().kill()
		case killDeclare:
			victim = slots[rng.IntN(len(slots))]
			p := victim.current()
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			done := make(chan struct{})
			go func() { defer close(done); declare(dctx, p) }()
			time.Sleep(time.Duration(rng.IntN(5000)) * time.Microsecond) // the moment is the experiment
			p.kill()
			<-done
			cancel()
		case killClaimed, killAnswered:
			m := mode
			tr.mode.Store(&m)
			select {
			case i := <-tr.fired:
				victim = slots[i]
			case <-time.After(30 * time.Second):
				t.Fatalf("round %d: no page reached Slack within 30 s", round+1)
			}
		}
		t.Logf("round %d: killed replica %d %s", round+1, victim.i, mode)
		victim.mu.Lock()
		old := victim.p
		victim.p = nil
		victim.mu.Unlock()
		if dir := os.Getenv("SENTINEL_CRASH_LOGS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("replica-%d-round-%d.log", victim.i, round+1)), []byte(old.stderr.String()), 0o600)
		}
		p := startBinary(t, victim.cfg, old.addr, 30*time.Second)
		victim.mu.Lock()
		victim.p = p
		victim.mu.Unlock()
		verifyLedger(t, live().base(), led, fake, round+1)
	}
	stopLoad()
	wg.Wait()

	// Once the outbox settles (leases of 4 s), every incident not
	// acknowledged first is paged once.
	base := live().base()
	unpaged := func() []incidentJSON {
		ps := pages(fake)
		var out []incidentJSON
		for _, inc := range listIncidents(t, base, "") {
			if len(ps[fmt.Sprint(inc.ID)]) == 0 && inc.AcknowledgedAt == nil && inc.ResolvedAt == nil {
				out = append(out, inc)
			}
		}
		return out
	}
	deadline := time.Now().Add(45 * time.Second)
	for len(unpaged()) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	for _, inc := range unpaged() {
		t.Errorf("incident #%d %q was never paged; timeline %+v", inc.ID, inc.Title, inc.Timeline)
	}
	all := listIncidents(t, base, "")
	rule := 0
	for _, inc := range all {
		if inc.Labels["service"] == "checkout" {
			rule++
		}
	}
	if rule != 1 {
		t.Errorf("%d incidents for the failing checkout, want 1", rule)
	}
	verifyLedger(t, base, led, fake, rounds+1)
	// A lease later, no late second page.
	time.Sleep(5 * time.Second) // waiting for something that must not happen
	checkReplicaPages(t, fake, "at the end")
	t.Logf("%d incidents in all (the rule's one and declarations whose answer a kill cut off); pages %d; chat.postMessage calls %d; conversations.history calls %d",
		len(all), len(pages(fake)), len(fake.Calls("chat.postMessage")), len(fake.Calls("conversations.history")))
	t.Logf("%s", ledgerSummary(led))
	if t.Failed() {
		for _, s := range slots {
			if p := s.current(); p != nil {
				t.Logf("replica %d log:\n%s", s.i, p.stderr.String())
			}
		}
	}
}

// checkReplicaPages fails the test for any incident paged more than once.
func checkReplicaPages(t *testing.T, fake *slacktest.Server, when string) {
	t.Helper()
	for id, ps := range pages(fake) {
		if len(ps) > 1 {
			var keys []string
			for _, m := range ps {
				keys = append(keys, fmt.Sprint(m.Metadata.EventPayload["key"]))
			}
			t.Errorf("%s: incident #%s was paged %d times (keys %v)", when, id, len(ps), keys)
		}
	}
}

// pgRun runs one PostgreSQL program from bin in dir, as the postgres user
// when the tests run as root (PostgreSQL refuses to run as root).
func pgRun(ctx context.Context, bin, dir, prog string, args ...string) error {
	path := filepath.Join(bin, prog)
	cmd := exec.CommandContext(ctx, path, args...)
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", prog, err, out)
	}
	return nil
}

// pgExec runs SQL statements on the postgres database of the server at dsn.
func pgExec(ctx context.Context, dsn string, stmts ...string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// pgQuery returns the first column of the first row of a query.
func pgQuery(ctx context.Context, dsn, query string) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	var v string
	err = conn.QueryRow(ctx, query).Scan(&v)
	return v, err
}

// startStandby takes a base backup of the primary (pg_basebackup -R, so
// the copy starts as a streaming standby) and starts it on a free port;
// it returns the standby's data directory and port.
func startStandby(t *testing.T, bin string, primary *pgtest.Cluster) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "sentinel-standby-")
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err == nil {
			if err := pgRun(ctx, bin, dir, "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"); err != nil {
				t.Logf("stop standby: %v", err)
			}
		}
		_ = os.RemoveAll(dir)
	})
	if err := pgRun(ctx, bin, dir, "pg_basebackup", "-D", data, "-R", "-X", "stream", "-c", "fast",
		"-h", "127.0.0.1", "-p", strconv.Itoa(primary.Port()), "-U", "postgres"); err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(strings.TrimPrefix(freeAddr(t), "127.0.0.1:"))
	if err != nil {
		t.Fatal(err)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB", port, dir)
	if err := pgRun(ctx, bin, dir, "pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		t.Fatalf("%v\nstandby log:\n%s", err, log)
	}
	return data, port
}

// TestReplicaStandbyPromotion commits incidents through Sentinel on a
// primary with a synchronous standby (synchronous_standby_names '*',
// synchronous_commit on for Sentinel's database), kills the primary's
// postmaster with SIGKILL while incidents are being declared, promotes
// the standby (pg_ctl promote) and restarts Sentinel on it: every
// incident the API answered 201 before the kill is there, and every
// incident is paged exactly once.
func TestReplicaStandbyPromotion(t *testing.T) {
	primary, bin := postgresCluster(t)
	ctx := t.Context()
	admin := primary.DSNFor("postgres")
	if err := primary.CreateDatabase(ctx, "sentinel"); err != nil {
		t.Fatal(err)
	}
	// The test cluster runs with synchronous_commit=off on its command
	// line; a database setting overrides that for Sentinel's sessions.
	if err := pgExec(ctx, admin, `ALTER DATABASE sentinel SET synchronous_commit = on`); err != nil {
		t.Fatal(err)
	}
	primaryData, err := pgQuery(ctx, admin, `SHOW data_directory`)
	if err != nil {
		t.Fatal(err)
	}
	standbyData, standbyPort := startStandby(t, bin, primary)
	// Made synchronous only now, so the base backup does not carry the
	// setting into the standby (once promoted, alone, it would wait for a
	// standby of its own on every commit).
	if err := pgExec(ctx, admin, `ALTER SYSTEM SET synchronous_standby_names = '*'`, `SELECT pg_reload_conf()`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		state, err := pgQuery(ctx, admin, `SELECT coalesce(string_agg(sync_state, ','), '') FROM pg_stat_replication WHERE state = 'streaming'`)
		if err == nil && state == "sync" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("standby not streaming synchronously within 30 s (state %q, err %v)", state, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v, err := pgQuery(ctx, primary.DSNFor("sentinel"), `SHOW synchronous_commit`); err != nil || v != "on" {
		t.Fatalf("synchronous_commit for Sentinel's database is %q (%v), want on", v, err)
	}

	fake := slacktest.New()
	t.Cleanup(fake.Close)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"payment backend down"}`, http.StatusInternalServerError)
	}))
	t.Cleanup(shop.Close)
	addr := freeAddr(t)
	cfg := write(t, "primary.yaml", replicaCrashConfig(addr, primary.DSNFor("sentinel"), shop.URL, fake.APIURL()))
	p := startBinary(t, cfg, addr, 30*time.Second)

	var (
		mu       sync.Mutex
		declared = map[int64]bool{}
	)
	loadCtx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for k := 0; loadCtx.Err() == nil; k++ {
				code, body, err := api(loadCtx, http.MethodPost, p.base()+"/api/v1/incidents", responderToken, map[string]any{
					"title": fmt.Sprintf("failover %d.%d", w, k), "severity": "critical", "summary": "standby promotion test",
					"labels": map[string]string{"service": fmt.Sprintf("svc-%d-%d", w, k)}})
				if err == nil && code == http.StatusCreated {
					var inc incidentJSON
					if json.Unmarshal(body, &inc) == nil && inc.ID > 0 {
						mu.Lock()
						declared[inc.ID] = true
						mu.Unlock()
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	defer func() { stopLoad(); wg.Wait() }()
	deadline = time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		got := len(declared)
		mu.Unlock()
		if got >= 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d incidents declared within 30 s:\n%s", got, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Kill the primary's postmaster mid-load; its backends exit with it.
	raw, err := os.ReadFile(filepath.Join(primaryData, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	stopLoad()
	wg.Wait()
	p.kill()
	mu.Lock()
	acked := maps.Clone(declared)
	mu.Unlock()
	t.Logf("killed the primary after %d incidents were answered 201", len(acked))

	if err := pgRun(ctx, bin, filepath.Dir(standbyData), "pg_ctl", "-D", standbyData, "-w", "-t", "60", "promote"); err != nil {
		t.Fatal(err)
	}
	standbyDSN := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/sentinel?sslmode=disable", standbyPort)
	cfg = write(t, "standby.yaml", replicaCrashConfig(addr, standbyDSN, shop.URL, fake.APIURL()))
	p = startBinary(t, cfg, addr, 30*time.Second)

	all := listIncidents(t, p.base(), "")
	byID := map[int64]bool{}
	for _, inc := range all {
		byID[inc.ID] = true
	}
	for id := range acked {
		if !byID[id] {
			t.Errorf("incident #%d was answered 201 before the primary died and is not on the promoted standby", id)
		}
	}
	// Every incident on the promoted standby is paged, once.
	unpaged := func() []incidentJSON {
		ps := pages(fake)
		var out []incidentJSON
		for _, inc := range listIncidents(t, p.base(), "") {
			if len(ps[fmt.Sprint(inc.ID)]) == 0 {
				out = append(out, inc)
			}
		}
		return out
	}
	deadline = time.Now().Add(45 * time.Second)
	for len(unpaged()) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	for _, inc := range unpaged() {
		t.Errorf("incident #%d %q was never paged; timeline %+v", inc.ID, inc.Title, inc.Timeline)
	}
	checkReplicaPages(t, fake, "after the promotion")
	t.Logf("%d incidents answered 201 before the kill, %d on the promoted standby, %d pages", len(acked), len(all), len(pages(fake)))
	if t.Failed() {
		t.Logf("sentinel log:\n%s", p.stderr.String())
	}
}
