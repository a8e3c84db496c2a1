package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/statuspage"
	"github.com/sentinel-oss/sentinel/store"
)

// st0 is Wednesday 2026-03-25 10:00:00 UTC.
var st0 = time.Date(2026, 3, 25, 10, 0, 0, 0, time.UTC)

type spClock struct{ t time.Time }

func (c *spClock) now() time.Time { return c.t }

type spProbes []model.ProbeState

func (p *spProbes) ProbeStates(context.Context) ([]model.ProbeState, error) { return *p, nil }

type spWindows []statuspage.Window

func (w *spWindows) MaintenanceWindows(_ context.Context, from, to time.Time) ([]statuspage.Window, error) {
	return *w, nil
}

// spIncidents lists incidents newest first, as the incident store does.
type spIncidents []*incidents.Incident

func (f *spIncidents) List(_ context.Context, q incidents.ListQuery) ([]*incidents.Incident, error) {
	all := slices.Clone(*f)
	sort.Slice(all, func(i, j int) bool { return all[i].ID > all[j].ID })
	var out []*incidents.Incident
	for _, inc := range all {
		if (q.Before > 0 && inc.ID >= q.Before) || !q.Matches(inc) {
			continue
		}
		out = append(out, inc)
		if len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

type spFixture struct {
	clock  *spClock
	probes *spProbes
	maint  *spWindows
	incs   *spIncidents
	svc    *statuspage.Service
	page   *StatusPage
	st     statuspage.Store
}

func newSPFixture(t *testing.T, opts ...func(*config.StatusPage)) *spFixture {
	t.Helper()
	sp := config.DefaultStatusPage()
	sp.Enabled, sp.Title = true, "Shop status"
	sp.Components = []config.StatusComponent{
		{Name: "Storefront", Description: "Browsing the shop", Probe: "storefront"},
		{Name: "Checkout", Service: "checkout"},
		{Name: "Search", Probe: "search"},
	}
	probes := []config.Probe{
		{Name: "storefront", Location: "eu", Labels: model.Labels{"service": "storefront"}},
		{Name: "checkout", Location: "eu", Labels: model.Labels{"service": "checkout"}},
		{Name: "search", Location: "eu", Labels: model.Labels{"service": "search"}},
	}
	for _, o := range opts {
		o(&sp)
	}
	pg, ps := statuspage.Compile(sp, probes, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	f := &spFixture{clock: &spClock{st0}, probes: &spProbes{}, maint: &spWindows{}, incs: &spIncidents{}, st: store.NewStatusPage(store.NewMemory())}
	svc, err := statuspage.New(statuspage.Options{Page: pg, Store: f.st, Probes: f.probes, Maintenance: f.maint, Now: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	f.page, err = NewStatusPage(StatusPageOptions{Status: svc, Incidents: f.incs, ExternalURL: "https://status.shop.example.com/", Now: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *spFixture) doc(t *testing.T, key string) []byte {
	t.Helper()
	pub, err := f.page.Public(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	d, ok := pub.Doc(key)
	if !ok {
		t.Fatalf("no document %q", key)
	}
	return d.Body
}

// scene sets up a morning of trouble: checkout's probe fails everywhere,
// an acknowledged incident about it has a private and two public updates,
// a resolved incident from yesterday has one, an incident without a public
// update stays off the page, and storefront has planned maintenance
// tomorrow while search is in maintenance now.
func (f *spFixture) scene(t *testing.T) {
	t.Helper()
	ran := st0.Add(-time.Minute)
	*f.probes = spProbes{
		{Probe: "storefront", Location: "eu", LastRun: ran},
		{Probe: "checkout", Location: "eu", Failing: true, LastRun: ran},
		{Probe: "search", Location: "eu", LastRun: ran},
	}
	match := func(k, v string) func(model.Labels) bool { return func(l model.Labels) bool { return l[k] == v } }
	*f.maint = spWindows{
		{ID: "pg-primary-failover-ticket-4711", Start: st0.Add(-30 * time.Minute), End: st0.Add(30 * time.Minute), Matches: match("service", "search")},
		{ID: "cdn-rotation", Start: st0.Add(24 * time.Hour), End: st0.Add(26 * time.Hour), Matches: match("probe", "storefront")},
	}
	ack := st0.Add(-8 * time.Minute)
	resolvedY := st0.Add(-23 * time.Hour)
	*f.incs = spIncidents{
		{ID: 7, Title: "CheckoutProbeFailing: pay step 502 from payments-api.internal", Severity: model.SeverityCritical, Status: incidents.StatusAcknowledged,
			Summary: "internal: db pool exhausted", Labels: model.Labels{"service": "checkout", "team": "payments"}, CreatedAt: st0.Add(-12 * time.Minute), AcknowledgedAt: &ack,
			Alerts: []incidents.Alert{{Name: "CheckoutProbeFailing", Labels: model.Labels{"alertname": "CheckoutProbeFailing", "probe": "checkout"}}},
			Updates: []incidents.Update{
				{At: st0.Add(-10 * time.Minute), Text: "Some card payments fail. We are investigating.", Public: true, Author: "alice"},
				{At: st0.Add(-9 * time.Minute), Text: "rolling back v42 on pay-3", Public: false, Author: "bob"},
				{At: st0.Add(-5 * time.Minute), Text: "We found the cause and are rolling out a fix.\n\nPayments by PayPal are not affected.", Public: true, Author: "alice"},
			}},
		{ID: 6, Title: "search latency", Severity: model.SeverityWarning, Status: incidents.StatusResolved, Labels: model.Labels{"service": "search"},
			CreatedAt: st0.Add(-24 * time.Hour), ResolvedAt: &resolvedY,
			Updates: []incidents.Update{{At: st0.Add(-23*time.Hour - 30*time.Minute), Text: "Search is slow for some shoppers.", Public: true, Author: "carol"}}},
		{ID: 5, Title: "internal only", Severity: model.SeverityCritical, Status: incidents.StatusTriggered, Labels: model.Labels{"service": "storefront"}, CreatedAt: st0.Add(-2 * time.Minute),
			Updates: []incidents.Update{{At: st0.Add(-time.Minute), Text: "nobody outside should read this", Author: "dave"}}},
	}
}

func TestStatusPageIncidentsAndMaintenance(t *testing.T) {
	f := newSPFixture(t)
	f.scene(t)
	var sum spSummary
	if err := json.Unmarshal(f.doc(t, "summary.json"), &sum); err != nil {
		t.Fatal(err)
	}
	// One of three components down, with a critical public incident open:
	// the top line reads as the incident does, not milder.
	if sum.Status != (spStatus{"critical", "Major System Outage"}) {
		t.Errorf("status = %+v", sum.Status)
	}
	var states []string
	for _, c := range sum.Components {
		states = append(states, c.ID+"="+c.Status)
	}
	if got := strings.Join(states, " "); got != "storefront=operational checkout=major_outage search=under_maintenance" {
		t.Errorf("components = %s", got)
	}
	if len(sum.Incidents) != 1 {
		t.Fatalf("unresolved incidents = %+v", sum.Incidents)
	}
	in := sum.Incidents[0]
	if in.ID != "7" || in.Name != "Major outage of Checkout" || in.Status != "identified" || in.Impact != "critical" ||
		in.Shortlink != "https://status.shop.example.com/status/incidents/7" || !in.CreatedAt.Equal(st0.Add(-12*time.Minute)) ||
		!in.UpdatedAt.Equal(st0.Add(-5*time.Minute)) || in.ResolvedAt != nil || in.MonitoringAt != nil || len(in.Components) != 1 || in.Components[0].ID != "checkout" {
		t.Errorf("incident = %+v", in)
	}
	if len(in.IncidentUpdates) != 2 {
		t.Fatalf("updates = %+v", in.IncidentUpdates)
	}
	u0, u1 := in.IncidentUpdates[0], in.IncidentUpdates[1]
	if u0.ID != "7-2" || u0.Status != "identified" || !strings.HasPrefix(u0.Body, "We found the cause") || !u0.DisplayAt.Equal(st0.Add(-5*time.Minute)) ||
		u1.ID != "7-1" || u1.Status != "investigating" || u1.Body != "Some card payments fail. We are investigating." {
		t.Errorf("updates = %+v", in.IncidentUpdates)
	}
	if len(sum.ScheduledMaintenances) != 2 {
		t.Fatalf("maintenances = %+v", sum.ScheduledMaintenances)
	}
	m0, m1 := sum.ScheduledMaintenances[0], sum.ScheduledMaintenances[1]
	if m0.Status != "in_progress" || m0.Name != "Planned maintenance of Search" || m0.Impact != "maintenance" ||
		!m0.ScheduledFor.Equal(st0.Add(-30*time.Minute)) || !m0.ScheduledUntil.Equal(st0.Add(30*time.Minute)) ||
		m0.IncidentUpdates[0].Body != "Search is under planned maintenance until Mar 25, 10:30 UTC." ||
		m1.Status != "scheduled" || m1.IncidentUpdates[0].Body != "Storefront will be under planned maintenance from Mar 26, 10:00 to Mar 26, 12:00 UTC." {
		t.Errorf("maintenances = %+v / %+v", m0, m1)
	}

	var all spIncidentsDoc
	if err := json.Unmarshal(f.doc(t, "incidents.json"), &all); err != nil {
		t.Fatal(err)
	}
	if len(all.Incidents) != 2 || all.Incidents[1].ID != "6" {
		t.Fatalf("incidents.json = %+v", all.Incidents)
	}
	past := all.Incidents[1]
	if past.Status != "resolved" || past.Impact != "minor" || past.Name != "Degraded performance of Search" || len(past.IncidentUpdates) != 2 ||
		past.IncidentUpdates[0].ID != "6-resolved" || past.IncidentUpdates[0].Body != "This incident has been resolved." {
		t.Errorf("past incident = %+v", past)
	}
	var up spMaintenancesDoc
	if err := json.Unmarshal(f.doc(t, "scheduled-maintenances/upcoming.json"), &up); err != nil || len(up.ScheduledMaintenances) != 1 || up.ScheduledMaintenances[0].Status != "scheduled" {
		t.Errorf("upcoming = %+v %v", up, err)
	}

	page := string(f.doc(t, "page"))
	for _, want := range []string{"Major System Outage", "Major outage of Checkout", "We found the cause and are rolling out a fix.", "<p>Payments by PayPal are not affected.</p>",
		"Search is under planned maintenance", "Planned maintenance of Storefront", "Degraded performance of Search", `href="/status/assets/style.`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, " style=") {
		t.Error("the page holds a script or an inline style")
	}
	inc := string(f.doc(t, "incident/6"))
	if !strings.Contains(inc, "Search is slow for some shoppers.") || !strings.Contains(inc, "This incident has been resolved.") {
		t.Errorf("incident page:\n%s", inc)
	}
}

// TestStatusPageLeaksNothing renders everything public from the scene and
// looks for every internal string it holds.
func TestStatusPageLeaksNothing(t *testing.T) {
	f := newSPFixture(t)
	f.scene(t)
	if _, err := f.svc.SetOverride(t.Context(), "storefront", statuspage.NewOverride{Status: statuspage.DegradedPerformance, Reason: "CDN vendor ticket 99812"}, "erin"); err != nil {
		t.Fatal(err)
	}
	f.page.Invalidate()
	pub, err := f.page.Public(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{"CheckoutProbeFailing", "payments-api.internal", "db pool exhausted", "team", "payments\"", "rolling back v42", "pay-3",
		"alice", "bob", "carol", "dave", "erin", "nobody outside", "internal only", "pg-primary-failover", "ticket-4711", "cdn-rotation", "CDN vendor", "99812", "search latency"}
	for key, d := range pub.docs {
		for _, s := range secrets {
			if bytes.Contains(d.Body, []byte(s)) {
				t.Errorf("%s holds %q", key, s)
			}
		}
	}
	if len(pub.docs) < 15 {
		t.Errorf("only %d documents rendered", len(pub.docs))
	}
}

// TestStatuspageShape checks every object of summary.json field by field
// against Statuspage's public API v2 (the fields and value types its
// documented examples and client libraries use), so a Statuspage client
// finds each field where it looks and nothing else.
func TestStatuspageShape(t *testing.T) {
	f := newSPFixture(t)
	f.scene(t)
	var doc map[string]any
	if err := json.Unmarshal(f.doc(t, "summary.json"), &doc); err != nil {
		t.Fatal(err)
	}
	const (
		str     = "string"
		strNull = "string|null"
		num     = "number"
		boolean = "bool"
		arr     = "array"
		obj     = "object"
		timeT   = "time"
		timeN   = "time|null"
		arrNull = "array|null"
	)
	page := map[string]string{"id": str, "name": str, "url": str, "time_zone": str, "updated_at": timeT}
	component := map[string]string{"id": str, "name": str, "status": str, "created_at": timeT, "updated_at": timeT, "position": num,
		"description": strNull, "showcase": boolean, "start_date": strNull, "group_id": strNull, "page_id": str, "group": boolean, "only_show_if_degraded": boolean}
	update := map[string]string{"id": str, "status": str, "body": str, "incident_id": str, "created_at": timeT, "updated_at": timeT, "display_at": timeT,
		"affected_components": arrNull, "deliver_notifications": boolean, "custom_tweet": strNull, "tweet_id": strNull}
	incident := map[string]string{"id": str, "name": str, "status": str, "created_at": timeT, "updated_at": timeT, "monitoring_at": timeN, "resolved_at": timeN,
		"impact": str, "shortlink": str, "started_at": timeT, "page_id": str, "incident_updates": arr, "components": arr}
	maintenance := map[string]string{"scheduled_for": timeT, "scheduled_until": timeT}
	for k, v := range incident {
		maintenance[k] = v
	}
	enums := map[string][]string{
		"component.status":   {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"},
		"status.indicator":   {"none", "minor", "major", "critical", "maintenance"},
		"incident.status":    {"investigating", "identified", "monitoring", "resolved", "postmortem"},
		"incident.impact":    {"none", "minor", "major", "critical"},
		"update.status":      {"investigating", "identified", "monitoring", "resolved", "postmortem"},
		"maintenance.status": {"scheduled", "in_progress", "verifying", "completed"},
		"maintenance.impact": {"maintenance"},
		"mupdate.status":     {"scheduled", "in_progress", "verifying", "completed"},
	}
	check := func(what string, v any, shape map[string]string) map[string]any {
		t.Helper()
		o, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s is %T, not an object", what, v)
		}
		var keys, want []string
		for k := range o {
			keys = append(keys, k)
		}
		for k := range shape {
			want = append(want, k)
		}
		sort.Strings(keys)
		sort.Strings(want)
		if !reflect.DeepEqual(keys, want) {
			t.Errorf("%s has fields %v, want %v", what, keys, want)
		}
		for k, kind := range shape {
			if !isKind(o[k], kind) {
				t.Errorf("%s.%s = %#v, want %s", what, k, o[k], kind)
			}
		}
		return o
	}
	enum := func(name string, v any) {
		t.Helper()
		if s, _ := v.(string); !slices.Contains(enums[name], s) {
			t.Errorf("%s = %v, not one of %v", name, v, enums[name])
		}
	}
	check("summary", doc, map[string]string{"page": obj, "status": obj, "components": arr, "incidents": arr, "scheduled_maintenances": arr})
	check("page", doc["page"], page)
	st := check("status", doc["status"], map[string]string{"indicator": str, "description": str})
	enum("status.indicator", st["indicator"])
	comps := doc["components"].([]any)
	if len(comps) != 3 {
		t.Fatalf("%d components", len(comps))
	}
	for i, c := range comps {
		o := check(fmt.Sprintf("components[%d]", i), c, component)
		enum("component.status", o["status"])
		if o["position"] != float64(i+1) {
			t.Errorf("components[%d].position = %v", i, o["position"])
		}
	}
	incs := doc["incidents"].([]any)
	if len(incs) != 1 {
		t.Fatalf("%d incidents", len(incs))
	}
	for i, in := range incs {
		o := check(fmt.Sprintf("incidents[%d]", i), in, incident)
		enum("incident.status", o["status"])
		enum("incident.impact", o["impact"])
		for j, u := range o["incident_updates"].([]any) {
			enum("update.status", check(fmt.Sprintf("incidents[%d].incident_updates[%d]", i, j), u, update)["status"])
		}
		for j, c := range o["components"].([]any) {
			check(fmt.Sprintf("incidents[%d].components[%d]", i, j), c, component)
		}
	}
	ms := doc["scheduled_maintenances"].([]any)
	if len(ms) != 2 {
		t.Fatalf("%d maintenances", len(ms))
	}
	for i, m := range ms {
		o := check(fmt.Sprintf("scheduled_maintenances[%d]", i), m, maintenance)
		enum("maintenance.status", o["status"])
		enum("maintenance.impact", o["impact"])
		for j, u := range o["incident_updates"].([]any) {
			enum("mupdate.status", check(fmt.Sprintf("scheduled_maintenances[%d].incident_updates[%d]", i, j), u, update)["status"])
		}
	}
	var sdoc map[string]any
	if err := json.Unmarshal(f.doc(t, "status.json"), &sdoc); err != nil {
		t.Fatal(err)
	}
	check("status.json", sdoc, map[string]string{"page": obj, "status": obj})
	check("status.json page", sdoc["page"], page)
}

// isKind reports whether a decoded JSON value is of a shape's kind.
func isKind(v any, kind string) bool {
	for _, k := range strings.Split(kind, "|") {
		switch k {
		case "null":
			if v == nil {
				return true
			}
		case "string":
			if _, ok := v.(string); ok {
				return true
			}
		case "time":
			if s, ok := v.(string); ok {
				if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
					return true
				}
			}
		case "number":
			if _, ok := v.(float64); ok {
				return true
			}
		case "bool":
			if _, ok := v.(bool); ok {
				return true
			}
		case "array":
			if _, ok := v.([]any); ok {
				return true
			}
		case "object":
			if _, ok := v.(map[string]any); ok {
				return true
			}
		}
	}
	return false
}

func TestStatusPageFeedsAndBadges(t *testing.T) {
	f := newSPFixture(t)
	f.scene(t)
	for _, key := range []string{"feed.atom", "feed.rss"} {
		feed, err := gofeed.NewParser().ParseString(string(f.doc(t, key)))
		if err != nil {
			t.Fatalf("%s does not parse: %v", key, err)
		}
		if feed.Title != "Shop status - incident history" || feed.Link != "https://status.shop.example.com/status" {
			t.Errorf("%s: title %q link %q", key, feed.Title, feed.Link)
		}
		// The two public incidents and the two maintenance windows, the
		// latest change first (tomorrow's window was "updated" at its start).
		var titles []string
		for _, it := range feed.Items {
			titles = append(titles, it.Title)
		}
		want := []string{"Planned maintenance of Storefront", "Major outage of Checkout", "Planned maintenance of Search", "Degraded performance of Search"}
		if !reflect.DeepEqual(titles, want) {
			t.Errorf("%s items = %q, want %q", key, titles, want)
			continue
		}
		it := feed.Items[1]
		body := it.Content + it.Description
		if it.Link != "https://status.shop.example.com/status/incidents/7" || !strings.Contains(body, "We found the cause") ||
			strings.Contains(body, "rolling back") || it.UpdatedParsed == nil && it.PublishedParsed == nil {
			t.Errorf("%s item = %+v", key, it)
		}
	}
	for _, id := range []string{"storefront", "checkout", "search"} {
		b := f.doc(t, "badge/"+id)
		var svg struct {
			XMLName xml.Name
			Title   string `xml:"title"`
		}
		if err := xml.Unmarshal(b, &svg); err != nil || svg.XMLName.Local != "svg" {
			t.Fatalf("badge %s: %v\n%s", id, err, b)
		}
		if id == "checkout" && svg.Title != "Checkout: major outage" {
			t.Errorf("badge title = %q", svg.Title)
		}
	}
}

func TestOverallStatus(t *testing.T) {
	st := func(ss ...statuspage.Status) []statuspage.ComponentState {
		var out []statuspage.ComponentState
		for _, s := range ss {
			out = append(out, statuspage.ComponentState{Status: s})
		}
		return out
	}
	op, mnt, deg, part, maj := statuspage.Operational, statuspage.UnderMaintenance, statuspage.DegradedPerformance, statuspage.PartialOutage, statuspage.MajorOutage
	for _, tc := range []struct {
		states  []statuspage.ComponentState
		impacts []string
		want    spStatus
	}{
		{nil, nil, spStatus{"none", "All Systems Operational"}},
		{st(op, op), nil, spStatus{"none", "All Systems Operational"}},
		{st(maj), nil, spStatus{"critical", "Major System Outage"}},
		{st(maj, maj), nil, spStatus{"critical", "Major System Outage"}},
		{st(maj, op), nil, spStatus{"critical", "Partial System Outage"}},
		{st(part), nil, spStatus{"major", "Partial System Outage"}},
		{st(part, part), nil, spStatus{"major", "Partial System Outage"}},
		{st(part, deg), nil, spStatus{"major", "Minor Service Outage"}},
		{st(deg), nil, spStatus{"minor", "Partially Degraded Service"}},
		{st(deg, deg), nil, spStatus{"minor", "Degraded System Service"}},
		{st(deg, op), nil, spStatus{"minor", "Partially Degraded Service"}},
		{st(mnt, op), nil, spStatus{"maintenance", "Service Under Maintenance"}},
		{st(op, op), []string{"minor"}, spStatus{"minor", "Minor Service Outage"}},
		{st(mnt), []string{"none"}, spStatus{"maintenance", "Service Under Maintenance"}},
		{st(deg), []string{"critical", "minor"}, spStatus{"critical", "Major System Outage"}},
		{st(part), []string{"minor"}, spStatus{"major", "Partial System Outage"}},
		{st(maj, op), []string{"critical"}, spStatus{"critical", "Major System Outage"}},
		{st(part, deg), []string{"major"}, spStatus{"major", "Partial System Outage"}},
	} {
		if got := overallStatus(tc.states, tc.impacts); got != tc.want {
			t.Errorf("overallStatus(%v, %v) = %+v, want %+v", tc.states, tc.impacts, got, tc.want)
		}
	}
}

func TestStatusPageCachesForItsTTL(t *testing.T) {
	f := newSPFixture(t)
	a, err := f.page.Public(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	f.clock.t = st0.Add(4 * time.Second)
	if b, _ := f.page.Public(t.Context()); b != a {
		t.Fatal("rendered again within the TTL")
	}
	f.clock.t = st0.Add(5 * time.Second)
	b, _ := f.page.Public(t.Context())
	if b == a || !b.Built.Equal(st0.Add(5*time.Second)) {
		t.Fatal("not rendered again after the TTL")
	}
	f.page.Invalidate()
	if c, _ := f.page.Public(t.Context()); c == b {
		t.Fatal("Invalidate did not force a rendering")
	}
}

// A one-day history reads "1 day ago" under the bars, not "1 days ago".
func TestStatusPageOneDayHistory(t *testing.T) {
	f := newSPFixture(t, func(sp *config.StatusPage) { sp.History = model.Duration(24 * time.Hour) })
	if page := string(f.doc(t, "page")); !strings.Contains(page, "<span>1 day ago</span>") {
		t.Errorf("page lacks \"1 day ago\":\n%s", page)
	}
}

func TestUptimeFigures(t *testing.T) {
	for f, want := range map[float64]string{1: "100%", 0.99999: "99.99%", 0.9995: "99.95%", 703.0 / 743.0: "94.61%", 0: "0.00%", 0.29: "29.00%", 0.57: "57.00%", 1 - 1e-12: "99.99%"} {
		if got := uptimePct(f); got != want {
			t.Errorf("uptimePct(%v) = %s, want %s", f, got, want)
		}
	}
}
