package postmortem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
)

// IncidentSource is what the service needs from the incident service.
type IncidentSource interface {
	Get(ctx context.Context, id int64) (*incidents.Incident, error)
	List(ctx context.Context, q incidents.ListQuery) ([]*incidents.Incident, error)
	// AddNote appends to an incident's timeline (status changes).
	AddNote(ctx context.Context, id int64, kind, actor, text string) (*incidents.Incident, error)
	// Remind sends a reminder through the pagers.
	Remind(ctx context.Context, key string, a model.Announcement, people []string) error
}

// Options are what NewService needs.
type Options struct {
	Config    config.Postmortems
	Store     Store
	Incidents IncidentSource
	Sources   Sources
	// ExternalURL is the base of the links Link returns.
	ExternalURL string
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service drafts, serves and updates postmortems, reminds people of
// unfinished ones and builds incident reports. It is safe for concurrent
// use.
type Service struct {
	set     atomic.Pointer[settings] // what a reload changes (Prepare)
	store   Store
	inc     IncidentSource
	src     Sources
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
}

// NewService builds the service; it starts nothing (see Run).
func NewService(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Incidents == nil {
		return nil, errors.New("postmortems: a store and the incident service are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Service{
		store: opts.Store, inc: opts.Incidents, src: opts.Sources,
		log: opts.Logger.With("component", "postmortems"), now: opts.Now, metrics: m,
	}
	s.Prepare(opts.Config, opts.ExternalURL)()
	return s, nil
}

// settings are the postmortems: section and the external URL in force.
type settings struct {
	cfg config.Postmortems
	url string
}

// Prepare returns the commit that applies a reloaded postmortems: section
// (checked with its Validate) and external URL: new drafts, reminders and
// links follow it; postmortems already drafted keep their content.
func (s *Service) Prepare(cfg config.Postmortems, externalURL string) (commit func()) {
	st := &settings{cfg: cfg, url: strings.TrimRight(externalURL, "/")}
	return func() { s.set.Store(st) }
}

// Required reports whether incidents of sev get a draft when they resolve.
func (s *Service) Required(sev model.Severity) bool {
	return slices.Contains(s.set.Load().cfg.RequiredFor, sev)
}

// IncidentResolved drafts the postmortem of a resolved incident whose
// severity requires one (the incident service's ResolveHook). An incident
// that reopened and resolved again keeps its postmortem, which now counts
// from the new resolution.
func (s *Service) IncidentResolved(ctx context.Context, inc *incidents.Incident) {
	if inc.Status != incidents.StatusResolved || inc.ResolvedAt == nil {
		return
	}
	if s.Required(inc.Severity) {
		created, err := s.ensureDraft(ctx, inc)
		if err != nil {
			s.log.Error("draft postmortem", "incident", inc.ID, "err", err)
			return
		}
		if created {
			return
		}
	}
	if err := s.resolvedAgain(ctx, inc); err != nil {
		s.log.Error("postmortem of an incident resolved again", "incident", inc.ID, "err", err)
	}
}

// resolvedAgain moves an unpublished postmortem's resolution to the
// incident's latest one, so the draft reminder counts from it afresh; a
// published postmortem keeps the figures it was published with.
func (s *Service) resolvedAgain(ctx context.Context, inc *incidents.Incident) error {
	err := s.store.Update(ctx, inc.ID, func(pm *Postmortem) (*Postmortem, error) {
		if pm.Status == StatusPublished || (pm.ResolvedAt != nil && pm.ResolvedAt.Equal(*inc.ResolvedAt)) {
			return pm, nil
		}
		at := *inc.ResolvedAt
		pm.ResolvedAt = &at
		delete(pm.Reminded, reminderKeyDraft)
		return pm, nil
	})
	if IsNotFound(err) {
		return nil // no postmortem: nothing to move
	}
	return err
}

// ensureDraft stores a draft for inc unless it has a postmortem already.
func (s *Service) ensureDraft(ctx context.Context, inc *incidents.Incident) (bool, error) {
	pm := Draft(inc, s.now())
	created, err := s.store.Create(ctx, pm)
	if err != nil {
		return false, fmt.Errorf("postmortem #%d: %w", inc.ID, err)
	}
	if created {
		s.metrics.drafted.Inc()
		s.log.Info("postmortem drafted", "incident", inc.ID, "severity", string(inc.Severity))
	}
	return created, nil
}

// Get returns the incident's postmortem with its impact, timeline and
// response times as they are now (frozen once published). A resolved
// incident whose severity requires a postmortem gets its draft here if
// the resolve hook missed it; other incidents have none until someone
// saves one with Put.
func (s *Service) Get(ctx context.Context, id int64) (*Postmortem, error) {
	inc, err := s.inc.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	pm, err := s.store.Get(ctx, id)
	if IsNotFound(err) {
		switch {
		case inc.Status != incidents.StatusResolved:
			return nil, errorf(ErrNotFound, "incident #%d is %s; its postmortem is drafted when it resolves", id, inc.Status)
		case !s.Required(inc.Severity):
			return nil, errorf(ErrNotFound, "incident #%d (%s) has no postmortem; a PUT starts one", id, inc.Severity)
		}
		if _, err := s.ensureDraft(ctx, inc); err != nil {
			return nil, err
		}
		pm, err = s.store.Get(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	if pm.Status != StatusPublished {
		Derive(ctx, pm, inc, s.src, s.now())
	}
	noteIncident(pm, inc)
	return pm, nil
}

// Put applies a person's edit (see Apply for the status rules). The
// incident must be resolved; its postmortem is started if it has none. A
// status change is noted in the incident's timeline with its author.
func (s *Service) Put(ctx context.Context, id int64, e Edit, actor string) (*Postmortem, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	inc, err := s.inc.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	created := false
	if inc.Status != incidents.StatusResolved {
		// An incident reopened after its postmortem was started keeps it
		// editable, but its review waits for the incident to resolve again:
		// its impact, timeline and times are not final yet.
		cur, err := s.store.Get(ctx, id)
		if IsNotFound(err) {
			return nil, errorf(ErrConflict, "incident #%d is %s; resolve it before writing its postmortem", id, inc.Status)
		}
		if err != nil {
			return nil, fmt.Errorf("postmortem #%d: %w", id, err)
		}
		if e.Status != nil && *e.Status != cur.Status && *e.Status != StatusDraft {
			return nil, errorf(ErrConflict, "incident #%d was reopened and is %s again; its postmortem can go to %s once it resolves",
				id, inc.Status, strings.ReplaceAll(string(*e.Status), "_", " "))
		}
	} else if created, err = s.ensureDraft(ctx, inc); err != nil {
		return nil, err
	}
	if created && e.Empty() {
		// An empty PUT starts a postmortem the incident had none of.
		return s.Get(ctx, id)
	}
	// Figures frozen at publication are computed before the write, so the
	// store transaction does no outside I/O.
	var frozen *Postmortem
	if e.Status != nil && *e.Status == StatusPublished {
		frozen = &Postmortem{}
		Derive(ctx, frozen, inc, s.src, s.now())
	}
	var before Status
	var out *Postmortem
	err = s.store.Update(ctx, id, func(cur *Postmortem) (*Postmortem, error) {
		before = cur.Status
		next, err := Apply(cur, e, actor, s.now())
		if err != nil {
			return nil, err
		}
		if frozen != nil && before != StatusPublished {
			next.Title, next.Severity, next.ResolvedAt = frozen.Title, frozen.Severity, frozen.ResolvedAt
			next.Impact, next.Timeline, next.Times = frozen.Impact, frozen.Timeline, frozen.Times
		}
		out = next
		return next, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postmortem #%d: %w", id, err)
	}
	if out.Status != before {
		text := fmt.Sprintf("postmortem moved from %s to %s by %s", before, out.Status, orSomeone(actor))
		if _, err := s.inc.AddNote(ctx, id, incidents.KindPostmortem, actor, text); err != nil {
			s.log.Warn("note postmortem status in the timeline", "incident", id, "err", err)
		}
		s.log.Info("postmortem status changed", "incident", id, "from", string(before), "to", string(out.Status), "actor", actor)
	}
	if out.Status != StatusPublished {
		fresh, err := s.inc.Get(ctx, id)
		if err == nil {
			inc = fresh
		}
		Derive(ctx, out, inc, s.src, s.now())
	}
	noteIncident(out, inc)
	return out, nil
}

// Markdown returns the postmortem as a Markdown document.
func (s *Service) Markdown(ctx context.Context, id int64) ([]byte, error) {
	pm, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return Markdown(pm), nil
}

// Link is what a chat command shows about a postmortem.
type Link struct {
	IncidentID int64  `json:"incident_id"`
	Title      string `json:"title"`
	Status     Status `json:"status"`
	// URL is the postmortem's page in the UI; APIURL its JSON and
	// MarkdownURL its Markdown export.
	URL         string `json:"url"`
	APIURL      string `json:"api_url"`
	MarkdownURL string `json:"markdown_url"`
	// OpenActionItems counts the action items not done.
	OpenActionItems int `json:"open_action_items"`
}

// Link returns the postmortem's status and links (drafting it as Get
// does), for `/sentinel postmortem <id>` in Slack.
func (s *Service) Link(ctx context.Context, id int64) (Link, error) {
	pm, err := s.Get(ctx, id)
	if err != nil {
		return Link{}, err
	}
	base := s.set.Load().url
	l := Link{
		IncidentID: id, Title: pm.Title, Status: pm.Status,
		URL:         fmt.Sprintf("%s/incidents/%d/postmortem", base, id),
		APIURL:      fmt.Sprintf("%s/api/v1/incidents/%d/postmortem", base, id),
		MarkdownURL: fmt.Sprintf("%s/api/v1/incidents/%d/postmortem.md", base, id),
	}
	for _, a := range pm.ActionItems {
		if !a.Finished() {
			l.OpenActionItems++
		}
	}
	return l, nil
}

// reportScan bounds the incidents one report reads.
const reportScan = 20000

// Report builds the incident report for [from, to).
func (s *Service) Report(ctx context.Context, from, to time.Time) (Report, error) {
	if !to.After(from) {
		return Report{}, errorf(ErrInvalid, "to must be after from")
	}
	var all []*incidents.Incident
	q := incidents.ListQuery{From: from, To: to, Limit: incidents.MaxListLimit}
	for len(all) < reportScan {
		page, err := s.inc.List(ctx, q)
		if err != nil {
			return Report{}, fmt.Errorf("incident report: %w", err)
		}
		all = append(all, page...)
		if len(page) < q.Limit {
			break
		}
		q.Before = page[len(page)-1].ID
	}
	return BuildReport(ctx, all, from, to, s.src.SLOs, s.now()), nil
}

// Remind sends every reminder due now and records it; it returns how many
// it sent. A reminder whose delivery cannot be queued is tried again at
// the next pass.
func (s *Service) Remind(ctx context.Context) (int, error) {
	now := s.now()
	type due struct {
		id int64
		r  Reminder
	}
	var list []due
	err := s.store.Each(ctx, func(pm *Postmortem) bool {
		if pm.ResolvedAt == nil {
			return true
		}
		for _, r := range DueReminders(pm, *pm.ResolvedAt, s.set.Load().cfg, now) {
			list = append(list, due{pm.IncidentID, r})
		}
		return true
	})
	if err != nil {
		return 0, fmt.Errorf("postmortem reminders: %w", err)
	}
	list = slices.DeleteFunc(list, func(d due) bool { return d.r.Kind == ReminderDraft && s.openAgain(ctx, d.id) })
	sent := 0
	for _, d := range list {
		a := model.Announcement{
			Kind: d.r.Kind, Text: d.r.Text, Severity: model.SeverityInfo, At: d.r.At,
			Labels: model.Labels{"incident": strconv.FormatInt(d.id, 10)},
		}
		if link := s.set.Load().url; link != "" {
			a.Text += fmt.Sprintf(" %s/incidents/%d/postmortem", link, d.id)
		}
		key := fmt.Sprintf("postmortem/%d/%s", d.id, d.r.Key)
		if err := s.inc.Remind(ctx, key, a, d.r.People); err != nil {
			s.log.Error("send reminder", "incident", d.id, "reminder", d.r.Key, "err", err)
			continue
		}
		err := s.store.Update(ctx, d.id, func(pm *Postmortem) (*Postmortem, error) {
			if pm.Reminded == nil {
				pm.Reminded = map[string]time.Time{}
			}
			pm.Reminded[d.r.Key] = now
			return pm, nil
		})
		if err != nil {
			s.log.Error("record reminder", "incident", d.id, "reminder", d.r.Key, "err", err)
			continue
		}
		s.metrics.reminders.WithLabelValues(d.r.Kind).Inc()
		sent++
	}
	return sent, nil
}

// openAgain reports whether incident id is open (it reopened after its
// postmortem was drafted): a draft is not late while the incident runs.
func (s *Service) openAgain(ctx context.Context, id int64) bool {
	inc, err := s.inc.Get(ctx, id)
	if err != nil {
		s.log.Warn("incident of a postmortem reminder", "incident", id, "err", err)
		return false
	}
	return inc.Status.Open()
}

// catchUpScan bounds the resolved incidents looked at when starting.
const catchUpScan = 200

// CatchUp drafts the postmortems a crash between an incident resolving
// and its draft being stored left out, among the latest resolved
// incidents.
func (s *Service) CatchUp(ctx context.Context) error {
	list, err := s.inc.List(ctx, incidents.ListQuery{Status: string(incidents.StatusResolved), Limit: catchUpScan})
	if err != nil {
		return fmt.Errorf("postmortem catch-up: %w", err)
	}
	for _, inc := range list {
		if s.Required(inc.Severity) {
			if _, err := s.ensureDraft(ctx, inc); err != nil {
				return err
			}
		}
	}
	return nil
}

// Run catches up on missed drafts, then sends reminders every
// check_interval until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	if err := s.CatchUp(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("postmortem catch-up", "err", err)
	}
	for {
		if _, err := s.Remind(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("postmortem reminders", "err", err)
		}
		every := s.set.Load().cfg.CheckInterval.Std()
		if every <= 0 {
			every = config.DefaultReminderInterval
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

type metrics struct {
	drafted   prometheus.Counter
	reminders *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		drafted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sentinel_postmortems_drafted_total", Help: "Postmortems drafted when their incident resolved.",
		}),
		reminders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_postmortem_reminders_total", Help: "Reminders sent, by kind (postmortem_draft, action_item_overdue).",
		}, []string{"kind"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.drafted, m.reminders} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("postmortem metrics: %w", err)
			}
		}
	}
	return m, nil
}
