package postmortem_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/postmortem"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/runbooks"
)

func TestDiagnosticsPickTheIncidentsRunbook(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	diag := func(path string) []runbooks.Diagnostic {
		return []runbooks.Diagnostic{{Name: path, HTTP: &runbooks.HTTPDiagnostic{URL: srv.URL + path, ExpectStatus: 200, Timeout: model.Duration(1e9)}}}
	}
	cat := runbooks.New(
		runbooks.Runbook{Name: "named", Title: "N", Diagnostics: diag("/up")},
		runbooks.Runbook{Name: "by-alert", Title: "A", Alerts: []string{"CheckoutDown"}, Diagnostics: diag("/down")},
		runbooks.Runbook{Name: "by-labels", Title: "L", Labels: model.Labels{"service": "search"}, Diagnostics: diag("/up")},
	)
	fi := &fakeIncidents{incs: map[int64]*incidents.Incident{}}
	d, err := postmortem.NewDiagnostics(postmortem.DiagnosticsOptions{Runbooks: cat, Notes: fi, Env: runbooks.DiagnosticEnv{Client: srv.Client()}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		inc  *incidents.Incident
		want string // runbook, "" for none
		ok   bool
	}{
		{"the alert's runbook wins", &incidents.Incident{Runbook: "named", Alerts: []incidents.Alert{{Name: "CheckoutDown"}}}, "named", true},
		{"a missing runbook falls back to matching", &incidents.Incident{Runbook: "gone", Alerts: []incidents.Alert{{Name: "CheckoutDown"}}}, "by-alert", false},
		{"declared, by labels", &incidents.Incident{Labels: model.Labels{"service": "search"}}, "by-labels", true},
		{"nothing applies", &incidents.Incident{Labels: model.Labels{"service": "cart"}}, "", false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.inc.ID = int64(i + 1)
			fi.notes = nil
			res := d.Diagnose(t.Context(), c.inc)
			if c.want == "" {
				if len(res) != 0 || len(fi.notes) != 0 {
					t.Fatalf("ran %v", res)
				}
				return
			}
			if len(res) != 1 || res[0].OK != c.ok || len(fi.notes) != 1 || !strings.HasPrefix(fi.notes[0], "sentinel: runbook "+c.want+": diagnostic") {
				t.Errorf("results %+v notes %v", res, fi.notes)
			}
		})
	}
}
