package dashboards

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/rum"
)

var (
	viewerV    = Viewer{Name: "manager", Role: config.RoleViewer, CSRF: "csrf-token-v"}
	responderV = Viewer{Name: "ops", Role: config.RoleResponder, CSRF: "csrf-token-r"}
)

func TestPagesShowWhatAPersonLooksFor(t *testing.T) {
	f := newFixture(t, 6, 40, 5)
	ctx := context.Background()
	tests := []struct {
		name   string
		render func(w io.Writer) error
		want   []string
		absent []string
	}{
		{"overview", func(w io.Writer) error { return f.d.Overview(ctx, w, viewerV, "") },
			[]string{"SLO overview", "slo-000", "slo-005", "99.5%", "Budget remaining", `role="img"`, "open incidents", "of 5 probes failing", "On call now", "chip critical", "Skip to content"}, nil},
		{"overview filtered", func(w io.Writer) error { return f.d.Overview(ctx, w, viewerV, "search") },
			[]string{"SLOs of search", "slo-002", `<option value="search" selected>`}, []string{">slo-001<"}},
		{"slo", func(w io.Writer) error { return f.d.SLO(ctx, w, viewerV, "slo-000") },
			[]string{"slo-000", "Burn rates", "5m", "3d", "The last 7 days", "SLI per hour", "objective 99.5%", "Budget left", "now", "Incidents that consumed this budget", "#40 Checkout errors", "page"}, nil},
		{"incidents", func(w io.Writer) error { return f.d.Incidents(ctx, w, viewerV, "", 0) },
			[]string{"#40 Checkout errors", "triggered", "Older incidents", `aria-current="page">All`}, []string{"#15 "}},
		{"incidents open", func(w io.Writer) error { return f.d.Incidents(ctx, w, viewerV, "open", 0) },
			[]string{"#40 ", "#39 ", "#38 ", "acknowledged"}, []string{"#37 ", "Older incidents"}},
		{"incidents page 2", func(w io.Writer) error { return f.d.Incidents(ctx, w, viewerV, "", 16) },
			[]string{"#15 ", "#1 ", "Newest"}, []string{"#16 ", "Older incidents"}},
		{"incident as viewer", func(w io.Writer) error { return f.d.Incident(ctx, w, viewerV, 40, "") },
			[]string{"#40", "Timeline", "Affected SLOs", "slo-000", "Postmortem", "can read incidents",
				// Open since 09:53: the minutes 09:53 to now (10:30:00).
				`<th scope="col">Minutes counted</th>`, `<time datetime="2026-03-02T09:53:00Z" title="37m ago">Mar 2 09:53 UTC</time> to <time datetime="2026-03-02T10:30:00Z" title="0s ago">Mar 2 10:30 UTC</time> (whole minutes)</td>`},
			[]string{"Acknowledge</button>"}},
		{"incident as responder", func(w io.Writer) error { return f.d.Incident(ctx, w, responderV, 40, "Acknowledged.") },
			[]string{"Acknowledge</button>", "Resolve</button>", "Escalate now</button>", `name="csrf" value="csrf-token-r"`, `action="/incidents/40/acknowledge"`, "Acknowledged."}, nil},
		{"acknowledged incident", func(w io.Writer) error { return f.d.Incident(ctx, w, responderV, 38, "") },
			[]string{"Resolve</button>"}, []string{"Acknowledge</button>"}},
		{"resolved incident", func(w io.Writer) error { return f.d.Incident(ctx, w, responderV, 3, "") },
			[]string{"resolved", "after 25m"}, []string{"Resolve</button>"}},
		{"probes", func(w io.Writer) error { return f.d.Probes(ctx, w, viewerV) },
			[]string{"journey-03", "Failing", "Passing", "5 probes, 1 failing"}, nil},
		{"probe", func(w io.Writer) error { return f.d.Probe(ctx, w, viewerV, "journey-03") },
			[]string{"journey-03", "Latest run", "add-to-cart", "waterfall", "Last failure", "502 Bad Gateway", "status 502, want 200", "History"}, nil},
		{"probe run", func(w io.Writer) error { return f.d.ProbeRun(ctx, w, viewerV, "journey-03", "01J0048journey-03") },
			[]string{`id="run-01J0048journey-03"`, "Steps of this run", "at step <strong>pay</strong>", "upstream payments-api timed out", "Latest run"}, []string{"no longer kept"}},
		{"probe run gone", func(w io.Writer) error { return f.d.ProbeRun(ctx, w, viewerV, "journey-03", "01J0000gone") },
			[]string{`id="run-01J0000gone"`, "Run 01J0000gone is no longer kept"}, []string{"Steps of this run"}},
		{"rum", func(w io.Writer) error { return f.d.RUM(ctx, w, viewerV, "1h") },
			[]string{"Real users", "/product/:id", "LCP", "INP", "CLS", "needs improvement", "page views", "Cannot read properties", "rate-poor",
				"at renderRecommendations (/product.js)", "<code>/product/:id</code> (37)", "Chrome 130 (30), Firefox 128 (7)", "First seen", "within 1%",
				// The explanations wrap above their tables, outside the boxes that scroll sideways on a phone.
				"<p class=\"sub\" id=\"rum-note\">75th percentile of each web vital per route,", "</p>\n<div class=\"table-wrap\">\n<table class=\"rum\" aria-describedby=\"rum-note\">",
				"<p class=\"sub\" id=\"err-note\">Error groups seen in this window, the most frequent in it first. Groups count per hour, so \"In window\" counts the whole hours from <time datetime=\"2026-03-02T09:00:00Z\"",
				"<th scope=\"col\" class=\"num\">In window</th><th scope=\"col\" class=\"num\">All time</th>",
				// 10 + 5 of 37 fall in the hours from 09:00; the group kept from before hourly counts has none; the third counts from 10:00.
				"</th><td class=\"num\">15</td><td class=\"num\">37</td>",
				"</th><td class=\"num\"><span class=\"muted\">–</span></td><td class=\"num\">4</td>",
				"</th><td class=\"num\">3<span class=\"sub\">since <time datetime=\"2026-03-02T10:00:00Z\""},
			[]string{"<caption>75th percentile", ">Count</th>"}},
		{"oncall", func(w io.Writer) error { return f.d.OnCall(ctx, w, viewerV, "") },
			[]string{"primary", "Europe/Berlin", "Now", "Next", "alice", "bob", "Rotation for the coming weeks", "Overrides",
				"Escalation policies", "for service=payments", "for every other incident", "at once:</span> whoever is on call for primary (now ",
				"10m later:</span> bob, channel #payments", "then starts over once, 20m after the last step", "runs once",
				"Every incident is high urgency and runs these steps.",
				"Critical incidents are high urgency and run these steps; warning and info incidents are low urgency: the first step is notified once, with no escalation or repeats. A triggered one that becomes critical starts the steps from the first."}, nil},
		{"runbooks", func(w io.Writer) error { return f.d.Runbooks(ctx, w, viewerV) },
			[]string{"Checkout is down", "checkout-down", "CheckoutProbeFailing", "payments"}, nil},
		{"runbook", func(w io.Writer) error { return f.d.Runbook(ctx, w, viewerV, "checkout-down") },
			[]string{"<h1>Checkout is down</h1>", "<strong>payments</strong>", "kubectl rollout undo", `class="prose runbook"`, "raw HTML omitted"},
			[]string{"alert(1)</script>", "javascript:"}},
		{"postmortem as viewer", func(w io.Writer) error { return f.d.Postmortem(ctx, w, viewerV, 3, PostmortemState{}) },
			[]string{"Postmortem", "Draft", "Impact", "Budget consumed", "slo-000", "events bad", "Real users' page views", "Real users counted</dt><dd>on the whole site, ", "(whole minutes)", "Time to detect", "Time to acknowledge", "4m",
				// Incident #3 ran from 11:04 to 11:29: the SLO counts those minutes.
				`<th scope="col">Minutes counted</th>`, `<td><time datetime="2026-03-01T11:04:00Z" title="23h26m ago">Mar 1 11:04 UTC</time> to <time datetime="2026-03-01T11:29:00Z" title="23h1m ago">Mar 1 11:29 UTC</time> (whole minutes)</td>`,
				"Timeline", "CheckoutProbeFailing fired", "Root cause", "Not written yet", "/incidents/3/postmortem.md", "can read postmortems"},
			[]string{"<textarea", "Save</button>", `name="ai_title"`}},
		{"postmortem as responder", func(w io.Writer) error { return f.d.Postmortem(ctx, w, responderV, 3, PostmortemState{}) },
			[]string{`<textarea id="root_cause" name="root_cause"`, `name="version" value="0"`, `name="csrf" value="csrf-token-r"`, "Save and submit for review",
				`name="ai_title"`, "New action item", `type="date"`, `action="/incidents/3/postmortem"`}, []string{"Back to draft"}},
		{"alerts as viewer", func(w io.Writer) error { return f.d.Alerts(ctx, w, viewerV, AlertsState{}) },
			[]string{"CheckoutProbeFailing", "al-firing", "al-pending", "service=checkout", "silenced", "reindexing search", "sil-active", "sil-expired", "/runbooks/checkout-down", "can read alerts"},
			[]string{"Create silence", "/expire"}},
		{"alerts as responder", func(w io.Writer) error { return f.d.Alerts(ctx, w, responderV, AlertsState{Prefill: "fp1"}) },
			[]string{"Create silence", `action="/alerts/silences/0123456789abcdef/expire"`, `alertname=&#34;CheckoutProbeFailing&#34;`, `probe=&#34;checkout&#34;`, `/alerts?silence=fp2#new-silence`},
			[]string{`action="/alerts/silences/fedcba9876543210/expire"`, `/alerts?silence=fp3`}},
		{"login", func(w io.Writer) error {
			return f.d.Login(w, LoginForm{Next: "/slos", Error: "That token is not valid."})
		},
			[]string{`<label for="token">Token</label>`, `type="password"`, "That token is not valid.", `value="/slos"`}, []string{"Sign out"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.render(&buf); err != nil {
				t.Fatal(err)
			}
			html := buf.String()
			for _, w := range tc.want {
				if !strings.Contains(html, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(html, a) {
					t.Errorf("page has %q, which it must not", a)
				}
			}
			for _, w := range []string{`<html lang="en"`, `<main id="main"`, `name="viewport"`} {
				if !strings.Contains(html, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if strings.Contains(html, "style=") || strings.Count(html, "<script") != strings.Count(html, `<script src="/ui/tz.`) {
				t.Error("page has an inline style or an inline script; the CSP forbids both")
			}
			if strings.Contains(html, "http://") || strings.Contains(html, "https://cdn") {
				for _, line := range strings.Split(html, "\n") {
					if strings.Contains(line, "http") && !strings.Contains(line, "shop.example.com") {
						t.Errorf("page refers outside: %s", line)
					}
				}
			}
		})
	}
}

func TestPageErrors(t *testing.T) {
	f := newFixture(t, 1, 3, 1)
	ctx := context.Background()
	for name, err := range map[string]error{
		"unknown slo":      f.d.SLO(ctx, io.Discard, viewerV, "nope"),
		"unknown incident": f.d.Incident(ctx, io.Discard, viewerV, 999, ""),
		"unknown probe":    f.d.Probe(ctx, io.Discard, viewerV, "nope"),
		"unknown runbook":  f.d.Runbook(ctx, io.Discard, viewerV, "nope"),
		"unknown pm":       f.d.Postmortem(ctx, io.Discard, viewerV, 999, PostmortemState{}),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", name, err)
		}
	}
	for name, err := range map[string]error{
		"bad status": f.d.Incidents(ctx, io.Discard, viewerV, "<script>", 0),
		"bad window": f.d.RUM(ctx, io.Discard, viewerV, "1y"),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestPagesWithoutSources(t *testing.T) {
	d, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, fn := range map[string]func(io.Writer) error{
		"overview":  func(w io.Writer) error { return d.Overview(ctx, w, viewerV, "") },
		"incidents": func(w io.Writer) error { return d.Incidents(ctx, w, viewerV, "", 0) },
		"probes":    func(w io.Writer) error { return d.Probes(ctx, w, viewerV) },
		"rum":       func(w io.Writer) error { return d.RUM(ctx, w, viewerV, "") },
		"oncall":    func(w io.Writer) error { return d.OnCall(ctx, w, viewerV, "") },
		"runbooks":  func(w io.Writer) error { return d.Runbooks(ctx, w, viewerV) },
		"alerts":    func(w io.Writer) error { return d.Alerts(ctx, w, viewerV, AlertsState{}) },
		"error":     func(w io.Writer) error { return d.Error(w, viewerV, 404, "No such page.") },
	} {
		var buf bytes.Buffer
		if err := fn(&buf); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.Contains(buf.String(), "configured") && name != "error" && name != "oncall" && name != "runbooks" {
			t.Errorf("%s: does not say the part is not configured", name)
		}
	}
}

func TestVitalRatingAndFormat(t *testing.T) {
	for _, tc := range []struct {
		v    Vital
		x    float64
		want string
	}{{Vitals[0], 2.5, "good"}, {Vitals[0], 2.51, "needs-improvement"}, {Vitals[0], 4.01, "poor"}, {Vitals[2], 0.1, "good"}, {Vitals[2], 0.3, "poor"}, {Vitals[1], 0.3, "needs-improvement"}} {
		if got := tc.v.Rate(tc.x); got != tc.want {
			t.Errorf("%s.Rate(%v) = %s, want %s", tc.v.Name, tc.x, got, tc.want)
		}
	}
	// Values are rounded down, with more digits where the usual ones would
	// put a value on the other side of a limit.
	for _, tc := range []struct {
		v    Vital
		x    float64
		want string
	}{
		{Vitals[0], 2.5, "2.50s"}, {Vitals[0], 2.5001, "2.5001s"}, {Vitals[0], 2.4999, "2.49s"}, {Vitals[0], 4, "4.00s"}, {Vitals[0], 4.0004, "4.0004s"},
		{Vitals[1], 0.2, "200ms"}, {Vitals[1], 0.2004, "200.4ms"}, {Vitals[1], 0.29, "290ms"}, {Vitals[1], 0.0042, "4.2ms"},
		{Vitals[2], 0.1, "0.100"}, {Vitals[2], 0.1004, "0.1004"}, {Vitals[2], 0.25, "0.250"}, {Vitals[4], 0.8, "800ms"}, {Vitals[3], 1.8, "1.80s"},
	} {
		if got := tc.v.format(tc.x); got != tc.want {
			t.Errorf("%s.format(%v) = %s, want %s", tc.v.Name, tc.x, got, tc.want)
		}
	}
	if got := Vitals[0].formatUp(2.4901); got != "2.50s" {
		t.Errorf("formatUp(2.4901) = %s", got)
	}
	for n, want := range map[float64]string{0: "0 samples", 1: "1 sample", 2: "2 samples", 2.5: "2.5 samples", 1200: "1,200 samples"} {
		if got := samples(n); got != want {
			t.Errorf("samples(%v) = %q, want %q", n, got, want)
		}
	}
}

// Four views with every vital exactly at its good limit are rated good
// with a p75 equal to the limit; four at the poor limit need improvement.
func TestRUMPageAtTheLimits(t *testing.T) {
	for _, tc := range []struct {
		limit  func(Vital) float64
		rating string
		shown  []string
	}{
		{func(v Vital) float64 { return v.Good }, "good", []string{"2.50s", "200ms", "0.100", "1.80s", "800ms"}},
		{func(v Vital) float64 { return v.Poor }, "needs-improvement", []string{"4.00s", "500ms", "0.250", "3.00s", "1.80s"}},
	} {
		row := rum.MinuteRow{Minute: fixtureNow.Add(-time.Minute).Truncate(time.Minute), Site: "shop", Route: "/", Views: 4, Vitals: map[string]rum.Sketch{}}
		for _, v := range Vitals {
			s := rum.Sketch{}
			for range 4 {
				s.Add(v.rv, tc.limit(v), 1)
			}
			row.Vitals[v.Name] = s
		}
		d, err := New(Options{RUM: &fakeRUM{rows: []rum.MinuteRow{row}}, Now: func() time.Time { return fixtureNow }})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := d.RUM(context.Background(), &buf, viewerV, "1h"); err != nil {
			t.Fatal(err)
		}
		page := buf.String()
		for i, shown := range tc.shown {
			want := `<span class="rate-` + tc.rating + `"`
			cell := `>` + shown + `</span>`
			if !strings.Contains(page, cell) {
				t.Errorf("%s: page lacks %s", Vitals[i].Name, cell)
			}
			if strings.Count(page, want) < 2*len(Vitals) {
				t.Errorf("%s: want every cell (overall and the route) rated %s:\n%s", Vitals[i].Name, tc.rating, page)
				break
			}
		}
		for _, not := range []string{"rate-poor", "2.51s", "201ms"} {
			if strings.Contains(page, not) {
				t.Errorf("page at the limits shows %q", not)
			}
		}
		if split := "LCP: 100% good, 0% needs improvement, 0% poor"; tc.rating == "good" && !strings.Contains(page, split) {
			t.Errorf("page lacks the split %q", split)
		}
		if !strings.Contains(page, "within 1%") {
			t.Error("page does not state the p75's error bound")
		}
	}
}

func TestTemplatesAllParsed(t *testing.T) {
	names, err := templateNames()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(pageNames)+1 {
		t.Errorf("templates/ holds %d files, pageNames lists %d pages plus the layout", len(names), len(pageNames))
	}
}

// TestOnCallOverrideRemoveButtons: a responder gets a Remove button (a
// CSRF-carrying form) for each override added through Sentinel, none
// for the file's own; a viewer gets none at all.
func TestOnCallOverrideRemoveButtons(t *testing.T) {
	f := newFixture(t, 1, 0, 0)
	now := time.Now()
	f.oncall.ovs = []oncall.Override{
		{ID: "config-0", Schedule: "primary", User: "bob", Start: now, End: now.Add(time.Hour), CreatedBy: "config"},
		{ID: "3f9a1c0b7d2e4a6b", Schedule: "primary", User: "alice", Start: now.Add(2 * time.Hour), End: now.Add(3 * time.Hour), CreatedBy: "ops"},
	}
	var buf bytes.Buffer
	if err := f.d.OnCall(t.Context(), &buf, responderV, "Override removed."); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	want := `<form method="post" action="/oncall/overrides/3f9a1c0b7d2e4a6b/remove" class="inline"><input type="hidden" name="csrf" value="csrf-token-r"><button type="submit" aria-label="Remove the override of alice on primary">Remove</button></form>`
	if !strings.Contains(page, want) {
		t.Errorf("no Remove form for the stored override in\n%s", page)
	}
	if strings.Contains(page, "/oncall/overrides/config-0/remove") || !strings.Contains(page, "in the file") {
		t.Error("the file's override must not be removable from the page")
	}
	if !strings.Contains(page, "Override removed.") {
		t.Error("no flash")
	}
	buf.Reset()
	if err := f.d.OnCall(t.Context(), &buf, viewerV, ""); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "/remove") {
		t.Error("a viewer sees Remove buttons")
	}
}

// TestIncidentPageMarksThreadNotes: a note taken from the incident's
// Slack thread says so beside its author.
// The incident page shows the urgency, and what a low one means while
// the incident is open.
func TestIncidentPageShowsUrgency(t *testing.T) {
	f := newFixture(t, 1, 2, 0)
	ctx := t.Context()
	inc, err := f.inc.Declare(ctx, incidents.DeclareRequest{Title: "Refunds slow", Severity: model.SeverityWarning, Labels: model.Labels{"service": "payments"}}, "bob")
	if err != nil {
		t.Fatal(err)
	}
	render := func(id int64) string {
		var buf bytes.Buffer
		if err := f.d.Incident(ctx, &buf, responderV, id, ""); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	page := render(inc.ID)
	for _, want := range []string{`<span class="chip urg-low" id="urgency">low urgency</span>`,
		"Low urgency: the first step of policy payments is notified once; it does not escalate or repeat by itself."} {
		if !strings.Contains(page, want) {
			t.Errorf("low-urgency page lacks %q", want)
		}
	}
	if page := render(1); !strings.Contains(page, `<span class="chip urg-high" id="urgency">high urgency</span>`) || strings.Contains(page, "urgency-note") {
		t.Errorf("a high-urgency incident's page:\n%s", page)
	}
}

func TestIncidentPageMarksThreadNotes(t *testing.T) {
	f := newFixture(t, 1, 2, 0)
	ctx := t.Context()
	if _, err := f.inc.AddThreadNote(ctx, 1, "rolled back v42 at 10:42", "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.inc.AddPersonNote(ctx, 1, "status page updated", "bob"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.d.Incident(ctx, &buf, responderV, 1, ""); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if !strings.Contains(page, `<span class="actor">by carol, in the Slack thread</span><p>rolled back v42 at 10:42</p>`) {
		t.Errorf("the thread note is not marked:\n%s", page)
	}
	if !strings.Contains(page, `<span class="actor">by bob</span><p>status page updated</p>`) {
		t.Errorf("the page's own note is marked or missing:\n%s", page)
	}
}

// An incident paging again (reopened, or its acknowledgement timed out)
// does not read as acknowledged: the page says it is not, and when it was
// first (the MTTA figure's instant).
func TestIncidentPagingAgainIsNotShownAcknowledged(t *testing.T) {
	f := newFixture(t, 1, 3, 0)
	ctx := t.Context()
	page := func() string {
		var buf bytes.Buffer
		if err := f.d.Incident(ctx, &buf, responderV, 1, ""); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	if got := page(); !strings.Contains(got, `<dd id="acknowledged"><time datetime="2026-03-02T08:43:00Z"`) || strings.Contains(got, "paged again") {
		t.Fatalf("resolved incident's acknowledgement:\n%s", got)
	}
	err := f.store.Update(ctx, func(tx incidents.Tx) error {
		inc, err := tx.Get(1)
		if err != nil {
			return err
		}
		inc.Status, inc.ResolvedAt = incidents.StatusTriggered, nil // reopened
		return tx.Put(inc)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := page(); !strings.Contains(got, `<dd id="acknowledged">not since it was paged again (first <time datetime="2026-03-02T08:43:00Z"`) || !strings.Contains(got, "</time>, after 4m)</dd>") {
		t.Errorf("reopened incident's acknowledgement:\n%s", got)
	}
}

// A budget with anything spent is not whole and one with anything left is
// not empty: no figure on a page rounds a fraction between 0 and 1 to 0% or
// 100%, and the incident page says what an incident consumed as alerts do.
func TestBudgetFiguresNeverRoundToWholeOrNone(t *testing.T) {
	f := newFixture(t, 1, 2, 0)
	funcs := f.d.funcs(time.UTC)
	pctOf := funcs["pct"].(func(float64) string)
	for in, want := range map[float64]string{0.9996: "99.96%", 0.99942: "99.9%", 0.00004: "0.004%", 1: "100.0%", 0: "0.0%", -0.25: "-25.0%"} {
		if got := pctOf(in); got != want {
			t.Errorf("pct(%v) = %q, want %q", in, got, want)
		}
	}
	ctx := t.Context()
	// Two bad events within incident #2 (opened 37 minutes ago): a small
	// share that one decimal would round up to 0.1%.
	if err := f.engine.RecordEvents(ctx, f.specs[0].Name, 998, 1000, fixtureNow.Add(-10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	inc, err := f.inc.Get(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	impacts := f.inc.SLOImpact(ctx, inc)
	if len(impacts) == 0 {
		t.Fatal("the fixture's incident burns no SLO")
	}
	var buf bytes.Buffer
	if err := f.d.Incident(ctx, &buf, viewerV, 2, ""); err != nil {
		t.Fatal(err)
	}
	// 2 bad events of the ~3,600 the window allows: 0.056%.
	if got := model.SpokenPercent(impacts[0].BudgetConsumed); got != "0.06%" {
		t.Fatalf("consumed %v reads %s, want 0.06%%", impacts[0].BudgetConsumed, got)
	}
	want := `<td class="num">0.06%</td>`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("incident page lacks %s (consumed %v)", want, impacts[0].BudgetConsumed)
	}
}
