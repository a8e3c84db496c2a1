package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestEveryChangeIsAudited walks the route table: every state-changing
// API route, called with a person's token (admin, so every role check
// passes), leaves an audit entry naming that token and the route, whatever
// the answer; machine input on ingest routes, Slack's own endpoints (the
// bot records those) and public storefront beacons are left out. A wrong
// sign-in on the dashboards' form is recorded too, and the log is read
// back through GET /api/v1/audit, which only admins may use.
func TestEveryChangeIsAudited(t *testing.T) {
	cfg := testConfig(t, `    - {name: watcher, token: watcher-token-0123456789, role: viewer}
`)
	a, err := New(context.Background(), Options{Config: cfg, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	started(t, a)
	base := a.URL()
	machine := regexp.MustCompile(`^(/api/v1/(alertmanager|heartbeats/|slos/[^/]+/events)|/api/v2/alerts$|/api/v1/changes$|/slack/|/rum/|/status)`)
	param := regexp.MustCompile(`:[a-z_]+|\*[a-z_]+`)
	var want []string
	for _, rt := range a.Routes() {
		switch rt.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			continue
		}
		if !strings.HasPrefix(rt.Path, "/api/") && !strings.HasPrefix(rt.Path, "/-/") {
			continue // dashboard forms and sign-in: below
		}
		if machine.MatchString(rt.Path) {
			continue
		}
		path := param.ReplaceAllString(rt.Path, "1")
		code, _ := call(t, rt.Method, base+path, adminToken, map[string]any{})
		if code == http.StatusUnauthorized || code >= 500 && code != http.StatusServiceUnavailable {
			t.Errorf("%s %s: %d", rt.Method, path, code)
		}
		want = append(want, rt.Method+" "+rt.Path)
	}
	if len(want) < 15 {
		t.Fatalf("only %d state-changing API routes found: %v", len(want), want)
	}
	// A wrong token on the sign-in form.
	form := strings.NewReader("token=not-a-token-0123456789")
	resp, err := http.Post(base+"/login", "application/x-www-form-urlencoded", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	code, body := call(t, http.MethodGet, base+"/api/v1/audit?limit=1000", adminToken, nil)
	if code != http.StatusOK {
		t.Fatalf("audit: %d %s", code, body)
	}
	var got struct {
		Entries []struct {
			Actor, Role, Channel, Action, Outcome string
			SourceIP                              string `json:"source_ip"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range got.Entries {
		if e.Actor == "admin" && e.Channel == "api" && e.Role == "admin" && e.SourceIP == "127.0.0.1" {
			seen[e.Action] = true
		}
		if e.Action == "POST /login" && e.Actor == "unknown token" && e.Outcome == "401" && e.Channel == "ui" {
			seen["login"] = true
		}
	}
	for _, w := range append(want, "login") {
		if !seen[w] {
			t.Errorf("no audit entry by admin for %s", w)
		}
	}
	if code, _ := call(t, http.MethodGet, base+"/api/v1/audit", "watcher-token-0123456789", nil); code != http.StatusForbidden {
		t.Fatalf("a viewer read the audit log: %d", code)
	}
	if code, _ := call(t, http.MethodGet, base+"/api/v1/audit?channel=fax", adminToken, nil); code != http.StatusBadRequest {
		t.Fatalf("bad channel: %d", code)
	}
}
