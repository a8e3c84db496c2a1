package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// failoverConfig is one of three replicas on one PostgreSQL database that
// page through Slack (reached through slackAPI, the replica's own proxy in
// front of the fake) with the default delivery settings: a 1-minute
// lease, a 10-second call timeout.
func failoverConfig(addr, dsn, slackAPI string) string {
	return fmt.Sprintf(`server: {listen: %q, external_url: %q}
storage: {driver: postgres, dsn: %q, open_timeout: 30s}
%sincidents:
  ack_timeout: 0s
`, addr, "http://"+addr, dsn, tokensYAML) + pagingYAML(slackAPI, "")
}

// slackTime is when the fake Slack posted m (its ts is its clock's time).
func slackTime(t testing.TB, m slacktest.Message) time.Time {
	t.Helper()
	sec, frac, _ := strings.Cut(m.TS, ".")
	s, err1 := strconv.ParseInt(sec, 10, 64)
	us, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("message ts %q", m.TS)
	}
	return time.Unix(s, us*1000)
}

// TestReplicaFailover measures how soon a page goes out when the replica
// holding its delivery dies. Three `sentinel serve` processes share one
// PostgreSQL database and the fake Slack, with the default delivery lease
// of a minute. Each round declares an incident on a random replica; the
// replica whose page reaches its Slack proxy is killed with SIGKILL right
// there, its delivery claimed and never sent. Another replica must send
// the page within SENTINEL_FAILOVER_MAX (default 15 s) of the kill, and
// no incident may be paged twice. SENTINEL_FAILOVER_ROUNDS sets the rounds
// (default 5); the times, their median and the worst are logged.
func TestReplicaFailover(t *testing.T) {
	rounds := envInt("SENTINEL_FAILOVER_ROUNDS", 5)
	bound := 15 * time.Second
	if d, err := time.ParseDuration(os.Getenv("SENTINEL_FAILOVER_MAX")); err == nil {
		bound = d
	}
	cluster, _ := postgresCluster(t)
	if err := cluster.CreateDatabase(t.Context(), "sentinel"); err != nil {
		t.Fatal(err)
	}
	dsn := cluster.DSNFor("sentinel")
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	tr := &trap{fired: make(chan int, 1)}
	slots := make([]*slot, 3)
	for i := range slots {
		s := &slot{i: i}
		proxy := slackProxy(t, fake, s, tr)
		addr := freeAddr(t)
		s.cfg = write(t, fmt.Sprintf("replica-%d.yaml", i), failoverConfig(addr, dsn, proxy.URL+"/api/"))
		s.p = startBinary(t, s.cfg, addr, 30*time.Second)
		slots[i] = s
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range slots {
				if p := s.current(); p != nil {
					t.Logf("replica %d log:\n%s", s.i, p.stderr.String())
				}
			}
		}
	})
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))

	var times []time.Duration
	for round := range rounds {
		mode := killClaimed
		// The declaring replica may claim the page before its answer is
		// written; the kill waits for the answer so it never cuts it off.
		declared := make(chan struct{})
		tr.hold.Store(&declared)
		tr.mode.Store(&mode)
		from := slots[rng.IntN(len(slots))].current()
		code, body, err := api(t.Context(), http.MethodPost, from.base()+"/api/v1/incidents", responderToken, map[string]any{
			"title": fmt.Sprintf("failover %d", round+1), "severity": "critical", "summary": "replica failover test",
			"labels": map[string]string{"service": fmt.Sprintf("failover-%d", round+1)}})
		close(declared)
		if err != nil || code != http.StatusCreated {
			t.Fatalf("round %d: declare: %d %s %v", round+1, code, body, err)
		}
		var inc incidentJSON
		if err := json.Unmarshal(body, &inc); err != nil {
			t.Fatal(err)
		}
		var victim *slot
		select {
		case i := <-tr.fired:
			victim = slots[i]
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: the page of incident #%d reached no replica's Slack proxy within 30 s", round+1, inc.ID)
		}
		killed := time.Now()
		id := fmt.Sprint(inc.ID)
		deadline := killed.Add(bound + 5*time.Second)
		var page []slacktest.Message
		for {
			if page = pages(fake)[id]; len(page) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if len(page) == 0 {
			t.Fatalf("round %d: incident #%d not paged within %s of the kill of replica %d", round+1, inc.ID, bound+5*time.Second, victim.i)
		}
		took := slackTime(t, page[0]).Sub(killed)
		times = append(times, took)
		t.Logf("round %d: killed replica %d holding the page of incident #%d; paged %.2f s later", round+1, victim.i, inc.ID, took.Seconds())
		if took > bound {
			t.Errorf("round %d: the page went out %.2f s after the kill, more than %s", round+1, took.Seconds(), bound)
		}
		victim.mu.Lock()
		old := victim.p
		victim.p = nil
		victim.mu.Unlock()
		p := startBinary(t, victim.cfg, old.addr, 30*time.Second)
		victim.mu.Lock()
		victim.p = p
		victim.mu.Unlock()
		checkReplicaPages(t, fake, fmt.Sprintf("after round %d", round+1))
	}
	// No late second page once every claim could have run out.
	time.Sleep(2 * time.Second) // waiting for something that must not happen
	checkReplicaPages(t, fake, "at the end")
	if got := len(pages(fake)); got != rounds {
		t.Errorf("%d incidents paged, want %d", got, rounds)
	}
	sorted := slices.Clone(times)
	slices.Sort(sorted)
	n := len(sorted)
	median := (sorted[(n-1)/2] + sorted[n/2]) / 2
	t.Logf("failover page times over %d kills: median %.2f s, worst %.2f s, best %.2f s",
		n, median.Seconds(), sorted[n-1].Seconds(), sorted[0].Seconds())
}
