package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestIncidentBodiesNameFieldAndByte: wrong-typed JSON to the incident
// endpoints and the postmortem is a 400 naming the field (with array
// indexes) and the byte offset of the value, and changes nothing.
func TestIncidentBodiesNameFieldAndByte(t *testing.T) {
	f, svc := newIncidentFixture(t)
	pms := &fakePostmortems{}
	MountPostmortems(f.srv.Routes(), pms)
	rec := f.do(t, http.MethodPost, "/api/v1/incidents", tokResponder, strings.NewReader(`{"title":"Checkout down","severity":"critical"}`), "Content-Type", jsonCT)
	if rec.Code != http.StatusCreated {
		t.Fatalf("declare: %d %s", rec.Code, rec.Body)
	}
	before, err := svc.Get(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, path, body string
		// want is the exact message; %d is the offset of at in body.
		want, at string
	}{
		{"POST", "/api/v1/incidents", `{"title": 5}`, `field "title": expected a string, got JSON number (byte %d)`, `5}`},
		{"POST", "/api/v1/incidents", `{"title": "x", "severity": ["x"]}`, `field "severity": severity must be a string (byte %d)`, `["x"]`},
		{"POST", "/api/v1/incidents", `{"title": "x", "severity": "loud"}`, `field "severity": unknown severity "loud" (want critical, warning or info) (byte %d)`, `"loud"`},
		{"POST", "/api/v1/incidents", `{"title": "x", "labels": ["a"]}`, `field "labels": expected an object, got JSON array (byte %d)`, `["a"]`},
		{"POST", "/api/v1/incidents", `{"title": "x", "labels": {"service": 5}}`, `field "labels.service": expected a string, got JSON number (byte %d)`, `5}`},
		{"PATCH", "/api/v1/incidents/1", `{"title": 5}`, `field "title": expected a string, got JSON number (byte %d)`, `5}`},
		{"PATCH", "/api/v1/incidents/1", `{"severity": ["x"]}`, `field "severity": severity must be a string (byte %d)`, `["x"]`},
		{"PATCH", "/api/v1/incidents/1", `{"severity": 2}`, `field "severity": severity must be a string (byte %d)`, `2}`},
		{"PATCH", "/api/v1/incidents/1", `{"commander": {"name": "bob"}}`, `field "commander": expected a string, got JSON object (byte %d)`, `{"name"`},
		{"POST", "/api/v1/incidents/1/notes", `{"text": ["x"]}`, `field "text": expected a string, got JSON array (byte %d)`, `["x"]`},
		{"PUT", "/api/v1/incidents/1/postmortem", `{"action_items": "x"}`, `field "action_items": expected an array, got JSON string (byte %d)`, `"x"`},
		{"PUT", "/api/v1/incidents/1/postmortem", `{"summary": 5}`, `field "summary": expected a string, got JSON number (byte %d)`, `5}`},
		{"PUT", "/api/v1/incidents/1/postmortem", `{"status": 5}`, `field "status": status must be a string (byte %d)`, `5}`},
		{"PUT", "/api/v1/incidents/1/postmortem", `{"status": "gone"}`, `field "status": status "gone": want draft, in_review or published (byte %d)`, `"gone"`},
		{"PUT", "/api/v1/incidents/1/postmortem", `{"version": "3"}`, `field "version": expected an integer, got JSON string (byte %d)`, `"3"`},
		{"PUT", "/api/v1/incidents/1/postmortem", `{"action_items": [{"title": "a"}, {"title": "b", "due": 5}]}`, `field "action_items[1].due": expected a string, got JSON number (byte %d)`, `5}`},
		{"PUT", "/api/v1/incidents/1/postmortem", `{"action_items": [{"title": "a", "titel": "b"}]}`, `field "action_items[0]": unknown field "titel" (byte %d)`, `"titel"`},
	}
	for _, c := range cases {
		rec := f.do(t, c.method, c.path, tokResponder, strings.NewReader(c.body), "Content-Type", jsonCT)
		want := fmt.Sprintf(c.want, strings.LastIndex(c.body, c.at))
		if rec.Code != http.StatusBadRequest || errorOf(t, rec).Error != want {
			t.Errorf("%s %s %s: %d %s, want 400 %q", c.method, c.path, c.body, rec.Code, rec.Body, want)
		}
	}
	// Nothing was changed or added by the refused bodies.
	inc, err := svc.Get(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Title != "Checkout down" || inc.Severity != "critical" || len(inc.Timeline) != len(before.Timeline) {
		t.Errorf("incident changed: %q %q, %d timeline entries", inc.Title, inc.Severity, len(inc.Timeline))
	}
	if pms.last.Status != nil || pms.last.Summary != nil || pms.last.ActionItems != nil || pms.last.Version != nil {
		t.Errorf("a refused postmortem edit reached the service: %+v", pms.last)
	}
	if _, err := svc.Get(t.Context(), 2); err == nil {
		t.Error("a refused declaration made incident #2")
	}
}
