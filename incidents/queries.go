package incidents

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

// MaxListLimit caps List's page size.
const MaxListLimit = 500

// Get returns one incident.
func (s *Service) Get(ctx context.Context, id int64) (*Incident, error) {
	var inc *Incident
	err := s.store.View(ctx, func(tx ReadTx) error {
		var err error
		inc, err = tx.Get(id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("incident #%d: %w", id, err)
	}
	return inc, nil
}

// List returns incidents newest first; q.Limit is clamped to 1..MaxListLimit.
func (s *Service) List(ctx context.Context, q ListQuery) ([]*Incident, error) {
	switch q.Status {
	case "", "open", string(StatusTriggered), string(StatusAcknowledged), string(StatusResolved):
	default:
		return nil, errorf(ErrInvalid, "unknown status %q (want open, triggered, acknowledged or resolved)", q.Status)
	}
	q.Limit = min(max(q.Limit, 1), MaxListLimit)
	var out []*Incident
	err := s.store.View(ctx, func(tx ReadTx) error {
		var err error
		out, err = tx.List(q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return out, nil
}

// SLOImpact returns the SLOs inc burns with the budget consumed between
// its start and its resolution (or now), and each budget now. Errors from
// the budget source leave that SLO out and are logged.
func (s *Service) SLOImpact(ctx context.Context, inc *Incident) []SLOImpact {
	return s.sloImpact(ctx, inc, true)
}

// SLOConsumption is SLOImpact without each budget now: only what the
// incident itself consumed, which is all a list of incidents shows (the
// budget now is the SLO's, the same on every row).
func (s *Service) SLOConsumption(ctx context.Context, inc *Incident) []SLOImpact {
	return s.sloImpact(ctx, inc, false)
}

func (s *Service) sloImpact(ctx context.Context, inc *Incident, withStatus bool) []SLOImpact {
	s.mu.RLock()
	b := s.budgets
	s.mu.RUnlock()
	out := []SLOImpact{}
	if b == nil {
		return out
	}
	names := inc.SLONames
	if len(names) == 0 {
		names = b.SLOsForLabels(inc.Labels)
	}
	end := s.now()
	if inc.ResolvedAt != nil {
		end = *inc.ResolvedAt
	}
	status, _ := b.(BudgetStatusSource)
	if !withStatus {
		status = nil
	}
	for _, n := range names {
		c, err := b.Consumed(ctx, n, inc.CreatedAt, end)
		if err != nil {
			s.log.Warn("budget consumed", "slo", n, "incident", inc.ID, "err", err)
			continue
		}
		im := SLOImpact{Name: n, BudgetConsumed: c.Share, CountedFrom: c.CountedFrom.UTC(), CountedTo: c.CountedTo.UTC()}
		if status != nil {
			if st, err := status.BudgetStatus(ctx, n); err == nil {
				left := st.Remaining
				im.Objective, im.Window, im.BudgetRemaining = st.Objective, st.Window.Seconds(), &left
				im.BudgetProjected = st.Projected
				if st.TimeToExhaustion != nil {
					secs := st.TimeToExhaustion.Seconds()
					im.TimeToExhaustion = &secs
				}
			}
		}
		out = append(out, im)
	}
	return out
}

// Stats aggregates incidents created in a time range.
type Stats struct {
	From       time.Time      `json:"from"`
	To         time.Time      `json:"to"`
	Count      int            `json:"count"`
	BySeverity map[string]int `json:"by_severity"`
	// MTTA and MTTR are means in seconds over the incidents acknowledged
	// (resolved) in the range; nil when there are none.
	MTTA         *float64 `json:"mtta_seconds"`
	MTTR         *float64 `json:"mttr_seconds"`
	Acknowledged int      `json:"acknowledged"`
	Resolved     int      `json:"resolved"`
}

// statsScan bounds how many incidents Stats reads.
const statsScan = 100000

// Stats returns counts, MTTA and MTTR for incidents created in [from, to).
func (s *Service) Stats(ctx context.Context, from, to time.Time) (Stats, error) {
	if !to.After(from) {
		return Stats{}, errorf(ErrInvalid, "to must be after from")
	}
	st := Stats{From: from, To: to, BySeverity: map[string]int{}}
	var ackSum, resSum float64
	err := s.store.View(ctx, func(tx ReadTx) error {
		list, err := tx.List(ListQuery{From: from, To: to, Limit: statsScan})
		if err != nil {
			return err
		}
		for _, inc := range list {
			st.Count++
			st.BySeverity[string(inc.Severity)]++
			if d, ok := inc.MTTA(); ok {
				st.Acknowledged++
				ackSum += d.Seconds()
			}
			if d, ok := inc.MTTR(); ok {
				st.Resolved++
				resSum += d.Seconds()
			}
		}
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("incident stats: %w", err)
	}
	if st.Acknowledged > 0 {
		v := ackSum / float64(st.Acknowledged)
		st.MTTA = &v
	}
	if st.Resolved > 0 {
		v := resSum / float64(st.Resolved)
		st.MTTR = &v
	}
	return st, nil
}

// ScheduleOnCall is one schedule in GET /api/v1/oncall.
type ScheduleOnCall struct {
	Name   string        `json:"name"`
	OnCall *oncall.Shift `json:"on_call"`
	Next   *oncall.Shift `json:"next"`
}

// OnCall says who is on call now and next for every schedule.
func (s *Service) OnCall(ctx context.Context) ([]ScheduleOnCall, error) {
	now := s.now()
	var ovs []oncall.Override
	if err := s.store.View(ctx, func(tx ReadTx) error {
		var err error
		ovs, err = s.overrides(tx, now)
		return err
	}); err != nil {
		return nil, fmt.Errorf("on-call overrides: %w", err)
	}
	out := []ScheduleOnCall{}
	for _, sc := range s.onCall().Schedules() {
		cur, next := sc.Current(now, ovs)
		item := ScheduleOnCall{Name: sc.Name}
		if cur.User != "" {
			item.OnCall = &cur
		}
		if next.User != "" {
			item.Next = &next
		}
		out = append(out, item)
	}
	return out, nil
}

// Overrides returns the on-call overrides that end after t: the file's and
// the stored ones (added through the API), in that order.
func (s *Service) Overrides(ctx context.Context, t time.Time) ([]oncall.Override, error) {
	var out []oncall.Override
	for _, ov := range s.onCall().ConfigOverrides() {
		if ov.End.After(t) {
			out = append(out, ov)
		}
	}
	err := s.store.View(ctx, func(tx ReadTx) error {
		stored, err := tx.Overrides(t)
		out = append(out, stored...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read on-call overrides: %w", err)
	}
	return out, nil
}

// UpcomingOverrides returns the overrides in force now or planned.
func (s *Service) UpcomingOverrides(ctx context.Context) ([]oncall.Override, error) {
	return s.Overrides(ctx, s.now())
}

// AddOverride stores an override after checking its schedule, person and
// times; one that has already ended is refused.
func (s *Service) AddOverride(ctx context.Context, o oncall.Override, actor string) (oncall.Override, error) {
	o, err := s.onCall().CheckOverride(o)
	if err != nil {
		return o, errorf(ErrInvalid, "%v", err)
	}
	if !o.End.After(s.now()) {
		return o, errorf(ErrInvalid, "the override ends in the past (%s)", o.End.Format(time.RFC3339))
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	o.ID = hex.EncodeToString(b[:])
	o.CreatedBy = actorOr(actor)
	if err := s.update(ctx, func(tx Tx) error { return tx.PutOverride(o) }); err != nil {
		return o, fmt.Errorf("store override: %w", err)
	}
	s.log.Info("on-call override added", "schedule", o.Schedule, "user", o.User, "start", o.Start, "end", o.End, "actor", actor)
	return o, nil
}

// RemoveOverride deletes an override added through the API or a page
// (the file's own, "config-N", change only with the file) and returns it.
func (s *Service) RemoveOverride(ctx context.Context, id, actor string) (oncall.Override, error) {
	for _, ov := range s.onCall().ConfigOverrides() {
		if ov.ID == id {
			return ov, errorf(ErrInvalid, "override %s comes from the config file (oncall.overrides); remove it there and reload", id)
		}
	}
	var (
		o     oncall.Override
		found bool
	)
	err := s.update(ctx, func(tx Tx) error {
		var err error
		o, found, err = tx.DeleteOverride(id)
		return err
	})
	if err != nil {
		return o, fmt.Errorf("remove override: %w", err)
	}
	if !found {
		return o, missingf("no override %q", model.Clip(id, 40))
	}
	s.log.Info("on-call override removed", "schedule", o.Schedule, "user", o.User, "start", o.Start, "end", o.End, "actor", actor)
	return o, nil
}

// metrics are the service's Prometheus series.
type metrics struct {
	opened     *prometheus.CounterVec
	steps      prometheus.Counter
	deliveries *prometheus.CounterVec
	latency    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		opened: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_incidents_opened_total", Help: "Incidents opened, by severity.",
		}, []string{"severity"}),
		steps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sentinel_escalation_steps_total", Help: "Escalation steps fired.",
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_pager_deliveries_total", Help: "Outbox delivery attempts by pager and result (delivered, retry, failed, reconciled; reclaimed: an expired claim taken over; lease_expired: a claim that ran out before the call, not sent).",
		}, []string{"pager", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sentinel_pager_delivery_latency_seconds", Help: "Time from a notification entering the outbox to its delivery.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 5, 30, 120, 600},
		}, []string{"pager"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.opened, m.steps, m.deliveries, m.latency} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("incidents metrics: %w", err)
			}
		}
	}
	return m, nil
}

// HandOff is a schedule's latest shift change: Shift.User took over from
// From (empty when nobody was on call before) at Shift.Since.
type HandOff struct {
	Schedule string
	Location *time.Location
	From     string
	Shift    oncall.Shift
}

// HandOffs returns, for every schedule with someone on call now, the shift
// in force and who held the one before it.
func (s *Service) HandOffs(ctx context.Context) ([]HandOff, error) {
	now := s.now()
	var ovs []oncall.Override
	if err := s.store.View(ctx, func(tx ReadTx) error {
		var err error
		ovs, err = s.overrides(tx, now.Add(-time.Hour))
		return err
	}); err != nil {
		return nil, fmt.Errorf("on-call overrides: %w", err)
	}
	var out []HandOff
	for _, sc := range s.onCall().Schedules() {
		cur, _ := sc.Current(now, ovs)
		if cur.User == "" || cur.Since.IsZero() {
			continue
		}
		out = append(out, HandOff{Schedule: sc.Name, Location: sc.Location, Shift: cur, From: sc.Who(cur.Since.Add(-time.Nanosecond), ovs)})
	}
	return out, nil
}
