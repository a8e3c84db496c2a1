package web

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/incidents/postmortem"
)

func TestUIReportsNeedASession(t *testing.T) {
	u := newUIFixture(t)
	for _, p := range []string{"/reports/slos?month=2026-03", "/reports/slos.csv", "/reports/slos.md", "/reports/incidents", "/reports/incidents.json", "/settings"} {
		rec := u.get(t, p, "")
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login?next=") {
			t.Errorf("GET %s without a session = %d to %q", p, rec.Code, rec.Header().Get("Location"))
		}
	}
}

func TestUIReports(t *testing.T) {
	u := newUIFixture(t)
	cookie := u.signIn(t, tokViewer)
	rec := u.get(t, "/reports/slos?month=2026-03", cookie)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "SLO report: March 2026") {
		t.Fatalf("report = %d %s", rec.Code, rec.Body)
	}
	rec = u.get(t, "/reports/slos.csv?month=2026-03", cookie)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		rec.Header().Get("Content-Disposition") != `attachment; filename="slo-report-2026-03.csv"` || !strings.HasPrefix(rec.Body.String(), "month,slo,") {
		t.Errorf("csv = %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = u.get(t, "/reports/slos.md?month=2026-03", cookie)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/markdown") || !strings.HasPrefix(rec.Body.String(), "# SLO report: March 2026") {
		t.Errorf("markdown = %d %s", rec.Code, rec.Body)
	}
	for _, p := range []string{"/reports/slos?month=2026-3", "/reports/slos.csv?month=next", "/reports/slos?month=2099-01", "/reports/incidents?from=yesterday",
		"/reports/incidents?from=2026-03-01&to=2026-02-01", "/reports/incidents?from=2020-01-01&to=2026-02-01"} {
		if rec := u.get(t, p, cookie); rec.Code != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", p, rec.Code)
		}
	}
	rec = u.get(t, "/reports/incidents?from=2026-02-01&to=2026-02-28", cookie)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `value="2026-02-28"`) {
		t.Errorf("incident report = %d", rec.Code)
	}
	// Its JSON link works in the session that shows the page.
	link := regexp.MustCompile(`href="(/reports/incidents\.json[^"]*)"`).FindStringSubmatch(rec.Body.String())
	if link == nil {
		t.Fatal("the incident report has no JSON link")
	}
	rec = u.get(t, html.UnescapeString(link[1]), cookie)
	var rep postmortem.Report
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") || err != nil ||
		!rep.From.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) || !rep.To.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("incident report JSON = %d %s %v %+v", rec.Code, rec.Header().Get("Content-Type"), err, rep)
	}
	if rec := u.get(t, "/reports/incidents.json?from=2026-03-01&to=2026-02-01", cookie); rec.Code != http.StatusBadRequest {
		t.Errorf("JSON with a bad range = %d, want 400", rec.Code)
	}
}

// fakeReports reports the range it is asked for.
type fakeReports struct{}

func (fakeReports) Report(_ context.Context, from, to time.Time) (postmortem.Report, error) {
	return postmortem.Report{From: from, To: to, BySeverity: map[string]int{}}, nil
}

// The viewer's zone: the browser's by default (the script writes it into
// the cookie), or one chosen in the settings; times follow it.
func TestUITimeZone(t *testing.T) {
	u := newUIFixture(t)
	cookie := u.signIn(t, tokViewer)
	page := func(zone string) string {
		rec := u.do(t, http.MethodGet, "/incidents/7", "", nil, "Cookie", SessionCookie+"="+cookie+"; sentinel_tz="+zone)
		if rec.Code != http.StatusOK {
			t.Fatalf("page = %d", rec.Code)
		}
		return rec.Body.String()
	}
	// 11:00 UTC is noon in Berlin and 06:00 in New York on 1 March.
	if p := page(url.QueryEscape("auto:Europe/Berlin")); !strings.Contains(p, "Mar 1 12:00 CET") || !strings.Contains(p, `data-tz="Europe/Berlin"`) ||
		!strings.Contains(p, "(your browser's zone)") {
		t.Errorf("Berlin page lacks its times")
	}
	if p := page("America%2FNew_York"); !strings.Contains(p, "Mar 1 06:00 EST") || strings.Contains(p, "your browser") {
		t.Errorf("New York page lacks its times")
	}
	for _, bad := range []string{"..%2F..%2Fetc%2Fpasswd", "Mars%2FOlympus", strings.Repeat("A", 300)} {
		if p := page(bad); !strings.Contains(p, `data-tz="UTC"`) {
			t.Errorf("zone %q was not ignored", bad)
		}
	}

	rec := u.get(t, "/settings", cookie)
	csrf := csrfOf(t, rec.Body.String())
	rec = u.form(t, "/settings", cookie, url.Values{"csrf": {csrf}, "mode": {"zone"}, "zone": {"Asia/Tokyo"}})
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Set-Cookie"), "sentinel_tz=Asia%2FTokyo") {
		t.Errorf("save = %d %q", rec.Code, rec.Header().Get("Set-Cookie"))
	}
	rec = u.form(t, "/settings", cookie, url.Values{"csrf": {csrf}, "mode": {"zone"}, "zone": {"Nowhere/Town"}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "is not a time zone") || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("bad zone = %d %s", rec.Code, rec.Body)
	}
	if rec := u.form(t, "/settings", cookie, url.Values{"mode": {"auto"}}); rec.Code != http.StatusForbidden {
		t.Errorf("save without CSRF = %d", rec.Code)
	}
	rec = u.form(t, "/settings", cookie, url.Values{"csrf": {csrf}, "mode": {"auto"}})
	if !strings.Contains(rec.Header().Get("Set-Cookie"), "sentinel_tz=auto;") {
		t.Errorf("auto = %q", rec.Header().Get("Set-Cookie"))
	}

	// The script the pages load is served, cached for good, and allowed by the CSP.
	body := u.get(t, "/incidents/7", cookie).Body.String()
	m := regexp.MustCompile(`<script src="(/ui/tz\.[0-9a-f]+\.js)" defer>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no zone script on the page")
	}
	rec = u.get(t, m[1], "")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") || !strings.Contains(rec.Body.String(), "sentinel_tz") {
		t.Errorf("script = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if csp := u.get(t, "/incidents/7", cookie).Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}
}
