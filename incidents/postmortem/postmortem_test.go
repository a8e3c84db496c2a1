package postmortem_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/postmortem"
	"github.com/sentinel-oss/sentinel/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday

func at(m int) *time.Time { v := t0.Add(time.Duration(m) * time.Minute); return &v }

// resolvedIncident is incident #42: an alert started 3 minutes before the
// incident opened; acknowledged after 4 minutes, resolved after 47.
func resolvedIncident() *incidents.Incident {
	return &incidents.Incident{
		ID: 42, Title: "Checkout | payments down", Severity: model.SeverityCritical, Status: incidents.StatusResolved,
		Summary: "Payments time out", Labels: model.Labels{"service": "checkout"}, CreatedAt: t0,
		AcknowledgedAt: at(4), ResolvedAt: at(47),
		Alerts: []incidents.Alert{{Name: "CheckoutProbeFailing", StartsAt: t0.Add(-3 * time.Minute), Labels: model.Labels{"probe": "checkout"}}},
		Timeline: []incidents.TimelineEntry{
			{At: t0, Kind: "triggered", Actor: "sentinel", Text: "CheckoutProbeFailing fired"},
			{At: *at(1), Kind: "diagnostic", Actor: "sentinel", Text: `runbook checkout-down: diagnostic "payments health" FAILED: GET http://payments/healthz answered 503`},
			{At: *at(4), Kind: "acknowledged", Actor: "alice", Text: "acknowledged by alice"},
			{At: *at(47), Kind: "resolved", Actor: "bob", Text: "resolved by bob"},
		},
	}
}

type fakeSLOs struct{}

func (fakeSLOs) SLOsForLabels(l model.Labels) []string {
	if l["service"] == "checkout" {
		return []string{"checkout-availability", "orders"}
	}
	return nil
}

func (fakeSLOs) Consumed(_ context.Context, name string, from, to time.Time) (postmortem.SLOImpact, error) {
	if name == "orders" {
		return postmortem.SLOImpact{}, errors.New("store unavailable")
	}
	// Counts are per minute: the whole minutes [from, to) touches.
	mins := int64(ceilMinute(to).Sub(from.Truncate(time.Minute)) / time.Minute)
	return postmortem.SLOImpact{Name: name, Good: 10 * mins, Total: 12 * mins, BudgetConsumed: 0.0125 * float64(mins) / 47,
		Unit: "runs", Probe: "checkout", CountedFrom: from.Truncate(time.Minute), CountedTo: ceilMinute(to)}, nil
}

func ceilMinute(t time.Time) time.Time {
	if m := t.Truncate(time.Minute); !m.Equal(t) {
		return m.Add(time.Minute)
	}
	return t
}

type fakeProbes struct{}

// ProbeRuns counts checkout (whose runs the SLO counts already) and search.
func (fakeProbes) ProbeRuns(context.Context, *incidents.Incident, time.Time, time.Time) ([]postmortem.ProbeRuns, error) {
	return []postmortem.ProbeRuns{{Name: "checkout", Runs: 94, Failed: 88}, {Name: "search", Runs: 47, Failed: 2}}, nil
}

type fakeOnsets struct{}

// Onset: the first failed run came 75 s before the incident opened.
func (fakeOnsets) Onset(_ context.Context, inc *incidents.Incident) (postmortem.Onset, bool, error) {
	return postmortem.Onset{At: inc.CreatedAt.Add(-75 * time.Second), What: "the first failed run of probe checkout (step pay: expected status 200, got 503)"}, true, nil
}

type fakeRUM struct{}

// Traffic counts the whole minutes the window touches, on the route asked.
func (fakeRUM) Traffic(_ context.Context, from, to time.Time, route string) (postmortem.RUMTraffic, error) {
	return postmortem.RUMTraffic{PageViews: 12840, JSErrors: 312, From: from.Truncate(time.Minute), To: to.Truncate(time.Minute).Add(time.Minute), Route: route}, nil
}

type fakeChanges struct{}

// ChangesBefore: checkout was deployed 12 minutes before the trouble began.
func (fakeChanges) ChangesBefore(_ context.Context, services []string, start time.Time) ([]incidents.RecentChange, error) {
	if len(services) != 1 || services[0] != "checkout" || !start.Equal(t0.Add(-3*time.Minute)) {
		return nil, fmt.Errorf("asked for %v before %s", services, start)
	}
	return []incidents.RecentChange{{ID: 7, Service: "checkout", Title: "v42", Kind: "deploy", URL: "https://ci.example.com/runs/42",
		At: start.Add(-12 * time.Minute), Words: "deploy checkout: v42, 12 min before"}}, nil
}

var sources = postmortem.Sources{SLOs: fakeSLOs{}, Probes: fakeProbes{}, RUM: fakeRUM{}, Onsets: fakeOnsets{}, Changes: fakeChanges{}}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", name, got)
	}
}

func TestMarkdownGolden(t *testing.T) {
	inc := resolvedIncident()
	draft := postmortem.Draft(inc, *at(47))
	postmortem.Derive(t.Context(), draft, inc, sources, *at(60))
	golden(t, "draft.md", postmortem.Markdown(draft))

	root, due := "The payments connection pool was sized for last year's traffic.", "2026-03-20"
	items := []postmortem.ActionItem{
		{Title: "Size the pool | from load tests", Owner: "bob", Due: due, Link: "https://tracker.example.com/OPS-1"},
		{Title: "Alert on pool saturation", Owner: "alice", Due: "2026-03-27", Status: postmortem.ItemDone},
	}
	factors, well, lessons := "- A deploy doubled the calls per checkout.\n- No saturation alert.", "The probe paged within 3 minutes.", "Load-test the payments path before sales."
	pm, err := postmortem.Apply(draft, postmortem.Edit{RootCause: &root, ContributingFactors: &factors, WentWell: &well, Lessons: &lessons, ActionItems: &items}, "alice", *at(120))
	if err != nil {
		t.Fatal(err)
	}
	st := postmortem.StatusInReview
	if pm, err = postmortem.Apply(pm, postmortem.Edit{Status: &st}, "bob", *at(180)); err != nil {
		t.Fatal(err)
	}
	golden(t, "in_review.md", postmortem.Markdown(pm))
}

func TestDeriveImpactAndTimes(t *testing.T) {
	inc := resolvedIncident()
	pm := postmortem.Draft(inc, *at(47))
	postmortem.Derive(t.Context(), pm, inc, sources, *at(60))
	im := pm.Impact
	if !im.From.Equal(t0) || !im.To.Equal(*at(47)) || im.Duration != 47*60 {
		t.Errorf("window %s..%s %v", im.From, im.To, im.Duration)
	}
	if len(im.SLOs) != 1 || im.SLOs[0].Name != "checkout-availability" || im.SLOs[0].Total != 12*47 {
		t.Errorf("slos %+v", im.SLOs)
	}
	if len(im.Errors) != 1 || !strings.Contains(im.Errors[0], "orders") {
		t.Errorf("a failing source must be named, not hidden: %v", im.Errors)
	}
	// Detected 75 s after the first failed run (the onset source), not
	// from the alert's start.
	if *pm.Times.Detect != 75 || *pm.Times.Acknowledge != 240 || *pm.Times.Resolve != 47*60 {
		t.Errorf("times %v %v %v", *pm.Times.Detect, *pm.Times.Acknowledge, *pm.Times.Resolve)
	}
	if o := pm.Times.DetectedFrom; o == nil || !strings.Contains(o.What, "step pay") {
		t.Errorf("detected from %+v", o)
	}
	// The SLO counts checkout's runs: that probe is not listed twice.
	if len(im.Probes) != 1 || im.Probes[0].Name != "search" {
		t.Errorf("probes %+v", im.Probes)
	}
	if got := im.SLOs[0].Counted(); got != "94 of 564 runs failed" {
		t.Errorf("counted %q", got)
	}
	if !strings.HasPrefix(pm.Summary, "Checkout | payments down. Payments time out") {
		t.Errorf("summary %q", pm.Summary)
	}
	// Without an onset source, detection counts from the first alert.
	plain := postmortem.Draft(inc, *at(47))
	postmortem.Derive(t.Context(), plain, inc, postmortem.Sources{}, *at(60))
	if *plain.Times.Detect != 180 || plain.Times.DetectedFrom != nil {
		t.Errorf("without onsets: %v %+v", *plain.Times.Detect, plain.Times.DetectedFrom)
	}
	declared := resolvedIncident()
	declared.Alerts, declared.AcknowledgedAt = nil, nil
	tm := postmortem.ResponseTimes(declared)
	if tm.Detect != nil || tm.Acknowledge != nil || tm.Resolve == nil {
		t.Errorf("declared, never acknowledged: %+v", tm)
	}
}

func TestApplyStatusFlow(t *testing.T) {
	ptr := func(s postmortem.Status) *postmortem.Status { return &s }
	str := func(s string) *string { return &s }
	base := postmortem.Draft(resolvedIncident(), t0)
	withCause, _ := postmortem.Apply(base, postmortem.Edit{RootCause: str("x")}, "a", t0)
	review, _ := postmortem.Apply(withCause, postmortem.Edit{Status: ptr(postmortem.StatusInReview)}, "a", t0)
	published, _ := postmortem.Apply(review, postmortem.Edit{Status: ptr(postmortem.StatusPublished)}, "a", t0)
	cases := []struct {
		name string
		from *postmortem.Postmortem
		edit postmortem.Edit
		want error
	}{
		{"draft to in_review without root cause", base, postmortem.Edit{Status: ptr(postmortem.StatusInReview)}, postmortem.ErrInvalid},
		{"draft to in_review", withCause, postmortem.Edit{Status: ptr(postmortem.StatusInReview)}, nil},
		{"draft to published skips review", withCause, postmortem.Edit{Status: ptr(postmortem.StatusPublished)}, postmortem.ErrConflict},
		{"in_review back to draft", review, postmortem.Edit{Status: ptr(postmortem.StatusDraft)}, nil},
		{"in_review to published", review, postmortem.Edit{Status: ptr(postmortem.StatusPublished)}, nil},
		{"published back to draft", published, postmortem.Edit{Status: ptr(postmortem.StatusDraft)}, postmortem.ErrConflict},
		{"published text is final", published, postmortem.Edit{Lessons: str("more")}, postmortem.ErrConflict},
		{"published action items move on", published, postmortem.Edit{ActionItems: &[]postmortem.ActionItem{{Title: "t", Status: "done"}}}, nil},
		{"same status is no change", review, postmortem.Edit{Status: ptr(postmortem.StatusInReview)}, postmortem.ErrInvalid},
		{"unchanged text is no change", review, postmortem.Edit{RootCause: str(review.RootCause)}, postmortem.ErrInvalid},
		{"an empty edit", review, postmortem.Edit{}, postmortem.ErrInvalid},
		{"stale version", review, postmortem.Edit{Version: new(int)}, postmortem.ErrConflict},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := postmortem.Apply(c.from, c.edit, "carol", t0.Add(time.Hour))
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if out.Version != c.from.Version+1 || out.UpdatedBy != "carol" {
					t.Errorf("version %d by %s", out.Version, out.UpdatedBy)
				}
				if c.edit.Status != nil && *c.edit.Status == postmortem.StatusPublished && out.PublishedAt == nil {
					t.Error("published without published_at")
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
}

// A version ahead of the stored one was never saved by anyone: the error
// says it does not exist rather than naming a save since it.
func TestApplyVersionThatDoesNotExist(t *testing.T) {
	base := postmortem.Draft(resolvedIncident(), t0)
	cause := "psp"
	for _, v := range []int{base.Version + 999, -1} {
		_, err := postmortem.Apply(base, postmortem.Edit{RootCause: &cause, Version: &v}, "carol", t0)
		want := fmt.Sprintf("version %d does not exist; postmortem #%d is at version %d: reload it and save again", v, base.IncidentID, base.Version)
		if !errors.Is(err, postmortem.ErrConflict) || err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("version %d: err %v, want %q", v, err, want)
		}
	}
}

func TestActionItemIDs(t *testing.T) {
	pm := postmortem.Draft(resolvedIncident(), t0)
	items := []postmortem.ActionItem{{Title: "one"}, {Title: "two"}}
	pm, _ = postmortem.Apply(pm, postmortem.Edit{ActionItems: &items}, "a", t0)
	items = []postmortem.ActionItem{pm.ActionItems[1], {Title: "three"}}
	pm, _ = postmortem.Apply(pm, postmortem.Edit{ActionItems: &items}, "a", t0)
	if pm.ActionItems[0].ID != "A2" || pm.ActionItems[1].ID != "A3" || pm.ActionItems[1].Status != postmortem.ItemOpen {
		t.Errorf("ids: %+v", pm.ActionItems)
	}
}

// decodeEdit decodes a PUT body as the API's binder does (strictly) and
// checks it; the binder's own refusals are tested in web.
func decodeEdit(body []byte) (postmortem.Edit, error) {
	var e postmortem.Edit
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return postmortem.Edit{}, err
	}
	return e, e.Validate()
}

func TestEditValidate(t *testing.T) {
	for _, c := range []struct{ body, wantErr string }{
		{`{"status":"in_review","root_cause":"x"}`, ""},
		{`{"action_items":[{"title":"a","owner":"bob","due":"2026-04-01","status":"in_progress","link":"https://x.example/1"}]}`, ""},
		{`{"action_items":[{"owner":"bob"}]}`, "action_items[0].title is required"},
		{`{"action_items":[{"title":"a","due":"next week"}]}`, "action_items[0].due"},
		{`{"action_items":[{"title":"a","link":"javascript:alert(1)"}]}`, "action_items[0].link"},
		{`{"action_items":[{"title":"a","status":"later"}]}`, "action_items[0].status"},
		{`{"action_items":[{"id":"A1","title":"a"},{"id":"A1","title":"b"}]}`, "used twice"},
		{`{"lessons":"` + strings.Repeat("x", postmortem.MaxSectionLen+1) + `"}`, "longer than"},
	} {
		_, err := decodeEdit([]byte(c.body))
		if c.wantErr == "" {
			if err != nil {
				t.Errorf("%.60s: %v", c.body, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, postmortem.ErrInvalid) || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%.60s: err %v, want ErrInvalid mentioning %q", c.body, err, c.wantErr)
		}
	}
	// A status outside the three is refused while decoding.
	if _, err := decodeEdit([]byte(`{"status":"done"}`)); err == nil || !strings.Contains(err.Error(), "want draft, in_review or published") {
		t.Errorf("status done: %v", err)
	}
}

func FuzzEditValidate(f *testing.F) {
	f.Add([]byte(`{"status":"in_review","root_cause":"x","action_items":[{"title":"a","due":"2026-04-01"}]}`))
	f.Add([]byte(`{"version":3,"lessons":"\u0000"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"action_items":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var e postmortem.Edit
		if json.Unmarshal(body, &e) != nil {
			return
		}
		if err := e.Validate(); err != nil {
			if !errors.Is(err, postmortem.ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		pm := postmortem.Draft(resolvedIncident(), t0)
		out, err := postmortem.Apply(pm, e, "fuzz", t0)
		if err != nil {
			if !errors.Is(err, postmortem.ErrInvalid) && !errors.Is(err, postmortem.ErrConflict) {
				t.Fatalf("apply: unexpected error kind %v", err)
			}
			return
		}
		_ = postmortem.Markdown(out)
	})
}

// fakeIncidents records reminders and notes.
type fakeIncidents struct {
	mu        sync.Mutex
	incs      map[int64]*incidents.Incident
	reminders []string
	people    [][]string
	notes     []string
}

func (f *fakeIncidents) Get(_ context.Context, id int64) (*incidents.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if inc, ok := f.incs[id]; ok {
		return inc.Clone(), nil
	}
	return nil, incidents.ErrNotFound
}

func (f *fakeIncidents) List(_ context.Context, q incidents.ListQuery) ([]*incidents.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*incidents.Incident
	for _, inc := range f.incs {
		if q.Matches(inc) {
			out = append(out, inc.Clone())
		}
	}
	return out, nil
}

func (f *fakeIncidents) AddNote(_ context.Context, id int64, kind, actor, text string) (*incidents.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notes = append(f.notes, actor+": "+text)
	return f.incs[id], nil
}

func (f *fakeIncidents) Remind(_ context.Context, key string, a model.Announcement, people []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reminders = append(f.reminders, key+"@"+a.At.Format(time.RFC3339)+" "+a.Text)
	f.people = append(f.people, people)
	return nil
}

func TestRemindersWithFixedClock(t *testing.T) {
	inc := resolvedIncident() // resolved at t0+47m
	fi := &fakeIncidents{incs: map[int64]*incidents.Incident{42: inc}}
	now := t0
	cfg := config.DefaultPostmortems() // draft reminder after 3d, repeat every 24h
	svc, err := postmortem.NewService(postmortem.Options{Config: cfg, Store: postmortem.NewMemoryStore(), Incidents: fi, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	svc.IncidentResolved(ctx, inc)
	items := []postmortem.ActionItem{
		{Title: "Size the pool", Owner: "bob", Due: "2026-03-04"},
		{Title: "Already done", Owner: "alice", Due: "2026-03-03", Status: postmortem.ItemDone},
		{Title: "No due date", Owner: "carol"},
	}
	now = *at(60)
	if _, err := svc.Put(ctx, 42, postmortem.Edit{ActionItems: &items}, "alice"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at   time.Time
		want []string
	}{
		{t0.Add(48 * time.Hour), nil},
		// The item is due at the end of 2026-03-04 (UTC).
		{time.Date(2026, 3, 5, 0, 0, 1, 0, time.UTC), []string{"postmortem/42/item/A1@2026-03-05T00:00:00Z Action item A1 of incident #42 is overdue (due 2026-03-04, owner bob, open): Size the pool"}},
		{time.Date(2026, 3, 5, 8, 0, 0, 0, time.UTC), nil},
		// Three days after resolving, the draft is reminded.
		{t0.Add(72*time.Hour + 47*time.Minute), []string{"postmortem/42/draft@2026-03-05T09:47:00Z The postmortem of incident #42 (Checkout | payments down) is still a draft 3 days after the incident resolved."}},
		// A day after the first item reminder, it repeats.
		{time.Date(2026, 3, 6, 0, 0, 2, 0, time.UTC), []string{"postmortem/42/item/A1@2026-03-06T00:00:01Z Action item A1 of incident #42 is overdue (due 2026-03-04, owner bob, open): Size the pool"}},
	}
	for i, s := range steps {
		now = s.at
		fi.reminders = nil
		n, err := svc.Remind(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(s.want) || strings.Join(fi.reminders, "\n") != strings.Join(s.want, "\n") {
			t.Fatalf("step %d at %s: sent %d:\n%s\nwant:\n%s", i, s.at, n, strings.Join(fi.reminders, "\n"), strings.Join(s.want, "\n"))
		}
	}
	if len(fi.people) == 0 || len(fi.people[0]) != 1 || fi.people[0][0] != "bob" {
		t.Errorf("the item reminder must reach its owner: %v", fi.people)
	}
	// Done items and published drafts stop reminding.
	items[0].Status = postmortem.ItemDone
	root := "pool size"
	if _, err := svc.Put(ctx, 42, postmortem.Edit{ActionItems: &items, RootCause: &root, Status: ptrStatus(postmortem.StatusInReview)}, "bob"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(30 * 24 * time.Hour)
	fi.reminders = nil
	if n, _ := svc.Remind(ctx); n != 0 {
		t.Errorf("reminders after everything was finished: %v", fi.reminders)
	}
	if len(fi.notes) != 1 || fi.notes[0] != "bob: postmortem moved from draft to in_review by bob" {
		t.Errorf("status change notes: %v", fi.notes)
	}
}

func ptrStatus(s postmortem.Status) *postmortem.Status { return &s }

func TestServiceDraftRules(t *testing.T) {
	warn := resolvedIncident()
	warn.ID, warn.Severity = 7, model.SeverityWarning
	open := resolvedIncident()
	open.ID, open.Status, open.ResolvedAt = 8, incidents.StatusAcknowledged, nil
	fi := &fakeIncidents{incs: map[int64]*incidents.Incident{42: resolvedIncident(), 7: warn, 8: open}}
	svc, _ := postmortem.NewService(postmortem.Options{Config: config.DefaultPostmortems(), Store: postmortem.NewMemoryStore(), Incidents: fi, ExternalURL: "https://sentinel.example.com/"})
	ctx := t.Context()
	if _, err := svc.Get(ctx, 42); err != nil {
		t.Errorf("a resolved critical incident has a draft even when the hook missed it: %v", err)
	}
	if _, err := svc.Get(ctx, 7); !postmortem.IsNotFound(err) {
		t.Errorf("a warning needs no postmortem: %v", err)
	}
	if _, err := svc.Get(ctx, 8); !postmortem.IsNotFound(err) {
		t.Errorf("an open incident has none yet: %v", err)
	}
	if _, err := svc.Put(ctx, 8, postmortem.Edit{}, "a"); !errors.Is(err, postmortem.ErrConflict) {
		t.Errorf("PUT on an open incident: %v", err)
	}
	if pm, err := svc.Put(ctx, 7, postmortem.Edit{}, "a"); err != nil || pm.Status != postmortem.StatusDraft {
		t.Errorf("PUT starts a warning's postmortem: %v", err)
	}
	l, err := svc.Link(ctx, 42)
	if err != nil || l.URL != "https://sentinel.example.com/incidents/42/postmortem" || l.Status != postmortem.StatusDraft ||
		l.MarkdownURL != "https://sentinel.example.com/api/v1/incidents/42/postmortem.md" {
		t.Errorf("link %+v %v", l, err)
	}
}

func TestReport(t *testing.T) {
	a := resolvedIncident()
	b := resolvedIncident()
	b.ID, b.Severity, b.CreatedAt = 43, model.SeverityWarning, t0.Add(10*time.Minute) // overlaps a
	b.AcknowledgedAt, b.ResolvedAt = nil, at(50)
	c := resolvedIncident()
	c.ID, c.CreatedAt, c.AcknowledgedAt, c.ResolvedAt = 44, t0.Add(7*24*time.Hour), at(7*24*60+2), at(7*24*60+12)
	rep := postmortem.BuildReport(t.Context(), []*incidents.Incident{c, b, a}, t0.Add(-time.Hour), t0.Add(14*24*time.Hour), fakeSLOs{}, t0.Add(30*24*time.Hour))
	if rep.Count != 3 || rep.BySeverity["critical"] != 2 || rep.BySeverity["warning"] != 1 {
		t.Errorf("counts %+v", rep)
	}
	if len(rep.Weeks) != 2 || !rep.Weeks[0].Week.Equal(t0.Add(-9*time.Hour)) || rep.Weeks[0].Count != 2 || rep.Weeks[1].Count != 1 {
		t.Errorf("weeks %+v", rep.Weeks)
	}
	if *rep.MTTA != (4*60+2*60)/2.0 || *rep.MTTR != (47*60+40*60+12*60)/3.0 {
		t.Errorf("mtta %v mttr %v", *rep.MTTA, *rep.MTTR)
	}
	// checkout-availability: the union of [0,47) and [10,50) is [0,50), plus [0,12) a week later.
	want := 0.0125*50/47 + 0.0125*12/47
	if len(rep.SLOs) != 2 || rep.SLOs[0].Name != "checkout-availability" || rep.SLOs[0].Incidents != 3 || !near(rep.SLOs[0].BudgetConsumed, want) {
		t.Errorf("slos %+v, want %v", rep.SLOs, want)
	}
	if len(rep.Errors) == 0 {
		t.Error("a failing SLO source must be reported")
	}
	if got := postmortem.WeekStart(time.Date(2026, 3, 8, 23, 0, 0, 0, time.UTC)); !got.Equal(t0.Add(-9 * time.Hour)) {
		t.Errorf("week start of a Sunday: %s", got)
	}
}

// TestReportCountsEachMinuteOnce: SLO counts are per minute, so two
// incidents that share a minute without overlapping (09:00:30 to 09:05:20
// and 09:05:40 to 09:10:10) are counted over the whole minutes 09:00 to
// 09:11 once: 11 minutes, not 6 + 6. A third, the next day from 10:00:15
// to 10:01:50, adds 10:00 to 10:02: 13 minutes in two spans. The fake
// spends 0.0125/47 of the budget a minute.
func TestReportCountsEachMinuteOnce(t *testing.T) {
	inc := func(id int64, from, to time.Time) *incidents.Incident {
		return &incidents.Incident{ID: id, Severity: model.SeverityCritical, Status: incidents.StatusResolved,
			Labels: model.Labels{"service": "checkout"}, CreatedAt: from, ResolvedAt: &to}
	}
	day := t0.Add(24 * time.Hour)
	a := inc(1, t0.Add(30*time.Second), t0.Add(5*time.Minute+20*time.Second))
	b := inc(2, t0.Add(5*time.Minute+40*time.Second), t0.Add(10*time.Minute+10*time.Second))
	c := inc(3, day.Add(time.Hour+15*time.Second), day.Add(time.Hour+time.Minute+50*time.Second))
	rep := postmortem.BuildReport(t.Context(), []*incidents.Incident{c, b, a}, t0, t0.Add(7*24*time.Hour), fakeSLOs{}, t0.Add(30*24*time.Hour))
	if len(rep.SLOs) != 2 {
		t.Fatalf("slos %+v", rep.SLOs)
	}
	got := rep.SLOs[0]
	want := []postmortem.CountedSpan{{CountedFrom: t0, CountedTo: t0.Add(11 * time.Minute)},
		{CountedFrom: day.Add(time.Hour), CountedTo: day.Add(time.Hour + 2*time.Minute)}}
	if got.Name != "checkout-availability" || got.Incidents != 3 || got.CountedMinutes != 13 || !reflect.DeepEqual(got.Counted, want) {
		t.Errorf("counted %+v", got)
	}
	if !near(got.BudgetConsumed, 0.0125*13/47) {
		t.Errorf("budget consumed %v, want %v", got.BudgetConsumed, 0.0125*13/47)
	}
	if m, want := got.Counted[0].Minutes(), "counted over the whole minutes 2026-03-02 09:00 to 09:11 UTC"; m != want {
		t.Errorf("minutes %q, want %q", m, want)
	}
	// An SLO whose figures could not be read lists nothing counted.
	if o := rep.SLOs[1]; o.Name != "orders" || len(o.Counted) != 0 || o.CountedMinutes != 0 || len(rep.Errors) != 1 {
		t.Errorf("orders %+v, errors %v", o, rep.Errors)
	}
}

func near(a, b float64) bool { d := a - b; return d < 1e-12 && d > -1e-12 }

// Counts of one read in the singular: "1 page view", "1 of 1 run failed".
func TestMarkdownSingularCounts(t *testing.T) {
	pm := &postmortem.Postmortem{IncidentID: 1, Title: "one of each"}
	pm.Impact.SLOs = []postmortem.SLOImpact{{Name: "checkout", Unit: "runs", Good: 0, Total: 1}}
	pm.Impact.Probes = []postmortem.ProbeRuns{{Name: "search", Runs: 1, Failed: 1}}
	pm.Impact.RUM = &postmortem.RUMTraffic{PageViews: 1, JSErrors: 1}
	md := string(postmortem.Markdown(pm))
	for _, want := range []string{"(1 of 1 run failed)", "Probe search: 1 of 1 run failed", "Real users on the whole site: 1 page view, 1 JavaScript error\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// Real users are counted on the route an incident is about (every alert's
// route label), else on the whole site, and the page says which.
func TestRealUsersOnTheIncidentsRoute(t *testing.T) {
	for _, c := range []struct {
		name   string
		routes []string
		want   string
	}{
		{"every alert on /checkout", []string{"/checkout", "/checkout"}, "/checkout"},
		{"two routes", []string{"/checkout", "/cart"}, ""},
		{"a probe alert beside a route", []string{"/checkout", ""}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			inc := resolvedIncident()
			inc.Alerts = nil
			for _, r := range c.routes {
				l := model.Labels{"alertname": "SlowLCP"}
				if r != "" {
					l["route"] = r
				}
				inc.Alerts = append(inc.Alerts, incidents.Alert{Name: "SlowLCP", StartsAt: t0, Labels: l})
			}
			pm := postmortem.Draft(inc, *at(47))
			postmortem.Derive(t.Context(), pm, inc, sources, *at(60))
			if pm.Impact.RUM == nil || pm.Impact.RUM.Route != c.want {
				t.Fatalf("rum = %+v, want route %q", pm.Impact.RUM, c.want)
			}
			where := "on the whole site"
			if c.want != "" {
				where = "on " + c.want
			}
			// The window 09:00 to 09:47 touches the minutes 09:00 to 09:48.
			line := "- Real users " + where + ", 2026-03-02 09:00 to 09:48 UTC (whole minutes): 12,840 page views, 312 JavaScript errors\n"
			if md := string(postmortem.Markdown(pm)); !strings.Contains(md, line) {
				t.Errorf("markdown lacks %q:\n%s", line, md)
			}
		})
	}
}

// SLO counts are kept per minute: the line says which whole minutes its
// figures cover, beside the window's instants. A probe failing every 10 s
// from 03:22:32.76 to 03:25:11.89 counts the minutes 03:22 to 03:26 (24
// runs, 21 failed); read at 03:25:47 the counts end then.
func TestMarkdownSaysWhichMinutesSLOsCount(t *testing.T) {
	day := func(h, m, s, ns int) time.Time { return time.Date(2026, 12, 6, h, m, s, ns, time.UTC) }
	pm := &postmortem.Postmortem{IncidentID: 2, Title: "checkout down"}
	pm.Impact.From, pm.Impact.To = day(3, 22, 32, 756714300), day(3, 25, 11, 893910466)
	for _, c := range []struct {
		im   postmortem.SLOImpact
		want string
	}{
		{postmortem.SLOImpact{Name: "checkout-availability", Unit: "runs", Good: 3, Total: 24, BudgetConsumed: 0.0116,
			CountedFrom: day(3, 22, 0, 0), CountedTo: day(3, 26, 0, 0)},
			"- SLO checkout-availability: 1.2% of the error budget consumed (21 of 24 runs failed; counted over the whole minutes 2026-12-06 03:22 to 03:26 UTC)\n"},
		{postmortem.SLOImpact{Name: "checkout-availability", Unit: "runs", Good: 3, Total: 23, BudgetConsumed: 0.0111,
			CountedFrom: day(3, 22, 0, 0), CountedTo: day(3, 25, 47, 0)},
			"- SLO checkout-availability: 1.1% of the error budget consumed (20 of 23 runs failed; counted over the whole minutes 2026-12-06 03:22 to 03:25:47 UTC)\n"},
		{postmortem.SLOImpact{Name: "checkout-availability", Unit: "runs", Good: 3, Total: 24, BudgetConsumed: 0.0116,
			CountedFrom: day(23, 58, 0, 0), CountedTo: day(23, 58, 0, 0).Add(4 * time.Minute)},
			"(21 of 24 runs failed; counted over the whole minutes 2026-12-06 23:58 to 2026-12-07 00:02 UTC)\n"},
		// Stored before the span was recorded: the counts alone.
		{postmortem.SLOImpact{Name: "checkout-availability", Unit: "runs", Good: 3, Total: 24, BudgetConsumed: 0.0116},
			"(21 of 24 runs failed)\n"},
	} {
		pm.Impact.SLOs = []postmortem.SLOImpact{c.im}
		if md := string(postmortem.Markdown(pm)); !strings.Contains(md, c.want) {
			t.Errorf("markdown lacks %q:\n%s", c.want, md)
		}
	}
}
