package incidents_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
	"github.com/sentinel-oss/sentinel/model"
)

func samplePage() incidents.Notification {
	return incidents.Notification{
		Key: "incident/7/e1/p0/s0/schedule:primary/mail", Kind: incidents.KindPage,
		Incident: &incidents.Incident{ID: 7, Title: "checkout is down\r\nBcc: evil@example.com", Severity: model.SeverityCritical,
			Status: incidents.StatusTriggered, CreatedAt: t0, Runbook: "checkout-down"},
		Target:     oncall.Target{Kind: oncall.TargetSchedule, Name: "primary"},
		Recipients: []oncall.Person{{Name: "alice", Email: "alice@shop.example.com"}},
	}
}

// smtpReceiver is a minimal loopback SMTP server that records messages.
type smtpReceiver struct {
	ln    net.Listener
	mu    sync.Mutex
	rcpts []string
	data  []string
	// rejectRcpt answers RCPT with this line when set.
	rejectRcpt string
}

func newSMTPReceiver(t *testing.T) *smtpReceiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &smtpReceiver{ln: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

func (r *smtpReceiver) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	say := func(s string) { _, _ = io.WriteString(c, s+"\r\n") }
	say("220 test ESMTP")
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-test\r\n250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO"):
			if r.rejectRcpt != "" {
				say(r.rejectRcpt)
				continue
			}
			r.mu.Lock()
			r.rcpts = append(r.rcpts, strings.TrimSpace(line[len("RCPT TO:"):]))
			r.mu.Unlock()
			say("250 ok")
		case cmd == "DATA":
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			r.mu.Lock()
			r.data = append(r.data, b.String())
			r.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 unknown")
		}
	}
}

func emailPager(t *testing.T, r *smtpReceiver) *incidents.EmailPager {
	host, port, _ := net.SplitHostPort(r.ln.Addr().String())
	p := atoi(port)
	return incidents.NewEmailPager(config.PagerConfig{Name: "mail", Type: "email", From: "sentinel@shop.example.com", To: []string{"oncall@shop.example.com"},
		SMTP: config.SMTP{Host: host, Port: p, TLS: "none"}})
}

func TestEmailPager(t *testing.T) {
	r := newSMTPReceiver(t)
	p := emailPager(t, r)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := p.Deliver(ctx, samplePage()); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if strings.Join(r.rcpts, ",") != "<alice@shop.example.com>,<oncall@shop.example.com>" {
		t.Errorf("recipients %v", r.rcpts)
	}
	msg := r.data[0]
	for _, want := range []string{"Subject: [CRITICAL] #7 checkout is down  Bcc: evil@example.com\r\n", "X-Sentinel-Idempotency-Key: incident/7/e1/p0/s0/schedule:primary/mail", "paging: schedule:primary -> alice", "runbook: checkout-down"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if head, _, _ := strings.Cut(msg, "\r\n\r\n"); strings.Contains(head, "\r\nBcc:") {
		t.Errorf("header injection:\n%s", msg)
	}
}

func TestEmailPagerPermanentAndTemporaryErrors(t *testing.T) {
	r := newSMTPReceiver(t)
	r.rejectRcpt = "550 no such user"
	err := emailPager(t, r).Deliver(t.Context(), samplePage())
	if !errors.Is(err, incidents.ErrPermanent) {
		t.Errorf("550: %v", err)
	}
	r2 := newSMTPReceiver(t)
	r2.rejectRcpt = "451 try later"
	err = emailPager(t, r2).Deliver(t.Context(), samplePage())
	if err == nil || errors.Is(err, incidents.ErrPermanent) {
		t.Errorf("451: %v", err)
	}
	// Nothing listening: a retryable error, bounded by the context.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	_ = ln.Close()
	host, port, _ := net.SplitHostPort(addr)
	p := incidents.NewEmailPager(config.PagerConfig{Name: "mail", From: "a@b.example", SMTP: config.SMTP{Host: host, Port: atoi(port), TLS: "none"}})
	if err := p.Deliver(t.Context(), samplePage()); err == nil || errors.Is(err, incidents.ErrPermanent) {
		t.Errorf("connection refused: %v", err)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestWebhookPager(t *testing.T) {
	var mu sync.Mutex
	var got []incidents.WebhookPayload
	status := []int{http.StatusTooManyRequests, http.StatusBadRequest, http.StatusBadGateway, http.StatusOK}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer s3cret-token" || r.Header.Get("Idempotency-Key") == "" || r.Header.Get("X-Team") != "shop" {
			t.Errorf("headers %v", r.Header)
		}
		var p incidents.WebhookPayload
		_ = json.NewDecoder(r.Body).Decode(&p)
		got = append(got, p)
		code := status[0]
		status = status[1:]
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "3")
		}
		w.WriteHeader(code)
	}))
	defer srv.Close()
	p := incidents.NewWebhookPager(config.PagerConfig{Name: "hook", URL: srv.URL, Headers: map[string]string{"X-Team": "shop"}, BearerToken: config.NewSecret("s3cret-token")}, srv.Client())
	n := samplePage()
	var ra *incidents.RetryAfterError
	if err := p.Deliver(t.Context(), n); !errors.As(err, &ra) || ra.After != 3*time.Second {
		t.Errorf("429: %v", err)
	}
	if err := p.Deliver(t.Context(), n); !errors.Is(err, incidents.ErrPermanent) {
		t.Errorf("400: %v", err)
	}
	if err := p.Deliver(t.Context(), n); err == nil || errors.Is(err, incidents.ErrPermanent) {
		t.Errorf("502: %v", err)
	}
	if err := p.Deliver(t.Context(), n); err != nil {
		t.Errorf("200: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 4 || got[3].Key != n.Key || got[3].Kind != "page" || got[3].Notification.Incident.ID != 7 {
		t.Errorf("payload %+v", got[3])
	}
}

// An entry whose text already names its actor ("acknowledged by X") is not
// followed by "by X" again; one that does not name them still is.
func TestBodyNamesEventActorOnce(t *testing.T) {
	n := samplePage()
	n.Kind = incidents.KindAcknowledged
	n.Events = []incidents.TimelineEntry{
		{At: t0, Kind: incidents.KindAcknowledged, Actor: "demo-admin", Text: "acknowledged by demo-admin"},
		{At: t0, Kind: incidents.KindNote, Actor: "bob", Text: "looking at the database"},
	}
	body := incidents.Body(n)
	if strings.Contains(body, "by demo-admin by demo-admin") {
		t.Errorf("actor named twice:\n%s", body)
	}
	for _, want := range []string{"event: acknowledged by demo-admin at ", "event: looking at the database by bob at "} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

// TestImpactWordsSayAProjectedBudget checks that the budget left of an
// events SLO whose allowance is still projected says so in every pager's
// words, and only then.
func TestImpactWordsSayAProjectedBudget(t *testing.T) {
	left, ttl := 0.621, (7800 * time.Second).Seconds()
	s := incidents.SLOImpact{Name: "orders", BudgetConsumed: 0.012, BudgetRemaining: &left, TimeToExhaustion: &ttl, BudgetProjected: true}
	if got, want := s.Words(), "this incident spent 1.2% of the budget; 62.1% left (projected), which lasts 2.2 h at the current rate"; got != want {
		t.Errorf("projected\n got %q\nwant %q", got, want)
	}
	s.TimeToExhaustion = nil
	if got, want := s.Words(), "this incident spent 1.2% of the budget; 62.1% left (projected), not burning now"; got != want {
		t.Errorf("projected, not burning\n got %q\nwant %q", got, want)
	}
	over := -0.25
	s.BudgetRemaining = &over
	if got, want := s.Words(), "this incident spent 1.2% of the budget; the budget is spent (-25% left, projected)"; got != want {
		t.Errorf("projected, overspent\n got %q\nwant %q", got, want)
	}
	s.BudgetProjected, s.BudgetRemaining = false, &left
	if got, want := s.Words(), "this incident spent 1.2% of the budget; 62.1% left, not burning now"; got != want {
		t.Errorf("counted\n got %q\nwant %q", got, want)
	}
	// With the minutes counted, the line names them: an incident resolved
	// at 23:59:30 counts to the end of that minute, the next day.
	s.CountedFrom, s.CountedTo = time.Date(2026, 12, 6, 23, 58, 0, 0, time.UTC), time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	if got, want := s.Words(), "this incident spent 1.2% of the budget (counted over the whole minutes 2026-12-06 23:58 to 2026-12-07 00:00 UTC); 62.1% left, not burning now"; got != want {
		t.Errorf("with minutes\n got %q\nwant %q", got, want)
	}
	// Only one end known (an impact from before they were recorded): no
	// span is made up.
	s.CountedFrom = time.Time{}
	if got := s.Words(); strings.Contains(got, "counted") {
		t.Errorf("half a span: %q", got)
	}
}
