package alerting

import (
	"math/rand/v2"
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

// rumWindows keeps, per RUM rule, per-minute JS error counts or vital
// samples over the rule's window. It has its own lock: outcomes arrive on
// the hot beacon path and must not wait for an evaluation.
type rumWindows struct {
	// n is len(rules), read without the lock so outcomes skip it when no
	// RUM rule is configured.
	n       atomic.Int32
	mu      sync.Mutex
	rules   []*Rule
	series  map[string]map[int64]*rumMinute // rule name -> minute -> data
	rng     *rand.Rand
	started time.Time
}

type rumMinute struct {
	errors float64
	values []float64
	seen   int
}

func newRUMWindows(rules []*Rule, started time.Time) *rumWindows {
	w := &rumWindows{series: map[string]map[int64]*rumMinute{}, rng: rand.New(rand.NewPCG(1, 2)), started: started}
	for _, r := range rules {
		if r.Kind == KindRUM {
			w.rules = append(w.rules, r)
			w.series[r.Name] = map[int64]*rumMinute{}
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

// measure returns the rule's measure over its window ending at now, and
// whether it is known: JS errors per minute are known once Sentinel has
// run for a whole window; a vital's p75 needs samples in the window.
func (w *rumWindows) measure(r *Rule, now time.Time) (float64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.series[r.Name]
	from := now.Add(-r.Window).Unix() / 60
	to := now.Unix() / 60
	for minute := range s {
		if minute <= from-1 {
			delete(s, minute)
		}
	}
	if r.RUMMeasure == "js_errors_per_minute" {
		if now.Sub(w.started) < r.Window {
			return 0, false
		}
		var sum float64
		for minute, m := range s {
			if minute > from && minute <= to {
				sum += m.errors
			}
		}
		return sum / r.Window.Minutes(), true
	}
	var vals []float64
	for minute, m := range s {
		if minute > from && minute <= to {
			vals = append(vals, m.values...)
		}
	}
	if len(vals) == 0 {
		return 0, false
	}
	return p75(vals), true
}

// p75 is the 75th percentile by nearest rank.
func p75(vals []float64) float64 {
	sort.Float64s(vals)
	i := (len(vals)*75 + 99) / 100
	if i < 1 {
		i = 1
	}
	return vals[i-1]
}
