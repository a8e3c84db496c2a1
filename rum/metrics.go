package rum

import (
	"math"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Prometheus bucket bounds per vital (vitalNames order), chosen so the web
// vitals' good and poor thresholds are bucket bounds (le="2.5" for LCP).
var promBuckets = [numVitals][]float64{
	{0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 20, 30},           // lcp
	{0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2, 5},          // inp
	{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 1}, // cls
	{0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.8, 2.5, 3, 4, 5, 7.5, 10},   // fcp
	{0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.4, 1.8, 2.5, 3, 5, 10},         // ttfb
}

// metrics are the collector's Prometheus series. Labels are bounded: site
// (configured names), route (configured templates, "/" and "other") and
// device (three classes).
type metrics struct {
	vitals    [numVitals]*weightedHistVec
	pageViews *prometheus.CounterVec
	jsErrors  *prometheus.CounterVec
	beacons   *prometheus.CounterVec
	dropped   *prometheus.CounterVec
	flushErrs prometheus.Counter

	// The series every accepted beacon touches, looked up once.
	accepted, droppedBot, droppedSampled prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	labels := []string{"site", "route", "device"}
	m := &metrics{
		pageViews: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_rum_page_views_total",
			Help: "Page views reported by real users (weighted by sampling), by site, route and device class.",
		}, labels),
		jsErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_rum_js_errors_total",
			Help: "JavaScript errors and unhandled rejections reported by real users (weighted by sampling).",
		}, labels),
		beacons: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_rum_beacons_total",
			Help: "Beacon requests by result: accepted, invalid, forbidden, too_large, rate_limited.",
		}, []string{"result"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_rum_dropped_total",
			Help: "Beacons answered 202 but not counted, by reason: bot, sampled_out.",
		}, []string{"reason"}),
		flushErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sentinel_rum_store_errors_total",
			Help: "Failed writes of per-minute RUM summaries or error groups to the store.",
		}),
	}
	cs := []prometheus.Collector{m.pageViews, m.jsErrors, m.beacons, m.dropped, m.flushErrs}
	for i, name := range vitalNames {
		metric := "sentinel_rum_" + name + "_seconds"
		help := "Web vital " + name + " measured by real users, in seconds (weighted by sampling)."
		if name == "cls" {
			metric = "sentinel_rum_cls"
			help = "Cumulative layout shift measured by real users, unitless (weighted by sampling)."
		}
		m.vitals[i] = newWeightedHistVec(metric, help, promBuckets[i], labels)
		cs = append(cs, m.vitals[i])
	}
	for _, r := range []string{"accepted", "invalid", "forbidden", "too_large", "rate_limited"} {
		m.beacons.WithLabelValues(r)
	}
	for _, r := range []string{"bot", "sampled_out"} {
		m.dropped.WithLabelValues(r)
	}
	m.accepted = m.beacons.WithLabelValues("accepted")
	m.droppedBot = m.dropped.WithLabelValues("bot")
	m.droppedSampled = m.dropped.WithLabelValues("sampled_out")
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// weightedHistVec is a histogram vector whose observations carry weights (a
// page view sampled at 0.1 counts ten times), which client_golang's
// histograms cannot take. Counts are kept as floats and rounded when
// exported. Safe for concurrent use.
type weightedHistVec struct {
	desc   *prometheus.Desc
	bounds []float64
	mu     sync.Mutex
	hists  map[[3]string]*weightedHist
}

// weightedHist is one series; it has its own lock so beacons for
// different series never wait for each other.
type weightedHist struct {
	bounds     []float64
	mu         sync.Mutex
	buckets    []float64 // per bound, not cumulative
	count, sum float64
}

func newWeightedHistVec(name, help string, bounds []float64, labels []string) *weightedHistVec {
	return &weightedHistVec{
		desc:   prometheus.NewDesc(name, help, labels, nil),
		bounds: bounds,
		hists:  map[[3]string]*weightedHist{},
	}
}

// series returns the histogram for the label values lv, making it on first
// use.
func (v *weightedHistVec) series(lv [3]string) *weightedHist {
	v.mu.Lock()
	defer v.mu.Unlock()
	h := v.hists[lv]
	if h == nil {
		h = &weightedHist{bounds: v.bounds, buckets: make([]float64, len(v.bounds))}
		v.hists[lv] = h
	}
	return h
}

func (h *weightedHist) observe(value, weight float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, b := range h.bounds {
		if value <= b {
			h.buckets[i] += weight
			break
		}
	}
	h.count += weight
	h.sum += value * weight
}

// Describe implements prometheus.Collector.
func (v *weightedHistVec) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc }

// Collect implements prometheus.Collector.
func (v *weightedHistVec) Collect(ch chan<- prometheus.Metric) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for lv, h := range v.hists {
		h.mu.Lock()
		cum := 0.0
		buckets := make(map[float64]uint64, len(v.bounds))
		for i, b := range v.bounds {
			cum += h.buckets[i]
			buckets[b] = uint64(math.Round(cum))
		}
		count, sum := h.count, h.sum
		h.mu.Unlock()
		ch <- prometheus.MustNewConstHistogram(v.desc, uint64(math.Round(count)), sum, buckets, lv[0], lv[1], lv[2])
	}
}
