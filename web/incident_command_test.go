package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sentinel-oss/sentinel/audit"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/model"
)

func TestIncidentCommandEndpoints(t *testing.T) {
	f, _ := newIncidentFixture(t)
	send := func(method, path, token, body string) (int, string) {
		rec := f.do(t, method, path, token, strings.NewReader(body), "Content-Type", jsonCT)
		return rec.Code, rec.Body.String()
	}
	if code, body := send("POST", "/api/v1/incidents", tokResponder, `{"title":"Checkout slow","severity":"warning"}`); code != 201 || !strings.Contains(body, `"severity":"warning","urgency":"high",`) {
		t.Fatalf("declare (a policy without urgency: every incident is high urgency): %d %s", code, body)
	}
	tests := []struct {
		name, method, path, token, body string
		want                            int
		contains                        string
	}{
		{"patch", "PATCH", "/api/v1/incidents/1", tokResponder, `{"title":"Checkout fails","severity":"critical","commander":"carol"}`, 200, `"commander":"carol"`},
		{"patch keeps absent", "PATCH", "/api/v1/incidents/1", tokResponder, `{"commander":null,"severity":"critical"}`, 200, `"title":"Checkout fails"`},
		{"patch empty", "PATCH", "/api/v1/incidents/1", tokResponder, `{}`, 400, "nothing to change"},
		{"patch bad severity", "PATCH", "/api/v1/incidents/1", tokResponder, `{"severity":"sev1"}`, 400, "severity"},
		{"patch blank title", "PATCH", "/api/v1/incidents/1", tokResponder, `{"title":" "}`, 400, "title is required"},
		{"patch stranger", "PATCH", "/api/v1/incidents/1", tokResponder, `{"commander":"mallory"}`, 400, "commander"},
		{"patch unknown field", "PATCH", "/api/v1/incidents/1", tokResponder, `{"lead":"carol"}`, 400, "unknown field"},
		{"patch wrong type", "PATCH", "/api/v1/incidents/1", tokResponder, `{"title":7}`, 400, "title"},
		{"patch missing", "PATCH", "/api/v1/incidents/9", tokResponder, `{"title":"x"}`, 404, ""},
		{"viewer cannot patch", "PATCH", "/api/v1/incidents/1", tokViewer, `{"title":"x"}`, 403, ""},
		{"anonymous cannot note", "POST", "/api/v1/incidents/1/notes", "", `{"text":"x"}`, 401, ""},
		{"note", "POST", "/api/v1/incidents/1/notes", tokResponder, `{"text":"rolled back v42 at 10:42"}`, 201, `"kind":"note","actor":"r","text":"rolled back v42 at 10:42"`},
		{"note empty", "POST", "/api/v1/incidents/1/notes", tokResponder, `{"text":""}`, 400, "text is required"},
		{"note huge body", "POST", "/api/v1/incidents/1/notes", tokResponder, `{"text":"` + strings.Repeat("x", 70000) + `"}`, 413, "limit"},
		{"update", "POST", "/api/v1/incidents/1/updates", tokResponder, `{"text":"A fix is rolling out.","public":true}`, 201, `"update":{"at":"2026-03-25T10:00:00Z","text":"A fix is rolling out.","public":true,"author":"r"}`},
		{"update public wrong type", "POST", "/api/v1/incidents/1/updates", tokResponder, `{"text":"x","public":"yes"}`, 400, "public"},
		{"update empty", "POST", "/api/v1/incidents/1/updates", tokResponder, `{"public":true}`, 400, "text is required"},
		{"viewer cannot update", "POST", "/api/v1/incidents/1/updates", tokViewer, `{"text":"x"}`, 403, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := send(tc.method, tc.path, tc.token, tc.body)
			if code != tc.want || !strings.Contains(body, tc.contains) {
				t.Errorf("%s %s = %d %.300s; want %d containing %q", tc.method, tc.path, code, body, tc.want, tc.contains)
			}
		})
	}
	rec := f.do(t, "GET", "/api/v1/incidents/1", tokViewer, nil)
	var got IncidentDTO
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range got.Timeline {
		kinds = append(kinds, e.Kind)
	}
	want := "declared paged title_changed severity_changed commander_changed note stakeholder_update"
	if strings.Join(kinds, " ") != want || got.Commander == nil || *got.Commander != "carol" || len(got.Updates) != 1 {
		t.Fatalf("incident after commands: timeline %v, commander %v, updates %+v", kinds, got.Commander, got.Updates)
	}
}

func fuzzIncidentMethod(f *testing.F, method, path string, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fx, svc := newIncidentFixture(t)
		if _, err := svc.Declare(t.Context(), declareForFuzz, "r"); err != nil {
			t.Fatal(err)
		}
		rec := fx.do(t, method, path, tokResponder, strings.NewReader(body), "Content-Type", jsonCT)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q = %d %s", method, path, body, rec.Code, rec.Body.String())
		}
	})
}

func FuzzEditIncident(f *testing.F) {
	fuzzIncidentMethod(f, http.MethodPatch, "/api/v1/incidents/1", `{"title":"x","severity":"critical","commander":"carol"}`, `{"commander":""}`, `{"severity":null}`, `[]`)
}

func FuzzIncidentNote(f *testing.F) {
	fuzzIncidentMethod(f, http.MethodPost, "/api/v1/incidents/1/notes", `{"text":"rolled back"}`, `{"text":"\u0000"}`, `{"text":1}`)
}

func FuzzIncidentUpdate(f *testing.F) {
	fuzzIncidentMethod(f, http.MethodPost, "/api/v1/incidents/1/updates", `{"text":"fix rolling out","public":true}`, `{"public":false}`)
}

var declareForFuzz = incidents.DeclareRequest{Title: "fuzzed"}

// TestIncidentEditAuditsBeforeAfter: a PATCH's audit entry holds the
// changed fields' values before and after; unchanged fields are left out
// and a refused PATCH records none.
func TestIncidentEditAuditsBeforeAfter(t *testing.T) {
	f, _ := newIncidentFixture(t)
	st := &memAuditStore{}
	f.srv.SetAudit(audit.New(st, nil, nil))
	send := func(method, path, body string) int {
		return f.do(t, method, path, tokResponder, strings.NewReader(body), "Content-Type", jsonCT).Code
	}
	if code := send("POST", "/api/v1/incidents", `{"title":"Checkout slow","severity":"warning"}`); code != 201 {
		t.Fatalf("declare = %d", code)
	}
	if code := send("PATCH", "/api/v1/incidents/1", `{"title":"Checkout slow","severity":"critical","commander":"carol"}`); code != 200 {
		t.Fatalf("patch = %d", code)
	}
	if code := send("PATCH", "/api/v1/incidents/1", `{"severity":"sev1"}`); code != 400 {
		t.Fatalf("bad patch = %d", code)
	}
	entries, err := st.List(t.Context(), 0, 10, func(audit.Entry) bool { return true })
	if err != nil || len(entries) != 3 {
		t.Fatalf("entries = %+v %v", entries, err)
	}
	var patches []audit.Entry
	for _, e := range entries {
		if e.Action == "PATCH /api/v1/incidents/:id" {
			patches = append(patches, e)
		}
	}
	if len(patches) != 2 {
		t.Fatalf("patch entries = %+v", patches)
	}
	ok, bad := patches[0], patches[1]
	if ok.Outcome != "200" {
		ok, bad = bad, ok
	}
	if ok.Before != `severity="warning" commander=""` || ok.After != `severity="critical" commander="carol"` {
		t.Errorf("before %q after %q", ok.Before, ok.After)
	}
	if bad.Outcome != "400" || bad.Before != "" || bad.After != "" {
		t.Errorf("refused patch entry = %+v", bad)
	}
	if code := send("POST", "/api/v1/oncall/overrides", `{"schedule":"primary","user":"carol","start":"2026-03-25T09:00:00Z","end":"2026-03-25T12:00:00Z"}`); code != 201 {
		t.Fatalf("override = %d", code)
	}
	last, _ := st.List(t.Context(), 0, 1, func(audit.Entry) bool { return true })
	if e := last[0]; e.Action != "POST /api/v1/oncall/overrides" || e.Before != "" || e.After != `schedule="primary" user="carol" start="2026-03-25T09:00:00Z" end="2026-03-25T12:00:00Z"` {
		t.Errorf("override entry = %+v", e)
	}
	long := strings.Repeat("é", 300)
	b, a := fieldChanges("title", "x", long)
	if err := audit.New(st, nil, nil).RecordChange(t.Context(), model.Actor{Name: "r", Channel: "api"}, "x", "", "200", "", b, a); err != nil {
		t.Fatal(err)
	}
	last, _ = st.List(t.Context(), 0, 1, func(audit.Entry) bool { return true })
	if len(last[0].After) > audit.MaxChange || !utf8.ValidString(last[0].After) || last[0].Before != `title="x"` {
		t.Errorf("long change kept as %d bytes (valid %v), before %q", len(last[0].After), utf8.ValidString(last[0].After), last[0].Before)
	}
}

// TestRemoveOverrideAPI: DELETE /api/v1/oncall/overrides/{id} needs a
// responder, answers the removed override, is audited with its fields
// as "before", and answers 404 once it is gone.
func TestRemoveOverrideAPI(t *testing.T) {
	f, _ := newIncidentFixture(t)
	st := &memAuditStore{}
	f.srv.SetAudit(audit.New(st, nil, nil))
	rec := f.do(t, "POST", "/api/v1/oncall/overrides", tokResponder, strings.NewReader(`{"schedule":"primary","user":"carol","start":"2026-03-25T09:00:00Z","end":"2026-03-25T12:00:00Z"}`), "Content-Type", jsonCT)
	var o struct{ ID, User string }
	if rec.Code != 201 || json.Unmarshal(rec.Body.Bytes(), &o) != nil || o.ID == "" {
		t.Fatalf("add = %d %s", rec.Code, rec.Body)
	}
	path := "/api/v1/oncall/overrides/" + o.ID
	if rec := f.do(t, "DELETE", path, tokViewer, nil); rec.Code != 403 {
		t.Fatalf("viewer delete = %d %s", rec.Code, rec.Body)
	}
	rec = f.do(t, "DELETE", path, tokResponder, nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"user":"carol"`) {
		t.Fatalf("delete = %d %s", rec.Code, rec.Body)
	}
	last, _ := st.List(t.Context(), 0, 1, func(audit.Entry) bool { return true })
	if e := last[0]; e.Action != "DELETE /api/v1/oncall/overrides/:override" || e.Target != "override="+o.ID || e.Outcome != "200" ||
		e.Before != `schedule="primary" user="carol" start="2026-03-25T09:00:00Z" end="2026-03-25T12:00:00Z"` || e.After != "" {
		t.Errorf("audit entry = %+v", e)
	}
	if rec := f.do(t, "GET", "/api/v1/oncall", tokViewer, nil); rec.Code != 200 || strings.Contains(rec.Body.String(), o.ID) {
		t.Errorf("on call after the removal = %d %s", rec.Code, rec.Body)
	}
	if rec := f.do(t, "DELETE", path, tokResponder, nil); rec.Code != 404 || !strings.Contains(rec.Body.String(), "no override") {
		t.Fatalf("delete again = %d %s", rec.Code, rec.Body)
	}
	if rec := f.do(t, "DELETE", "/api/v1/oncall/overrides/"+strings.Repeat("x", 300), tokResponder, nil); rec.Code != 404 {
		t.Fatalf("delete of a long id = %d %s", rec.Code, rec.Body)
	}
}
