package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/slo"
)

// SLOService is what the SLO endpoints need from the slo engine.
type SLOService interface {
	Statuses(ctx context.Context) []slo.Status
	Status(ctx context.Context, name string) (slo.Status, error)
	History(ctx context.Context, name string) ([]slo.HistoryPoint, error)
	Consumed(ctx context.Context, name string, from, to time.Time) (slo.Consumption, error)
}

// SLOEventSink takes counts pushed by applications for events SLOs.
type SLOEventSink interface {
	RecordEvents(ctx context.Context, name string, good, total int64, at time.Time) error
}

// sloEventsMaxBody caps an events body; it holds three small fields.
const sloEventsMaxBody = 4 << 10

// SLOJSON is one SLO in the API (the contract's SLO fields plus details).
type SLOJSON struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Service     string            `json:"service,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Indicator   string            `json:"indicator"`
	Objective   float64           `json:"objective"`
	Window      string            `json:"window"`
	WindowStart time.Time         `json:"window_start"`
	// Period is the window's full length in seconds.
	Period float64 `json:"period"`
	// SLI is null when the window holds no data (never 1 for "no data").
	SLI         *float64           `json:"sli"`
	NoData      bool               `json:"no_data"`
	WindowGood  int64              `json:"window_good"`
	WindowTotal int64              `json:"window_total"`
	Remaining   float64            `json:"error_budget_remaining"`
	Budget      BudgetJSON         `json:"error_budget"`
	Coverage    CoverageJSON       `json:"coverage"`
	BurnRates   map[string]float64 `json:"burn_rates"`
	// TimeToExhaustion is in seconds; null when not burning.
	TimeToExhaustion *float64    `json:"time_to_exhaustion"`
	Alerts           []AlertTier `json:"alerts"`
	Tiers            []AlertTier `json:"tiers"`
	Exhausted        bool        `json:"exhausted"`
	EvaluatedAt      time.Time   `json:"evaluated_at"`
	History          []PointJSON `json:"history"`
	// With from and to: the events between them and the budget they spent.
	From *time.Time `json:"from,omitempty"`
	To   *time.Time `json:"to,omitempty"`
	// CountedFrom and CountedTo are the whole minutes the counts cover:
	// counts are kept per minute, so every minute the span touches counts
	// (up to now).
	CountedFrom    *time.Time `json:"counted_from,omitempty"`
	CountedTo      *time.Time `json:"counted_to,omitempty"`
	Good           *int64     `json:"good,omitempty"`
	Total          *int64     `json:"total,omitempty"`
	BudgetConsumed *float64   `json:"budget_consumed,omitempty"`
}

// BudgetJSON details the error budget over the window, in the units it
// counts: probe runs, events or time slices.
type BudgetJSON struct {
	Budgeting string  `json:"budgeting"`
	Unit      string  `json:"unit"`
	Fraction  float64 `json:"fraction"`
	// Expected units in the full window; Projected when extrapolated from
	// the traffic seen over part of it.
	Expected  float64 `json:"expected"`
	Projected bool    `json:"projected"`
	Allowed   float64 `json:"allowed"`
	Spent     float64 `json:"spent"`
	Consumed  float64 `json:"consumed"`
	Remaining float64 `json:"remaining"`
	// Minutes of full outage: only where units are time (probe runs, time
	// slices); null for events, whose outage time a ratio cannot tell.
	Minutes          *float64 `json:"minutes"`
	ConsumedMinutes  *float64 `json:"consumed_minutes"`
	RemainingMinutes *float64 `json:"remaining_minutes"`
}

// CoverageJSON says how much of the window has data: seconds observed of
// the window's seconds, and their ratio.
type CoverageJSON struct {
	Ratio    float64 `json:"ratio"`
	Observed float64 `json:"observed"`
	Period   float64 `json:"period"`
}

// AlertTier is one multi-window multi-burn-rate tier (windows in seconds).
type AlertTier struct {
	Tier        string  `json:"tier"`
	Severity    string  `json:"severity"`
	LongWindow  float64 `json:"long_window,omitempty"`
	ShortWindow float64 `json:"short_window,omitempty"`
	Factor      float64 `json:"factor,omitempty"`
	LongRate    float64 `json:"long_rate"`
	ShortRate   float64 `json:"short_rate"`
	Firing      bool    `json:"firing"`
}

// PointJSON is one point of the history: the window ending at At and the
// hour ending at At; null where there was no data (a gap).
type PointJSON struct {
	At              time.Time `json:"at"`
	SLI             *float64  `json:"sli"`
	BudgetRemaining *float64  `json:"error_budget_remaining"`
	HourSLI         *float64  `json:"hour_sli"`
	HourTotal       int64     `json:"hour_total"`
}

// num is v, or nil for NaN (JSON has no NaN: a gap is null).
func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// minutesOf is b's units as outage minutes, nil where that is not real.
func minutesOf(b slo.Budget, units float64) *float64 {
	m, ok := b.Minutes(units)
	if !ok {
		return nil
	}
	return &m
}

// budgetJSON renders the budget model's answer.
func budgetJSON(b slo.Budget, fraction float64) BudgetJSON {
	return BudgetJSON{
		Budgeting: string(b.Budgeting), Unit: b.Unit, Fraction: fraction, Expected: b.Expected, Projected: b.Projected,
		Allowed: b.Allowed, Spent: b.Spent, Consumed: b.Consumed, Remaining: b.Remaining,
		Minutes: minutesOf(b, b.Allowed), ConsumedMinutes: minutesOf(b, b.Spent), RemainingMinutes: minutesOf(b, b.Allowed-b.Spent),
	}
}

// sloJSON renders a status and its history.
func sloJSON(st slo.Status, hist []slo.HistoryPoint) SLOJSON {
	sp := st.Spec
	out := SLOJSON{
		Name: sp.Name, Description: sp.Description, Service: sp.Service, Labels: sp.Labels,
		Indicator: sp.SLIText(), Objective: sp.Objective, Window: sp.Window.String(),
		WindowStart: st.WindowStart.UTC(), Period: st.Period.Seconds(), SLI: num(st.Budget.SLI), NoData: st.Budget.NoData,
		WindowGood: st.Window.Good, WindowTotal: st.Window.Total, Remaining: st.BudgetRemaining,
		Budget: budgetJSON(st.Budget, st.BudgetFraction),
		Coverage: CoverageJSON{Ratio: st.Budget.Coverage, Observed: st.Budget.Observed.Seconds(),
			Period: st.Period.Seconds()},
		BurnRates: st.BurnRates, Alerts: []AlertTier{}, Exhausted: st.Exhausted,
		EvaluatedAt: st.At.UTC(), History: make([]PointJSON, 0, len(hist)),
	}
	if st.TimeToExhaustion != nil {
		s := st.TimeToExhaustion.Seconds()
		out.TimeToExhaustion = &s
	}
	for _, t := range st.Tiers {
		at := AlertTier{
			Tier: t.Name, Severity: string(t.Severity), LongWindow: t.LongWindow.Seconds(), ShortWindow: t.ShortWindow.Seconds(),
			Factor: t.Factor, LongRate: t.LongRate, ShortRate: t.ShortRate, Firing: t.Firing,
		}
		out.Tiers = append(out.Tiers, at)
		if t.Firing {
			out.Alerts = append(out.Alerts, at)
		}
	}
	if st.Exhausted {
		out.Alerts = append(out.Alerts, AlertTier{Tier: "budget_exhausted", Severity: "warning", Firing: true,
			LongRate: st.BurnRates["window"], ShortRate: st.BurnRates["window"]})
	}
	for _, p := range hist {
		out.History = append(out.History, PointJSON{At: p.At.UTC(), SLI: num(p.SLI), BudgetRemaining: num(p.BudgetRemaining),
			HourSLI: num(p.HourSLI), HourTotal: p.HourTotal})
	}
	return out
}

// sloEventsRequest is the body of POST /api/v1/slos/{name}/events.
type sloEventsRequest struct {
	Good  *int64  `json:"good"`
	Total *int64  `json:"total"`
	Time  *string `json:"time"`
}

// MountSLOs adds GET /api/v1/slos and GET /api/v1/slos/{name}[?from=&to=]
// (role viewer) and, when events is not nil, POST
// /api/v1/slos/{name}/events (role ingest).
func MountSLOs(r *Routes, svc SLOService, events SLOEventSink) {
	r.Viewer().GET("/api/v1/slos", func(c *gin.Context) {
		ctx := c.Request.Context()
		list := svc.Statuses(ctx)
		out := make([]SLOJSON, 0, len(list))
		for _, st := range list {
			hist, err := svc.History(ctx, st.Spec.Name)
			if err != nil {
				Error(c, err)
				return
			}
			out = append(out, sloJSON(st, hist))
		}
		c.JSON(http.StatusOK, gin.H{"slos": out})
	})
	r.Viewer().GET("/api/v1/slos/:name", func(c *gin.Context) {
		ctx := c.Request.Context()
		name := c.Param("name")
		from, to, ranged, err := parseRange(c)
		if err != nil {
			abortJSON(c, http.StatusBadRequest, err.Error())
			return
		}
		st, err := svc.Status(ctx, name)
		if err != nil {
			Error(c, err)
			return
		}
		hist, err := svc.History(ctx, name)
		if err != nil {
			Error(c, err)
			return
		}
		out := sloJSON(st, hist)
		if ranged {
			cons, err := svc.Consumed(ctx, name, from, to)
			if err != nil {
				Error(c, err)
				return
			}
			f, t := cons.From.UTC(), cons.To.UTC()
			cf, ct := cons.CountedFrom.UTC(), cons.CountedTo.UTC()
			out.From, out.To, out.CountedFrom, out.CountedTo = &f, &t, &cf, &ct
			out.Good, out.Total, out.BudgetConsumed = &cons.Good, &cons.Total, &cons.BudgetConsumed
		}
		c.JSON(http.StatusOK, out)
	})
	if events == nil {
		return
	}
	r.Ingest().POST("/api/v1/slos/:name/events", func(c *gin.Context) {
		var req sloEventsRequest
		if err := BindJSON(c, &req, sloEventsMaxBody); err != nil {
			return
		}
		switch {
		case req.Good == nil:
			abortJSON(c, http.StatusBadRequest, "good: required (the number of good events)")
			return
		case req.Total == nil:
			abortJSON(c, http.StatusBadRequest, "total: required (the number of events)")
			return
		}
		var at time.Time
		if req.Time != nil {
			t, err := time.Parse(time.RFC3339Nano, *req.Time)
			if err != nil {
				abortJSON(c, http.StatusBadRequest, fmt.Sprintf("time: %.40q is not an RFC 3339 time such as 2024-05-17T12:00:00Z", *req.Time))
				return
			}
			at = t
		}
		if err := events.RecordEvents(c.Request.Context(), c.Param("name"), *req.Good, *req.Total, at); err != nil {
			Error(c, err)
			return
		}
		c.JSON(http.StatusAccepted, gin.H{"slo": c.Param("name"), "good": *req.Good, "total": *req.Total})
	})
}

// parseRange reads ?from=&to= (RFC 3339); both or neither.
func parseRange(c *gin.Context) (from, to time.Time, ok bool, err error) {
	rf, rt := c.Query("from"), c.Query("to")
	if rf == "" && rt == "" {
		return time.Time{}, time.Time{}, false, nil
	}
	if rf == "" || rt == "" {
		return from, to, false, fmt.Errorf("from and to: give both, or neither")
	}
	if from, err = time.Parse(time.RFC3339Nano, rf); err != nil {
		return from, to, false, fmt.Errorf("from: %.40q is not an RFC 3339 time", rf)
	}
	if to, err = time.Parse(time.RFC3339Nano, rt); err != nil {
		return from, to, false, fmt.Errorf("to: %.40q is not an RFC 3339 time", rt)
	}
	if !to.After(from) {
		return from, to, false, fmt.Errorf("to: must be after from")
	}
	return from, to, true, nil
}
