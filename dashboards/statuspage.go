package dashboards

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/statuspage"
)

//go:embed statustemplates/*.html
var statusTemplateFS embed.FS

//go:embed static/status.css
var statusCSS []byte

// StatusSource is what the public status page reads from the statuspage
// service: every component now, and its history.
type StatusSource interface {
	Current(ctx context.Context) (statuspage.Snapshot, error)
	History(ctx context.Context, id string, days int) ([]statuspage.Day, error)
}

// StatusIncidentSource lists incidents; the page keeps those with a public
// update and shows only those updates.
type StatusIncidentSource interface {
	List(ctx context.Context, q incidents.ListQuery) ([]*incidents.Incident, error)
}

// Bounds of what the page reads and shows.
const (
	// DefaultStatusTTL is how long one rendering of the page is served.
	DefaultStatusTTL = 5 * time.Second
	// statusPastScan bounds the resolved incidents read per rendering
	// (newest first, within the history).
	statusPastScan = 1000
	// statusPastShown bounds the past incidents listed on the page, in
	// the JSON (incidents.json) and in the feeds.
	statusPastShown = 50
	// statusPageDays is how far back the page's "Past incidents" reach.
	statusPageDays = 14
)

// StatusPageOptions are what NewStatusPage needs.
type StatusPageOptions struct {
	Status StatusSource
	// Incidents may be nil: the page then lists none.
	Incidents StatusIncidentSource
	// ExternalURL is where the public reaches Sentinel; links, feed IDs
	// and the page's ID derive from it.
	ExternalURL string
	// TTL is how long a rendering is served (DefaultStatusTTL when 0).
	TTL    time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

// StatusPage renders the public status page and everything beside it
// (Statuspage-shaped JSON, Atom and RSS feeds, badges) from one snapshot
// at a time, each kept for a few seconds, so that a crowd refreshing the
// page during an outage costs one rendering per TTL. It is safe for
// concurrent use.
type StatusPage struct {
	opts    StatusPageOptions
	log     *slog.Logger
	now     func() time.Time
	page    *template.Template
	cssHash string

	cur  atomic.Pointer[StatusPublic]
	gen  atomic.Uint64 // bumped by Invalidate
	mu   sync.Mutex    // one rendering at a time
	base atomic.Pointer[string]
}

// StatusDoc is one rendered answer: its bytes, a gzip copy when that is
// smaller, its type and its ETag.
type StatusDoc struct {
	ContentType string
	Body, Gzip  []byte
	ETag        string
}

// StatusPublic is one rendering of everything public.
type StatusPublic struct {
	// Enabled is status_page.enabled when this was rendered.
	Enabled bool
	// Built is when; Expires when the next request renders again.
	Built, Expires time.Time
	// LogoOrigin is the logo's origin for the CSP ("" without a logo).
	LogoOrigin string
	docs       map[string]*StatusDoc
	gen        uint64
}

// Doc returns the rendered answer for a key: "page", "incident/ID",
// "summary.json", "status.json", "components.json", "incidents.json",
// "incidents/unresolved.json", "scheduled-maintenances.json",
// "scheduled-maintenances/upcoming.json",
// "scheduled-maintenances/active.json", "feed.atom", "feed.rss",
// "badge/ID".
func (p *StatusPublic) Doc(key string) (*StatusDoc, bool) {
	d, ok := p.docs[key]
	return d, ok
}

// NewStatusPage parses the templates.
func NewStatusPage(opts StatusPageOptions) (*StatusPage, error) {
	if opts.Status == nil {
		return nil, errors.New("status page: no status source")
	}
	p := &StatusPage{opts: opts, log: opts.Logger, now: opts.Now}
	p.SetExternalURL(opts.ExternalURL)
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.opts.TTL <= 0 {
		p.opts.TTL = DefaultStatusTTL
	}
	sum := sha256.Sum256(statusCSS)
	p.cssHash = hex.EncodeToString(sum[:6])
	t, err := template.New("status").Funcs(template.FuncMap{
		"utc": func(t time.Time) string {
			if t.IsZero() {
				return "–"
			}
			return t.UTC().Format("Jan 2, 15:04 UTC")
		},
		"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"plural": plural,
	}).ParseFS(statusTemplateFS, "statustemplates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse status page templates: %w", err)
	}
	p.page = t
	return p, nil
}

// Stylesheet returns the page's CSS and a short hash of it for its URL.
func (p *StatusPage) Stylesheet() (css []byte, hash string) { return statusCSS, p.cssHash }

// StylesheetPath is where the page links its stylesheet.
func (p *StatusPage) StylesheetPath() string { return "/status/assets/style." + p.cssHash + ".css" }

// SetExternalURL changes the base of links, feed IDs and the page ID (a
// reload's commit), effective from the next rendering.
func (p *StatusPage) SetExternalURL(u string) {
	base := strings.TrimRight(u, "/")
	p.base.Store(&base)
	p.Invalidate()
}

// Invalidate makes the next request render afresh (after an override or
// a reload), without waiting for the TTL.
func (p *StatusPage) Invalidate() { p.gen.Add(1) }

// Public returns the current rendering, rendering anew when it is older
// than the TTL. While one request renders, the others get the previous
// rendering, so a slow store never queues the crowd; only the very first
// request waits. A failed rendering keeps the previous one in service for
// another TTL (and is logged).
func (p *StatusPage) Public(ctx context.Context) (*StatusPublic, error) {
	now := p.now()
	pub := p.cur.Load()
	if pub != nil && now.Before(pub.Expires) && pub.gen == p.gen.Load() {
		return pub, nil
	}
	if pub != nil {
		if !p.mu.TryLock() {
			return pub, nil
		}
	} else {
		p.mu.Lock()
	}
	defer p.mu.Unlock()
	if again := p.cur.Load(); again != pub && again != nil {
		return again, nil // rendered while we waited
	}
	gen := p.gen.Load()
	// The rendering serves every client: it must not fail because the one
	// that started it went away.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	next, err := p.build(bctx, now)
	if err != nil {
		p.log.Error("status page not rendered", "err", err)
		if pub == nil {
			return nil, err
		}
		kept := *pub
		kept.Expires = now.Add(p.opts.TTL)
		p.cur.Store(&kept)
		return &kept, nil
	}
	next.gen = gen
	p.cur.Store(next)
	return next, nil
}

// statusModel is everything one rendering shows, built once and written
// out as HTML, JSON, feeds and badges.
type statusModel struct {
	now        time.Time
	base       string // the external URL, without a trailing slash
	page       *statuspage.Page
	pageJSON   spPage
	status     spStatus
	components []spComponent
	states     []statuspage.ComponentState
	days       [][]statuspage.Day
	open, past []publicIncident
	maint      []spIncident
}

// publicIncident is an incident as the public sees it.
type publicIncident struct {
	sp       spIncident
	affected []string // component names
}

func (p *StatusPage) build(ctx context.Context, now time.Time) (*StatusPublic, error) {
	snap, err := p.opts.Status.Current(ctx)
	if err != nil {
		return nil, err
	}
	pg := snap.Page
	pub := &StatusPublic{Enabled: pg.Enabled, Built: now, Expires: now.Add(p.opts.TTL), LogoOrigin: pg.LogoOrigin, docs: map[string]*StatusDoc{}}
	if !pg.Enabled {
		return pub, nil
	}
	m := &statusModel{now: now, base: *p.base.Load(), page: pg, states: snap.Components}
	pid := pageID(m.base + "/status")
	m.pageJSON = spPage{ID: pid, Name: pg.Title, URL: m.base + "/status", TimeZone: "Etc/UTC"}
	updated := time.Time{}
	for _, cs := range snap.Components {
		days, err := p.opts.Status.History(ctx, cs.ID, pg.HistoryDays)
		if err != nil {
			return nil, err
		}
		if cs.Known && len(days) > 0 {
			days[len(days)-1] = days[len(days)-1].WithCurrent(cs.Status)
		}
		m.days = append(m.days, days)
		m.components = append(m.components, p.component(cs, days, pid, now))
		updated = latest(updated, m.components[len(m.components)-1].UpdatedAt)
	}
	if err := p.incidents(ctx, m, pid); err != nil {
		return nil, err
	}
	for _, w := range snap.Maintenance {
		m.maint = append(m.maint, p.maintenance(w, m, pid))
	}
	for _, in := range append(append([]publicIncident{}, m.open...), m.past...) {
		updated = latest(updated, in.sp.UpdatedAt)
	}
	for _, mt := range m.maint {
		updated = latest(updated, mt.UpdatedAt)
	}
	if updated.IsZero() {
		updated = now
	}
	m.pageJSON.UpdatedAt = msTime(updated)
	var impacts []string
	for _, in := range m.open {
		impacts = append(impacts, in.sp.Impact)
	}
	m.status = overallStatus(snap.Components, impacts)
	return pub, p.write(pub, m)
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// component is one component in Statuspage's shape: updated_at is when its
// current status began (from the history), created_at its first recorded
// day.
func (p *StatusPage) component(cs statuspage.ComponentState, days []statuspage.Day, pid string, now time.Time) spComponent {
	c := spComponent{ID: cs.ID, Name: cs.Name, Status: string(cs.Status), Position: cs.Position, Showcase: true, PageID: pid,
		CreatedAt: msTime(now), UpdatedAt: msTime(now)}
	if cs.Description != "" {
		d := cs.Description
		c.Description = &d
	}
	for _, d := range days {
		if first, ok := d.FirstRecorded(); ok {
			c.CreatedAt = first
			start := d.Date.Format(time.DateOnly)
			c.StartDate = &start
			break
		}
	}
	if since, ok := statuspage.Since(days, cs.Status); ok {
		c.UpdatedAt = msTime(since)
	}
	return c
}

// incidents reads the open and recent incidents and keeps those with a
// public update.
func (p *StatusPage) incidents(ctx context.Context, m *statusModel, pid string) error {
	if p.opts.Incidents == nil {
		return nil
	}
	open, err := p.opts.Incidents.List(ctx, incidents.ListQuery{Status: "open", Limit: incidents.MaxListLimit})
	if err != nil {
		return fmt.Errorf("list open incidents: %w", err)
	}
	for _, inc := range open {
		if inc.HasPublicUpdate() {
			m.open = append(m.open, p.incident(inc, m, pid))
		}
	}
	from := m.now.AddDate(0, 0, -m.page.HistoryDays)
	before := int64(0)
	for scanned := 0; scanned < statusPastScan && len(m.past) < statusPastShown; {
		page, err := p.opts.Incidents.List(ctx, incidents.ListQuery{Status: string(incidents.StatusResolved), From: from, Before: before, Limit: incidents.MaxListLimit})
		if err != nil {
			return fmt.Errorf("list resolved incidents: %w", err)
		}
		for _, inc := range page {
			if inc.HasPublicUpdate() && len(m.past) < statusPastShown {
				m.past = append(m.past, p.incident(inc, m, pid))
			}
		}
		scanned += len(page)
		if len(page) < incidents.MaxListLimit {
			break
		}
		before = page[len(page)-1].ID
	}
	return nil
}

// Statuspage's incident impacts, least first.
var impacts = []string{"none", "minor", "major", "critical"}

func impactRank(s string) int { return slices.Index(impacts, s) }

// incident is inc as the public may see it: a name made from the
// components it affects, its status in Statuspage's words, and its public
// updates only. Its title, summary, labels, alerts, timeline, notes,
// responders and the authors of updates stay inside.
func (p *StatusPage) incident(inc *incidents.Incident, m *statusModel, pid string) publicIncident {
	id := strconv.FormatInt(inc.ID, 10)
	alertLabels := make([]model.Labels, 0, len(inc.Alerts))
	for _, a := range inc.Alerts {
		alertLabels = append(alertLabels, a.Labels)
	}
	impact := "none"
	switch inc.Severity {
	case "critical":
		impact = "major"
	case "warning":
		impact = "minor"
	}
	var comps []spComponent
	var names []string
	for i, cs := range m.states {
		if !cs.Concerns(inc.Labels, inc.SLONames, alertLabels) {
			continue
		}
		comps = append(comps, m.components[i])
		names = append(names, cs.Name)
		if inc.Status.Open() {
			worse := ""
			switch cs.Status {
			case statuspage.MajorOutage:
				worse = "critical"
			case statuspage.PartialOutage:
				worse = "major"
			case statuspage.DegradedPerformance:
				worse = "minor"
			}
			if impactRank(worse) > impactRank(impact) {
				impact = worse
			}
		}
	}
	if comps == nil {
		comps = []spComponent{}
	}
	monitoring := monitoringSince(inc)
	sp := spIncident{ID: id, Name: incidentName(impact, names), Status: incidentStatusAt(inc, monitoring, m.now),
		CreatedAt: msTime(inc.CreatedAt), StartedAt: msTime(inc.CreatedAt), ResolvedAt: msTimePtr(inc.ResolvedAt),
		Impact: impact, Shortlink: m.base + "/status/incidents/" + id, PageID: pid, Components: comps}
	if monitoring != nil && !monitoring.After(m.now) {
		sp.MonitoringAt = msTimePtr(monitoring)
	}
	updated := inc.CreatedAt
	var ups []spIncidentUpdate
	lastPublic := time.Time{}
	for _, u := range inc.Updates {
		if !u.Public {
			continue
		}
		at := msTime(u.At)
		// Numbered among the public ones only: a gap would tell that
		// private updates exist.
		ups = append(ups, spIncidentUpdate{ID: id + "-" + strconv.Itoa(len(ups)+1), Status: incidentStatusAt(inc, monitoring, u.At), Body: u.Text,
			IncidentID: id, CreatedAt: at, UpdatedAt: at, DisplayAt: at})
		updated, lastPublic = latest(updated, u.At), u.At
	}
	if inc.ResolvedAt != nil && lastPublic.Before(*inc.ResolvedAt) {
		at := msTime(*inc.ResolvedAt)
		ups = append(ups, spIncidentUpdate{ID: id + "-resolved", Status: "resolved", Body: "This incident has been resolved.",
			IncidentID: id, CreatedAt: at, UpdatedAt: at, DisplayAt: at})
		updated = latest(updated, *inc.ResolvedAt)
	}
	slices.Reverse(ups) // newest first, as Statuspage lists them
	sp.IncidentUpdates = ups
	sp.UpdatedAt = msTime(updated)
	return publicIncident{sp: sp, affected: names}
}

// monitoringSince is when every alert of an open incident had cleared
// (people are watching the fix), or nil.
func monitoringSince(inc *incidents.Incident) *time.Time {
	if len(inc.Alerts) == 0 {
		return nil
	}
	var last time.Time
	for _, a := range inc.Alerts {
		if a.EndsAt == nil {
			return nil
		}
		last = latest(last, *a.EndsAt)
	}
	return &last
}

// incidentStatusAt is the incident's status at t in Statuspage's words:
// resolved, monitoring (every alert cleared), identified (acknowledged)
// or investigating.
func incidentStatusAt(inc *incidents.Incident, monitoring *time.Time, t time.Time) string {
	switch {
	case inc.ResolvedAt != nil && !t.Before(*inc.ResolvedAt):
		return "resolved"
	case monitoring != nil && !t.Before(*monitoring):
		return "monitoring"
	case inc.AcknowledgedAt != nil && !t.Before(*inc.AcknowledgedAt):
		return "identified"
	}
	return "investigating"
}

// incidentName names an incident from its impact and the components it
// affects ("Partial outage of Checkout and Search").
func incidentName(impact string, components []string) string {
	word := map[string]string{"critical": "Major outage", "major": "Partial outage", "minor": "Degraded performance", "none": "Service disruption"}[impact]
	if len(components) == 0 {
		return word
	}
	return word + " of " + andList(components)
}

// andList joins names as people write them: "A", "A and B", "A, B and C".
func andList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// maintenance is a maintenance window as a Statuspage scheduled
// maintenance. Its ID is a digest of the window's own (which may name
// internal things), its name and text are made from the components.
func (p *StatusPage) maintenance(w statuspage.PlannedWindow, m *statusModel, pid string) spIncident {
	sum := sha256.Sum256([]byte("maintenance " + w.ID))
	id := "m" + hex.EncodeToString(sum[:6])
	var comps []spComponent
	var names []string
	for _, c := range w.Components {
		for i, cs := range m.states {
			if cs.ID == c.ID {
				comps = append(comps, m.components[i])
				names = append(names, c.Name)
			}
		}
	}
	status := "scheduled"
	body := fmt.Sprintf("%s will be under planned maintenance from %s to %s.", andList(names),
		w.Start.UTC().Format("Jan 2, 15:04"), w.End.UTC().Format("Jan 2, 15:04 UTC"))
	if w.InProgress {
		verb := "are"
		if len(names) == 1 {
			verb = "is"
		}
		status = "in_progress"
		body = fmt.Sprintf("%s %s under planned maintenance until %s.", andList(names), verb, w.End.UTC().Format("Jan 2, 15:04 UTC"))
	}
	start, end := msTime(w.Start), msTime(w.End)
	up := spIncidentUpdate{ID: id + "-1", Status: status, Body: body, IncidentID: id, CreatedAt: start, UpdatedAt: start, DisplayAt: start}
	return spIncident{ID: id, Name: "Planned maintenance of " + andList(names), Status: status, CreatedAt: start, UpdatedAt: start,
		Impact: "maintenance", Shortlink: m.base + "/status#maintenance", StartedAt: start, PageID: pid,
		IncidentUpdates: []spIncidentUpdate{up}, Components: comps, ScheduledFor: &start, ScheduledUntil: &end}
}

// overallStatus is the page's top line as Statuspage computes it: from the
// components (one component: its own words; several: a blend of how many
// share the worst status), raised to the impact of an unresolved incident
// when that is worse.
func overallStatus(states []statuspage.ComponentState, openImpacts []string) spStatus {
	worst, n := statuspage.Operational, 0
	for _, c := range states {
		if c.Status.Worse(worst) {
			worst, n = c.Status, 0
		}
		if c.Status == worst {
			n++
		}
	}
	all := n == len(states) && len(states) > 1
	var out spStatus
	switch worst {
	case statuspage.MajorOutage:
		out = spStatus{"critical", "Major System Outage"}
		if len(states) > 1 && !all {
			out.Description = "Partial System Outage"
		}
	case statuspage.PartialOutage:
		out = spStatus{"major", "Partial System Outage"}
		if len(states) > 1 && !all {
			out.Description = "Minor Service Outage"
		}
	case statuspage.DegradedPerformance:
		out = spStatus{"minor", "Partially Degraded Service"}
		if all {
			out.Description = "Degraded System Service"
		}
	case statuspage.UnderMaintenance:
		out = spStatus{"maintenance", "Service Under Maintenance"}
	default:
		out = spStatus{"none", "All Systems Operational"}
	}
	rank := impactRank(out.Indicator) // maintenance ranks -1, below none
	for _, im := range openImpacts {
		// As bad counts too: "Partial System Outage" (one component of
		// several down) must not sit above a public "major outage".
		if r := impactRank(im); r > 0 && r >= rank {
			rank = r
			out.Indicator = im
			out.Description = map[string]string{"minor": "Minor Service Outage", "major": "Partial System Outage", "critical": "Major System Outage"}[im]
		}
	}
	return out
}

// write renders every answer of the model into pub.
func (p *StatusPage) write(pub *StatusPublic, m *statusModel) error {
	put := func(key, ctype string, body []byte) {
		pub.docs[key] = newStatusDoc(ctype, body)
	}
	putJSON := func(key string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s: %w", key, err)
		}
		put(key, "application/json; charset=utf-8", append(b, '\n'))
		return nil
	}
	var unresolved, all []spIncident
	for _, in := range m.open {
		unresolved = append(unresolved, in.sp)
	}
	all = append(all, unresolved...)
	for _, in := range m.past {
		all = append(all, in.sp)
	}
	all = all[:min(len(all), statusPastShown)]
	var active, upcoming []spIncident
	for _, mt := range m.maint {
		if mt.Status == "in_progress" {
			active = append(active, mt)
		} else {
			upcoming = append(upcoming, mt)
		}
	}
	nz := func(s []spIncident) []spIncident {
		if s == nil {
			return []spIncident{}
		}
		return s
	}
	comps := m.components
	if comps == nil {
		comps = []spComponent{}
	}
	for _, d := range []struct {
		key string
		v   any
	}{
		{"summary.json", spSummary{Page: m.pageJSON, Status: m.status, Components: comps, Incidents: nz(unresolved), ScheduledMaintenances: nz(m.maint)}},
		{"status.json", spStatusDoc{Page: m.pageJSON, Status: m.status}},
		{"components.json", spComponentsDoc{Page: m.pageJSON, Components: comps}},
		{"incidents.json", spIncidentsDoc{Page: m.pageJSON, Incidents: nz(all)}},
		{"incidents/unresolved.json", spIncidentsDoc{Page: m.pageJSON, Incidents: nz(unresolved)}},
		{"scheduled-maintenances.json", spMaintenancesDoc{Page: m.pageJSON, ScheduledMaintenances: nz(m.maint)}},
		{"scheduled-maintenances/upcoming.json", spMaintenancesDoc{Page: m.pageJSON, ScheduledMaintenances: nz(upcoming)}},
		{"scheduled-maintenances/active.json", spMaintenancesDoc{Page: m.pageJSON, ScheduledMaintenances: nz(active)}},
	} {
		if err := putJSON(d.key, d.v); err != nil {
			return err
		}
	}
	view := p.view(m)
	var buf bytes.Buffer
	if err := p.page.ExecuteTemplate(&buf, "page", view); err != nil {
		return fmt.Errorf("render status page: %w", err)
	}
	put("page", "text/html; charset=utf-8", bytes.Clone(buf.Bytes()))
	for _, in := range append(append([]statusIncidentView{}, view.Active...), view.Past...) {
		buf.Reset()
		if err := p.page.ExecuteTemplate(&buf, "incident", statusIncidentPage{Page: view, Incident: in}); err != nil {
			return fmt.Errorf("render status incident %s: %w", in.ID, err)
		}
		put("incident/"+in.ID, "text/html; charset=utf-8", bytes.Clone(buf.Bytes()))
	}
	feed := feedEntries(m, all)
	atom, err := atomFeed(m, feed)
	if err != nil {
		return err
	}
	put("feed.atom", "application/atom+xml; charset=utf-8", atom)
	rss, err := rssFeed(m, feed)
	if err != nil {
		return err
	}
	put("feed.rss", "application/rss+xml; charset=utf-8", rss)
	for _, c := range m.components {
		put("badge/"+c.ID, "image/svg+xml", badge(c.Name, statuspage.Status(c.Status)))
	}
	return nil
}

// newStatusDoc wraps a body with its ETag and, when it saves bytes, a
// gzip copy (compressed once per rendering, not per request).
func newStatusDoc(ctype string, body []byte) *StatusDoc {
	sum := sha256.Sum256(body)
	d := &StatusDoc{ContentType: ctype, Body: body, ETag: `"` + hex.EncodeToString(sum[:10]) + `"`}
	if len(body) >= 1024 {
		var gz bytes.Buffer
		w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = w.Write(body)
		if w.Close() == nil && gz.Len() < len(body) {
			d.Gzip = gz.Bytes()
		}
	}
	return d
}
