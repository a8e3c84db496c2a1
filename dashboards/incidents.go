package dashboards

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
)

// ErrInvalid marks a page request with a bad parameter (an unknown status
// filter); web answers it with a 400 page naming the parameter.
var ErrInvalid = errors.New("invalid request")

// IncidentsPageSize is how many incidents one page of the list shows.
const IncidentsPageSize = 25

// incidentFilters are the status filters the list offers, in order.
var incidentFilters = []string{"", "open", "triggered", "acknowledged", "resolved"}

type incidentRow struct {
	ID       int64
	Title    string
	Status   string
	Severity string
	Service  string
	Created  time.Time
	Lasted   string
}

type filterLink struct {
	Value, Label string
	Current      bool
}

type incidentsData struct {
	Configured bool
	Status     string
	Filters    []filterLink
	Rows       []incidentRow
	Before     int64
	Next       int64
}

// Incidents renders the incident list, newest first, filtered by status
// ("", open, triggered, acknowledged, resolved) and paged by the ID cursor
// before (0 for the newest).
func (d *Dashboards) Incidents(ctx context.Context, w io.Writer, v Viewer, status string, before int64) error {
	if !slices.Contains(incidentFilters, status) {
		return fmt.Errorf("%w: status must be one of open, triggered, acknowledged or resolved", ErrInvalid)
	}
	if before < 0 {
		return fmt.Errorf("%w: before must be a positive incident number", ErrInvalid)
	}
	data := incidentsData{Status: status, Before: before}
	for _, f := range incidentFilters {
		label := "All"
		if f != "" {
			label = title(f)
		}
		data.Filters = append(data.Filters, filterLink{Value: f, Label: label, Current: f == status})
	}
	if d.opts.Incidents != nil {
		data.Configured = true
		list, err := d.opts.Incidents.List(ctx, incidents.ListQuery{Status: status, Before: before, Limit: IncidentsPageSize + 1})
		if err != nil {
			return fmt.Errorf("list incidents: %w", err)
		}
		if len(list) > IncidentsPageSize {
			list = list[:IncidentsPageSize]
			data.Next = list[len(list)-1].ID
		}
		now := d.now()
		for _, inc := range list {
			data.Rows = append(data.Rows, incidentRow{
				ID: inc.ID, Title: inc.Title, Status: string(inc.Status), Severity: string(inc.Severity),
				Service: inc.Labels["service"], Created: inc.CreatedAt, Lasted: lasted(inc, now),
			})
		}
	}
	return d.render(w, "incidents", page{Title: "Incidents", Nav: "incidents", Viewer: v, Data: data})
}

func title(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// lasted says how long an incident was (or has been) open.
func lasted(inc *incidents.Incident, now time.Time) string {
	if inc.ResolvedAt != nil {
		return model.Elapsed(inc.ResolvedAt.Sub(inc.CreatedAt))
	}
	return human(now.Sub(inc.CreatedAt)) + " so far"
}

type labelPair struct{ Key, Value string }

type impact struct {
	Name     string
	Consumed float64
	// CountedFrom and CountedTo are the whole minutes Consumed counts.
	CountedFrom, CountedTo time.Time
}

type incidentData struct {
	Inc      *incidents.Incident
	ID       string
	Labels   []labelPair
	Lasted   string
	MTTA     string
	MTTR     string
	SLOs     []impact
	Timeline []incidents.TimelineEntry
	// Changes are the changes to its services before it started.
	Changes []incidents.RecentChange
	// Updates are the stakeholder updates, newest first.
	Updates    []incidents.Update
	CanAck     bool
	CanResolve bool
	CanEsc     bool
	Open       bool
	// PM is the postmortem's state; nil when postmortems are not configured.
	PM *pmSummary
	// Runbook is true when the incident's runbook is in the catalogue.
	Runbook bool
}

// recentChanges is implemented by incident sources that know the changes
// before an incident (the incident service once change markers are wired).
type recentChanges interface {
	RecentChanges(ctx context.Context, inc *incidents.Incident) []incidents.RecentChange
}

// Incident renders one incident: status, facts, the actions a responder
// may take, the SLOs it burns, its alerts, its timeline, its runbook, and
// its postmortem's state with a link to the editor. flash is a message
// about the action just taken ("" for none).
func (d *Dashboards) Incident(ctx context.Context, w io.Writer, v Viewer, id int64, flash string) error {
	if d.opts.Incidents == nil {
		return fmt.Errorf("incident %d: %w", id, ErrNotFound)
	}
	inc, err := d.opts.Incidents.Get(ctx, id)
	if err != nil {
		if incidents.IsNotFound(err) {
			return fmt.Errorf("incident #%d: %w", id, ErrNotFound)
		}
		return err
	}
	data := incidentData{Inc: inc, ID: strconv.FormatInt(inc.ID, 10), Lasted: lasted(inc, d.now()), MTTA: "–", MTTR: "–"}
	keys := make([]string, 0, len(inc.Labels))
	for k := range inc.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		data.Labels = append(data.Labels, labelPair{k, inc.Labels[k]})
	}
	if x, ok := inc.MTTA(); ok {
		data.MTTA = model.Elapsed(x)
	}
	if x, ok := inc.MTTR(); ok {
		data.MTTR = model.Elapsed(x)
	}
	for _, s := range d.opts.Incidents.SLOImpact(ctx, inc) {
		data.SLOs = append(data.SLOs, impact{s.Name, s.BudgetConsumed, s.CountedFrom, s.CountedTo})
	}
	// Newest first reads best during an incident.
	data.Timeline = slices.Clone(inc.Timeline)
	slices.Reverse(data.Timeline)
	if rc, ok := d.opts.Incidents.(recentChanges); ok {
		data.Changes = rc.RecentChanges(ctx, inc)
	}
	data.Updates = slices.Clone(inc.Updates)
	slices.Reverse(data.Updates)
	data.Open = inc.Status.Open()
	data.CanAck = v.CanRespond() && inc.Status == incidents.StatusTriggered
	data.CanResolve = v.CanRespond() && data.Open
	data.CanEsc = v.CanRespond() && data.Open
	data.PM = d.postmortemSummary(ctx, inc)
	if inc.Runbook != "" && d.opts.Runbooks != nil {
		_, err := d.opts.Runbooks.Get(inc.Runbook)
		data.Runbook = err == nil
	}
	return d.render(w, "incident", page{Title: "#" + data.ID + " " + inc.Title, Nav: "incidents", Viewer: v, Flash: flash, Data: data})
}
