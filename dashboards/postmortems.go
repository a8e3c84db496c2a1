package dashboards

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/postmortem"
	"github.com/sentinel-oss/sentinel/model"
)

// PostmortemForm is the postmortem editor as a person submitted it. It is
// kept whole so that a refused save shows the page again with their text
// in place.
type PostmortemForm struct {
	// Version is the version the person loaded; a save against a newer
	// one is refused (409) instead of overwriting someone else's words.
	Version int
	// Status is the status a button asked for ("" keeps it).
	Status postmortem.Status
	// HasText is set when the written sections were in the form; the five
	// travel together (a published postmortem's form carries none).
	HasText             bool
	Summary             string
	RootCause           string
	ContributingFactors string
	WentWell            string
	Lessons             string
	// HasItems is set when the action items were in the form.
	HasItems bool
	Items    []ActionItemRow
}

// ActionItemRow is one row of the action item editor: an existing item
// (with its ID) or the blank row for a new one.
type ActionItemRow struct {
	ID, Title, Owner, Due, Status, Link string
	// Remove is ticked to delete the item.
	Remove bool
}

func (r ActionItemRow) blank() bool {
	return r.ID == "" && strings.TrimSpace(r.Title) == "" && strings.TrimSpace(r.Owner) == "" &&
		strings.TrimSpace(r.Due) == "" && strings.TrimSpace(r.Link) == ""
}

// maxFormItems bounds the action item rows one form may carry (the
// postmortem's limit plus the blank row, with room to spare).
const maxFormItems = postmortem.MaxActionItems + 5

// itemFields are the per-row fields of the action item editor; every row
// carries each of them once, so the lists line up.
var itemFields = []string{"ai_id", "ai_title", "ai_owner", "ai_due", "ai_status", "ai_link"}

// ParsePostmortemForm reads a submitted postmortem editor. Errors wrap
// ErrInvalid; they only happen to forms this package did not render (a
// missing version, rows that do not line up), as the content itself is
// checked by the postmortem service.
func ParsePostmortemForm(form url.Values) (PostmortemForm, error) {
	var f PostmortemForm
	v, err := strconv.Atoi(form.Get("version"))
	if err != nil || v < 0 {
		return f, fmt.Errorf("%w: the form does not say which version of the postmortem it edits; reload the page and edit again", ErrInvalid)
	}
	f.Version = v
	if st := form.Get("status"); st != "" {
		if !postmortem.Status(st).Valid() {
			return f, fmt.Errorf("%w: status %.40q: want draft, in_review or published", ErrInvalid, st)
		}
		f.Status = postmortem.Status(st)
	}
	if form.Has("root_cause") {
		f.HasText = true
		f.Summary = textarea(form.Get("summary"))
		f.RootCause = textarea(form.Get("root_cause"))
		f.ContributingFactors = textarea(form.Get("contributing_factors"))
		f.WentWell = textarea(form.Get("what_went_well"))
		f.Lessons = textarea(form.Get("lessons"))
	}
	if form.Has("ai_title") {
		f.HasItems = true
		n := len(form["ai_title"])
		if n > maxFormItems {
			return f, fmt.Errorf("%w: at most %d action items", ErrInvalid, postmortem.MaxActionItems)
		}
		for _, k := range itemFields {
			if len(form[k]) != n {
				return f, fmt.Errorf("%w: the action items in the form are incomplete (%s); reload the page and edit again", ErrInvalid, k)
			}
		}
		remove := map[int]bool{}
		for _, raw := range form["ai_remove"] {
			if i, err := strconv.Atoi(raw); err == nil {
				remove[i] = true
			}
		}
		for i := range n {
			f.Items = append(f.Items, ActionItemRow{
				ID: strings.TrimSpace(form["ai_id"][i]), Title: form["ai_title"][i], Owner: form["ai_owner"][i],
				Due: strings.TrimSpace(form["ai_due"][i]), Status: form["ai_status"][i], Link: strings.TrimSpace(form["ai_link"][i]),
				Remove: remove[i],
			})
		}
	}
	return f, nil
}

// textarea undoes the CRLF line ends browsers send for a textarea.
func textarea(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// Edit is the postmortem change the form asks for, and for each action
// item of the edit the form row it came from (blank and removed rows are
// left out), so an error about action_items[i] can point at its row.
func (f PostmortemForm) Edit() (postmortem.Edit, []int) {
	version := f.Version
	e := postmortem.Edit{Version: &version}
	if f.Status != "" {
		st := f.Status
		e.Status = &st
	}
	if f.HasText {
		s, rc, cf, ww, l := f.Summary, f.RootCause, f.ContributingFactors, f.WentWell, f.Lessons
		e.Summary, e.RootCause, e.ContributingFactors, e.WentWell, e.Lessons = &s, &rc, &cf, &ww, &l
	}
	var rows []int
	if f.HasItems {
		items := []postmortem.ActionItem{}
		for i, r := range f.Items {
			if r.Remove || r.blank() {
				continue
			}
			items = append(items, postmortem.ActionItem{ID: r.ID, Title: strings.TrimSpace(r.Title), Owner: strings.TrimSpace(r.Owner),
				Due: r.Due, Status: r.Status, Link: r.Link})
			rows = append(rows, i)
		}
		e.ActionItems = &items
	}
	return e, rows
}

// PostmortemState is what the postmortem page shows besides the stored
// postmortem: the message about the action just taken, or the form a
// person sent and why it was refused.
type PostmortemState struct {
	Flash string
	// Form and Err are a refused save: the person's input and the
	// postmortem service's error (invalid input or a conflict).
	Form *PostmortemForm
	Err  error
}

// sectionDefs are the sections people write, in the editor's order.
var sectionDefs = []struct{ id, label, hint string }{
	{"summary", "Summary", "What happened, in two or three sentences a manager can read."},
	{"root_cause", "Root cause", "Why it happened. Required before the postmortem goes to review."},
	{"contributing_factors", "Contributing factors", "What made it worse, longer or harder to find."},
	{"what_went_well", "What went well", "What helped: alerts, runbooks, people, tools."},
	{"lessons", "Lessons", "What the team takes away."},
}

type pmSection struct {
	ID, Label, Hint string
	Value           string
	HTML            template.HTML
	Invalid         bool
	Editable        bool
}

type pmItemRow struct {
	Row       int
	Legend    string
	Item      ActionItemRow
	New       bool
	Invalid   string // the field of this row the problem is about
	Overdue   bool
	StatusOpt []option
}

type option struct {
	Value, Label string
	Selected     bool
}

type pmButton struct {
	Status, Label string
	Primary       bool
}

type pmSLO struct {
	Name           string
	Consumed       float64
	Good, Total    int64
	BudgetConsumed string
	// Counted says what the SLO counted, with its unit ("13 of 18 runs failed").
	Counted string
	// CountedFrom and CountedTo are the whole minutes counted.
	CountedFrom, CountedTo time.Time
}

type postmortemData struct {
	ID  string
	Inc *incidents.Incident
	PM  *postmortem.Postmortem
	// None says why there is no postmortem (PM is nil).
	None     string
	CanStart bool
	// CanEdit: a responder may change the written sections (not once
	// published); CanItems: the action items (always).
	CanEdit   bool
	CanItems  bool
	Status    string
	Label     string
	Version   int
	Sections  []pmSection
	Items     []pmItemRow
	Buttons   []pmButton
	Problem   string
	Field     string
	Conflict  bool
	Unsaved   []pmSection
	Duration  string
	SLOs      []pmSLO
	Detect    string
	Ack       string
	Resolve   string
	Timeline  []incidents.TimelineEntry
	Published *time.Time
	// OpenAgain: the incident reopened after the postmortem was drafted
	// and is open now; PublishedFirst: it reopened after publication, so
	// the figures shown end at the earlier resolution.
	OpenAgain      bool
	PublishedFirst bool
}

// statusLabels name the postmortem statuses for people.
var statusLabels = map[postmortem.Status]string{
	postmortem.StatusDraft: "Draft", postmortem.StatusInReview: "In review", postmortem.StatusPublished: "Published",
}

// itemStatuses are the action item statuses in the editor's order.
var itemStatuses = []struct{ v, label string }{
	{postmortem.ItemOpen, "Open"}, {postmortem.ItemInProgress, "In progress"}, {postmortem.ItemDone, "Done"}, {postmortem.ItemWontDo, "Won't do"},
}

// Postmortem renders an incident's postmortem: the drafted facts (summary,
// impact with the budget each SLO lost, failed probe runs, real users'
// page views and JS errors, response times, timeline), the sections people
// write and the action items, editable by responders, with the buttons
// that move it through review; viewers read it. st carries a refused save
// to show again with its reason.
func (d *Dashboards) Postmortem(ctx context.Context, w io.Writer, v Viewer, id int64, st PostmortemState) error {
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
	data := postmortemData{ID: strconv.FormatInt(id, 10), Inc: inc}
	title := "Postmortem of #" + data.ID + " " + inc.Title
	if d.opts.Postmortems == nil {
		data.None = "Postmortems are not configured."
		return d.render(w, "postmortem", page{Title: title, Nav: "incidents", Viewer: v, Flash: st.Flash, Data: data})
	}
	pm, err := d.opts.Postmortems.Get(ctx, id)
	switch {
	case postmortem.IsNotFound(err) && inc.Status.Open():
		data.None = fmt.Sprintf("This incident is %s. Its postmortem is drafted when it resolves.", inc.Status)
	case postmortem.IsNotFound(err):
		data.None = fmt.Sprintf("This %s incident has no postmortem (drafts are made for the severities the configuration requires).", inc.Severity)
		data.CanStart = v.CanRespond()
	case err != nil:
		return fmt.Errorf("postmortem #%d: %w", id, err)
	default:
		d.fillPostmortem(&data, pm, v, st)
	}
	if st.Err != nil && data.Problem == "" {
		data.Problem = problemText(st.Err, nil)
	}
	return d.render(w, "postmortem", page{Title: title, Nav: "incidents", Viewer: v, Flash: st.Flash, Data: data})
}

func (d *Dashboards) fillPostmortem(data *postmortemData, pm *postmortem.Postmortem, v Viewer, st PostmortemState) {
	data.PM, data.Status, data.Label, data.Version = pm, string(pm.Status), statusLabels[pm.Status], pm.Version
	data.Published = pm.PublishedAt
	data.OpenAgain = pm.Reopened()
	data.PublishedFirst = pm.ReopenedAt != nil && pm.PublishedAt != nil && pm.PublishedAt.Before(*pm.ReopenedAt)
	data.CanItems = v.CanRespond()
	data.CanEdit = data.CanItems && pm.Status != postmortem.StatusPublished
	stored := formOf(pm)
	form := stored
	var rows []int
	if st.Form != nil {
		_, rows = st.Form.Edit()
		data.Conflict = errors.Is(st.Err, postmortem.ErrConflict) && st.Form.Version != pm.Version
		if data.Conflict {
			// Someone saved in between: show their version to edit, and
			// the person's own text beside it to copy back.
			data.Unsaved = sectionsOf(*st.Form, stored)
		} else {
			form = *st.Form
			if !form.HasText {
				form.HasText, form.Summary, form.RootCause, form.ContributingFactors, form.WentWell, form.Lessons =
					true, stored.Summary, stored.RootCause, stored.ContributingFactors, stored.WentWell, stored.Lessons
			}
			if !form.HasItems {
				form.Items = stored.Items
			}
			data.Version = form.Version
		}
	}
	if st.Err != nil {
		data.Problem = problemText(st.Err, rows)
		if !data.Conflict {
			data.Field = fieldOf(st.Err, rows)
		}
	}
	for _, s := range sectionDefs {
		val := form.section(s.id)
		sec := pmSection{ID: s.id, Label: s.label, Hint: s.hint, Value: val, Invalid: data.Field == s.id, Editable: data.CanEdit}
		if !data.CanEdit {
			sec.HTML = d.markdown(val)
		}
		data.Sections = append(data.Sections, sec)
	}
	now := d.now()
	items := form.Items
	if data.CanItems && !slices.ContainsFunc(items, ActionItemRow.blank) {
		items = append(append([]ActionItemRow(nil), items...), ActionItemRow{Status: postmortem.ItemOpen})
	}
	for i, it := range items {
		row := pmItemRow{Row: i, Item: it, New: it.ID == "", Legend: "Action item " + it.ID}
		if row.New {
			row.Legend = "New action item"
		}
		if prefix := fmt.Sprintf("ai-%d-", i); strings.HasPrefix(data.Field, prefix) {
			row.Invalid = strings.TrimPrefix(data.Field, prefix)
		}
		ai := postmortem.ActionItem{Due: it.Due, Status: it.Status}
		if due, ok := ai.DueAt(); ok && !ai.Finished() && now.After(due) {
			row.Overdue = true
		}
		for _, s := range itemStatuses {
			row.StatusOpt = append(row.StatusOpt, option{Value: s.v, Label: s.label, Selected: s.v == it.Status || (it.Status == "" && s.v == postmortem.ItemOpen)})
		}
		data.Items = append(data.Items, row)
	}
	switch {
	case !data.CanItems:
	case data.OpenAgain && pm.Status == postmortem.StatusDraft:
		// Review waits for the incident to resolve again.
		data.Buttons = []pmButton{{Label: "Save", Primary: true}}
	case data.OpenAgain && pm.Status == postmortem.StatusInReview:
		data.Buttons = []pmButton{{Label: "Save", Primary: true}, {Status: string(postmortem.StatusDraft), Label: "Back to draft"}}
	case pm.Status == postmortem.StatusDraft:
		data.Buttons = []pmButton{{Label: "Save"}, {Status: string(postmortem.StatusInReview), Label: "Save and submit for review", Primary: true}}
	case pm.Status == postmortem.StatusInReview:
		data.Buttons = []pmButton{{Label: "Save"}, {Status: string(postmortem.StatusPublished), Label: "Save and publish", Primary: true},
			{Status: string(postmortem.StatusDraft), Label: "Back to draft"}}
	default:
		data.Buttons = []pmButton{{Label: "Save action items", Primary: true}}
	}

	im := pm.Impact
	data.Duration = model.Elapsed(time.Duration(im.Duration * float64(time.Second)))
	for _, s := range im.SLOs {
		data.SLOs = append(data.SLOs, pmSLO{Name: s.Name, Consumed: s.BudgetConsumed, Good: s.Good, Total: s.Total, Counted: s.Counted(),
			CountedFrom: s.CountedFrom, CountedTo: s.CountedTo})
	}
	opt := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return model.Elapsed(time.Duration(*p * float64(time.Second)))
	}
	data.Detect, data.Ack, data.Resolve = opt(pm.Times.Detect), opt(pm.Times.Acknowledge), opt(pm.Times.Resolve)
	if pm.Impact.Ongoing {
		data.Duration += " so far"
		if pm.Times.Resolve == nil {
			data.Resolve = "not yet: the incident is open"
		}
	}
	data.Timeline = pm.Timeline
}

// formOf is the editor filled from a stored postmortem.
func formOf(pm *postmortem.Postmortem) PostmortemForm {
	f := PostmortemForm{Version: pm.Version, HasText: true, HasItems: true, Summary: pm.Summary, RootCause: pm.RootCause,
		ContributingFactors: pm.ContributingFactors, WentWell: pm.WentWell, Lessons: pm.Lessons}
	for _, a := range pm.ActionItems {
		f.Items = append(f.Items, ActionItemRow{ID: a.ID, Title: a.Title, Owner: a.Owner, Due: a.Due, Status: a.Status, Link: a.Link})
	}
	return f
}

func (f PostmortemForm) section(id string) string {
	switch id {
	case "summary":
		return f.Summary
	case "root_cause":
		return f.RootCause
	case "contributing_factors":
		return f.ContributingFactors
	case "what_went_well":
		return f.WentWell
	case "lessons":
		return f.Lessons
	}
	return ""
}

// sectionsOf lists the sections of mine that differ from theirs.
func sectionsOf(mine, theirs PostmortemForm) []pmSection {
	if !mine.HasText {
		return nil
	}
	var out []pmSection
	for _, s := range sectionDefs {
		if v := mine.section(s.id); v != theirs.section(s.id) {
			out = append(out, pmSection{ID: "unsaved-" + s.id, Label: s.label, Value: v})
		}
	}
	return out
}

// markdown renders a section people wrote, sanitised like runbooks.
func (d *Dashboards) markdown(s string) template.HTML {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	out, err := d.md.Render(s)
	if err != nil {
		return template.HTML("<p>" + template.HTMLEscapeString(s) + "</p>") //nolint:gosec // escaped
	}
	return template.HTML(out) //nolint:gosec // goldmark without raw HTML or unsafe links
}

var (
	itemFieldRE    = regexp.MustCompile(`action_items\[(\d+)\](?:\.(title|owner|due|status|link|id))?`)
	sectionFieldRE = regexp.MustCompile(`\b(summary|root_cause|contributing_factors|what_went_well|lessons)\b`)
	itemLabels     = map[string]string{"title": "title", "owner": "owner", "due": "due date", "status": "status", "link": "link", "id": "ID"}
)

// fieldOf finds the form field an error from the postmortem service is
// about: a section's id, or ai-ROW-FIELD for an action item.
func fieldOf(err error, rows []int) string {
	msg := err.Error()
	if m := itemFieldRE.FindStringSubmatch(msg); m != nil {
		i, _ := strconv.Atoi(m[1])
		field := m[2]
		if field == "" || field == "id" {
			field = "title"
		}
		if i < len(rows) {
			return fmt.Sprintf("ai-%d-%s", rows[i], field)
		}
		return ""
	}
	if m := sectionFieldRE.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

// problemText words an error from the postmortem service for the page:
// its kind's prefix dropped, field names as the form labels them.
func problemText(err error, rows []int) string {
	msg := err.Error()
	for _, p := range []string{postmortem.ErrInvalid.Error() + ": ", postmortem.ErrConflict.Error() + ": ", postmortem.ErrNotFound.Error() + ": "} {
		if i := strings.Index(msg, p); i >= 0 {
			msg = msg[i+len(p):]
		}
	}
	msg = itemFieldRE.ReplaceAllStringFunc(msg, func(s string) string {
		m := itemFieldRE.FindStringSubmatch(s)
		i, _ := strconv.Atoi(m[1])
		row := i + 1
		if i < len(rows) {
			row = rows[i] + 1
		}
		out := fmt.Sprintf("action item %d", row)
		if m[2] != "" {
			out += ", " + itemLabels[m[2]] + ","
		}
		return out
	})
	msg = strings.ReplaceAll(msg, "in_review", "review")
	for _, s := range sectionDefs {
		msg = strings.ReplaceAll(msg, s.id, s.label)
	}
	msg = strings.ReplaceAll(msg, ",:", ":")
	return capitalFirst(msg)
}

func capitalFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// PostmortemMarkdown is the postmortem as the Markdown export the API
// serves, for the page's download link.
func (d *Dashboards) PostmortemMarkdown(ctx context.Context, id int64) ([]byte, error) {
	if d.opts.Postmortems == nil {
		return nil, fmt.Errorf("postmortem #%d: postmortems are not configured: %w", id, ErrNotFound)
	}
	pm, err := d.opts.Postmortems.Get(ctx, id)
	if err != nil {
		if postmortem.IsNotFound(err) || incidents.IsNotFound(err) {
			return nil, fmt.Errorf("incident #%d has no postmortem: %w", id, ErrNotFound)
		}
		return nil, err
	}
	return postmortem.Markdown(pm), nil
}

// pmSummary is what the incident page says about the postmortem.
type pmSummary struct {
	Status    string
	Label     string
	UpdatedBy string
	UpdatedAt time.Time
	Items     int
	OpenItems int
	// None says why there is none (Status is empty).
	None string
}

// postmortemSummary reads the incident's postmortem for its page; a
// failure is logged and said in words rather than failing the page.
func (d *Dashboards) postmortemSummary(ctx context.Context, inc *incidents.Incident) *pmSummary {
	if d.opts.Postmortems == nil {
		return nil
	}
	if inc.Status.Open() {
		return &pmSummary{None: "Drafted from this incident's timeline and impact when it resolves."}
	}
	pm, err := d.opts.Postmortems.Get(ctx, inc.ID)
	switch {
	case postmortem.IsNotFound(err):
		return &pmSummary{None: "No postmortem yet; a responder can start one."}
	case err != nil:
		d.log.Error("read postmortem for the incident page", "incident", inc.ID, "err", err)
		return &pmSummary{None: "The postmortem could not be read just now."}
	}
	s := &pmSummary{Status: string(pm.Status), Label: statusLabels[pm.Status], UpdatedBy: pm.UpdatedBy, UpdatedAt: pm.UpdatedAt, Items: len(pm.ActionItems)}
	for _, a := range pm.ActionItems {
		if !a.Finished() {
			s.OpenItems++
		}
	}
	return s
}
