package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// pausedPage is the page a pause trap held: the replica that claimed it
// and the incident it was for.
type pausedPage struct {
	slot     int
	incident string
}

// pauseTrap is armed for one pause on the Slack path: the first page any
// replica posts stops that replica with SIGSTOP, and its request is held
// (never forwarded to Slack) until release is closed.
type pauseTrap struct {
	armed   atomic.Bool
	fired   chan pausedPage
	release chan struct{}
	once    sync.Once
}

// free lets every held request answer.
func (pt *pauseTrap) free() { pt.once.Do(func() { close(pt.release) }) }

// pauseProxy forwards one replica's Slack API calls to the fake and, when
// the trap is armed, stops that replica on its next page while the
// delivery is claimed and the call is on its way; the held call is
// answered 503 once the trap is freed, so the page never reaches Slack
// through the paused replica.
func pauseProxy(t *testing.T, fake *slacktest.Server, s *slot, pt *pauseTrap) *httptest.Server {
	t.Helper()
	target := strings.TrimSuffix(fake.APIURL(), "/api/")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/chat.postMessage") {
			if f, err := url.ParseQuery(string(body)); err == nil && strings.Contains(f.Get("metadata"), `"role":"page"`) && pt.armed.CompareAndSwap(true, false) {
				var md struct {
					EventPayload map[string]any `json:"event_payload"`
				}
				_ = json.Unmarshal([]byte(f.Get("metadata")), &md)
				if p := s.current(); p != nil {
					_ = p.cmd.Process.Signal(syscall.SIGSTOP)
				}
				pt.fired <- pausedPage{slot: s.i, incident: fmt.Sprint(md.EventPayload["incident_id"])}
				<-pt.release
				http.Error(w, "replica was paused", http.StatusServiceUnavailable)
				return
			}
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
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestReplicaPausedPastLease runs three `sentinel serve` processes on one
// PostgreSQL database, the fake Slack and a checkout that always fails,
// and stops one replica with SIGSTOP right after it claimed a page
// delivery, its call to Slack held by its proxy. It stays stopped for 8 s,
// past the 4 s delivery lease and the database's 5 s
// idle_in_transaction_session_timeout, while the other two page that
// incident and a new one. Resumed with SIGCONT (its held call then fails),
// it must do nothing harmful: no incident has a second page, none is lost
// or left unpaged, /readyz answers 200 again and an incident declared
// through it is paged once.
func TestReplicaPausedPastLease(t *testing.T) {
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

	pt := &pauseTrap{fired: make(chan pausedPage, 1), release: make(chan struct{})}
	slots := make([]*slot, 3)
	for i := range slots {
		s := &slot{i: i}
		proxy := pauseProxy(t, fake, s, pt)
		addr := freeAddr(t)
		s.cfg = write(t, fmt.Sprintf("replica-%d.yaml", i), replicaCrashConfig(addr, dsn, shop.URL, proxy.URL+"/api/"))
		// One at a time: the first applies the schema migrations.
		s.p = startBinary(t, s.cfg, addr, 30*time.Second)
		slots[i] = s
	}
	// Registered after the proxies, so it runs before they close: a held
	// call must answer for the proxy to shut down.
	t.Cleanup(pt.free)
	defer func() {
		if t.Failed() {
			for _, s := range slots {
				t.Logf("replica %d log:\n%s", s.i, s.p.stderr.String())
			}
		}
	}()

	var declared []int64
	declare := func(p *process, title string) int64 {
		t.Helper()
		code, body := mustAPI(t, http.MethodPost, p.base()+"/api/v1/incidents", responderToken, map[string]any{
			"title": title, "severity": "critical", "summary": "replica pause test",
			"labels": map[string]string{"service": title}})
		if code != http.StatusCreated {
			t.Fatalf("declare %q: %d %s", title, code, body)
		}
		var inc incidentJSON
		if err := json.Unmarshal(body, &inc); err != nil || inc.ID == 0 {
			t.Fatalf("declare %q: %v: %s", title, err, body)
		}
		declared = append(declared, inc.ID)
		return inc.ID
	}
	pagedOnce := func(id string, within time.Duration, what string) {
		t.Helper()
		deadline := time.Now().Add(within)
		for len(pages(fake)[id]) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: incident #%s not paged within %s", what, id, within)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// The next page any replica posts stops it; declarations make pages.
	pt.armed.Store(true)
	var held pausedPage
	for k := 0; ; k++ {
		declare(slots[k%len(slots)].p, fmt.Sprintf("pause-%d", k))
		select {
		case held = <-pt.fired:
		case <-time.After(2 * time.Second):
			if k < 5 {
				continue
			}
			t.Fatal("no page reached Slack within 12 s")
		}
		break
	}
	paused := time.Now()
	victim := slots[held.slot]
	t.Logf("stopped replica %d after it claimed the page of incident #%s", victim.i, held.incident)

	// The other two take over: the held page is sent once through them
	// after its lease, and an incident declared now is paged too.
	other := slots[(victim.i+1)%len(slots)].p
	during := fmt.Sprint(declare(other, "during-pause"))
	pagedOnce(held.incident, 10*time.Second, "the paused replica's claim")
	pagedOnce(during, 10*time.Second, "declared during the pause")
	// Stopped past the 4 s lease and the 5 s idle-in-transaction timeout.
	time.Sleep(time.Until(paused.Add(8 * time.Second))) // the length of the pause is the experiment
	if err := victim.p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	pt.free()
	t.Logf("resumed replica %d after %s", victim.i, time.Since(paused).Round(time.Millisecond))

	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _, err := api(t.Context(), http.MethodGet, victim.p.base()+"/readyz", "", nil)
		if err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("resumed replica not ready within 10 s: %d %v", code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	after := fmt.Sprint(declare(victim.p, "after-resume"))
	pagedOnce(after, 10*time.Second, "declared through the resumed replica")
	// A few seconds for anything the resumed replica still had in hand.
	time.Sleep(4 * time.Second) // waiting for something that must not happen

	checkReplicaPages(t, fake, "after the resume")
	all := listIncidents(t, victim.p.base(), "")
	byID := map[int64]bool{}
	ps := pages(fake)
	rule := 0
	for _, inc := range all {
		byID[inc.ID] = true
		if inc.Labels["service"] == "checkout" {
			rule++
		}
		if len(ps[fmt.Sprint(inc.ID)]) == 0 {
			t.Errorf("incident #%d %q was never paged; timeline %+v", inc.ID, inc.Title, inc.Timeline)
		}
	}
	for _, id := range declared {
		if !byID[id] {
			t.Errorf("incident #%d was answered 201 and is gone", id)
		}
	}
	if rule != 1 {
		t.Errorf("%d incidents for the failing checkout, want 1", rule)
	}
	for _, s := range slots {
		if s.current() == nil {
			t.Errorf("replica %d exited", s.i)
		}
	}
	t.Logf("incidents %d (%d declared), pages %d, chat.postMessage calls %d, conversations.history calls %d",
		len(all), len(declared), len(ps), len(fake.Calls("chat.postMessage")), len(fake.Calls("conversations.history")))
}
