package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
)

// A postmortem counts real users on the incident's route when it has one,
// else on the whole site, over the whole minutes its window touches.
func TestPostmortemRealUsersByRoute(t *testing.T) {
	cfg, err := config.Parse("test.yaml", []byte(`server: {listen: 127.0.0.1:0}
storage: {path: `+filepath.Join(t.TempDir(), "s.db")+`}
rum:
  allowed_origins: [https://shop.example.com]
  site: shop
  routes: [/product/:id, /cart]
`), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), Options{Config: cfg, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.closeResources)
	from := time.Now()
	for _, body := range []string{
		`{"v":1,"session":"3f9a1c0b7d2e4a6b","events":[{"type":"page_view","url":"/cart"},{"type":"error","url":"/cart","message":"x is undefined"}]}`,
		`{"v":1,"session":"3f9a1c0b7d2e4a6b","events":[{"type":"page_view","url":"/product/1"}]}`,
		`{"v":1,"session":"3f9a1c0b7d2e4a6b","events":[{"type":"page_view","url":"/product/2"}]}`,
	} {
		r := httptest.NewRequest(http.MethodPost, "/rum/v1/beacons", bytes.NewReader([]byte(body)))
		r.Header.Set("Content-Type", "text/plain")
		r.Header.Set("Origin", "https://shop.example.com")
		r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36")
		w := httptest.NewRecorder()
		a.comps.rum.BeaconHandler().ServeHTTP(w, r)
		if w.Code != http.StatusAccepted {
			t.Fatalf("beacon %s: %d %s", body, w.Code, w.Body)
		}
	}
	if err := a.comps.rum.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	to := time.Now()
	src := lateRUM{a.comps}
	for _, c := range []struct {
		route         string
		views, errors float64
	}{{"", 3, 1}, {"/cart", 1, 1}, {"/product/:id", 2, 0}, {"/checkout", 0, 0}} {
		tr, err := src.Traffic(t.Context(), from, to, c.route)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Route != c.route || tr.PageViews != c.views || tr.JSErrors != c.errors {
			t.Errorf("route %q: %+v, want %v page views and %v errors", c.route, tr, c.views, c.errors)
		}
		if !tr.From.Equal(from.Truncate(time.Minute)) || tr.To.After(time.Now()) || tr.To.Before(to) {
			t.Errorf("route %q counted %s to %s for the window %s to %s", c.route, tr.From, tr.To, from, to)
		}
	}
}
