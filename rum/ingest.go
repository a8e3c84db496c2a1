package rum

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-oss/sentinel/model"
)

// series is one (site, route, device)'s Prometheus series and outcome
// labels, looked up once per beacon and route rather than per event.
type series struct {
	key                 [3]string
	pageViews, jsErrors prometheus.Counter
	// vitals are made on first use, so a route without measurements of a
	// vital exports no empty histogram for it.
	vitals [numVitals]atomic.Pointer[weightedHist]
	labels model.Labels // shared by every outcome; never modified
}

// vital returns the series' histogram of vital i.
func (s *series) vital(m *metrics, i int) *weightedHist {
	if h := s.vitals[i].Load(); h != nil {
		return h
	}
	h := m.vitals[i].series(s.key) // the same histogram whoever asks first
	s.vitals[i].Store(h)
	return h
}

func (c *Collector) seriesFor(site, route, device string) *series {
	k := [3]string{site, route, device}
	if s, ok := c.series.Load(k); ok {
		return s.(*series)
	}
	s := &series{
		key:       k,
		pageViews: c.m.pageViews.WithLabelValues(k[:]...),
		jsErrors:  c.m.jsErrors.WithLabelValues(k[:]...),
		labels:    model.Labels{"route": route, "site": site, "device": device},
	}
	got, _ := c.series.LoadOrStore(k, s)
	return got.(*series)
}

// ingestScratch is what one beacon's aggregation needs between its
// lock-free pass and its locked one, reused across beacons.
type ingestScratch struct {
	routes []string
	outs   []model.Outcome
	errs   []errorReport
}

// errorReport is one scrubbed JS error event of a beacon.
type errorReport struct {
	scrubbedError
	kind, route string
	n           float64
}

func (c *Collector) getScratch() *ingestScratch {
	if s, ok := c.scratch.Get().(*ingestScratch); ok {
		return s
	}
	return &ingestScratch{}
}

func (c *Collector) putScratch(s *ingestScratch) {
	if cap(s.routes) > MaxEvents || cap(s.outs) > MaxEvents || cap(s.errs) > MaxEvents {
		return // unusually large: let it go
	}
	clear(s.routes)
	clear(s.outs)
	clear(s.errs)
	s.routes, s.outs, s.errs = s.routes[:0], s.outs[:0], s.errs[:0]
	c.scratch.Put(s)
}

// ingest aggregates one accepted beacon received at now. Metrics, outcomes
// and error scrubbing happen outside the collector's lock; only the
// in-memory minute rows and error groups are updated under it, so
// concurrent beacons barely wait for each other.
func (c *Collector) ingest(ctx context.Context, b *Beacon, site, device, browser string, w float64, now time.Time) {
	minute := now.Truncate(time.Minute)
	total := outcomeTotal(w)
	sc := c.getScratch()
	defer c.putScratch(sc)
	var (
		lastURL, route string
		sr             *series
	)
	router := c.set.Load().router
	for i := range b.Events {
		e := &b.Events[i]
		if sr == nil || e.URL != lastURL {
			lastURL = e.URL
			if r := router.Fold(e.URL); sr == nil || r != route {
				route = r
				sr = c.seriesFor(site, route, device)
			}
		}
		sc.routes = append(sc.routes, route)
		switch e.Type {
		case EventPageView:
			sr.pageViews.Add(w)
			good := total
			if e.Errors > 0 {
				good = 0
			}
			sc.outs = append(sc.outs, model.Outcome{Source: model.SourceRUM, Name: "page_view", Labels: sr.labels, Time: now, Good: good, Total: total})
		case EventVital:
			sr.vital(c.m, vitalIndex(e.Name)).observe(e.Value, w)
			sc.outs = append(sc.outs, model.Outcome{Source: model.SourceRUM, Name: e.Name, Labels: sr.labels, Time: now, Total: total, Value: e.Value, HasValue: true})
		case EventError:
			n := float64(e.Count) * w
			sr.jsErrors.Add(n)
			sc.outs = append(sc.outs, model.Outcome{Source: model.SourceRUM, Name: "js_error", Labels: sr.labels, Time: now, Total: int64(e.Count) * total})
			sc.errs = append(sc.errs, errorReport{c.scrubError(e), e.Kind, route, n})
		}
	}
	c.mu.Lock()
	var row *MinuteRow
	rowRoute := ""
	for i := range b.Events {
		e := &b.Events[i]
		if row == nil || sc.routes[i] != rowRoute {
			rowRoute = sc.routes[i]
			if row = c.rowLocked(minute, site, rowRoute); row == nil {
				continue // too many rows wait already; metrics and outcomes still count
			}
		}
		switch e.Type {
		case EventPageView:
			row.Views += w
		case EventVital:
			if row.Vitals == nil {
				row.Vitals = map[string]Sketch{}
			}
			s := row.Vitals[e.Name]
			if s == nil {
				s = Sketch{}
				row.Vitals[e.Name] = s
			}
			s.Add(Vital(vitalIndex(e.Name)), e.Value, w)
		case EventError:
			row.Errors += float64(e.Count) * w
		}
	}
	for _, r := range sc.errs {
		c.addErrorLocked(r, site, browser, now)
	}
	c.mu.Unlock()
	if bs, ok := c.sink.(BatchSink); ok {
		bs.RecordOutcomes(ctx, sc.outs)
	} else if c.sink != nil {
		for _, o := range sc.outs {
			c.sink.RecordOutcome(ctx, o)
		}
	}
	if c.errLog != nil {
		for _, r := range sc.errs {
			if c.errLogLm.AllowN(now, 1) {
				c.logError(ctx, errorLine{r, site, device})
			}
		}
	}
}

// errorLine is one JS error report for the error log.
type errorLine struct {
	errorReport
	site, device string
}

// logError hands an error report to Run's goroutine, which writes it to
// the error log: a log line is costly (a handler, often a deeper stack than
// a request's goroutine has) and need not hold up the beacon's answer.
// Without Run (tests), or when the queue is full, the line is written here.
func (c *Collector) logError(ctx context.Context, l errorLine) {
	if c.running.Load() {
		select {
		case c.errLines <- l:
			return
		default:
		}
	}
	c.writeErrorLine(ctx, l)
}

func (c *Collector) writeErrorLine(ctx context.Context, l errorLine) {
	c.errLog.LogAttrs(ctx, slog.LevelInfo, "js error",
		slog.String("site", l.site), slog.String("route", l.route), slog.String("device", l.device),
		slog.String("kind", l.kind), slog.String("fingerprint", l.fingerprint),
		slog.String("message", l.message), slog.String("url", l.url),
		slog.String("stack", l.stack), slog.Float64("count", l.n))
}

// rowLocked returns this writer's row for a key, marked to be flushed, or
// nil when too many rows wait in memory already (the metrics and outcomes
// still count).
func (c *Collector) rowLocked(minute time.Time, site, route string) *MinuteRow {
	k := minuteKey{floorMinute(minute), site, route}
	r, ok := c.own[k]
	if !ok {
		if len(c.own) >= maxPendingRows {
			return nil
		}
		r = &MinuteRow{Minute: minute.UTC(), Site: site, Route: route}
		c.own[k] = r
	}
	c.dirty[k] = true
	return r
}

// addErrorLocked counts one error report into its pending group, making
// the group when it is the first since the last flush (and fewer than
// maxPendingGroups wait).
func (c *Collector) addErrorLocked(r errorReport, site, browser string, now time.Time) {
	g, ok := c.pendingErr[r.fingerprint]
	if !ok {
		if len(c.pendingErr) >= maxPendingGroups {
			return
		}
		c.pendingErr[r.fingerprint] = &ErrorGroup{
			Fingerprint: r.fingerprint, Kind: r.kind, Message: r.message, Culprit: r.culprit,
			SampleStack: r.stack, SampleURL: r.url, Count: r.n, FirstSeen: now, LastSeen: now,
			Routes: []string{r.route}, RouteCounts: map[string]float64{r.route: r.n},
			Browsers: []string{browser}, BrowserCounts: map[string]float64{browser: r.n},
			Sites: []string{site},
			Hours: []HourCount{{Hour: now.UTC().Truncate(time.Hour), Count: r.n}}, HourlySince: now.UTC().Truncate(time.Hour),
		}
		return
	}
	g.Count += r.n
	if now.Before(g.FirstSeen) {
		g.FirstSeen = now
	}
	if now.After(g.LastSeen) {
		g.LastSeen = now
		g.Message, g.Culprit, g.SampleStack, g.SampleURL = r.message, r.culprit, r.stack, r.url
	}
	g.Routes = addBounded(g.Routes, r.route)
	g.Browsers = addBounded(g.Browsers, browser)
	g.Sites = addBounded(g.Sites, site)
	g.RouteCounts = addCount(g.RouteCounts, r.route, r.n)
	g.BrowserCounts = addCount(g.BrowserCounts, browser, r.n)
	g.Hours = addHour(g.Hours, now, r.n)
}

// requeueErrorLocked puts back a group whose store write failed.
func (c *Collector) requeueErrorLocked(g ErrorGroup) {
	if cur, ok := c.pendingErr[g.Fingerprint]; ok {
		MergeErrorGroup(cur, g)
		return
	}
	if len(c.pendingErr) >= maxPendingGroups {
		return
	}
	c.pendingErr[g.Fingerprint] = &g
}

// scrubKey is an error report's raw text, which scrubbing depends on.
type scrubKey struct{ kind, message, stack, url string }

// scrubbedError is an error report after scrubbing and fingerprinting,
// cached by its raw text: the same error arrives from many pages, and the
// regular expressions are the costliest part of taking a beacon.
type scrubbedError struct {
	fingerprint, culprit, message, stack, url string
}

// maxScrubCache bounds the cache; it is emptied when full.
const maxScrubCache = 4096

// scrubError scrubs an error event and fingerprints it.
func (c *Collector) scrubError(e *Event) scrubbedError {
	key := scrubKey{e.Kind, e.Message, e.Stack, e.URL}
	if se, ok := c.scrubbed.get(key); ok {
		return se
	}
	scrub := c.set.Load().scrub
	msg := scrub.Text(e.Message)
	stack := scrub.Text(e.Stack)
	page := scrub.URL(e.URL)
	fp, culprit := fingerprint(e.Kind, msg, stack, page)
	se := scrubbedError{fp, culprit, msg, stack, page}
	c.scrubbed.put(key, se)
	return se
}
