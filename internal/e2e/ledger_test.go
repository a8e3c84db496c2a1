package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// ledgerYAML is the config every crash test adds for the writes of the
// widened ledger: a heartbeat to beat, and an events SLO to count into.
const ledgerYAML = `  heartbeats:
    - {name: backup, timeout: 1h}
`

// pmEdit is a postmortem edit Sentinel answered 200.
type pmEdit struct {
	version int
	summary string
}

// ledger is what Sentinel acknowledged to its callers: each entry must
// survive any crash that follows.
type ledger struct {
	mu          sync.Mutex
	started     time.Time
	declared    map[int64]bool   // 201 to POST /api/v1/incidents
	acked       map[int64]bool   // 200 to POST .../acknowledge
	clicked     map[int64]bool   // 200 to a signed Acknowledge click
	resolved    map[int64]bool   // 200 to POST .../resolve
	webhooks    map[string]bool  // 200 to an Alertmanager delivery, by groupKey
	silences    map[string]bool  // 201 to POST /api/v1/silences, by ID
	expired     map[string]bool  // 200 to DELETE /api/v1/silences/{id}
	overrides   map[string]bool  // 201 to POST /api/v1/oncall/overrides, by ID
	postmortems map[int64]pmEdit // the last 200 to PUT .../postmortem
	beat        time.Time        // the latest "at" of a 200 to POST /api/v1/heartbeats/backup
	eventsOK    int64            // total events answered 202
	eventsSent  int64            // total events sent, answered or not
	requests    map[string]int64 // answered requests by kind, for the log
}

func newLedger() *ledger {
	return &ledger{started: time.Now(), declared: map[int64]bool{}, acked: map[int64]bool{}, clicked: map[int64]bool{},
		resolved: map[int64]bool{}, webhooks: map[string]bool{}, silences: map[string]bool{}, expired: map[string]bool{},
		overrides: map[string]bool{}, postmortems: map[int64]pmEdit{}, requests: map[string]int64{}}
}

func (l *ledger) note(kind string) {
	l.mu.Lock()
	l.requests[kind]++
	l.mu.Unlock()
}

// pickFrom returns a random key of set for which skip is false.
func pickFrom[K comparable](l *ledger, r *rand.Rand, set map[K]bool, skip func(K) bool) (K, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var keys []K
	for k := range set {
		if !skip(k) {
			keys = append(keys, k)
		}
	}
	var zero K
	if len(keys) == 0 {
		return zero, false
	}
	return keys[r.IntN(len(keys))], true
}

// pick returns a random declared incident not yet acknowledged through
// the API.
func (l *ledger) pick(r *rand.Rand) (int64, bool) {
	return pickFrom(l, r, l.declared, func(id int64) bool { return l.acked[id] })
}

// loadWorker sends one kind of mixed load until ctx ends, to the Sentinel
// target names (one process, or a random live replica), recording in the
// ledger what Sentinel confirmed.
func loadWorker(ctx context.Context, w, round int, r *rand.Rand, target func() string, led *ledger, fake *slacktest.Server) {
	for n := 0; ctx.Err() == nil; n++ {
		time.Sleep(time.Duration(10+r.IntN(30)) * time.Millisecond) // bounded: about 40 requests/s per worker
		base := target()
		if base == "" {
			continue
		}
		switch w {
		case 0: // declare incidents (about 15/s, so one run posts well under history_limit messages)
			time.Sleep(40 * time.Millisecond)
			code, body, err := api(ctx, http.MethodPost, base+"/api/v1/incidents", responderToken, map[string]any{
				"title": fmt.Sprintf("crash %d.%d", round, n), "severity": "critical", "summary": "crash test",
				"labels": map[string]string{"service": fmt.Sprintf("svc-%d-%d", round, n)}})
			if err == nil && code == http.StatusCreated {
				var inc incidentJSON
				if json.Unmarshal(body, &inc) == nil && inc.ID > 0 {
					led.mu.Lock()
					led.declared[inc.ID] = true
					led.mu.Unlock()
				}
				led.note("declare")
			}
		case 1: // acknowledge by API
			id, ok := led.pick(r)
			if !ok {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			code, _, err := api(ctx, http.MethodPost, fmt.Sprintf("%s/api/v1/incidents/%d/acknowledge", base, id), responderToken, nil)
			if err == nil && code == http.StatusOK {
				led.mu.Lock()
				led.acked[id] = true
				led.mu.Unlock()
				led.note("acknowledge")
			}
		case 2: // acknowledge by signed Slack click on a page
			ps := pages(fake)
			if len(ps) == 0 {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			var ids []string
			for id := range ps {
				ids = append(ids, id)
			}
			id := ids[r.IntN(len(ids))]
			page := ps[id][0]
			iid, _ := strconv.ParseInt(id, 10, 64)
			led.mu.Lock()
			ours := led.declared[iid]
			led.mu.Unlock()
			if !ours {
				// An incident opened by an alert may be triggered again
				// when its alerts change; only declared ones stay put.
				continue
			}
			client := slacktest.Client{Secret: slackSecret}
			payload := slacktest.BlockActions(slacktest.Click{ActionID: slack.ActionAcknowledge, Value: id, UserID: slackUser, UserName: "carol", ChannelID: page.Channel, MessageTS: page.TS})
			res, err := client.Interaction(ctx, base+"/slack/interactions", payload)
			if err == nil && res.Status == http.StatusOK {
				led.mu.Lock()
				led.clicked[iid] = true
				led.mu.Unlock()
				led.note("click")
			}
			time.Sleep(10 * time.Millisecond)
		case 3: // Alertmanager webhooks
			key := fmt.Sprintf(`{}:{alertname="CrashTest%d_%d"}`, round, n)
			code, _, err := api(ctx, http.MethodPost, base+"/api/v1/alertmanager", ingestToken, amPayload(key, fmt.Sprintf("CrashTest%d_%d", round, n), "firing"))
			if err == nil && code == http.StatusOK {
				led.mu.Lock()
				led.webhooks[key] = true
				led.mu.Unlock()
				led.note("webhook")
			}
		case 4: // RUM beacons
			code, err := beacon(ctx, base, "https://shop.example.com", "")
			if err == nil && code == http.StatusAccepted {
				led.note("beacon")
			}
			time.Sleep(5 * time.Millisecond)
		case 5: // SLO events (stored before the answer) and reads
			total := int64(1 + r.IntN(100))
			led.mu.Lock()
			led.eventsSent += total
			led.mu.Unlock()
			// All good: a burning SLO would open incidents of its own.
			code, _, err := api(ctx, http.MethodPost, base+"/api/v1/slos/orders/events", ingestToken, map[string]any{"good": total, "total": total})
			if err == nil && code == http.StatusAccepted {
				led.mu.Lock()
				led.eventsOK += total
				led.mu.Unlock()
				led.note("event")
			}
			_, _, _ = api(ctx, http.MethodGet, base+"/api/v1/probes", viewerToken, nil)
		case 6: // resolve acknowledged incidents
			time.Sleep(100 * time.Millisecond)
			id, ok := pickFrom(led, r, led.acked, func(id int64) bool { return led.resolved[id] })
			if !ok {
				continue
			}
			code, _, err := api(ctx, http.MethodPost, fmt.Sprintf("%s/api/v1/incidents/%d/resolve", base, id), responderToken, nil)
			if err == nil && code == http.StatusOK {
				led.mu.Lock()
				led.resolved[id] = true
				led.mu.Unlock()
				led.note("resolve")
			}
		case 7: // silences, some ended by hand
			time.Sleep(60 * time.Millisecond)
			if n%3 == 2 {
				id, ok := pickFrom(led, r, led.silences, func(id string) bool { return led.expired[id] })
				if ok {
					code, _, err := api(ctx, http.MethodDelete, base+"/api/v1/silences/"+id, responderToken, nil)
					if err == nil && code == http.StatusOK {
						led.mu.Lock()
						led.expired[id] = true
						led.mu.Unlock()
						led.note("silence expired")
					}
					continue
				}
			}
			code, body, err := api(ctx, http.MethodPost, base+"/api/v1/silences", responderToken, map[string]any{
				"matchers": []string{fmt.Sprintf("service=crash-%d-%d", round, n)}, "duration": "1h", "comment": "crash test"})
			var sil struct {
				ID string `json:"id"`
			}
			if err == nil && code == http.StatusCreated && json.Unmarshal(body, &sil) == nil && sil.ID != "" {
				led.mu.Lock()
				led.silences[sil.ID] = true
				led.mu.Unlock()
				led.note("silence")
			}
		case 8: // heartbeats
			time.Sleep(60 * time.Millisecond)
			code, body, err := api(ctx, http.MethodPost, base+"/api/v1/heartbeats/backup", ingestToken, nil)
			var hb struct {
				At time.Time `json:"at"`
			}
			if err == nil && code == http.StatusOK && json.Unmarshal(body, &hb) == nil {
				led.mu.Lock()
				if hb.At.After(led.beat) {
					led.beat = hb.At
				}
				led.mu.Unlock()
				led.note("heartbeat")
			}
		case 9: // on-call overrides, planned for tomorrow
			time.Sleep(80 * time.Millisecond)
			start := time.Now().Add(24*time.Hour + time.Duration(n)*time.Minute).UTC()
			code, body, err := api(ctx, http.MethodPost, base+"/api/v1/oncall/overrides", responderToken, map[string]any{
				"schedule": "primary", "user": "carol", "start": start, "end": start.Add(30 * time.Minute)})
			var ov struct {
				ID string `json:"id"`
			}
			if err == nil && code == http.StatusCreated && json.Unmarshal(body, &ov) == nil && ov.ID != "" {
				led.mu.Lock()
				led.overrides[ov.ID] = true
				led.mu.Unlock()
				led.note("override")
			}
		case 10: // postmortem edits of resolved incidents
			time.Sleep(60 * time.Millisecond)
			id, ok := pickFrom(led, r, led.resolved, func(int64) bool { return false })
			if !ok {
				continue
			}
			summary := fmt.Sprintf("edit %d.%d of incident %d", round, n, id)
			code, body, err := api(ctx, http.MethodPut, fmt.Sprintf("%s/api/v1/incidents/%d/postmortem", base, id), responderToken, map[string]any{"summary": summary})
			var pm struct {
				Version int `json:"version"`
			}
			if err == nil && code == http.StatusOK && json.Unmarshal(body, &pm) == nil {
				led.mu.Lock()
				if pm.Version > led.postmortems[id].version {
					led.postmortems[id] = pmEdit{version: pm.Version, summary: summary}
				}
				led.mu.Unlock()
				led.note("postmortem")
			}
		}
	}
}

// ledgerWorkers is how many kinds of load loadWorker knows.
const ledgerWorkers = 11

// verifyLedger checks everything the ledger holds against the API (of the
// Sentinel at base) and the fake Slack.
func verifyLedger(t *testing.T, base string, led *ledger, fake *slacktest.Server, round int) {
	t.Helper()
	led.mu.Lock()
	defer led.mu.Unlock()
	all := listIncidents(t, base, "")
	byID := map[int64]incidentJSON{}
	keys := map[string]bool{}
	for _, inc := range all {
		byID[inc.ID] = inc
		keys[inc.DedupKey] = true
	}
	for id := range led.declared {
		if _, ok := byID[id]; !ok {
			t.Errorf("after restart %d: incident #%d was returned 201 and is gone", round, id)
		}
	}
	for what, set := range map[string]map[int64]bool{"acknowledged": led.acked, "acknowledged by a click": led.clicked} {
		for id := range set {
			if s := byID[id].Status; s != "acknowledged" && s != "resolved" {
				t.Errorf("after restart %d: incident #%d was %s (200) and is %q", round, id, what, s)
			}
		}
	}
	for id := range led.resolved {
		if s := byID[id].Status; s != "resolved" {
			t.Errorf("after restart %d: incident #%d was resolved (200) and is %q", round, id, s)
		}
	}
	for k := range led.webhooks {
		if !keys[k] {
			t.Errorf("after restart %d: webhook group %s was answered 200 and has no incident", round, k)
		}
	}
	verifySilences(t, base, led, round)
	verifyOverrides(t, base, led, round)
	for id, want := range led.postmortems {
		code, body := mustAPI(t, http.MethodGet, fmt.Sprintf("%s/api/v1/incidents/%d/postmortem", base, id), viewerToken, nil)
		var pm struct {
			Version int    `json:"version"`
			Summary string `json:"summary"`
		}
		if code != http.StatusOK || json.Unmarshal(body, &pm) != nil {
			t.Errorf("after restart %d: postmortem of #%d: %d %s", round, id, code, body)
			continue
		}
		// A later edit whose answer the kill cut off may have landed too.
		if pm.Version < want.version || (pm.Version == want.version && pm.Summary != want.summary) {
			t.Errorf("after restart %d: postmortem of #%d is version %d %q; version %d %q was answered 200",
				round, id, pm.Version, pm.Summary, want.version, want.summary)
		}
	}
	verifyBeat(t, base, led, round)
	verifyEvents(t, base, led, round)
	verifyPages(t, fake, round)
}

func verifySilences(t *testing.T, base string, led *ledger, round int) {
	t.Helper()
	code, body := mustAPI(t, http.MethodGet, base+"/api/v1/silences", viewerToken, nil)
	var list struct {
		Silences []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"silences"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &list) != nil {
		t.Fatalf("after restart %d: list silences: %d %s", round, code, body)
	}
	status := map[string]string{}
	for _, s := range list.Silences {
		status[s.ID] = s.Status
	}
	for id := range led.silences {
		switch st, ok := status[id]; {
		case !ok:
			t.Errorf("after restart %d: silence %s was answered 201 and is gone", round, id)
		case led.expired[id] && st != "expired":
			t.Errorf("after restart %d: silence %s was ended (200) and is %q", round, id, st)
		}
	}
}

func verifyOverrides(t *testing.T, base string, led *ledger, round int) {
	t.Helper()
	code, body := mustAPI(t, http.MethodGet, base+"/api/v1/oncall", viewerToken, nil)
	var oc struct {
		Overrides []struct {
			ID string `json:"id"`
		} `json:"overrides"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &oc) != nil {
		t.Fatalf("after restart %d: on-call: %d %s", round, code, body)
	}
	have := map[string]bool{}
	for _, o := range oc.Overrides {
		have[o.ID] = true
	}
	for id := range led.overrides {
		if !have[id] {
			t.Errorf("after restart %d: override %s was answered 201 and is gone", round, id)
		}
	}
}

// verifyBeat waits (a few seconds at most: alerting loads its state on its
// first cycle) for the heartbeat gauge to show the last beat answered.
func verifyBeat(t *testing.T, base string, led *ledger, round int) {
	t.Helper()
	if led.beat.IsZero() {
		return
	}
	want := float64(led.beat.Unix())
	got := -1.0
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got = gauge(t, base, `sentinel_heartbeat_last_seen_timestamp_seconds{heartbeat="backup"}`); got >= want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("after restart %d: heartbeat backup last seen at %v; a beat at %v was answered 200", round, got, want)
}

// verifyEvents checks that every event answered 202 is counted, and no
// more were counted than were sent. Replicas read each other's counts once
// per evaluation cycle (10 s), so it waits up to 25 s.
func verifyEvents(t *testing.T, base string, led *ledger, round int) {
	t.Helper()
	if led.eventsOK == 0 {
		return
	}
	from := led.started.Add(-2 * time.Minute).UTC().Truncate(time.Minute)
	var total int64
	deadline := time.Now().Add(25 * time.Second)
	for {
		to := time.Now().Add(2 * time.Minute).UTC().Truncate(time.Minute)
		u := fmt.Sprintf("%s/api/v1/slos/orders?from=%s&to=%s", base, from.Format(time.RFC3339), to.Format(time.RFC3339))
		code, body := mustAPI(t, http.MethodGet, u, viewerToken, nil)
		var s struct {
			Total *float64 `json:"total"`
		}
		if code != http.StatusOK || json.Unmarshal(body, &s) != nil || s.Total == nil {
			t.Fatalf("after restart %d: SLO orders: %d %s", round, code, body)
		}
		total = int64(*s.Total)
		if total >= led.eventsOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if total < led.eventsOK || total > led.eventsSent {
		t.Errorf("after restart %d: %d events counted; %d were answered 202 and %d sent", round, total, led.eventsOK, led.eventsSent)
	}
}

// verifyPages: no delivery reaches Slack twice, and no incident is paged
// twice.
func verifyPages(t *testing.T, fake *slacktest.Server, round int) {
	t.Helper()
	seenKeys := map[string]string{}
	for id, ps := range pages(fake) {
		escalations := 0
		for _, m := range ps {
			key := fmt.Sprint(m.Metadata.EventPayload["key"])
			if prev, dup := seenKeys[key]; dup {
				t.Errorf("after restart %d: delivery %s reached Slack twice (%s and %s)", round, key, prev, m.TS)
			}
			seenKeys[key] = m.TS
			if !strings.Contains(key, "/update/") {
				escalations++
			}
		}
		if escalations > 1 {
			t.Errorf("after restart %d: incident #%s was paged %d times: %v", round, id, escalations, ps)
		}
	}
}

// gauge reads one series from /metrics (-1 when absent).
func gauge(t *testing.T, base, series string) float64 {
	t.Helper()
	code, body := mustAPI(t, http.MethodGet, base+"/metrics", "", nil)
	if code != http.StatusOK {
		return -1
	}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// ledgerSummary is the log line of what was answered.
func ledgerSummary(led *ledger) string {
	led.mu.Lock()
	defer led.mu.Unlock()
	return fmt.Sprintf("answered requests by kind: %v; incidents declared %d, acknowledged by API %d, by click %d, resolved %d; webhook groups %d; silences %d (%d ended); overrides %d; postmortems edited %d; events %d of %d sent",
		led.requests, len(led.declared), len(led.acked), len(led.clicked), len(led.resolved), len(led.webhooks),
		len(led.silences), len(led.expired), len(led.overrides), len(led.postmortems), led.eventsOK, led.eventsSent)
}
