package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/rum"
	"github.com/sentinel-oss/sentinel/store"
)

// rumStores is one implementation of both RUM store interfaces.
type rumStores interface {
	rum.CountStore
	rum.ErrorStore
}

var rumT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func minuteRow(min int, site, route string, views, errs float64, lcp ...float64) rum.MinuteRow {
	r := rum.MinuteRow{Minute: rumT0.Add(time.Duration(min) * time.Minute), Site: site, Route: route, Views: views, Errors: errs}
	if len(lcp) > 0 {
		h := rum.Sketch{}
		for _, v := range lcp {
			h.Add(rum.LCP, v, 1)
		}
		r.Vitals = map[string]rum.Sketch{"lcp": h}
	}
	return r
}

func errGroup(fp string, count float64, first, last int, route string) rum.ErrorGroup {
	return rum.ErrorGroup{
		Fingerprint: fp, Kind: "error", Message: "boom " + fp, SampleStack: "at f (x.js)", SampleURL: "https://shop/x",
		Count: count, FirstSeen: rumT0.Add(time.Duration(first) * time.Minute), LastSeen: rumT0.Add(time.Duration(last) * time.Minute),
		Routes: []string{route}, Sites: []string{"shop"},
	}
}

// summed folds rows by (minute, site, route), since a store may return rows
// for one key separately, and returns them sorted.
func summed(rows []rum.MinuteRow) []rum.MinuteRow {
	type key struct {
		m           int64
		site, route string
	}
	byKey := map[key]*rum.MinuteRow{}
	var keys []key
	for _, r := range rows {
		k := key{r.Minute.Unix(), r.Site, r.Route}
		if cur, ok := byKey[k]; ok {
			cur.Merge(r)
			continue
		}
		c := r.Clone()
		byKey[k] = &c
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.m != b.m {
			return int(a.m - b.m)
		}
		if a.site != b.site {
			if a.site < b.site {
				return -1
			}
			return 1
		}
		if a.route < b.route {
			return -1
		}
		if a.route > b.route {
			return 1
		}
		return 0
	})
	out := make([]rum.MinuteRow, len(keys))
	for i, k := range keys {
		out[i] = *byKey[k]
	}
	return out
}

func describeRows(rows []rum.MinuteRow) []string {
	var out []string
	for _, r := range summed(rows) {
		s := fmt.Sprintf("%s %s %s v=%g e=%g", r.Minute.UTC().Format("15:04"), r.Site, r.Route, r.Views, r.Errors)
		for _, name := range []string{"lcp", "inp", "cls", "fcp", "ttfb"} {
			if h := r.Vitals[name]; h.Count() > 0 {
				s += fmt.Sprintf(" %s=%g", name, h.Count())
			}
		}
		out = append(out, s)
	}
	return out
}

func describeGroups(gs []rum.ErrorGroup) []string {
	var out []string
	for _, g := range gs {
		d := fmt.Sprintf("%s n=%g first=%s last=%s msg=%q routes=%v",
			g.Fingerprint, g.Count, g.FirstSeen.UTC().Format("15:04"), g.LastSeen.UTC().Format("15:04"), g.Message, g.Routes)
		if !g.HourlySince.IsZero() {
			d += " hourly_since=" + g.HourlySince.UTC().Format("15:04") + " hours="
			for i, h := range g.Hours {
				if i > 0 {
					d += ","
				}
				d += fmt.Sprintf("%s:%g", h.Hour.UTC().Format("15"), h.Count)
			}
		}
		out = append(out, d)
	}
	return out
}

// hourly gives g counts per hour: pairs of (hours after rumT0, count),
// counted since the first pair's hour.
func hourly(g rum.ErrorGroup, pairs ...float64) rum.ErrorGroup {
	for i := 0; i < len(pairs); i += 2 {
		g.Hours = append(g.Hours, rum.HourCount{Hour: rumT0.Add(time.Duration(pairs[i]) * time.Hour), Count: pairs[i+1]})
	}
	g.HourlySince = g.Hours[0].Hour
	return g
}

// rumBehaviours is the table every RUM store passes: the reference memory
// store in package rum and store.RUM on each engine. Each case gets a store
// with 1 hour of retention and room for 3 error groups.
func rumBehaviours(t *testing.T, open func(t *testing.T) rumStores) {
	ctx := context.Background()
	minuteCases := []struct {
		name    string
		batches [][]rum.MinuteRow
		// writers name the writer of each batch (default: a new writer
		// per batch).
		writers  []string
		from, to int // minutes after rumT0
		want     []string
	}{
		{
			name: "empty",
			from: -10, to: 10,
			want: nil,
		},
		{
			name: "rows of one key from several writers sum on read, vitals too",
			batches: [][]rum.MinuteRow{
				{minuteRow(0, "shop", "/cart", 2, 1, 0.5, 1.0)},
				{minuteRow(0, "shop", "/cart", 3, 0, 2.0)},
			},
			from: 0, to: 1,
			want: []string{"12:00 shop /cart v=5 e=1 lcp=3"},
		},
		{
			name: "a writer's row replaces what it stored before (a retried flush counts once)",
			batches: [][]rum.MinuteRow{
				{minuteRow(0, "shop", "/cart", 2, 1, 0.5)},
				{minuteRow(0, "shop", "/cart", 3, 1, 0.5, 1.0)},
				{minuteRow(0, "shop", "/cart", 3, 1, 0.5, 1.0)},
				{minuteRow(0, "shop", "/cart", 1, 0)},
			},
			writers: []string{"a", "a", "a", "b"},
			from:    0, to: 1,
			want: []string{"12:00 shop /cart v=4 e=1 lcp=2"},
		},
		{
			name: "seconds inside a minute fold into that minute",
			batches: [][]rum.MinuteRow{{
				{Minute: rumT0.Add(5 * time.Second), Site: "shop", Route: "/", Views: 1},
				{Minute: rumT0.Add(59 * time.Second), Site: "shop", Route: "/", Views: 1},
			}},
			from: 0, to: 1,
			want: []string{"12:00 shop / v=2 e=0"},
		},
		{
			name: "sites and routes stay apart",
			batches: [][]rum.MinuteRow{{
				minuteRow(1, "shop", "/cart", 1, 0),
				minuteRow(1, "shop", "/", 4, 0),
				minuteRow(1, "eu", "/cart", 2, 0),
			}},
			from: 0, to: 5,
			want: []string{"12:01 eu /cart v=2 e=0", "12:01 shop / v=4 e=0", "12:01 shop /cart v=1 e=0"},
		},
		{
			name: "from is inclusive, to exclusive",
			batches: [][]rum.MinuteRow{{
				minuteRow(-1, "shop", "/", 1, 0),
				minuteRow(0, "shop", "/", 2, 0),
				minuteRow(9, "shop", "/", 3, 0),
				minuteRow(10, "shop", "/", 4, 0),
			}},
			from: 0, to: 10,
			want: []string{"12:00 shop / v=2 e=0", "12:09 shop / v=3 e=0"},
		},
		{
			name:    "empty window",
			batches: [][]rum.MinuteRow{{minuteRow(0, "shop", "/", 1, 0)}},
			from:    0, to: 0,
			want: nil,
		},
		{
			name: "minutes older than the retention before the newest are dropped",
			batches: [][]rum.MinuteRow{
				{minuteRow(0, "shop", "/", 1, 0), minuteRow(30, "shop", "/", 1, 0)},
				{minuteRow(75, "shop", "/", 1, 0)},
			},
			from: -100, to: 100,
			want: []string{"12:30 shop / v=1 e=0", "13:15 shop / v=1 e=0"},
		},
		{
			name: "site and route names with odd bytes",
			batches: [][]rum.MinuteRow{{
				minuteRow(0, "a", "/x\x00y", 1, 0),
				minuteRow(0, "a", "/x", 2, 0),
			}},
			from: 0, to: 1,
			want: []string{"12:00 a /x v=2 e=0", "12:00 a /x\x00y v=1 e=0"},
		},
	}
	for _, tc := range minuteCases {
		t.Run("minutes/"+tc.name, func(t *testing.T) {
			s := open(t)
			for i, b := range tc.batches {
				w := fmt.Sprintf("w%d", i)
				if tc.writers != nil {
					w = tc.writers[i]
				}
				if err := s.SaveMinutes(ctx, w, b); err != nil {
					t.Fatal(err)
				}
			}
			if tc.writers != nil {
				own, err := s.WriterMinutes(ctx, tc.writers[0], rumT0.Add(time.Duration(tc.from)*time.Minute), rumT0.Add(time.Duration(tc.to)*time.Minute))
				if err != nil {
					t.Fatal(err)
				}
				if d := describeRows(own); len(d) != 1 || !strings.HasPrefix(d[0], "12:00 shop /cart v=3 ") {
					t.Errorf("writer %s's own rows: %q", tc.writers[0], d)
				}
			}
			got, err := s.Minutes(ctx, rumT0.Add(time.Duration(tc.from)*time.Minute), rumT0.Add(time.Duration(tc.to)*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if d := describeRows(got); !slices.Equal(d, tc.want) {
				t.Errorf("rows:\n got %q\nwant %q", d, tc.want)
			}
		})
	}

	errorCases := []struct {
		name    string
		batches [][]rum.ErrorGroup
		since   int
		limit   int
		want    []string
	}{
		{name: "empty", since: -100, limit: 10, want: nil},
		{
			name: "one fingerprint merges: counts add, times widen, routes unite, newest sample kept",
			batches: [][]rum.ErrorGroup{
				{errGroup("a", 2, 5, 6, "/cart")},
				{func() rum.ErrorGroup { g := errGroup("a", 1, 1, 9, "/"); g.Message = "newer"; return g }()},
				{func() rum.ErrorGroup { g := errGroup("a", 1, 7, 8, "/cart"); g.Message = "older"; return g }()},
			},
			since: -100, limit: 10,
			want: []string{`a n=4 first=12:01 last=12:09 msg="newer" routes=[/cart /]`},
		},
		{
			name: "most frequent first, then most recent, then fingerprint",
			batches: [][]rum.ErrorGroup{{
				errGroup("a", 1, 0, 1, "/"),
				errGroup("b", 5, 0, 1, "/"),
				errGroup("c", 1, 0, 2, "/"),
			}},
			since: -100, limit: 10,
			want: []string{
				`b n=5 first=12:00 last=12:01 msg="boom b" routes=[/]`,
				`c n=1 first=12:00 last=12:02 msg="boom c" routes=[/]`,
				`a n=1 first=12:00 last=12:01 msg="boom a" routes=[/]`,
			},
		},
		{
			name: "limit keeps the most frequent",
			batches: [][]rum.ErrorGroup{{
				errGroup("a", 1, 0, 1, "/"),
				errGroup("b", 5, 0, 1, "/"),
				errGroup("c", 3, 0, 1, "/"),
			}},
			since: -100, limit: 2,
			want: []string{
				`b n=5 first=12:00 last=12:01 msg="boom b" routes=[/]`,
				`c n=3 first=12:00 last=12:01 msg="boom c" routes=[/]`,
			},
		},
		{
			name: "since filters on last seen, inclusive",
			batches: [][]rum.ErrorGroup{
				{errGroup("a", 1, 0, 4, "/"), errGroup("b", 1, 0, 5, "/")},
				{errGroup("a", 1, 0, 3, "/")}, // an older delta does not move last seen back
			},
			since: 5, limit: 10,
			want: []string{`b n=1 first=12:00 last=12:05 msg="boom b" routes=[/]`},
		},
		{
			// Groups keep no counts per time: since selects a group seen in
			// the window, and its count still runs from first seen (as
			// docs/api.md and the RUM page say).
			name: "since does not cut counts",
			batches: [][]rum.ErrorGroup{
				{errGroup("a", 7, 0, 1, "/")},
				{errGroup("a", 1, 5, 5, "/")},
			},
			since: 5, limit: 10,
			want: []string{`a n=8 first=12:00 last=12:05 msg="boom a" routes=[/]`},
		},
		{
			// Counts per hour add up across writes, and the hours from the
			// one holding since on decide the order: a has 9 in all but 1
			// since 12:00, b has 3.
			name: "counts per hour add up and order the window",
			batches: [][]rum.ErrorGroup{
				{hourly(errGroup("a", 8, -180, -170, "/"), -3, 8), hourly(errGroup("b", 2, 0, 1, "/"), 0, 2)},
				{hourly(errGroup("a", 1, 5, 5, "/"), 0, 1), hourly(errGroup("b", 1, 4, 4, "/"), 0, 1)},
			},
			since: 0, limit: 10,
			want: []string{
				`b n=3 first=12:00 last=12:04 msg="boom b" routes=[/] hourly_since=12:00 hours=12:3`,
				`a n=9 first=09:00 last=12:05 msg="boom a" routes=[/] hourly_since=09:00 hours=09:8,12:1`,
			},
		},
		{
			// A group kept from before counts per hour counts them from the
			// hour after the first one it is seen in again (that hour's
			// earlier occurrences are in its count only).
			name: "a group without counts per hour starts them",
			batches: [][]rum.ErrorGroup{
				{errGroup("a", 5, 0, 1, "/")},
				{hourly(errGroup("a", 2, 2, 2, "/"), 0, 2)},
			},
			since: -100, limit: 10,
			want: []string{`a n=7 first=12:00 last=12:02 msg="boom a" routes=[/] hourly_since=13:00 hours=12:2`},
		},
		{
			name: "the bound evicts the least recently seen",
			batches: [][]rum.ErrorGroup{
				{errGroup("a", 9, 0, 1, "/"), errGroup("b", 1, 0, 2, "/"), errGroup("c", 1, 0, 3, "/")},
				{errGroup("b", 1, 0, 4, "/")},
				{errGroup("d", 1, 0, 5, "/")},
			},
			since: -100, limit: 10,
			want: []string{
				`b n=2 first=12:00 last=12:04 msg="boom b" routes=[/]`,
				`d n=1 first=12:00 last=12:05 msg="boom d" routes=[/]`,
				`c n=1 first=12:00 last=12:03 msg="boom c" routes=[/]`,
			},
		},
		{
			name: "routes are bounded",
			batches: func() [][]rum.ErrorGroup {
				var bs [][]rum.ErrorGroup
				for i := range rum.MaxGroupRoutes + 5 {
					bs = append(bs, []rum.ErrorGroup{errGroup("a", 1, 0, 1, fmt.Sprintf("/r%d", i))})
				}
				return bs
			}(),
			since: -100, limit: 10,
			want: func() []string {
				var rs []string
				for i := range rum.MaxGroupRoutes {
					rs = append(rs, fmt.Sprintf("/r%d", i))
				}
				return []string{fmt.Sprintf(`a n=%d first=12:00 last=12:01 msg="boom a" routes=%v`, rum.MaxGroupRoutes+5, rs)}
			}(),
		},
	}
	for _, tc := range errorCases {
		t.Run("errors/"+tc.name, func(t *testing.T) {
			s := open(t)
			for _, b := range tc.batches {
				if err := s.AddErrors(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.ErrorGroups(ctx, rumT0.Add(time.Duration(tc.since)*time.Minute), tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if d := describeGroups(got); !slices.Equal(d, tc.want) {
				t.Errorf("groups:\n got %q\nwant %q", d, tc.want)
			}
		})
	}

	t.Run("returned rows and groups are copies", func(t *testing.T) {
		s := open(t)
		if err := s.SaveMinutes(ctx, "w", []rum.MinuteRow{minuteRow(0, "shop", "/", 1, 0, 1.0)}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddErrors(ctx, []rum.ErrorGroup{errGroup("a", 1, 0, 0, "/")}); err != nil {
			t.Fatal(err)
		}
		rows, _ := s.Minutes(ctx, rumT0, rumT0.Add(time.Minute))
		rows[0].Views = 100
		rows[0].Vitals["lcp"].Add(rum.LCP, 100, 100)
		gs, _ := s.ErrorGroups(ctx, rumT0, 10)
		gs[0].Routes[0] = "changed"
		rows, _ = s.Minutes(ctx, rumT0, rumT0.Add(time.Minute))
		if d := describeRows(rows); !slices.Equal(d, []string{"12:00 shop / v=1 e=0 lcp=1"}) {
			t.Errorf("rows changed through a returned copy: %q", d)
		}
		gs, _ = s.ErrorGroups(ctx, rumT0, 10)
		if gs[0].Routes[0] != "/" {
			t.Errorf("group changed through a returned copy: %v", gs[0].Routes)
		}
	})

	t.Run("a done context is refused", func(t *testing.T) {
		s := open(t)
		dctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.SaveMinutes(dctx, "w", []rum.MinuteRow{minuteRow(0, "shop", "/", 1, 0)}); err == nil {
			t.Error("SaveMinutes with a done context succeeded")
		}
		if _, err := s.Minutes(dctx, rumT0, rumT0.Add(time.Minute)); err == nil {
			t.Error("Minutes with a done context succeeded")
		}
		if err := s.AddErrors(dctx, []rum.ErrorGroup{errGroup("a", 1, 0, 0, "/")}); err == nil {
			t.Error("AddErrors with a done context succeeded")
		}
		if _, err := s.ErrorGroups(dctx, rumT0, 10); err == nil {
			t.Error("ErrorGroups with a done context succeeded")
		}
	})
}

func openTestBolt(t testing.TB, path string) *store.Bolt {
	t.Helper()
	cfg := config.Storage{Path: path, OpenTimeout: model.Duration(time.Second)}
	b, err := store.OpenBolt(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var testRUMOptions = store.RUMOptions{Retention: time.Hour, MaxErrorGroups: 3}

func TestRUMStoreBehaviours(t *testing.T) {
	t.Run("rum.MemoryStore", func(t *testing.T) {
		rumBehaviours(t, func(*testing.T) rumStores { return rum.NewMemoryStore(time.Hour, 3) })
	})
	t.Run("bolt", func(t *testing.T) {
		rumBehaviours(t, func(t *testing.T) rumStores {
			b := openTestBolt(t, filepath.Join(t.TempDir(), "s.db"))
			t.Cleanup(func() { _ = b.Close() })
			return store.NewRUM(b, testRUMOptions)
		})
	})
	t.Run("memory", func(t *testing.T) {
		rumBehaviours(t, func(*testing.T) rumStores { return store.NewRUM(store.NewMemory(), testRUMOptions) })
	})
	t.Run("postgres", func(t *testing.T) {
		rumBehaviours(t, func(t *testing.T) rumStores { return store.NewRUM(openPostgres(t), testRUMOptions) })
	})
}

func TestRUMStoreSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	b := openTestBolt(t, path)
	s := store.NewRUM(b, testRUMOptions)
	if err := s.SaveMinutes(ctx, "before", []rum.MinuteRow{minuteRow(0, "shop", "/cart", 2, 1, 0.5)}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddErrors(ctx, []rum.ErrorGroup{errGroup("a", 2, 0, 1, "/cart"), errGroup("b", 1, 0, 2, "/")}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b = openTestBolt(t, path)
	defer b.Close()
	s = store.NewRUM(b, testRUMOptions)
	// Writing after the restart (as another writer) adds to what was stored before it.
	if err := s.SaveMinutes(ctx, "after", []rum.MinuteRow{minuteRow(0, "shop", "/cart", 1, 0, 0.7)}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddErrors(ctx, []rum.ErrorGroup{errGroup("c", 1, 0, 3, "/"), errGroup("d", 1, 0, 4, "/")}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Minutes(ctx, rumT0, rumT0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if d, want := describeRows(rows), []string{"12:00 shop /cart v=3 e=1 lcp=2"}; !slices.Equal(d, want) {
		t.Errorf("rows after restart: %q, want %q", d, want)
	}
	gs, err := s.ErrorGroups(ctx, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	// The bound (3) counts the groups stored before the restart, so adding
	// "d" evicts "a", the least recently seen.
	var fps []string
	for _, g := range gs {
		fps = append(fps, g.Fingerprint)
	}
	if want := []string{"d", "c", "b"}; !slices.Equal(fps, want) {
		t.Errorf("groups after restart: %v, want %v", fps, want)
	}
}

// TestRUMStoreWithService runs the RUM read side over the bbolt store, as
// the app wires it.
func TestRUMStoreWithService(t *testing.T) {
	ctx := context.Background()
	s := store.NewRUM(store.NewMemory(), store.RUMOptions{})
	rows := []rum.MinuteRow{
		minuteRow(0, "shop", "/product/:id", 3, 1, 1.0, 2.0, 3.0),
		minuteRow(1, "eu", "/product/:id", 1, 0, 4.0),
	}
	if err := s.SaveMinutes(ctx, "local", rows); err != nil {
		t.Fatal(err)
	}
	svc := rum.NewService(s, s, func() time.Time { return rumT0.Add(10 * time.Minute) })
	rep, err := svc.Vitals(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Routes) != 1 || rep.Routes[0].PageViews != 4 || rep.Routes[0].JSErrors != 1 || rep.Routes[0].Vitals["lcp"].Samples != 4 {
		t.Errorf("report: %+v", rep)
	}
}

func BenchmarkRUMSaveMinutes(b *testing.B) {
	ctx := context.Background()
	db := openTestBolt(b, filepath.Join(b.TempDir(), "s.db"))
	defer db.Close()
	s := store.NewRUM(db, store.RUMOptions{})
	// One flush: 50 routes with a few vitals each, as a busy second sends.
	batch := make([]rum.MinuteRow, 50)
	for i := range batch {
		batch[i] = minuteRow(0, "shop", fmt.Sprintf("/r%d", i), 10, 1, 0.5, 1.5, 2.5)
	}
	for i := 0; b.Loop(); i++ {
		for j := range batch {
			batch[j].Minute = rumT0.Add(time.Duration(i/60) * time.Minute)
		}
		if err := s.SaveMinutes(ctx, "local", batch); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRUMRowsFromBeforeWriters: rows stored before rows carried a writer
// (keyed by minute, site and route alone) are still summed into reads,
// and belong to no writer.
func TestRUMRowsFromBeforeWriters(t *testing.T) {
	ctx := context.Background()
	e := store.NewMemory()
	old := minuteRow(0, "shop", "/cart", 2, 1)
	putRawMinute(t, e, store.Key{}.Time(old.Minute).String("shop").String("/cart"), old)
	s := store.NewRUM(e, store.RUMOptions{})
	if err := s.SaveMinutes(ctx, "local", []rum.MinuteRow{minuteRow(0, "shop", "/cart", 1, 0)}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Minutes(ctx, rumT0, rumT0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if d := describeRows(rows); !slices.Equal(d, []string{"12:00 shop /cart v=3 e=1"}) {
		t.Errorf("rows: %q", d)
	}
	own, err := s.WriterMinutes(ctx, "local", rumT0, rumT0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if d := describeRows(own); !slices.Equal(d, []string{"12:00 shop /cart v=1 e=0"}) {
		t.Errorf("own rows: %q", d)
	}
}

// TestRUMMinutesOfVersionOne: minutes stored with the log-bucket
// histograms of value version 1 are read as sketches, their counts kept
// and their p75 about where it was (the buckets were about 9% wide).
func TestRUMMinutesOfVersionOne(t *testing.T) {
	ctx := context.Background()
	e := store.NewMemory()
	// Four LCPs of 1.9 s, 2.0 s, 2.2 s and 3.0 s in the old layout: bucket
	// i holds (1 ms * 2^((i-1)/8), 1 ms * 2^(i/8)].
	old := map[string]any{
		"minute": rumT0, "site": "shop", "route": "/cart", "views": 4, "errors": 1,
		"vitals": map[string]map[string]float64{"lcp": {"88": 2, "89": 1, "93": 1}},
	}
	putRawMinute(t, e, store.Key{}.Time(rumT0).String("shop").String("/cart").String("local"), old)
	s := store.NewRUM(e, store.RUMOptions{})
	rows, err := s.Minutes(ctx, rumT0, rumT0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Views != 4 || rows[0].Errors != 1 || rows[0].Route != "/cart" {
		t.Fatalf("rows: %q", describeRows(rows))
	}
	sum := rows[0].Vitals["lcp"].Summary()
	if sum.Samples != 4 {
		t.Errorf("converted samples %v, want 4", sum.Samples)
	}
	if p := *sum.P75; p < 2.1 || p > 2.35 {
		t.Errorf("converted p75 %v, want about 2.2", p)
	}
	if sum.Good != 0.75 || sum.Rating != rum.RatingGood {
		t.Errorf("converted shares %+v", sum)
	}
	// Written back, the row is version 2 and reads the same.
	if err := s.SaveMinutes(ctx, "local", rows); err != nil {
		t.Fatal(err)
	}
	again, err := s.Minutes(ctx, rumT0, rumT0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got := again[0].Vitals["lcp"].Summary(); *got.P75 != *sum.P75 || got.Samples != 4 {
		t.Errorf("after a rewrite: %+v, before %+v", got, sum)
	}
}

// putRawMinute stores v as a value version 1 minute under key, as an older
// Sentinel wrote it.
func putRawMinute(t *testing.T, e store.Engine, key store.Key, v any) {
	t.Helper()
	val, err := store.EncodeJSON(1, v)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Update(context.Background(), func(tx store.Tx) error {
		b, err := tx.Bucket("rum_minutes")
		if err != nil {
			return err
		}
		return b.Put(key, val)
	}); err != nil {
		t.Fatal(err)
	}
}
