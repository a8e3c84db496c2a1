package web

import (
	"context"
	"net/http"
	"testing"

	"github.com/sentinel-oss/sentinel/probes"
)

// fakeProbes serves one probe, "shop", whose run "R1" kept a screenshot of
// its failing step "pay".
type fakeProbes struct{}

func (fakeProbes) List(context.Context) ([]probes.Status, error) { return nil, nil }

func (fakeProbes) Results(context.Context, string, int, string) ([]probes.Result, error) {
	return nil, nil
}

func (fakeProbes) Screenshot(_ context.Context, name, run, step string) ([]byte, error) {
	switch {
	case name != "shop":
		return nil, probes.ErrNotFound
	case run == "R1" && (step == "" || step == "pay"):
		return []byte("\x89PNG\r\n\x1a\nimage"), nil
	}
	return nil, probes.ErrNoScreenshot
}

func TestProbeScreenshotEndpoint(t *testing.T) {
	f := newFixture(t, nil)
	MountProbes(f.srv.Routes(), fakeProbes{})
	tests := []struct {
		name, target, token string
		status              int
	}{
		{"main screenshot", "/api/v1/probes/shop/runs/R1/screenshot", tokViewer, http.StatusOK},
		{"step screenshot", "/api/v1/probes/shop/runs/R1/screenshot?step=pay", tokViewer, http.StatusOK},
		{"no screenshot for the step", "/api/v1/probes/shop/runs/R1/screenshot?step=home", tokViewer, http.StatusNotFound},
		{"no screenshot for the run", "/api/v1/probes/shop/runs/R2/screenshot", tokViewer, http.StatusNotFound},
		{"unknown probe", "/api/v1/probes/nope/runs/R1/screenshot", tokViewer, http.StatusNotFound},
		{"ingest may not read", "/api/v1/probes/shop/runs/R1/screenshot", tokIngest, http.StatusForbidden},
		{"anonymous", "/api/v1/probes/shop/runs/R1/screenshot", "", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(t, http.MethodGet, tc.target, tc.token, nil)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body.String())
			}
			if tc.status == http.StatusOK {
				if ct := rec.Header().Get("Content-Type"); ct != "image/png" {
					t.Errorf("Content-Type = %q", ct)
				}
				return
			}
			if e := errorOf(t, rec); e.Error == "" {
				t.Error("empty error message")
			}
		})
	}
}
