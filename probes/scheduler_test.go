package probes

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sentinel-oss/sentinel/config"
)

// fakeTransport answers every request in memory (no sockets, so it works
// inside a synctest bubble); status decides the code per request.
type fakeTransport struct {
	delay  time.Duration
	status func(*http.Request) int
	calls  atomic.Int64
	inFl   atomic.Int64
	maxInF atomic.Int64
}

func (f *fakeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.calls.Add(1)
	n := f.inFl.Add(1)
	defer f.inFl.Add(-1)
	for {
		m := f.maxInF.Load()
		if n <= m || f.maxInF.CompareAndSwap(m, n) {
			break
		}
	}
	if f.delay > 0 {
		t := time.NewTimer(f.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return nil, r.Context().Err()
		}
	}
	code := 200
	if f.status != nil {
		code = f.status(r)
	}
	return &http.Response{StatusCode: code, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"ok":true}`)), Request: r}, nil
}

func httpProbes(t testing.TB, names []string, interval string) []*Journey {
	var b strings.Builder
	b.WriteString("probes:\n")
	for _, n := range names {
		b.WriteString("  - {name: " + n + ", interval: " + interval + ", timeout: 5s, steps: [{name: s, request: {url: \"http://" + n + ".test/\"}}]}\n")
	}
	return compile(t, b.String(), nil)
}

type starts struct {
	mu   sync.Mutex
	by   map[string][]time.Time
	late []time.Duration
}

func (s *starts) hook(name string, scheduled, started time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.by == nil {
		s.by = map[string][]time.Time{}
	}
	s.by[name] = append(s.by[name], scheduled)
	s.late = append(s.late, started.Sub(scheduled))
}

func TestSchedulerSpreadsAndKeepsInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{delay: 100 * time.Millisecond}
		svc, err := New(Options{Probes: httpProbes(t, []string{"a", "b", "c"}, "10s"), Transport: ft})
		if err != nil {
			t.Fatal(err)
		}
		st := &starts{}
		svc.onStart = st.hook
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- svc.Run(ctx) }()
		time.Sleep(time.Minute) // fake time inside the bubble
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		phases := map[time.Duration]bool{}
		for _, name := range []string{"a", "b", "c"} {
			runs := st.by[name]
			if len(runs) < 5 || len(runs) > 6 {
				t.Errorf("%s ran %d times in a minute at 10s", name, len(runs))
			}
			for i := 1; i < len(runs); i++ {
				if d := runs[i].Sub(runs[i-1]); d != 10*time.Second {
					t.Errorf("%s: gap %s between runs", name, d)
				}
			}
			if len(runs) > 0 {
				phases[time.Duration(runs[0].UnixNano())%(10*time.Second)] = true
			}
		}
		if len(phases) != 3 {
			t.Errorf("start phases not spread: %v", phases)
		}
		for _, l := range st.late {
			if l != 0 {
				t.Errorf("lateness %s under fake time", l)
			}
		}
	})
}

func TestSchedulerConcurrencyCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{delay: 2 * time.Second}
		svc, _ := New(Options{
			Probes:    httpProbes(t, []string{"a", "b", "c", "d", "e"}, "10s"),
			Transport: ft, Settings: config.ProbeSettings{MaxConcurrent: 2},
		})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- svc.Run(ctx) }()
		time.Sleep(35 * time.Second)
		cancel()
		<-done
		if got := ft.maxInF.Load(); got > 2 {
			t.Errorf("max in flight = %d, want at most 2", got)
		}
		if ft.calls.Load() < 10 {
			t.Errorf("only %d requests", ft.calls.Load())
		}
	})
}

func TestServiceStateResultsAndReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var broken atomic.Bool
		broken.Store(true)
		ft := &fakeTransport{status: func(r *http.Request) int {
			if r.URL.Host == "a.test" && broken.Load() {
				return 503
			}
			return 200
		}}
		reg := prometheus.NewRegistry()
		rec := &recorder{}
		store := NewMemoryStore()
		svc, err := New(Options{Probes: httpProbes(t, []string{"a", "b"}, "10s"), Transport: ft, Registerer: reg, Outcomes: rec, States: rec, Store: store})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- svc.Run(ctx) }()

		time.Sleep(31 * time.Second) // three runs each
		synctest.Wait()
		list, _ := svc.List(ctx)
		if len(list) != 2 || list[0].Name != "a" || !list[0].Failing || list[1].Failing {
			t.Fatalf("list = %+v", list)
		}
		if list[0].LastRun == nil || list[0].LastRun.Error != "expected status 2xx, got 503" || list[0].Since == nil {
			t.Errorf("a = %+v, last run %+v", list[0], list[0].LastRun)
		}
		runsOfA := list[0].Failures
		res, err := svc.Results(ctx, "a", 2, "")
		if err != nil || len(res) != 2 || res[0].ID <= res[1].ID {
			t.Fatalf("results = %v %v", res, err)
		}
		older, _ := svc.Results(ctx, "a", 10, res[1].ID)
		if len(older) != runsOfA-2 {
			t.Errorf("before cursor: %d runs", len(older))
		}
		if _, err := svc.Results(ctx, "nope", 0, ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown probe: %v", err)
		}
		if _, err := svc.RunOnce(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown probe: %v", err)
		}
		_, states := rec.snapshot()
		failing, was := 0, false
		for _, s := range states {
			if s.Probe == "a" && s.Failing != was {
				was = s.Failing
				failing++
				if s.Step != "s" || s.Labels["location"] != "local" {
					t.Errorf("state = %+v", s)
				}
			}
		}
		if failing != 1 {
			t.Errorf("a turned failing %d times, want 1 (after the third run)", failing)
		}

		// Recovery after two passing runs.
		broken.Store(false)
		time.Sleep(20 * time.Second)
		synctest.Wait()
		list, _ = svc.List(ctx)
		if list[0].Failing {
			t.Errorf("a still failing after two passes: %+v", list[0])
		}

		// Reload without b: its series go, a keeps its state.
		svc.Reload(httpProbes(t, []string{"a"}, "10s"))
		time.Sleep(time.Second)
		synctest.Wait()
		if n := testutil.CollectAndCount(svc.metrics.success); n != 1 {
			t.Errorf("probe_success series after reload = %d, want 1", n)
		}
		list, _ = svc.List(ctx)
		if len(list) != 1 || list[0].Successes < 2 {
			t.Errorf("list after reload = %+v", list)
		}
		if _, err := svc.Results(ctx, "b", 0, ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("removed probe still answers: %v", err)
		}
		cancel()
		<-done
		svc.Close()
		if _, err := New(Options{Registerer: reg}); err != nil {
			t.Errorf("re-register after Close: %v", err)
		}
	})
}

func TestStateRestoredFromStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := NewMemoryStore()
		js := httpProbes(t, []string{"a"}, "10s")
		now := time.Now()
		var g idGen
		for i := 0; i < 3; i++ {
			at := now.Add(time.Duration(i-3) * time.Minute)
			_ = store.SaveRun(t.Context(), Result{ID: g.next(at), Probe: "a", At: at, Success: false, Error: "down"})
		}
		ft := &fakeTransport{delay: time.Hour}
		svc, _ := New(Options{Probes: js, Store: store, Transport: ft})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- svc.Run(ctx) }()
		synctest.Wait()
		list, _ := svc.List(ctx)
		if !list[0].Failing || list[0].LastRun == nil {
			t.Errorf("restored state = %+v", list[0])
		}
		cancel()
		<-done
	})
}

func TestNextSlot(t *testing.T) {
	iv, off := 10*time.Second, 3*time.Second
	base := time.Unix(1000, 0)
	tests := []struct{ at, want time.Time }{
		{base, time.Unix(1003, 0)},
		{time.Unix(1003, 0), time.Unix(1003, 0)},
		{time.Unix(1003, 1), time.Unix(1013, 0)},
	}
	for _, tc := range tests {
		if got := nextSlot(tc.at, iv, off); !got.Equal(tc.want) {
			t.Errorf("nextSlot(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
}
