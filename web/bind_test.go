package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

type declareReq struct {
	Title    string            `json:"title"`
	Severity string            `json:"severity"`
	Count    int               `json:"count"`
	Labels   map[string]string `json:"labels"`
	Nested   struct {
		Deep []int `json:"deep"`
	} `json:"nested"`
	Wait model.Duration `json:"wait"`
}

func TestBindJSON(t *testing.T) {
	f := newFixture(t, nil) // server limit 1024
	var got declareReq
	f.srv.Routes().Public().POST("/t/bind", func(c *gin.Context) {
		got = declareReq{}
		if err := BindJSON(c, &got, 200); err != nil {
			return
		}
		c.Status(http.StatusNoContent)
	})
	cases := []struct {
		name   string
		ctype  string
		body   string
		want   int
		inText string
	}{
		{"ok", "application/json", `{"title":"down","count":2,"labels":{"a":"b"}}`, 204, ""},
		{"ok charset", "application/json; charset=utf-8", `{"title":"x"}`, 204, ""},
		{"ok +json", "application/vnd.sentinel+json", `{"title":"x"}`, 204, ""},
		{"no content type", "", `{"title":"x"}`, 415, "Content-Type must be application/json"},
		{"form", "application/x-www-form-urlencoded", `title=x`, 415, "x-www-form-urlencoded"},
		{"unknown field", "application/json", `{"titel":"x"}`, 400, `unknown field "titel" (byte 1)`},
		{"wrong type", "application/json", `{"count":"two"}`, 400, `field "count": expected an integer, got JSON string`},
		{"wrong nested type", "application/json", `{"nested":{"deep":[1,"x"]}}`, 400, `field "nested.deep[1]": expected an integer, got JSON string (byte 21)`},
		{"wrong label value", "application/json", `{"labels":{"a":"b","c":5}}`, 400, `field "labels.c": expected a string, got JSON number (byte 23)`},
		{"unknown nested field", "application/json", `{"nested":{"deep":[],"deeper":1}}`, 400, `field "nested": unknown field "deeper" (byte 21)`},
		{"wrong top-level", "application/json", `[1,2]`, 400, "the body: expected an object"},
		{"syntax", "application/json", `{"title":}`, 400, "malformed JSON at byte 10"},
		{"truncated", "application/json", `{"title":"x"`, 400, "ends in the middle"},
		{"empty", "application/json", ``, 400, "empty"},
		{"two values", "application/json", `{"title":"x"} {"title":"y"}`, 400, "single JSON value"},
		{"trailing garbage", "application/json", `{"title":"x"} xyz`, 400, "single JSON value"},
		{"trailing space ok", "application/json", "{\"title\":\"x\"}\n  ", 204, ""},
		{"custom decoder error", "application/json", `{"title":"x","wait":-5}`, 400, `field "wait": duration must not be negative (byte 20)`},
		{"over route limit", "application/json", `{"title":"` + strings.Repeat("x", 300) + `"}`, 413, "200 bytes"},
		{"over server limit", "application/json", `{"title":"` + strings.Repeat("x", 2000) + `"}`, 413, "1024 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{}
			if tc.ctype != "" {
				hdr = append(hdr, "Content-Type", tc.ctype)
			}
			rec := f.do(t, http.MethodPost, "/t/bind", "", strings.NewReader(tc.body), hdr...)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body.String())
			}
			if tc.want >= 400 {
				if b := errorOf(t, rec); !strings.Contains(b.Error, tc.inText) {
					t.Fatalf("error %q lacks %q", b.Error, tc.inText)
				}
			}
		})
	}
	// Limits apply to chunked bodies too (no Content-Length): over the
	// route limit through BindJSON's own reader.
	req := httptest.NewRequest(http.MethodPost, "/t/bind", chunkedReader{strings.NewReader(`{"title":"` + strings.Repeat("x", 300) + `"}`)})
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Fatalf("chunked over route limit: %d %s", rec.Code, rec.Body.String())
	}
}

func FuzzBindJSON(f *testing.F) {
	for _, s := range []string{`{"title":"x"}`, `{"count":1e400}`, `{"nested":{"deep":[1]}}`, `{`, `"x"`, `{"wait":30}`, `{"labels":{"a":1}}`} {
		f.Add(s)
	}
	gin.SetMode(gin.ReleaseMode)
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		c.Request.Header.Set("Content-Type", "application/json")
		var dst declareReq
		err := BindJSON(c, &dst, 1<<16)
		if err == nil {
			return
		}
		if rec.Code != 400 && rec.Code != 413 {
			t.Fatalf("body %q: status %d (%v)", body, rec.Code, err)
		}
	})
}

// Domain-style error types using the kind interfaces.
type missingProbe struct{ name string }

func (e missingProbe) Error() string  { return fmt.Sprintf("probe %q not found", e.name) }
func (e missingProbe) NotFound() bool { return true }

type badField struct{}

func (badField) Error() string { return "severity: must be critical, warning or info" }
func (badField) Invalid() bool { return true }

type stale struct{}

func (stale) Error() string   { return "incident changed since you read it" }
func (stale) Conflict() bool  { return true }
func (stale) NotFound() bool  { return false }
func (stale) Something() bool { return true }

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int
		text string
	}{
		{"invalid kind", fmt.Errorf("%w: limit must be 1..500", ErrInvalid), 400, "limit must be 1..500"},
		{"not found kind", fmt.Errorf("incident 42: %w", ErrNotFound), 404, "incident 42: not found"},
		{"conflict kind", fmt.Errorf("ack: %w", ErrConflict), 409, "ack: conflict"},
		{"unavailable kind", fmt.Errorf("store read-only: %w", ErrUnavailable), 503, "store read-only"},
		{"NotFound method", fmt.Errorf("get: %w", missingProbe{"checkout"}), 404, `probe "checkout" not found`},
		{"Invalid method", badField{}, 400, "severity: must be"},
		{"Conflict method", stale{}, 409, "changed since"},
		{"config problems", config.Problems{{Path: "x", Message: "bad"}}, 400, "x: bad"},
		{"max bytes", fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 77}), 413, "77 bytes"},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), 504, "timed out"},
		{"plain error hides text", errors.New("pq: password authentication failed for user x"), 500, "internal error"},
		{"nil", nil, 500, "internal error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
			Error(c, tc.err)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			b := errorOf(t, rec)
			if !strings.Contains(b.Error, tc.text) {
				t.Fatalf("message %q lacks %q", b.Error, tc.text)
			}
			if tc.want == 500 && b.Error != "internal error" {
				t.Fatalf("500 leaks %q", b.Error)
			}
			if !c.IsAborted() {
				t.Fatal("Error did not abort the chain")
			}
		})
	}
}
