package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sentinel-oss/sentinel/model"
)

type memRecorder struct {
	mu  sync.Mutex
	got []string
}

func (m *memRecorder) Record(_ context.Context, a model.Actor, action, target, outcome, ip string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, strings.Join([]string{a.Name, a.Role, a.Channel, action, target, outcome, ip}, "|"))
	return nil
}

// TestDashboardChangesAreAudited: sign-ins (failed and not), a form that
// changes an incident and a sign-out are recorded with the session's
// token name and channel ui; pages read are not.
func TestDashboardChangesAreAudited(t *testing.T) {
	u := newUIFixture(t)
	rec := &memRecorder{}
	u.srv.SetAudit(rec)
	u.form(t, "/login", "", url.Values{"token": {"wrong-token-0123456789"}})
	cookie := u.signIn(t, tokResponder)
	page := u.get(t, "/incidents/7", cookie)
	csrf := csrfOf(t, page.Body.String())
	if r := u.form(t, "/incidents/7/acknowledge", cookie, url.Values{"csrf": {csrf}}); r.Code != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d", r.Code)
	}
	u.form(t, "/logout", cookie, url.Values{"csrf": {csrf}})
	want := []string{
		"unknown token||ui|POST /login||401|192.0.2.1",
		"r|responder|ui|POST /login||303|192.0.2.1",
		"r|responder|ui|POST /incidents/:id/:action|id=7 action=acknowledge|303|192.0.2.1",
		"r|responder|ui|POST /logout||303|192.0.2.1",
	}
	if got := strings.Join(rec.got, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("audit entries:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
