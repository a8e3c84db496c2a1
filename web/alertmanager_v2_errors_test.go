package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/alerting/alertingtest"
	"github.com/sentinel-oss/sentinel/internal/testutil"
)

// amBodyCases are bodies Alertmanager's API v2 refuses, each with the
// status Alertmanager 0.25 answers and whether its body is go-openapi's
// {"code", "message"} (true) or the handler's JSON string (false).
var amBodyCases = []struct {
	name, path, body string
	status           int
	object           bool
	// want is Sentinel's exact message (at is replaced by the byte offset
	// of the value at fault).
	want, at string
}{
	{"bad time", "/api/v2/alerts", `[{"labels":{"a":"b"}},{"labels":{"a":"b"}},{"labels":{"a":"c"},"startsAt":"yesterday"}]`,
		400, true, `alerts[2].startsAt: "yesterday" is not an RFC 3339 time (byte %d)`, `"yesterday"`},
	{"month 13", "/api/v2/alerts", `[{"labels":{"a":"c"},"endsAt":"2026-13-01T00:00:00Z"}]`,
		400, true, `alerts[0].endsAt: "2026-13-01T00:00:00Z" is not an RFC 3339 time (byte %d)`, `"2026-13`},
	{"time as number", "/api/v2/alerts", `[{"labels":{"a":"b"}},{"labels":{"a":"b"},"endsAt":5}]`,
		400, true, `alerts[1].endsAt: expected an RFC 3339 time (a string), got JSON number (byte %d)`, `5}`},
	{"labels as a list", "/api/v2/alerts", `[{"labels":["a"]}]`,
		400, true, `alerts[0].labels: expected an object, got JSON array (byte %d)`, `"a"]`},
	{"generatorURL as number", "/api/v2/alerts", `[{"labels":{"a":"b"},"generatorURL":5}]`,
		400, true, `alerts[0].generatorURL: expected a string, got JSON number (byte %d)`, `5}`},
	{"not a list", "/api/v2/alerts", `{"labels":{"a":"b"}}`,
		400, true, `the body: expected an array, got JSON object (byte 1)`, ``},
	{"cut short", "/api/v2/alerts", `[{"labels":`,
		400, true, `malformed JSON: the body ends in the middle of a value`, ``},
	{"empty", "/api/v2/alerts", ``,
		422, true, `alerts in body is required`, ``},
	{"labels missing", "/api/v2/alerts", `[{"annotations":{"a":"b"}}]`,
		422, true, `0.labels in body is required`, ``},
	{"no label pairs", "/api/v2/alerts", `[{"labels":{}}]`,
		400, false, `invalid request: alerts[0]: labels: an alert needs labels`, ``},
	{"silence bad time", "/api/v2/silences", `{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"yesterday","endsAt":"2027-01-01T00:00:00Z","createdBy":"x","comment":"c"}`,
		400, true, `startsAt: "yesterday" is not an RFC 3339 time (byte %d)`, `"yesterday"`},
	{"silence matchers as text", "/api/v2/silences", `{"matchers":"x","startsAt":"2026-12-06T00:00:00Z","endsAt":"2027-01-01T00:00:00Z","createdBy":"x","comment":"c"}`,
		400, true, `matchers: expected an array, got JSON string (byte %d)`, `,"startsAt`},
	{"silence without author", "/api/v2/silences", `{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2026-12-06T00:00:00Z","endsAt":"2027-01-01T00:00:00Z","comment":"c"}`,
		422, true, `createdBy in body is required`, ``},
	{"silence empty", "/api/v2/silences", ``,
		422, true, `silence in body is required`, ``},
	{"silence ends first", "/api/v2/silences", `{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2027-01-02T00:00:00Z","endsAt":"2027-01-01T00:00:00Z","createdBy":"x","comment":"c"}`,
		400, false, `invalid request: Failed to create silence: start time must be before end time`, ``},
}

func amErrorsFixture(t *testing.T, maxBytes int64) *fixture {
	t.Helper()
	f := newFixture(t, func(o *Options) { o.Server.MaxBodyBytes = 1 << 20 })
	svc, err := alerting.New(alerting.Options{Store: alerting.NewMemoryStore(), Now: func() time.Time { return time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	MountAlertmanagerAPI(f.srv.Routes(), svc, AlertingLimits{WebhookMaxBytes: maxBytes, WebhookMaxAlerts: 50}, AlertmanagerAPIInfo{})
	return f
}

// amAnswer reads an API v2 refusal: its message, and whether it came as
// {"code", "message"} (checked against the status) or as a JSON string.
func amAnswer(t *testing.T, status int, body []byte) (msg string, object bool) {
	t.Helper()
	if err := checkAMErrorShape(status, body); err != nil {
		t.Fatal(err)
	}
	if json.Unmarshal(body, &msg) == nil {
		return msg, false
	}
	var obj struct{ Message string }
	_ = json.Unmarshal(body, &obj)
	return obj.Message, true
}

// TestAlertmanagerAPIBodyErrors: each refusal has Alertmanager's status and
// shape, and Sentinel's message names the alert, the field and the byte.
func TestAlertmanagerAPIBodyErrors(t *testing.T) {
	f := amErrorsFixture(t, 64<<10)
	for _, tt := range amBodyCases {
		tok := tokIngest
		if strings.Contains(tt.path, "silences") {
			tok = tokResponder
		}
		rec := f.do(t, "POST", tt.path, tok, strings.NewReader(tt.body), "Content-Type", "application/json")
		if rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, rec.Code, tt.status, rec.Body)
			continue
		}
		msg, object := amAnswer(t, rec.Code, rec.Body.Bytes())
		want := tt.want
		if tt.at != "" {
			want = fmt.Sprintf(tt.want, strings.Index(tt.body, tt.at))
		}
		if object != tt.object || msg != want {
			t.Errorf("%s: object %v message %q, want object %v message %q", tt.name, object, msg, tt.object, want)
		}
	}
}

// TestAlertmanagerAPITooLarge: over the route's limit (declared, or cut
// while reading a chunked body) and over server.max_body_bytes, the API v2
// answers 413 in go-openapi's shape, not Sentinel's {"error"} object.
func TestAlertmanagerAPITooLarge(t *testing.T) {
	f := amErrorsFixture(t, 1024)
	big := `[` + strings.Repeat(`{"labels":{"a":"b"}},`, 100) + `{"labels":{"a":"b"}}]`
	for _, tt := range []struct {
		name, path, tok, body string
		chunked               bool
		limit                 int
	}{
		{"alerts declared", "/api/v2/alerts", tokIngest, big, false, 1024},
		{"alerts chunked", "/api/v2/alerts", tokIngest, big, true, 1024},
		{"silence over the server limit", "/api/v2/silences", tokResponder, strings.Repeat(" ", 1<<20+1), false, 1 << 20},
		{"silence chunked", "/api/v2/silences", tokResponder, "{" + strings.Repeat(" ", 64<<10) + "}", true, 64 << 10},
	} {
		var body io.Reader = strings.NewReader(tt.body)
		if tt.chunked {
			body = io.MultiReader(body) // no length known: read until the limit cuts it
		}
		rec := f.do(t, "POST", tt.path, tt.tok, body, "Content-Type", "application/json")
		want := fmt.Sprintf(`{"code":413,"message":"request body too large: the limit is %d bytes"}`, tt.limit)
		if rec.Code != http.StatusRequestEntityTooLarge || strings.TrimSpace(rec.Body.String()) != want {
			t.Errorf("%s: %d %s, want 413 %s", tt.name, rec.Code, rec.Body, want)
		}
	}
	// Sentinel's own API keeps its error object.
	rec := f.do(t, "POST", "/api/v1/silences", tokResponder, strings.NewReader(strings.Repeat(" ", 1<<20+1)), "Content-Type", "application/json")
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `"error":"request body too large`) {
		t.Errorf("v1 over the limit: %d %s", rec.Code, rec.Body)
	}
}

// TestAlertmanagerAPIErrorsMatchRealAlertmanager posts the same bad bodies
// to Debian's prometheus-alertmanager: its status and body shape are the
// ones Sentinel answers with.
func TestAlertmanagerAPIErrorsMatchRealAlertmanager(t *testing.T) {
	bin := testutil.RequireTool(t, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	am := alertingtest.StartAlertmanager(t, bin, "http://127.0.0.1:9/", "unused")
	for _, tt := range amBodyCases {
		resp, err := http.Post(am.URL+tt.path, "application/json", bytes.NewReader([]byte(tt.body)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: Alertmanager answered %d %s, the case says %d", tt.name, resp.StatusCode, body, tt.status)
			continue
		}
		if _, object := amAnswer(t, resp.StatusCode, body); object != tt.object {
			t.Errorf("%s: Alertmanager's answer %s, the case says object %v", tt.name, body, tt.object)
		}
	}
}
