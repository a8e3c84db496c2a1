package logship

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
	"github.com/prometheus/client_golang/prometheus"
)

// pushed is one line as a Loki receiver saw it.
type pushed struct {
	labels map[string]string
	at     time.Time
	line   string
}

// receiver is a loopback Loki push endpoint decoding the real wire format:
// a snappy-compressed protobuf logproto.PushRequest.
type receiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	lines    []pushed
	requests int
	tenant   string
	user     string
	pass     string
	bodies   []string
	errs     []string
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/loki/api/v1/push" }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.fail("read body: %v", err)
		return
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		r.fail("snappy: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var pr push.PushRequest
	if err := pr.Unmarshal(raw); err != nil {
		r.fail("protobuf: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		r.fail("content type %q", ct)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	r.tenant = req.Header.Get("X-Scope-OrgID")
	r.user, r.pass, _ = req.BasicAuth()
	r.bodies = append(r.bodies, string(raw))
	for _, s := range pr.Streams {
		ls, err := parseLabels(s.Labels)
		if err != nil {
			r.errs = append(r.errs, err.Error())
			continue
		}
		for _, e := range s.Entries {
			r.lines = append(r.lines, pushed{labels: ls, at: e.Timestamp, line: e.Line})
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (r *receiver) got() []pushed {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]pushed(nil), r.lines...)
	// Streams (one per label set) arrive in any order; entries carry the
	// time they were logged.
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

func (r *receiver) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.errs {
		t.Errorf("receiver: %s", e)
	}
}

// parseLabels reads a stream selector as loki-client-go writes it:
// {a="x", b="y"}.
func parseLabels(s string) (map[string]string, error) {
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("labels %q: want {...}", s)
	}
	s = s[1 : len(s)-1]
	out := map[string]string{}
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("labels: no = in %q", s)
		}
		name := s[:eq]
		q, err := strconv.QuotedPrefix(s[eq+1:])
		if err != nil {
			return nil, fmt.Errorf("labels: value of %s: %v", name, err)
		}
		v, _ := strconv.Unquote(q)
		out[name] = v
		s = strings.TrimPrefix(s[eq+1+len(q):], ", ")
	}
	return out, nil
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// metricValue reads one sample from reg; reason selects the label when the
// metric has one.
func metricValue(t *testing.T, reg prometheus.Gatherer, name, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := reason == ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "reason" && lp.GetValue() == reason {
					match = true
				}
			}
			if !match {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s{reason=%q} not found", name, reason)
	return 0
}
