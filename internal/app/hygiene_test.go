package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// raw sends body as it is (bytes a JSON encoder would not produce).
func raw(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAPIInputHygiene sends the real API what its rules refuse: invalid
// UTF-8, NUL and right-to-left overrides in titles and labels, duplicate
// keys; each is a 400 naming the field and nothing is stored. Then empty
// and unchanged postmortem saves are refused without a new version, and a
// real change still saves.
func TestAPIInputHygiene(t *testing.T) {
	a, err := New(context.Background(), Options{Config: testConfig(t, "postmortems: {required_for: [critical]}\n"), Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	started(t, a)
	base := a.URL()
	for _, tc := range []struct{ name, body, want string }{
		{"invalid UTF-8", "{\"title\":\"checkout \xff down\",\"severity\":\"critical\"}", `field \"title\": invalid UTF-8`},
		{"NUL in the title", `{"title":"checkout\u0000down","severity":"critical"}`, `field \"title\": the NUL character`},
		{"RLO in the title", `{"title":"checkout \u202enwod","severity":"critical"}`, `field \"title\": the bidirectional control character U+202E`},
		{"RLO in a label", `{"title":"x","severity":"critical","labels":{"service":"\u202ekcehc"}}`, `field \"labels.service\"`},
		{"duplicate key", `{"title":"x","severity":"critical","severity":"info"}`, `the key \"severity\" appears twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := raw(t, "POST", base+"/api/v1/incidents", adminToken, tc.body)
			if code != 400 || !strings.Contains(body, tc.want) {
				t.Fatalf("POST /api/v1/incidents = %d %s, want 400 with %s", code, body, tc.want)
			}
		})
	}
	if _, body := get(t, base+"/api/v1/incidents", adminToken); strings.Contains(body, `"id"`) {
		t.Fatalf("a refused incident was stored: %s", body)
	}

	if code, body := raw(t, "POST", base+"/api/v1/incidents", adminToken, `{"title":"Checkout down","severity":"critical"}`); code != 201 {
		t.Fatalf("declare: %d %s", code, body)
	}
	if code, body := raw(t, "POST", base+"/api/v1/incidents/1/resolve", adminToken, ``); code != 200 {
		t.Fatalf("resolve: %d %s", code, body)
	}
	pmURL := base + "/api/v1/incidents/1/postmortem"
	_, body := get(t, pmURL, adminToken)
	version := jsonField(t, body, "version")
	summary := jsonField(t, body, "summary")
	for _, tc := range []struct{ name, body string }{
		{"null", `null`},
		{"empty object", `{}`},
		{"only a version", `{"version":` + version + `}`},
		{"unchanged summary", `{"summary":` + quote(summary) + `}`},
	} {
		t.Run("postmortem "+tc.name, func(t *testing.T) {
			code, body := raw(t, "PUT", pmURL, adminToken, tc.body)
			if code != 400 || !strings.Contains(body, "nothing") {
				t.Fatalf("PUT %s = %d %s, want 400 saying it changes nothing", tc.body, code, body)
			}
		})
	}
	if _, body := get(t, pmURL, adminToken); jsonField(t, body, "version") != version {
		t.Fatalf("refused saves changed the version: %s -> %s", version, jsonField(t, body, "version"))
	}
	code, body := raw(t, "PUT", pmURL, adminToken, `{"version":`+version+`,"root_cause":"a bad deploy"}`)
	if code != 200 || jsonField(t, body, "version") == version {
		t.Fatalf("a real edit: %d %s", code, body)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
