package alerting

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// maxValuesPerMinute caps the vital samples kept per rule and minute; past
// it, reservoir sampling keeps a uniform sample, so p75 stays honest and
// memory bounded.
const maxValuesPerMinute = 1000

// RUMMinute is one writer's figure of one RUM rule for one minute: the JS
// errors counted, or a sample of the vital's values with the number of
// values it stands for. Replicas sharing a store each keep their own and
// the evaluating replica adds them up.
type RUMMinute struct {
	Rule   string    `json:"rule"`
	Minute time.Time `json:"minute"`
	Writer string    `json:"writer"`
	Errors float64   `json:"errors,omitempty"`
	// Values is a uniform sample (at most 1,000) of Seen values.
	Values []float64 `json:"values,omitempty"`
	Seen   int       `json:"seen,omitempty"`
}

// RUMMinuteStore keeps the RUM rules' per-minute figures of every writer
// (one per replica), so that the replica evaluating the rules counts the
// beacons every replica received. Each row is its writer's whole figure
// of that rule and minute, so a save that is retried never counts twice.
type RUMMinuteStore interface {
	// SaveRUMMinutes replaces writer's rows of the rules and minutes given.
	SaveRUMMinutes(ctx context.Context, writer string, rows []RUMMinute) error
	// RUMMinutes returns the rows of minutes in [from, to), of writer
	// only, or of every writer but writer when except is true.
	RUMMinutes(ctx context.Context, from, to time.Time, writer string, except bool) ([]RUMMinute, error)
	// PruneRUMMinutes deletes the rows of minutes before before.
	PruneRUMMinutes(ctx context.Context, before time.Time) error
}

// rumWindows keeps, per RUM rule, per-minute JS error counts or vital
// samples over the rule's window. It has its own lock: outcomes arrive on
// the hot beacon path and must not wait for an evaluation. With a shared
// store it also holds the other writers' figures read at the last
// evaluation, and which of its own minutes changed since the last save.
type rumWindows struct {
	// n is len(rules), read without the lock so outcomes skip it when no
	// RUM rule is configured.
	n       atomic.Int32
	mu      sync.Mutex
	rules   []*Rule
	series  map[string]map[int64]*rumMinute // rule name -> minute -> data
	others  map[string]map[int64][]*rumMinute
	dirty   map[string]map[int64]bool
	rng     *rand.Rand
	started time.Time
	// shared is set when the figures are saved for other replicas: only
	// then are changed minutes tracked (and kept until saved).
	shared bool
	// loaded is set once this writer's stored minutes were read back, so
	// that a restart under the same writer never overwrites them.
	loaded bool
}

type rumMinute struct {
	errors float64
	values []float64
	seen   int
}

func newRUMWindows(rules []*Rule, started time.Time) *rumWindows {
	w := &rumWindows{series: map[string]map[int64]*rumMinute{}, others: map[string]map[int64][]*rumMinute{},
		dirty: map[string]map[int64]bool{}, rng: rand.New(rand.NewPCG(1, 2)), started: started}
	for _, r := range rules {
		if r.Kind == KindRUM {
			w.rules = append(w.rules, r)
			w.series[r.Name] = map[int64]*rumMinute{}
			w.dirty[r.Name] = map[int64]bool{}
		}
	}
	w.n.Store(int32(len(w.rules)))
	return w
}

func (r *Rule) wantsOutcome(o model.Outcome) bool {
	if r.Route != "" && o.Labels["route"] != r.Route {
		return false
	}
	if r.RUMMeasure == "js_errors_per_minute" {
		return o.Name == "js_error"
	}
	return o.Name == r.RUMMeasure && o.HasValue
}

// add records one RUM outcome for every rule that watches it.
func (w *rumWindows) add(o model.Outcome) {
	if w.n.Load() == 0 || o.Source != model.SourceRUM {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	minute := o.Time.Unix() / 60
	for _, r := range w.rules {
		if !r.wantsOutcome(o) {
			continue
		}
		s := w.series[r.Name]
		m := s[minute]
		if m == nil {
			m = &rumMinute{}
			s[minute] = m
		}
		if w.shared {
			w.dirty[r.Name][minute] = true
		}
		if r.RUMMeasure == "js_errors_per_minute" {
			m.errors += float64(o.Total)
			continue
		}
		m.seen++
		if len(m.values) < maxValuesPerMinute {
			m.values = append(m.values, o.Value)
		} else if j := w.rng.IntN(m.seen); j < maxValuesPerMinute {
			m.values[j] = o.Value
		}
	}
}

// longestWindow is the longest window of the RUM rules.
func (w *rumWindows) longestWindow() time.Duration {
	var d time.Duration
	for _, r := range w.rules {
		d = max(d, r.Window)
	}
	return d
}

// measure returns the rule's measure over its window ending at now, and
// whether it is known: JS errors per minute are known once Sentinel has
// run for a whole window, or as soon as they already exceed the threshold
// (more data can only add errors); a vital's p75 needs samples in the
// window. Other writers' figures (a shared store) count as this one's.
func (w *rumWindows) measure(r *Rule, now time.Time) (float64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.series[r.Name]
	from := now.Add(-r.Window).Unix() / 60
	to := now.Unix() / 60
	for minute := range s {
		if minute <= from-1 && !w.dirty[r.Name][minute] {
			delete(s, minute)
		}
	}
	var minutes []*rumMinute
	for minute := from + 1; minute <= to; minute++ {
		if m := s[minute]; m != nil {
			minutes = append(minutes, m)
		}
		minutes = append(minutes, w.others[r.Name][minute]...)
	}
	if r.RUMMeasure == "js_errors_per_minute" {
		var sum float64
		for _, m := range minutes {
			sum += m.errors
		}
		v := sum / r.Window.Minutes()
		if now.Sub(w.started) < r.Window {
			return v, v > r.Above
		}
		return v, true
	}
	var vals []weighted
	for _, m := range minutes {
		if len(m.values) == 0 {
			continue
		}
		wt := float64(m.seen) / float64(len(m.values))
		for _, v := range m.values {
			vals = append(vals, weighted{v, wt})
		}
	}
	if len(vals) == 0 {
		return 0, false
	}
	return p75(vals), true
}

// weighted is a sampled value and how many values it stands for.
type weighted struct{ v, w float64 }

// p75 is the 75th percentile by nearest rank, each value counting as many
// times as its weight: the smallest value at or below which at least 75 %
// of the weight lies. With weights of one it is the classic nearest rank.
func p75(vals []weighted) float64 {
	sort.Slice(vals, func(i, j int) bool { return vals[i].v < vals[j].v })
	var total float64
	for _, x := range vals {
		total += x.w
	}
	var cum float64
	for _, x := range vals {
		cum += x.w
		if cum*100 >= total*75 {
			return x.v
		}
	}
	return vals[len(vals)-1].v
}

// takeDirty returns this writer's minutes changed since the last save.
func (w *rumWindows) takeDirty(writer string) []RUMMinute {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []RUMMinute
	for _, r := range w.rules {
		for minute := range w.dirty[r.Name] {
			m := w.series[r.Name][minute]
			delete(w.dirty[r.Name], minute)
			if m == nil {
				continue
			}
			out = append(out, RUMMinute{Rule: r.Name, Minute: time.Unix(minute*60, 0).UTC(), Writer: writer,
				Errors: m.errors, Values: slices.Clone(m.values), Seen: m.seen})
		}
	}
	return out
}

// trim forgets saved minutes older than every rule's window: a replica
// that never evaluates (another holds the lock) never measures, which
// trims otherwise.
func (w *rumWindows) trim(now time.Time) {
	cut := now.Add(-w.longestWindow()-2*time.Minute).Unix() / 60
	w.mu.Lock()
	defer w.mu.Unlock()
	for name, s := range w.series {
		for minute := range s {
			if minute < cut && !w.dirty[name][minute] {
				delete(s, minute)
			}
		}
	}
}

// markDirty marks rows again after a failed save.
func (w *rumWindows) markDirty(rows []RUMMinute) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, row := range rows {
		if d := w.dirty[row.Rule]; d != nil {
			d[row.Minute.Unix()/60] = true
		}
	}
}

// load adds this writer's stored rows (of a previous run under the same
// writer) to what was counted since the start.
func (w *rumWindows) load(rows []RUMMinute) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, row := range rows {
		s := w.series[row.Rule]
		if s == nil {
			continue // a rule no longer configured
		}
		minute := row.Minute.Unix() / 60
		m := s[minute]
		if m == nil {
			m = &rumMinute{}
			s[minute] = m
		}
		m.errors += row.Errors
		m.seen += row.Seen
		for _, v := range row.Values {
			if len(m.values) < maxValuesPerMinute {
				m.values = append(m.values, v)
			} else if j := w.rng.IntN(m.seen); j < maxValuesPerMinute {
				m.values[j] = v
			}
		}
		w.dirty[row.Rule][minute] = true
	}
	w.loaded = true
}

// setOthers replaces the other writers' figures.
func (w *rumWindows) setOthers(rows []RUMMinute) {
	others := map[string]map[int64][]*rumMinute{}
	for _, row := range rows {
		byMinute := others[row.Rule]
		if byMinute == nil {
			byMinute = map[int64][]*rumMinute{}
			others[row.Rule] = byMinute
		}
		minute := row.Minute.Unix() / 60
		byMinute[minute] = append(byMinute[minute], &rumMinute{errors: row.Errors, values: row.Values, seen: row.Seen})
	}
	w.mu.Lock()
	w.others = others
	w.mu.Unlock()
}

// Keeping the RUM rules' figures in a shared store (RUMMinuteStore).

// rumSaveInterval is how often a replica saves its RUM rule figures; the
// evaluating replica sees another's beacons at most this much later.
const rumSaveInterval = time.Second

// rumLoad reads this writer's stored figures back once, before its first
// save.
func (s *Service) rumLoad(ctx context.Context, now time.Time) error {
	s.rum.mu.Lock()
	loaded := s.rum.loaded
	s.rum.mu.Unlock()
	if loaded {
		return nil
	}
	rows, err := s.rumRows(ctx, now, false)
	if err != nil {
		return fmt.Errorf("load RUM rule figures: %w", err)
	}
	s.rum.load(rows)
	return nil
}

// rumRows reads the stored figures of the longest window ending at now:
// this writer's, or (others) every other writer's.
func (s *Service) rumRows(ctx context.Context, now time.Time, others bool) ([]RUMMinute, error) {
	from := now.Add(-s.rum.longestWindow() - time.Minute).Truncate(time.Minute)
	return s.rumStore.RUMMinutes(ctx, from, now.Add(time.Hour), s.writer, others)
}

// SaveRUMFigures saves this replica's RUM rule figures for the others, as
// Run does every second with a shared store; without one it does nothing.
func (s *Service) SaveRUMFigures(ctx context.Context) error {
	if s.rumStore == nil {
		return nil
	}
	return s.rumSave(ctx)
}

// rumSave saves this writer's changed minutes.
func (s *Service) rumSave(ctx context.Context) error {
	if err := s.rumLoad(ctx, s.now()); err != nil {
		return err
	}
	rows := s.rum.takeDirty(s.writer)
	if len(rows) == 0 {
		return nil
	}
	if err := s.rumStore.SaveRUMMinutes(ctx, s.writer, rows); err != nil {
		s.rum.markDirty(rows)
		return fmt.Errorf("save RUM rule figures: %w", err)
	}
	s.rum.trim(s.now())
	return nil
}

// rumRefresh reads the other writers' figures of the longest window, for
// the evaluation that follows.
func (s *Service) rumRefresh(ctx context.Context, now time.Time) error {
	if s.rum.n.Load() == 0 {
		return nil
	}
	rows, err := s.rumRows(ctx, now, true)
	if err != nil {
		return fmt.Errorf("read other replicas' RUM rule figures: %w", err)
	}
	s.rum.setOthers(rows)
	return nil
}

// rumLoop saves this writer's figures every second and prunes old ones
// hourly, until ctx ends; then it saves once more.
func (s *Service) rumLoop(ctx context.Context) {
	t := time.NewTicker(rumSaveInterval)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if err := s.rumSave(fctx); err != nil {
				s.log.Warn("final save of RUM rule figures failed; the last second of beacons is not counted by other replicas", "err", err)
			}
			cancel()
			return
		case <-t.C:
		}
		if err := s.rumSave(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("RUM rule figures not saved; retrying", "err", err)
		}
		if now := s.now(); now.Sub(lastPrune) > time.Hour {
			lastPrune = now
			if err := s.rumStore.PruneRUMMinutes(ctx, now.Add(-s.rum.longestWindow()-10*time.Minute)); err != nil && ctx.Err() == nil {
				s.log.Warn("prune RUM rule figures", "err", err)
			}
		}
	}
}
