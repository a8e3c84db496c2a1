package incidents

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Subject is a one-line description of a notification, shared by the
// console and email pagers.
func Subject(n Notification) string {
	switch {
	case n.Kind == KindAnnouncement && n.Announcement != nil:
		return fmt.Sprintf("[%s] %s", n.Announcement.Severity, n.Announcement.Text)
	case n.Incident == nil:
		return string(n.Kind)
	case n.Kind == KindPage && n.LowUrgency():
		return fmt.Sprintf("[%s] #%d %s (low urgency)", strings.ToUpper(string(n.Incident.Severity)), n.Incident.ID, n.Incident.Title)
	case n.Kind == KindPage:
		return fmt.Sprintf("[%s] #%d %s", strings.ToUpper(string(n.Incident.Severity)), n.Incident.ID, n.Incident.Title)
	}
	what := string(n.Incident.Status)
	if n.Event != nil {
		what = n.Event.Text
	}
	return fmt.Sprintf("#%d %s: %s", n.Incident.ID, n.Incident.Title, what)
}

// Body is the readable text of a notification, shared by the console and
// email pagers.
func Body(n Notification) string {
	var b strings.Builder
	if n.Kind == KindAnnouncement && n.Announcement != nil {
		a := n.Announcement
		fmt.Fprintf(&b, "%s\n", a.Text)
		if len(a.Labels) > 0 {
			fmt.Fprintf(&b, "labels: %s\n", a.Labels)
		}
		return b.String()
	}
	inc := n.Incident
	if inc == nil {
		return ""
	}
	fmt.Fprintf(&b, "Incident #%d: %s\n", inc.ID, inc.Title)
	fmt.Fprintf(&b, "status: %s  severity: %s  urgency: %s  since: %s\n", inc.Status, inc.Severity, inc.UrgencyNow(), inc.CreatedAt.UTC().Format(time.RFC3339))
	if n.Kind == KindPage && n.LowUrgency() {
		b.WriteString("low urgency: you are notified once; it does not escalate or repeat by itself while it stays low urgency\n")
	}
	if n.Kind == KindPage {
		who := make([]string, 0, len(n.Recipients))
		for _, p := range n.Recipients {
			who = append(who, p.Name)
		}
		verb := "paging"
		if n.LowUrgency() {
			verb = "notifying"
		}
		fmt.Fprintf(&b, "%s: %s", verb, n.Target)
		if len(who) > 0 {
			fmt.Fprintf(&b, " -> %s", strings.Join(who, ", "))
		}
		fmt.Fprintf(&b, " (step %d", n.Step+1)
		if n.Pass > 0 {
			fmt.Fprintf(&b, ", repeat %d", n.Pass)
		}
		b.WriteString(")\n")
	}
	events := n.Events
	if len(events) == 0 && n.Event != nil {
		events = []TimelineEntry{*n.Event}
	}
	for _, e := range events {
		by := " by " + e.Actor
		if strings.Contains(e.Text, by[1:]) {
			by = "" // the text names them already ("acknowledged by alice")
		}
		fmt.Fprintf(&b, "event: %s%s at %s\n", e.Text, by, e.At.UTC().Format(time.RFC3339))
	}
	if inc.Summary != "" {
		fmt.Fprintf(&b, "summary: %s\n", inc.Summary)
	}
	if len(inc.Labels) > 0 {
		fmt.Fprintf(&b, "labels: %s\n", inc.Labels)
	}
	firing := firingAlerts(inc)
	if len(inc.Alerts) > 0 {
		fmt.Fprintf(&b, "alerts: %d firing of %d\n", len(firing), len(inc.Alerts))
	}
	for _, a := range inc.Alerts {
		fmt.Fprintf(&b, "  - %s %s", alertRef(a.Name, a.Labels), a.State)
		if sum := a.Annotations["summary"]; sum != "" {
			fmt.Fprintf(&b, ": %s", model.Clip(oneLine(sum), 300))
		}
		b.WriteString("\n")
		if d := a.Annotations["detail"]; d != "" && a.State == model.AlertFiring {
			fmt.Fprintf(&b, "    %s\n", model.Clip(oneLine(d), 300))
		}
	}
	for _, s := range n.SLOs {
		fmt.Fprintf(&b, "error budget of %s: %s\n", s.Name, s.Words())
	}
	if n.URL != "" {
		fmt.Fprintf(&b, "link: %s\n", n.URL)
	}
	runbook := inc.Runbook
	for _, l := range n.Links {
		switch {
		case l.URL == n.URL:
		case strings.HasPrefix(l.Title, "Runbook "):
			runbook += " (" + l.URL + ")"
		default:
			fmt.Fprintf(&b, "%s: %s\n", l.Title, l.URL)
		}
	}
	if inc.Runbook != "" {
		fmt.Fprintf(&b, "runbook: %s\n", runbook)
	}
	return b.String()
}

// oneLine folds text onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ConsolePager prints notifications readably to a writer (stderr by
// default): the pager Sentinel uses when nothing else is configured, and
// the last-resort fallback.
type ConsolePager struct {
	name string
	mu   sync.Mutex
	w    io.Writer
}

// NewConsolePager returns a console pager writing to w (nil: stderr).
func NewConsolePager(name string, w io.Writer) *ConsolePager {
	if w == nil {
		w = os.Stderr
	}
	return &ConsolePager{name: name, w: w}
}

// Name implements Pager.
func (c *ConsolePager) Name() string { return c.name }

// Deliver writes the notification as a framed block of text.
func (c *ConsolePager) Deliver(ctx context.Context, n Notification) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if n.IsRefresh() {
		return nil // nothing happened worth a line; the next event carries the view
	}
	var b strings.Builder
	label := "PAGE"
	if n.Kind == KindPage && n.LowUrgency() {
		label = "NOTICE" // not urgent: notified once
	}
	switch n.Kind {
	case KindUpdate:
		label = "UPDATE"
	case KindAnnouncement:
		label = "ANNOUNCEMENT"
	}
	fmt.Fprintf(&b, "==== SENTINEL %s: %s\n", label, Subject(n))
	for _, line := range strings.Split(strings.TrimRight(Body(n), "\n"), "\n") {
		if line != "" {
			fmt.Fprintf(&b, "     %s\n", line)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := io.WriteString(c.w, b.String())
	return err
}

// WebhookPager POSTs each notification as JSON. A 429 or 503 with
// Retry-After becomes a RetryAfterError; other 4xx answers are permanent.
type WebhookPager struct {
	name    string
	url     string
	headers map[string]string
	bearer  config.Secret
	client  *http.Client
}

// WebhookPayload is the JSON body the webhook pager sends.
type WebhookPayload struct {
	Version      string       `json:"version"`
	Key          string       `json:"idempotency_key"`
	Kind         string       `json:"kind"`
	Subject      string       `json:"subject"`
	Text         string       `json:"text"`
	Notification Notification `json:"notification"`
}

// NewWebhookPager builds a webhook pager; client nil means a dedicated
// client without a global transport.
func NewWebhookPager(cfg config.PagerConfig, client *http.Client) *WebhookPager {
	if client == nil {
		client = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 2, IdleConnTimeout: time.Minute}}
	}
	return &WebhookPager{name: cfg.Name, url: cfg.URL, headers: cfg.Headers, bearer: cfg.BearerToken, client: client}
}

// Name implements Pager.
func (w *WebhookPager) Name() string { return w.name }

// Deliver POSTs the notification; 2xx is success.
func (w *WebhookPager) Deliver(ctx context.Context, n Notification) error {
	body, err := json.Marshal(WebhookPayload{Version: "1", Key: n.Key, Kind: string(n.Kind), Subject: Subject(n), Text: Body(n), Notification: n})
	if err != nil {
		return fmt.Errorf("%w: encode webhook payload: %v", ErrPermanent, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: webhook request: %v", ErrPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", n.Key)
	req.Header.Set("User-Agent", "sentinel-pager")
	for k, v := range w.headers {
		req.Header.Set(k, v)
	}
	if w.bearer.IsSet() {
		req.Header.Set("Authorization", "Bearer "+w.bearer.Reveal())
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.name, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		err := fmt.Errorf("webhook %s answered %s", w.name, resp.Status)
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return RetryAfter(d, err)
		}
		return err
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout:
		return fmt.Errorf("%w: webhook %s answered %s", ErrPermanent, w.name, resp.Status)
	}
	return fmt.Errorf("webhook %s answered %s", w.name, resp.Status)
}

// parseRetryAfter reads seconds or an HTTP date, capped at an hour.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, time.Hour), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), time.Hour), true
	}
	return 0, false
}

// EmailPager sends notifications by SMTP to the people they reach (and to
// the configured addresses).
type EmailPager struct {
	name   string
	cfg    config.PagerConfig
	dialer net.Dialer
	// tlsConfig is used for STARTTLS and implicit TLS; tests set RootCAs.
	tlsConfig *tls.Config
}

// NewEmailPager builds an email pager.
func NewEmailPager(cfg config.PagerConfig) *EmailPager {
	if cfg.SMTP.Port == 0 {
		cfg.SMTP.Port = 587
	}
	if cfg.SMTP.TLS == "" {
		cfg.SMTP.TLS = "starttls"
	}
	return &EmailPager{name: cfg.Name, cfg: cfg, tlsConfig: &tls.Config{ServerName: cfg.SMTP.Host, MinVersion: tls.VersionTLS12}}
}

// Name implements Pager.
func (e *EmailPager) Name() string { return e.name }

// recipients are the addresses of the people reached plus cfg.To.
func (e *EmailPager) recipients(n Notification) []string {
	seen := map[string]bool{}
	var out []string
	add := func(a string) {
		if a != "" && !seen[strings.ToLower(a)] && !strings.ContainsAny(a, "\r\n<>") {
			seen[strings.ToLower(a)] = true
			out = append(out, a)
		}
	}
	people := n.Recipients
	if n.Kind == KindUpdate {
		people = n.Responders
	}
	for _, p := range people {
		add(p.Email)
	}
	for _, a := range e.cfg.To {
		add(a)
	}
	return out
}

// Deliver sends one message over a fresh SMTP connection bounded by ctx.
// With nobody to write to it succeeds without sending.
func (e *EmailPager) Deliver(ctx context.Context, n Notification) error {
	to := e.recipients(n)
	if len(to) == 0 || n.IsRefresh() {
		return nil // a refresh announces nothing: no mail for a changed figure
	}
	addr := net.JoinHostPort(e.cfg.SMTP.Host, strconv.Itoa(e.cfg.SMTP.Port))
	conn, err := e.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("email %s: connect %s: %w", e.name, addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if e.cfg.SMTP.TLS == "tls" {
		conn = tls.Client(conn, e.tlsConfig)
	}
	c, err := smtp.NewClient(conn, e.cfg.SMTP.Host)
	if err != nil {
		return fmt.Errorf("email %s: %w", e.name, err)
	}
	defer c.Close()
	if e.cfg.SMTP.TLS == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(e.tlsConfig); err != nil {
				return fmt.Errorf("email %s: starttls: %w", e.name, err)
			}
		} else if e.cfg.SMTP.Password.IsSet() {
			return fmt.Errorf("%w: email %s: the server does not offer STARTTLS; refusing to send the password in clear", ErrPermanent, e.name)
		}
	}
	if e.cfg.SMTP.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.cfg.SMTP.Username, e.cfg.SMTP.Password.Reveal(), e.cfg.SMTP.Host)); err != nil {
			return fmt.Errorf("email %s: auth: %w", e.name, err)
		}
	}
	if err := c.Mail(e.cfg.From); err != nil {
		return smtpErr(e.name, "MAIL FROM", err)
	}
	for _, a := range to {
		if err := c.Rcpt(a); err != nil {
			return smtpErr(e.name, "RCPT TO "+a, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return smtpErr(e.name, "DATA", err)
	}
	if _, err := w.Write(e.message(n, to)); err != nil {
		return fmt.Errorf("email %s: write: %w", e.name, err)
	}
	if err := w.Close(); err != nil {
		return smtpErr(e.name, "end of DATA", err)
	}
	return c.Quit()
}

// smtpErr marks 5xx answers permanent.
func smtpErr(name, step string, err error) error {
	var te interface{ Temporary() bool }
	msg := err.Error()
	if len(msg) >= 1 && msg[0] == '5' && !errors.As(err, &te) {
		return fmt.Errorf("%w: email %s: %s: %v", ErrPermanent, name, step, err)
	}
	return fmt.Errorf("email %s: %s: %w", name, step, err)
}

// message builds the RFC 5322 message; header values are stripped of line
// breaks so a title cannot inject headers.
func (e *EmailPager) message(n Notification, to []string) []byte {
	clean := func(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", clean(e.cfg.From))
	fmt.Fprintf(&b, "To: %s\r\n", clean(strings.Join(to, ", ")))
	fmt.Fprintf(&b, "Subject: %s\r\n", clean(Subject(n)))
	fmt.Fprintf(&b, "Message-ID: <%s@sentinel>\r\n", strings.NewReplacer("/", ".", ":", "-", " ", "_", "\r", "", "\n", "").Replace(n.Key))
	fmt.Fprintf(&b, "X-Sentinel-Idempotency-Key: %s\r\n", clean(n.Key))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	for _, line := range strings.Split(Body(n), "\n") {
		if strings.HasPrefix(line, ".") {
			line = "." + line
		}
		b.WriteString(line + "\r\n")
	}
	return b.Bytes()
}

// BuildPagers constructs the pagers of the incidents: section. The one
// named by fallback_pager is returned separately (nil when unset).
func BuildPagers(cfg config.Incidents, console io.Writer) (pagers []Pager, fallback Pager) {
	for _, pc := range cfg.Pagers {
		var p Pager
		switch pc.Type {
		case config.PagerConsole:
			p = NewConsolePager(pc.Name, console)
		case config.PagerWebhook:
			p = NewWebhookPager(pc, nil)
		case config.PagerEmail:
			p = NewEmailPager(pc)
		default:
			continue
		}
		if pc.Name == cfg.FallbackPager {
			fallback = p
			continue
		}
		pagers = append(pagers, p)
	}
	return pagers, fallback
}
