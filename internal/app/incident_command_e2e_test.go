package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const ciToken = "ci-ingest-token-0123456789abcdef"

// TestIncidentCommandThroughTheAPI: a title, severity and commander set,
// a note and a public update written through the API of the whole app
// all reach the incident's timeline and its postmortem's Markdown.
func TestIncidentCommandThroughTheAPI(t *testing.T) {
	cfg := testConfig(t, `    - {name: alice, token: `+aliceToken+`, role: responder}
    - {name: ci, token: `+ciToken+`, role: ingest}
people: [{name: alice, email: alice@example.com}, {name: carol, email: carol@example.com}]
`)
	a, err := New(context.Background(), Options{Config: cfg, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	started(t, a)
	deployed := time.Now().Add(-12 * time.Minute).UTC().Format(time.RFC3339)
	for _, ch := range []map[string]any{
		{"service": "checkout", "title": "v42", "kind": "deploy", "url": "https://ci.example.com/runs/42", "at": deployed},
		{"service": "checkout", "title": "v41", "kind": "deploy", "at": time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339)},
		{"service": "search", "title": "ranking flag on", "kind": "feature_flag", "at": deployed},
	} {
		if code, body := call(t, http.MethodPost, a.URL()+"/api/v1/changes", ciToken, ch); code != http.StatusCreated {
			t.Fatalf("change: %d %s", code, body)
		}
	}
	code, body := call(t, http.MethodPost, a.URL()+"/api/v1/incidents", aliceToken, map[string]any{"title": "Checkout slow", "severity": "warning", "labels": map[string]string{"service": "checkout"}})
	if code != http.StatusCreated {
		t.Fatalf("declare: %d %s", code, body)
	}
	var inc struct {
		ID int64 `json:"id"`
	}
	_ = json.Unmarshal(body, &inc)
	incURL := fmt.Sprintf("%s/api/v1/incidents/%d", a.URL(), inc.ID)
	_, body = call(t, http.MethodGet, incURL, adminToken, nil)
	var got struct {
		Changes []struct{ Title, Words string } `json:"changes"`
	}
	if err := json.Unmarshal(body, &got); err != nil || len(got.Changes) != 1 || got.Changes[0].Words != "deploy checkout: v42, 12 min before" {
		t.Fatalf("incident changes = %+v (%v): only checkout's v42 is within two hours", got.Changes, err)
	}
	steps := []struct {
		method, path string
		body         map[string]any
		want         int
	}{
		{http.MethodPatch, "", map[string]any{"title": "Card payments fail", "severity": "critical", "commander": "carol@example.com"}, 200},
		{http.MethodPatch, "", map[string]any{"commander": "mallory"}, 400},
		{http.MethodPost, "/notes", map[string]any{"text": "rolled back v42 at 10:42"}, 201},
		{http.MethodPost, "/updates", map[string]any{"text": "A fix is rolling out.", "public": true}, 201},
		{http.MethodPost, "/resolve", nil, 200},
	}
	for _, s := range steps {
		if code, body := call(t, s.method, incURL+s.path, aliceToken, s.body); code != s.want {
			t.Fatalf("%s %s%s = %d %s, want %d", s.method, incURL, s.path, code, body, s.want)
		}
	}
	code, body = call(t, http.MethodGet, incURL+"/postmortem.md", adminToken, nil)
	if code != http.StatusOK {
		t.Fatalf("postmortem: %d %s", code, body)
	}
	md := string(body)
	for _, want := range []string{
		"# Postmortem: #1 Card payments fail", "| Severity | critical |", "| Commander | carol |",
		"| alice | carol leads the incident (named by alice) |",
		"| alice | rolled back v42 at 10:42 |",
		"| alice | public update by alice: A fix is rolling out. |",
		"## Changes before the incident\n\n- " + strings.Replace(deployed, "T", " ", 1)[:19] + " UTC: deploy checkout: v42, 12 min before ([link](<https://ci.example.com/runs/42>))",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("postmortem lacks %q:\n%s", want, md)
		}
	}
}
