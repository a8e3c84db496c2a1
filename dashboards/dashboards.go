package dashboards

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/changes"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/incidents/postmortem"
	"github.com/sentinel-oss/sentinel/probes"
	"github.com/sentinel-oss/sentinel/rum"
	"github.com/sentinel-oss/sentinel/runbooks"
	"github.com/sentinel-oss/sentinel/slo"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

// zoneJS sets the time-zone cookie to the browser's zone (unless the
// viewer chose one) and reloads once when it changed, so pages are drawn
// in the viewer's zone without any inline script.
//
//go:embed static/tz.js
var zoneJS []byte

// ErrNotFound is returned by a page for something that does not exist (an
// unknown SLO, probe or incident); web answers it with a 404 page.
var ErrNotFound = errors.New("not found")

// SLOSource is what the SLO pages read from the slo engine.
type SLOSource interface {
	Statuses(ctx context.Context) []slo.Status
	Status(ctx context.Context, name string) (slo.Status, error)
	History(ctx context.Context, name string) ([]slo.HistoryPoint, error)
	BurnDown(ctx context.Context, name string) (slo.Budget, []slo.BurnPoint, error)
	Month(ctx context.Context, name string, year int, month time.Month) (slo.MonthSummary, error)
	MonthSpent(ctx context.Context, m slo.MonthSummary, from, to time.Time) (share float64, ok bool, err error)
}

// IncidentSource is what the incident pages read from the incident service.
type IncidentSource interface {
	List(ctx context.Context, q incidents.ListQuery) ([]*incidents.Incident, error)
	Get(ctx context.Context, id int64) (*incidents.Incident, error)
	SLOImpact(ctx context.Context, inc *incidents.Incident) []incidents.SLOImpact
}

// OnCallSource answers the on-call page: the compiled schedules, the
// escalation policies and their routes, and the overrides (from the file
// and stored) that end after a time.
type OnCallSource interface {
	Schedules() []*oncall.Schedule
	// Policies and Routes show which escalation policy pages whom.
	Policies() []*oncall.Policy
	Routes() []oncall.Route
	Overrides(ctx context.Context, after time.Time) ([]oncall.Override, error)
}

// ProbeSource is what the probe pages read from the probes service.
type ProbeSource interface {
	List(ctx context.Context) ([]probes.Status, error)
	Results(ctx context.Context, name string, limit int, before string) ([]probes.Result, error)
}

// RUMSource is what the RUM page reads from the RUM service.
type RUMSource interface {
	Vitals(ctx context.Context, from, to time.Time) (rum.VitalsReport, error)
	Errors(ctx context.Context, since time.Time, limit int) (rum.ErrorsReport, error)
}

// RunbookSource lists the runbook catalogue and finds one runbook by name
// (runbooks.ErrNotFound when there is none).
type RunbookSource interface {
	List() []runbooks.Runbook
	Get(name string) (runbooks.Runbook, error)
}

// PostmortemSource reads an incident's postmortem with its impact figures
// as they are now (the postmortem service drafts it on the way when the
// incident resolved and its severity requires one).
type PostmortemSource interface {
	Get(ctx context.Context, id int64) (*postmortem.Postmortem, error)
}

// AlertSource is what the alerts page reads from alerting: the pending and
// firing alerts, and the silences kept.
type AlertSource interface {
	Alerts(ctx context.Context) ([]alerting.ActiveAlert, error)
	Silences(ctx context.Context) ([]alerting.Silence, error)
}

// ChangeSource lists change markers; the changes package's *Service
// implements it.
type ChangeSource interface {
	List(ctx context.Context, q changes.Query) ([]changes.Change, error)
}

// MaintenanceSource lists maintenance windows for the alerts page: those
// kept (one-off ones and occurrences of recurring ones) and the recurring
// ones configured, with their next occurrence.
type MaintenanceSource interface {
	MaintenanceWindows(ctx context.Context) ([]alerting.Silence, error)
	RecurringMaintenanceAt(now time.Time, horizon time.Duration) []alerting.RecurringMaintenance
}

// Options are what New needs. Every source may be nil: its pages then say
// that the part is not configured instead of failing.
type Options struct {
	SLOs      SLOSource
	Incidents IncidentSource
	OnCall    OnCallSource
	Probes    ProbeSource
	RUM       RUMSource
	Runbooks  RunbookSource
	// Postmortems backs the postmortem page and the incident page's
	// postmortem section.
	Postmortems PostmortemSource
	// Alerts backs the alerts and silences page.
	Alerts AlertSource
	// Maintenance adds maintenance windows to the alerts page.
	Maintenance MaintenanceSource
	// Reports backs the incident report page.
	Reports ReportSource
	// Changes marks the changes to an SLO's service on its charts.
	Changes ChangeSource
	Logger  *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location renders times; nil means UTC.
	Location *time.Location
}

// Viewer is the signed-in person a page is rendered for: the token's name,
// its role (responders and admins get action buttons) and the session's
// CSRF token, which every form carries in a hidden field.
type Viewer struct {
	Name string
	Role config.Role
	CSRF string
	// Zone is the viewer's time zone (nil: the dashboards' default, UTC);
	// ZoneAuto is true when it is the browser's, not one chosen.
	Zone     *time.Location
	ZoneAuto bool
}

// CanRespond reports whether the viewer may act on incidents.
func (v Viewer) CanRespond() bool {
	return v.Role == config.RoleResponder || v.Role == config.RoleAdmin
}

// Dashboards renders the pages. It is safe for concurrent use.
type Dashboards struct {
	opts Options
	log  *slog.Logger
	now  func() time.Time
	loc  *time.Location
	// pages holds the parsed templates per time zone (their time helpers
	// are bound to it); zoneMu guards it.
	zoneMu   sync.Mutex
	pages    map[string]map[string]*template.Template
	zones    map[string]*time.Location
	cssHash  string
	cssBytes []byte
	jsHash   string
	// md renders runbooks and the sections of postmortems (sanitised:
	// no raw HTML, no script URLs).
	md *runbooks.Renderer
}

// pageNames are the templates under templates/, one per page, each
// defining "content" for the shared layout.
var pageNames = []string{"slos", "slo", "incidents", "incident", "postmortem", "alerts", "probes", "probe", "rum", "oncall", "runbooks", "runbook", "login", "error",
	"report_slos", "report_incidents", "settings", "audit"}

// New parses the embedded templates.
func New(opts Options) (*Dashboards, error) {
	d := &Dashboards{opts: opts, log: opts.Logger, now: opts.Now, loc: opts.Location, pages: map[string]map[string]*template.Template{},
		zones: map[string]*time.Location{}, md: runbooks.NewRenderer()}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.loc == nil {
		d.loc = time.UTC
	}
	sum := sha256.Sum256(styleCSS)
	d.cssHash = hex.EncodeToString(sum[:6])
	d.cssBytes = styleCSS
	jsSum := sha256.Sum256(zoneJS)
	d.jsHash = hex.EncodeToString(jsSum[:6])
	if _, err := d.pagesIn(d.loc); err != nil {
		return nil, err
	}
	return d, nil
}

// maxZones bounds the template sets kept, one per time zone in use.
const maxZones = 64

// pagesIn returns the pages with their time helpers in loc, parsing them
// the first time loc is used.
func (d *Dashboards) pagesIn(loc *time.Location) (map[string]*template.Template, error) {
	d.zoneMu.Lock()
	defer d.zoneMu.Unlock()
	if p, ok := d.pages[loc.String()]; ok {
		return p, nil
	}
	base, err := template.New("layout.html").Funcs(d.funcs(loc)).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	set := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFS, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		set[name] = t
	}
	if len(d.pages) >= maxZones {
		clear(d.pages)
	}
	d.pages[loc.String()] = set
	return set, nil
}

// Zone returns the time zone named name (an IANA name such as
// Europe/Berlin), loading it once; ok is false for a name that is not one.
func (d *Dashboards) Zone(name string) (*time.Location, bool) {
	if name == "" || len(name) > 64 || !zoneNameRE.MatchString(name) {
		return nil, false
	}
	d.zoneMu.Lock()
	loc, ok := d.zones[name]
	d.zoneMu.Unlock()
	if ok {
		return loc, loc != nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
	}
	d.zoneMu.Lock()
	if len(d.zones) >= 4*maxZones {
		clear(d.zones)
	}
	d.zones[name] = loc
	d.zoneMu.Unlock()
	return loc, loc != nil
}

// zoneNameRE is the shape of an IANA zone name (Area/Location, UTC, Etc/GMT+1).
var zoneNameRE = regexp.MustCompile(`^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+\-]+){0,2})$`)

// ZoneScript returns the time-zone script and the path pages load it from.
func (d *Dashboards) ZoneScript() (js []byte, path string) {
	return zoneJS, "/ui/tz." + d.jsHash + ".js"
}

// zoneOf is the zone a page is drawn in for v.
func (d *Dashboards) zoneOf(v Viewer) *time.Location {
	if v.Zone != nil {
		return v.Zone
	}
	return d.loc
}

// Stylesheet returns the CSS and a short hash of it, which the pages put in
// the stylesheet's URL so it can be cached for good.
func (d *Dashboards) Stylesheet() (css []byte, hash string) { return d.cssBytes, d.cssHash }

// StylesheetPath is where pages link the stylesheet; web serves it there.
func (d *Dashboards) StylesheetPath() string { return "/ui/style." + d.cssHash + ".css" }

// page is what the layout needs besides the page's own data.
type page struct {
	Title   string
	Nav     string
	Viewer  Viewer
	CSS     string
	JS      string
	Zone    string
	Now     time.Time
	Flash   string
	Data    any
	NoChrom bool // login page: no navigation
}

// render executes a page into a buffer first, so a template error never
// leaves half a page behind.
func (d *Dashboards) render(w io.Writer, name string, p page) error {
	loc := d.zoneOf(p.Viewer)
	set, err := d.pagesIn(loc)
	if err != nil {
		return err
	}
	t, ok := set[name]
	if !ok {
		return fmt.Errorf("no page %q", name)
	}
	p.CSS = d.StylesheetPath()
	_, p.JS = d.ZoneScript()
	p.Zone = loc.String()
	if p.Now.IsZero() {
		p.Now = d.now()
	}
	var buf bytes.Buffer
	buf.Grow(32 << 10)
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// templateNames lists the embedded templates (for tests).
func templateNames() ([]string, error) {
	return fs.Glob(templateFS, "templates/*.html")
}
