package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/demo"
	"github.com/sentinel-oss/sentinel/internal/testutil"
	"github.com/sentinel-oss/sentinel/slack"
	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// timelineJSON is an incident's timeline with times, and its alerts'
// states.
type timelineJSON struct {
	Status string `json:"status"`
	Alerts []struct {
		Name   string            `json:"name"`
		State  string            `json:"state"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
	Timeline []struct {
		At   time.Time `json:"at"`
		Kind string    `json:"kind"`
		Text string    `json:"text"`
	} `json:"timeline"`
}

func getTimeline(t testing.TB, base string, id int64) timelineJSON {
	t.Helper()
	code, body := mustAPI(t, http.MethodGet, fmt.Sprintf("%s/api/v1/incidents/%d", base, id), viewerToken, nil)
	var tl timelineJSON
	if code != http.StatusOK || json.Unmarshal(body, &tl) != nil {
		t.Fatalf("incident %d: %d %s", id, code, body)
	}
	return tl
}

// TestOnCallTruthBinary is what the on-call person meets, with the real
// binary, the demo shop's checkout fault and the fake Slack: the page says
// which step failed, with its status and error; a second alert joining
// redraws the channel message within 5 s and it lists both; a person
// resolves while the SLO burn alerts still fire and the probe alert then
// clears: no new page, no reopened entry, a note in the thread; the
// postmortem counts time to detect from the first failed run and names
// the failing step.
func TestOnCallTruthBinary(t *testing.T) {
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	fake.AddUser(slacktest.User{ID: slackUser, Name: "carol", Email: "carol@shop.example.com"})
	addr := freeAddr(t)
	shop := startShop(t, "http://"+addr)
	// The scenario, with the probe alert firing as soon as the probe fails
	// and the SLO guarded by 20 runs: the burn alerts come some 15 s
	// after the page, so they join an incident already open.
	cfg := scenarioConfig(scenarioOpts{listen: addr, db: filepath.Join(t.TempDir(), "data", "sentinel.db"), shop: shop.URL(), slackAPI: fake.APIURL()}) +
		"dashboards: {grafana_url: \"https://grafana.example.com\"}\n"
	for old, next := range map[string]string{"min_events: 5,": "min_events: 20,", "for: 2s,": "for: 0s,"} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("scenario config lacks %q", old)
		}
		cfg = strings.Replace(cfg, old, next, 1)
	}
	p := startBinary(t, write(t, "sentinel.yaml", cfg), addr, 20*time.Second)
	defer func() {
		if t.Failed() {
			t.Logf("sentinel log:\n%s", p.stderr.String())
		}
	}()
	base := p.base()
	testutil.Eventually(t, 30*time.Second, "passing checkout runs", func() bool { return passingRuns(t, base, "checkout") >= 3 })

	inc, page := faultToPage(t, base, shop, fake)
	// The page says what broke: the failing step, its status, the error.
	for _, want := range []string{"step pay", "HTTP 503", "payment provider unavailable", "Failed run", "run-"} {
		if !strings.Contains(string(page.Blocks), want) {
			t.Errorf("the page lacks %q:\n%s", want, renderBlocks(page.Blocks))
		}
	}

	// The SLO's burn alerts join the incident; the channel message is
	// redrawn within 5 s of that and lists both kinds of alert.
	var joined time.Time
	testutil.Eventually(t, 90*time.Second, "the burn alert joining the incident", func() bool {
		for _, e := range getTimeline(t, base, inc.ID).Timeline {
			if e.Kind == "alert_firing" && strings.Contains(e.Text, "SLOErrorBudgetBurn") {
				joined = e.At
				return true
			}
		}
		return false
	})
	var redrawn time.Time
	testutil.Eventually(t, 10*time.Second, "chat.update listing both alerts", func() bool {
		for _, c := range fake.Calls("chat.update") {
			b := c.Form.Get("blocks")
			if c.Form.Get("ts") == page.TS && !c.At.Before(joined.Add(-time.Second)) &&
				strings.Contains(b, "CheckoutProbeFailing") && strings.Contains(b, "SLOErrorBudgetBurn") {
				redrawn = c.At
				return true
			}
		}
		return false
	})
	if d := redrawn.Sub(joined); d > 5*time.Second {
		t.Errorf("the message was redrawn %s after the alert joined, want within 5 s", d)
	}
	t.Logf("alert joined %s, message redrawn %s later", joined.Format(time.RFC3339Nano), redrawn.Sub(joined).Round(time.Millisecond))
	testutil.Eventually(t, 10*time.Second, "the channel message lists both alerts and the error budget", func() bool {
		m := messageByTS(fake, page.TS)
		return strings.Contains(string(m.Blocks), "SLOErrorBudgetBurn") && strings.Contains(string(m.Blocks), "CheckoutProbeFailing") &&
			strings.Contains(string(m.Blocks), "Error budget")
	})
	testutil.Eventually(t, 10*time.Second, "a thread reply for the joining alert", func() bool {
		return threadHas(fake, page.TS, "alert SLOErrorBudgetBurn")
	})

	// carol resolves while the alerts still fire (the fault is still on).
	dmsBefore := len(directPages(fake))
	if code := click(t, base, slack.ActionResolve, inc.ID, page); code != http.StatusOK {
		t.Fatalf("resolve click: %d", code)
	}
	tl := getTimeline(t, base, inc.ID)
	last := tl.Timeline[len(tl.Timeline)-1]
	if tl.Status != "resolved" || !strings.Contains(last.Text, "resolved by carol while") || !strings.Contains(last.Text, "still firing") {
		t.Fatalf("after the resolve click: %s, last entry %+v", tl.Status, last)
	}
	// The fix: the probe passes again and its alert clears while the burn
	// alerts keep firing.
	setFaults(t, shop, nil)
	testutil.Eventually(t, 30*time.Second, "the probe alert clearing after the resolve", func() bool {
		for _, e := range getTimeline(t, base, inc.ID).Timeline {
			if e.Kind == "alert_resolved" && strings.Contains(e.Text, "CheckoutProbeFailing") && strings.Contains(e.Text, "after the incident was resolved") {
				return true
			}
		}
		return false
	})
	// A few more runs and evaluations, then nothing must have paged.
	after := passingRuns(t, base, "checkout")
	testutil.Eventually(t, 30*time.Second, "three more passing runs", func() bool { return passingRuns(t, base, "checkout") >= after+3 })
	tl = getTimeline(t, base, inc.ID)
	if tl.Status != "resolved" {
		t.Errorf("status %s after the probe alert cleared, want resolved", tl.Status)
	}
	burning := 0
	for _, a := range tl.Alerts {
		if a.Name == "SLOErrorBudgetBurn" && a.State == "firing" {
			burning++
		}
	}
	if burning == 0 {
		t.Errorf("no burn alert still firing when the probe alert cleared: the test did not test the case (alerts %+v)", tl.Alerts)
	}
	for _, e := range tl.Timeline {
		if e.Kind == "reopened" {
			t.Errorf("reopened entry: %s", e.Text)
		}
	}
	if ps := pages(fake); len(ps) != 1 || len(ps[fmt.Sprint(inc.ID)]) != 1 {
		t.Errorf("pages %v, want exactly one", pageCounts(ps))
	}
	if n := len(directPages(fake)); n != dmsBefore {
		t.Errorf("%d direct pages after the resolve, %d before", n, dmsBefore)
	}
	if all := listIncidents(t, base, ""); len(all) != 1 {
		t.Errorf("%d incidents, want 1", len(all))
	}
	testutil.Eventually(t, 10*time.Second, "the clearing told in the thread", func() bool {
		return threadHas(fake, page.TS, "CheckoutProbeFailing (probe=checkout) cleared after the incident was resolved")
	})

	// The postmortem: detection counted from the first failed run, and the
	// failing step named.
	var pm struct {
		Summary string `json:"summary"`
		Times   struct {
			Detect       *float64 `json:"time_to_detect"`
			DetectedFrom *struct {
				At   time.Time `json:"at"`
				What string    `json:"what"`
			} `json:"detected_from"`
		} `json:"times"`
		Impact struct {
			SLOs []struct {
				Name  string `json:"name"`
				Unit  string `json:"unit"`
				Good  int64  `json:"good"`
				Total int64  `json:"total"`
			} `json:"slos"`
			Probes []struct {
				Name string `json:"name"`
			} `json:"probes"`
		} `json:"impact"`
	}
	testutil.Eventually(t, 20*time.Second, "the postmortem draft", func() bool {
		code, body := mustAPI(t, http.MethodGet, fmt.Sprintf("%s/api/v1/incidents/%d/postmortem", base, inc.ID), viewerToken, nil)
		return code == http.StatusOK && json.Unmarshal(body, &pm) == nil && pm.Times.Detect != nil
	})
	if *pm.Times.Detect <= 0 || pm.Times.DetectedFrom == nil || !strings.Contains(pm.Times.DetectedFrom.What, "step pay") {
		t.Errorf("time to detect %v from %+v, want > 0 from the first failed run at step pay", *pm.Times.Detect, pm.Times.DetectedFrom)
	}
	for _, want := range []string{"step pay", "HTTP 503", "payment provider unavailable"} {
		if !strings.Contains(pm.Summary, want) {
			t.Errorf("postmortem summary lacks %q: %s", want, pm.Summary)
		}
	}
	for _, s := range pm.Impact.SLOs {
		if s.Name == "checkout-availability" && s.Unit != "runs" {
			t.Errorf("checkout-availability counts %q, want runs", s.Unit)
		}
	}
	for _, pr := range pm.Impact.Probes {
		if pr.Name == "checkout" {
			t.Errorf("checkout's runs are listed twice: under the SLO and as a probe")
		}
	}
	t.Logf("time to detect %.1fs, from %s", *pm.Times.Detect, pm.Times.DetectedFrom.What)
	_, md := mustAPI(t, http.MethodGet, fmt.Sprintf("%s/api/v1/incidents/%d/postmortem.md", base, inc.ID), viewerToken, nil)
	if !strings.Contains(string(md), "Time to detect:") || !strings.Contains(string(md), "step pay") {
		t.Errorf("postmortem Markdown:\n%s", md)
	}

	transcript := slackTranscript(fake, page.TS)
	final := messageByTS(fake, page.TS)
	t.Logf("Slack transcript:\n%s\nThe message as last drawn:\n%s", transcript, renderBlocks(final.Blocks))
	if dir := os.Getenv("SENTINEL_E2E_CAPTURE"); dir != "" { // for docs/slack.md
		_ = os.WriteFile(filepath.Join(dir, "page_blocks.json"), final.Blocks, 0o644)
		_ = os.WriteFile(filepath.Join(dir, "transcript.txt"), []byte(transcript+"\n--- last drawn ---\n"+renderBlocks(final.Blocks)), 0o644)
		_ = os.WriteFile(filepath.Join(dir, "postmortem.md"), md, 0o644)
	}
}

// faultToPage makes every checkout fail and waits for the incident that
// opens and its page in Slack.
func faultToPage(t *testing.T, base string, shop *demo.Shop, fake *slacktest.Server) (incidentJSON, slacktest.Message) {
	t.Helper()
	setFaults(t, shop, map[string]any{"checkout_error_rate": 1})
	var inc incidentJSON
	testutil.Eventually(t, 60*time.Second, "an incident for checkout", func() bool {
		open := listIncidents(t, base, "open")
		if len(open) > 0 {
			inc = open[0]
		}
		return len(open) > 0
	})
	var page slacktest.Message
	testutil.Eventually(t, 20*time.Second, "the page in Slack", func() bool {
		ps := pages(fake)[fmt.Sprint(inc.ID)]
		if len(ps) > 0 {
			page = ps[0]
		}
		return len(ps) > 0
	})
	return inc, page
}

// messageByTS is the message with that timestamp as the fake holds it now.
func messageByTS(fake *slacktest.Server, ts string) slacktest.Message {
	for _, m := range fake.Posted("") {
		if m.TS == ts {
			return m
		}
	}
	return slacktest.Message{}
}

// threadHas reports whether a reply in the thread of ts contains text.
func threadHas(fake *slacktest.Server, ts, text string) bool {
	for _, m := range fake.Posted("") {
		if m.ThreadTS == ts && strings.Contains(m.Text, text) {
			return true
		}
	}
	return false
}

// directPages are the direct messages that page someone.
func directPages(fake *slacktest.Server) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range fake.Posted("") {
		if m.Metadata != nil && m.Metadata.EventPayload["role"] == "dm" {
			out = append(out, m)
		}
	}
	return out
}

// slackTranscript is what a person scrolling Slack saw: every message in
// order, replies in the page's thread indented.
func slackTranscript(fake *slacktest.Server, pageTS string) string {
	var b strings.Builder
	for _, m := range fake.Posted("") {
		where := m.Channel
		if m.ThreadTS == pageTS {
			where += " (thread)"
		}
		fmt.Fprintf(&b, "%s %s: %s\n", m.TS, where, m.Text)
	}
	return b.String()
}

// renderBlocks renders Block Kit blocks as the text a person reads, one
// block a paragraph.
func renderBlocks(raw json.RawMessage) string {
	var blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Text string `json:"text"`
		} `json:"text"`
		Fields []struct {
			Text string `json:"text"`
		} `json:"fields"`
		Elements []json.RawMessage `json:"elements"`
	}
	if json.Unmarshal(raw, &blocks) != nil {
		return string(raw)
	}
	var b strings.Builder
	for _, bl := range blocks {
		switch {
		case bl.Text != nil:
			b.WriteString(bl.Text.Text)
		case len(bl.Fields) > 0:
			var fs []string
			for _, f := range bl.Fields {
				fs = append(fs, strings.ReplaceAll(f.Text, "\n", " "))
			}
			b.WriteString(strings.Join(fs, " | "))
		case bl.Type == "actions":
			b.WriteString("[buttons]")
		default:
			var es []string
			for _, e := range bl.Elements {
				var el struct {
					Text string `json:"text"`
				}
				if json.Unmarshal(e, &el) == nil {
					es = append(es, el.Text)
				}
			}
			b.WriteString(strings.Join(es, " · "))
		}
		b.WriteString("\n\n")
	}
	return strings.TrimSpace(b.String())
}
