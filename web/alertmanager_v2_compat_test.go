package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/alerting/alertingtest"
	"github.com/sentinel-oss/sentinel/internal/testutil"
)

const (
	compatAlerts  = `[{"labels":{"alertname":"CompatTest"}}]`
	compatSilence = `{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2026-12-06T00:00:00Z","endsAt":"2027-01-01T00:00:00Z","createdBy":"x","comment":"c"}`
	noHeader      = "\x00none" // the request carries no Content-Type at all
)

// amRequestCases are requests refused (or taken) by what surrounds the
// body: its Content-Type, and the silence ID in the path. Each holds
// Alertmanager 0.25's answer: the status and, when want is set, the exact
// {"code", "message"} body; TestAlertmanagerAPIRequestsMatchRealAlertmanager
// checks the table against the real binary, TestAlertmanagerAPIRequests
// checks Sentinel against the table.
var amRequestCases = []struct {
	name, method, path, contentType, body string
	// chunked sends the body without a declared length.
	chunked bool
	status  int
	code    int
	want    string
}{
	{"alerts as text", "POST", "/api/v2/alerts", "text/plain", compatAlerts, false,
		415, 415, `unsupported media type "text/plain", only [application/json] are allowed`},
	{"alerts without a Content-Type", "POST", "/api/v2/alerts", noHeader, compatAlerts, false,
		415, 415, `unsupported media type "application/octet-stream", only [application/json] are allowed`},
	{"alerts as text, mixed case with a charset", "POST", "/api/v2/alerts", "TEXT/Plain; charset=X", compatAlerts, false,
		415, 415, `unsupported media type "text/plain", only [application/json] are allowed`},
	{"alerts as a form", "POST", "/api/v2/alerts", "application/x-www-form-urlencoded", compatAlerts, false,
		415, 415, `unsupported media type "application/x-www-form-urlencoded", only [application/json] are allowed`},
	{"alerts as a +json type", "POST", "/api/v2/alerts", "application/merge-patch+json", compatAlerts, false,
		415, 415, `unsupported media type "application/merge-patch+json", only [application/json] are allowed`},
	{"alerts as text, chunked", "POST", "/api/v2/alerts", "text/plain", compatAlerts, true,
		415, 415, `unsupported media type "text/plain", only [application/json] are allowed`},
	{"alerts with two media types", "POST", "/api/v2/alerts", "application/json, text/plain", compatAlerts, false,
		400, 400, `parsing Content-Type header from "application/json, text/plain" failed, because mime: unexpected content after media subtype`},
	{"alerts with a parameter without value", "POST", "/api/v2/alerts", "application/json; foo", compatAlerts, false,
		400, 400, `parsing Content-Type header from "application/json; foo" failed, because mime: invalid media parameter`},
	{"alerts as JSON with a charset", "POST", "/api/v2/alerts", "application/json; charset=utf-8", compatAlerts, false, 200, 0, ""},
	{"alerts as JSON in capitals", "POST", "/api/v2/alerts", "APPLICATION/JSON", compatAlerts, false, 200, 0, ""},
	{"alerts as JSON with a stray semicolon", "POST", "/api/v2/alerts", "application/json;", compatAlerts, false, 200, 0, ""},
	{"alerts as JSON, chunked", "POST", "/api/v2/alerts", "application/json", compatAlerts, true, 200, 0, ""},
	{"no alerts as text", "POST", "/api/v2/alerts", "text/plain", "", false,
		422, 602, `alerts in body is required`},
	{"no alerts without a Content-Type", "POST", "/api/v2/alerts", noHeader, "", false,
		422, 602, `alerts in body is required`},
	{"silence as text", "POST", "/api/v2/silences", "text/plain", compatSilence, false,
		415, 415, `unsupported media type "text/plain", only [application/json] are allowed`},
	{"silence without a Content-Type", "POST", "/api/v2/silences", noHeader, compatSilence, false,
		415, 415, `unsupported media type "application/octet-stream", only [application/json] are allowed`},
	{"silence with a bad header", "POST", "/api/v2/silences", "application/json; foo", compatSilence, false,
		400, 400, `parsing Content-Type header from "application/json; foo" failed, because mime: invalid media parameter`},
	{"silence as JSON with a charset", "POST", "/api/v2/silences", "application/json; charset=utf-8", compatSilence, false, 200, 0, ""},
	{"silence by a word", "GET", "/api/v2/silence/abc", "", "", false,
		422, 601, `silenceID in path must be of type uuid: "abc"`},
	{"expire by a word", "DELETE", "/api/v2/silence/abc", "", "", false,
		422, 601, `silenceID in path must be of type uuid: "abc"`},
	{"silence by a number", "GET", "/api/v2/silence/12345", "", "", false,
		422, 601, `silenceID in path must be of type uuid: "12345"`},
	{"silence by a quoted word", "GET", "/api/v2/silence/a%22b", "", "", false,
		422, 601, `silenceID in path must be of type uuid: "a\"b"`},
	{"silence by a UUID in braces", "GET", "/api/v2/silence/%7B49d4816d-f1b6-4fa5-afa1-b7cfab61cf94%7D", "", "", false,
		422, 601, `silenceID in path must be of type uuid: "{49d4816d-f1b6-4fa5-afa1-b7cfab61cf94}"`},
	{"silence by a UUID URN", "GET", "/api/v2/silence/urn:uuid:49d4816d-f1b6-4fa5-afa1-b7cfab61cf94", "", "", false,
		422, 601, `silenceID in path must be of type uuid: "urn:uuid:49d4816d-f1b6-4fa5-afa1-b7cfab61cf94"`},
	{"silence by a UUID one digit short", "GET", "/api/v2/silence/49d4816d-f1b6-4fa5-afa1-b7cfab61cf9", "", "", false,
		422, 601, `silenceID in path must be of type uuid: "49d4816d-f1b6-4fa5-afa1-b7cfab61cf9"`},
	{"silence by an unknown UUID", "GET", "/api/v2/silence/49d4816d-f1b6-4fa5-afa1-b7cfab61cf95", "", "", false, 404, 0, ""},
	{"silence by an unknown UUID in capitals", "GET", "/api/v2/silence/49D4816D-F1B6-4FA5-AFA1-B7CFAB61CF95", "", "", false, 404, 0, ""},
	{"silence by an unknown UUID without hyphens", "GET", "/api/v2/silence/49d4816df1b64fa5afa1b7cfab61cf95", "", "", false, 404, 0, ""},
	{"silence by an unknown UUID with some hyphens", "GET", "/api/v2/silence/49d4816df1b6-4fa5-afa1b7cfab61cf95", "", "", false, 404, 0, ""},
}

// checkAMRequestAnswer compares one answer with its case: the status,
// and for a refusal with a message, the decoded {"code", "message"}.
func checkAMRequestAnswer(t *testing.T, who string, i int, status int, body []byte) {
	t.Helper()
	tt := amRequestCases[i]
	if status != tt.status {
		t.Errorf("%s, %s: status %d %s, want %d", who, tt.name, status, body, tt.status)
		return
	}
	if tt.want == "" {
		return
	}
	var got struct {
		Code    *int
		Message string
	}
	if err := json.Unmarshal(body, &got); err != nil || got.Code == nil {
		t.Errorf("%s, %s: body %s is not {\"code\", \"message\"}", who, tt.name, body)
		return
	}
	if *got.Code != tt.code || got.Message != tt.want {
		t.Errorf("%s, %s: code %d message %q, want code %d message %q", who, tt.name, *got.Code, got.Message, tt.code, tt.want)
	}
}

func amCaseBody(i int) io.Reader {
	tt := amRequestCases[i]
	if tt.chunked {
		return io.MultiReader(strings.NewReader(tt.body)) // no length known
	}
	return strings.NewReader(tt.body)
}

// TestAlertmanagerAPIRequests: Sentinel answers every case as the table
// (Alertmanager) does, behind its own tokens.
func TestAlertmanagerAPIRequests(t *testing.T) {
	f := amErrorsFixture(t, 64<<10)
	for i, tt := range amRequestCases {
		tok := tokViewer
		switch {
		case strings.HasSuffix(tt.path, "/alerts"):
			tok = tokIngest
		case tt.method != "GET":
			tok = tokResponder
		}
		var hdr []string
		if tt.contentType != noHeader && tt.contentType != "" {
			hdr = []string{"Content-Type", tt.contentType}
		}
		rec := f.do(t, tt.method, tt.path, tok, amCaseBody(i), hdr...)
		checkAMRequestAnswer(t, "Sentinel", i, rec.Code, rec.Body.Bytes())
	}
}

// TestAlertmanagerAPIRequestsMatchRealAlertmanager sends the same requests
// to Debian's prometheus-alertmanager: its statuses, codes and messages
// are the table's.
func TestAlertmanagerAPIRequestsMatchRealAlertmanager(t *testing.T) {
	bin := testutil.RequireTool(t, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	am := alertingtest.StartAlertmanager(t, bin, "http://127.0.0.1:9/", "unused")
	for i, tt := range amRequestCases {
		req, err := http.NewRequest(tt.method, am.URL+tt.path, amCaseBody(i))
		if err != nil {
			t.Fatal(err)
		}
		if tt.contentType != noHeader && tt.contentType != "" {
			req.Header.Set("Content-Type", tt.contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		checkAMRequestAnswer(t, "Alertmanager", i, resp.StatusCode, body)
	}
}

// TestAlertmanagerAPIRequestsSentinelOnly covers what Alertmanager has no
// counterpart for, or answers differently on purpose.
func TestAlertmanagerAPIRequestsSentinelOnly(t *testing.T) {
	f := amErrorsFixture(t, 1024)
	// Tokens come first: no token is 401 whatever the body's type or the ID.
	for _, tt := range []struct{ method, path string }{{"POST", "/api/v2/alerts"}, {"POST", "/api/v2/silences"}, {"GET", "/api/v2/silence/abc"}, {"DELETE", "/api/v2/silence/abc"}} {
		if rec := f.do(t, tt.method, tt.path, "", strings.NewReader(compatAlerts), "Content-Type", "text/plain"); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d %s", tt.method, tt.path, rec.Code, rec.Body)
		}
	}
	// Expiring an unknown silence is 404 here (Alertmanager answers 500).
	rec := f.do(t, "DELETE", "/api/v2/silence/49d4816d-f1b6-4fa5-afa1-b7cfab61cf95", tokResponder, nil)
	if rec.Code != http.StatusNotFound {
		t.Errorf("expiring an unknown silence: %d %s", rec.Code, rec.Body)
	}
	// A chunked JSON body over the limit is still 413 once read.
	big := `[` + strings.Repeat(`{"labels":{"a":"b"}},`, 100) + `{"labels":{"a":"b"}}]`
	rec = f.do(t, "POST", "/api/v2/alerts", tokIngest, io.MultiReader(strings.NewReader(big)), "Content-Type", "application/json; charset=utf-8")
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked over the limit: %d %s", rec.Code, rec.Body)
	}
	// A silence made through the API v2 is read, then expired, by its ID,
	// and Sentinel's own API keeps its 404 for an ID of any form.
	rec = f.do(t, "POST", "/api/v2/silences", tokResponder, strings.NewReader(compatSilence), "Content-Type", "application/json; charset=utf-8")
	var made struct{ SilenceID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &made); rec.Code != 200 || err != nil || !amUUID.MatchString(made.SilenceID) {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	for _, id := range []string{made.SilenceID, strings.ToUpper(made.SilenceID)} {
		rec = f.do(t, "GET", "/api/v2/silence/"+id, tokViewer, nil)
		if id != made.SilenceID {
			// Sentinel's IDs are lower case; another spelling passes the
			// format check and is then simply not found.
			if rec.Code != http.StatusNotFound {
				t.Errorf("GET by %s: %d %s", id, rec.Code, rec.Body)
			}
			continue
		}
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"id":"`+made.SilenceID+`"`) {
			t.Errorf("GET by %s: %d %s", id, rec.Code, rec.Body)
		}
	}
	if rec = f.do(t, "DELETE", "/api/v2/silence/"+made.SilenceID, tokResponder, nil); rec.Code != 200 {
		t.Errorf("expire: %d %s", rec.Code, rec.Body)
	}
	if rec = f.do(t, "GET", "/api/v1/silences/abc", tokViewer, nil); rec.Code != http.StatusNotFound {
		t.Errorf("v1 by a word: %d %s", rec.Code, rec.Body)
	}
}

// TestAMHasBody: a body is what go-openapi counts as one, and a peeked
// byte is read again.
func TestAMHasBody(t *testing.T) {
	for _, tt := range []struct {
		name string
		req  func() *http.Request
		want bool
	}{
		{"declared length", func() *http.Request { return httptest.NewRequest("POST", "/", strings.NewReader("[]")) }, true},
		{"empty", func() *http.Request { return httptest.NewRequest("POST", "/", strings.NewReader("")) }, false},
		{"no body", func() *http.Request { return httptest.NewRequest("POST", "/", nil) }, false},
		{"chunked", func() *http.Request {
			return httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader("[1]")))
		}, true},
		{"chunked empty", func() *http.Request { return httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader(""))) }, false},
		{"length zero declared", func() *http.Request {
			r := httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader("x")))
			r.Header.Set("Content-Length", "0")
			return r
		}, false},
	} {
		r := tt.req()
		got, err := amHasBody(r)
		if err != nil || got != tt.want {
			t.Errorf("%s: %v %v, want %v", tt.name, got, err, tt.want)
			continue
		}
		if tt.name == "chunked" {
			if b, _ := io.ReadAll(r.Body); string(b) != "[1]" {
				t.Errorf("chunked: the body reads %q after the peek", b)
			}
		}
	}
}
