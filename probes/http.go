package probes

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sentinel-oss/sentinel/model"
)

// excerptBytes is how much of a failed step's body is kept.
const excerptBytes = 512

// userAgent is sent unless a step sets its own.
const userAgent = "Sentinel-Probe/1"

// phaseTrace collects httptrace timings for one step; callbacks may run on
// other goroutines (parallel dials), hence the mutex.
type phaseTrace struct {
	mu           sync.Mutex
	dnsStart     time.Time
	connectStart time.Time
	tlsStart     time.Time
	wrote        time.Time
	firstByte    time.Time
	d            [len(phaseOrder)]time.Duration
}

func (p *phaseTrace) clientTrace() *httptrace.ClientTrace {
	lock := func(f func(now time.Time)) { now := time.Now(); p.mu.Lock(); f(now); p.mu.Unlock() }
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { lock(func(n time.Time) { p.dnsStart = n }) },
		DNSDone: func(httptrace.DNSDoneInfo) {
			lock(func(n time.Time) {
				if !p.dnsStart.IsZero() {
					p.d[0] += n.Sub(p.dnsStart)
					p.dnsStart = time.Time{}
				}
			})
		},
		ConnectStart: func(string, string) {
			lock(func(n time.Time) {
				if p.connectStart.IsZero() {
					p.connectStart = n
				}
			})
		},
		ConnectDone: func(string, string, error) {
			lock(func(n time.Time) {
				if !p.connectStart.IsZero() {
					p.d[1] += n.Sub(p.connectStart)
					p.connectStart = time.Time{}
				}
			})
		},
		TLSHandshakeStart: func() { lock(func(n time.Time) { p.tlsStart = n }) },
		TLSHandshakeDone: func(tls.ConnectionState, error) {
			lock(func(n time.Time) {
				if !p.tlsStart.IsZero() {
					p.d[2] += n.Sub(p.tlsStart)
					p.tlsStart = time.Time{}
				}
			})
		},
		WroteRequest: func(httptrace.WroteRequestInfo) { lock(func(n time.Time) { p.wrote = n }) },
		GotFirstResponseByte: func() {
			lock(func(n time.Time) {
				p.firstByte = n
				if !p.wrote.IsZero() {
					p.d[3] += n.Sub(p.wrote)
				}
			})
		},
	}
}

// finish records the transfer phase and returns the phases in seconds.
func (p *phaseTrace) finish(end time.Time) map[string]float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.firstByte.IsZero() {
		p.d[4] = end.Sub(p.firstByte)
	}
	out := make(map[string]float64, len(phaseOrder))
	for i, name := range phaseOrder {
		out[name] = p.d[i].Seconds()
	}
	return out
}

// httpRun is the state of one attempt of a journey: its cookie jar, its
// client and the values extracted so far.
type httpRun struct {
	j      *Journey
	client *http.Client
	vars   map[string]string
}

// runHTTP runs the steps of an HTTP journey in order until one fails.
func (r *runner) runHTTP(ctx context.Context, j *Journey) []StepResult {
	jar, _ := cookiejar.New(nil) // never fails without options
	transport := r.transport
	if transport == nil {
		t := r.newTransport(j.tlsConfig)
		defer t.CloseIdleConnections()
		transport = t
	}
	run := &httpRun{j: j, client: &http.Client{Transport: transport, Jar: jar}, vars: make(map[string]string, len(j.secrets)+4)}
	for k, v := range j.secrets {
		run.vars[k] = v
	}
	steps := make([]StepResult, 0, len(j.steps))
	for _, st := range j.steps {
		res := run.step(ctx, st)
		steps = append(steps, res)
		if !res.Success {
			break
		}
	}
	return steps
}

// newTransport builds the per-run transport: fresh connections each run, so
// resolve, connect and tls are measured every time, reused across the steps
// of one run as a browser would.
func (r *runner) newTransport(tc *tls.Config) *http.Transport {
	dial := r.dial
	if dial == nil {
		dial = (&net.Dialer{KeepAlive: -1}).DialContext
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dial,
		TLSClientConfig:       tc.Clone(),
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 0, // the step's context bounds it
	}
}

func (run *httpRun) step(ctx context.Context, st *step) (res StepResult) {
	res.Name = st.name
	mask := run.j.mask
	fail := func(format string, args ...any) {
		msg := mask.Mask(fmt.Sprintf(format, args...))
		res.Failures = append(res.Failures, msg)
		if res.Error == "" {
			res.Error = msg
		}
		res.Success = false
	}
	defer func() {
		if p := recover(); p != nil { // a bug here must not take the scheduler down
			fail("internal error: %v", p)
		}
	}()

	req, err := run.request(ctx, st)
	if err != nil {
		fail("%v", err)
		return res
	}
	stepCtx := ctx
	limit, which := remaining(ctx), "journey timeout"
	if st.timeout > 0 && (limit <= 0 || st.timeout < limit) {
		var cancel context.CancelFunc
		stepCtx, cancel = context.WithTimeout(ctx, st.timeout)
		defer cancel()
		limit, which = st.timeout, "step timeout"
	}
	trace := &phaseTrace{}
	req = req.WithContext(httptrace.WithClientTrace(stepCtx, trace.clientTrace()))

	client := run.client
	if !st.followRedirects {
		c := *client
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		client = &c
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		res.Duration = durationOf(time.Since(start))
		res.Phases = trace.finish(time.Now())
		fail("%s", describeError(err, stepCtx, limit, which))
		return res
	}
	body, truncated, readErr := readCapped(resp.Body, run.j.maxBody)
	resp.Body.Close()
	end := time.Now()
	took := end.Sub(start)
	res.Duration = durationOf(took)
	res.Phases = trace.finish(end)
	res.Status = resp.StatusCode
	res.Truncated = truncated
	res.Success = true
	if resp.TLS != nil {
		if exp, ok := earliestExpiry(resp.TLS.PeerCertificates); ok {
			res.CertExpiry = &exp
		}
	}
	defer func() {
		if !res.Success {
			res.Excerpt = excerpt(mask, body, truncated)
		}
	}()
	if readErr != nil {
		fail("reading the response body: %s", describeError(readErr, stepCtx, limit, which))
		return res
	}

	if !st.status.Contains(resp.StatusCode) {
		fail("expected status %s, got %d", st.status, resp.StatusCode)
	}
	if st.contains != "" && !bytes.Contains(body, []byte(st.contains)) {
		fail("body does not contain %q%s", st.contains, truncNote(truncated, run.j.maxBody))
	}
	if st.matches != nil && !st.matches.Match(body) {
		fail("body does not match /%s/%s", st.matches, truncNote(truncated, run.j.maxBody))
	}
	for _, h := range st.wantHeaders {
		got, ok := resp.Header[http.CanonicalHeaderKey(h.name)]
		switch {
		case !ok:
			fail("header %s: missing", h.name)
		case h.value.raw != "" && !containsFold(strings.Join(got, ", "), h.value.raw):
			fail("header %s: expected %q, got %q", h.name, h.value.raw, strings.Join(got, ", "))
		}
	}
	var doc any
	jsonOK := false
	if st.needsJSON {
		if err := json.Unmarshal(body, &doc); err != nil {
			fail("invalid JSON in the response body: %v%s", err, truncNote(truncated, run.j.maxBody))
		} else {
			jsonOK = true
		}
	}
	if jsonOK {
		for _, e := range st.jsonEquals {
			got := e.expr.Get(doc)
			switch {
			case len(got) == 0:
				fail("%s: expected %s, but the path matched nothing", e.raw, jsonText(e.want))
			case len(got) == 1 && !jsonEqual(got[0], e.want):
				fail("%s: expected %s, got %s", e.raw, jsonText(e.want), jsonText(got[0]))
			case len(got) > 1 && !jsonEqual(got, e.want):
				fail("%s: expected %s, got %s", e.raw, jsonText(e.want), jsonText(got))
			}
		}
		for _, e := range st.jsonExists {
			if len(e.expr.Get(doc)) == 0 {
				fail("%s: expected to exist, but the path matched nothing", e.raw)
			}
		}
	}
	if st.maxDuration > 0 && took > st.maxDuration {
		fail("took %s, over max_duration %s", took.Round(time.Millisecond), st.maxDuration)
	}
	if d := run.j.minDaysLeft; d >= 0 && res.CertExpiry != nil {
		if left := res.CertExpiry.Sub(time.Now()); left < time.Duration(d)*24*time.Hour {
			fail("certificate expires in %s (%s), under the %d-day threshold", daysText(left), res.CertExpiry.UTC().Format(time.RFC3339), d)
		}
	}
	if !res.Success {
		return res
	}
	for _, x := range st.extract {
		v, err := x.extract(doc, body, resp, run.client.Jar)
		if err != nil {
			fail("extract %s: %v", x.name, err)
			continue
		}
		run.vars[x.name] = v
	}
	return res
}

// request renders the step's templates into an HTTP request.
func (run *httpRun) request(ctx context.Context, st *step) (*http.Request, error) {
	u, err := st.url.render(run.vars)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	var body io.Reader
	contentType := ""
	switch st.bodyKind {
	case bodyJSON:
		b, err := st.json.render(run.vars)
		if err != nil {
			return nil, fmt.Errorf("building the JSON body: %w", err)
		}
		body, contentType = bytes.NewReader(b), "application/json"
	case bodyForm:
		form := url.Values{}
		for _, f := range st.form {
			v, err := f.value.render(run.vars)
			if err != nil {
				return nil, fmt.Errorf("building the form: %w", err)
			}
			form.Set(f.name, v)
		}
		body, contentType = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	case bodyRaw:
		b, err := st.body.render(run.vars)
		if err != nil {
			return nil, fmt.Errorf("building the body: %w", err)
		}
		body = strings.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, st.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("User-Agent", userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range st.headers {
		v, err := h.value.render(run.vars)
		if err != nil {
			return nil, fmt.Errorf("building header %s: %w", h.name, err)
		}
		if strings.EqualFold(h.name, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(h.name, v)
	}
	return req, nil
}

// extract takes one value out of a response.
func (x extractor) extract(doc any, body []byte, resp *http.Response, jar http.CookieJar) (string, error) {
	switch {
	case x.json != nil:
		got := x.json.expr.Get(doc)
		if len(got) == 0 {
			return "", fmt.Errorf("%s matched nothing", x.json.raw)
		}
		if s, ok := got[0].(string); ok {
			return s, nil
		}
		return jsonText(got[0]), nil
	case x.regex != nil:
		m := x.regex.FindSubmatch(body)
		if m == nil {
			return "", fmt.Errorf("/%s/ matched nothing in the body", x.regex)
		}
		return string(m[len(m)-1]), nil
	case x.header != "":
		v := resp.Header.Get(x.header)
		if v == "" {
			return "", fmt.Errorf("no %s header in the response", x.header)
		}
		return v, nil
	case x.cookie != "":
		for _, c := range resp.Cookies() {
			if c.Name == x.cookie {
				return c.Value, nil
			}
		}
		if jar != nil && resp.Request != nil {
			for _, c := range jar.Cookies(resp.Request.URL) {
				if c.Name == x.cookie {
					return c.Value, nil
				}
			}
		}
		return "", fmt.Errorf("no cookie %q was set", x.cookie)
	}
	return "", errors.New("nothing to extract")
}

// readCapped reads at most limit bytes; truncated reports that more was there.
func readCapped(r io.Reader, limit int64) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(b)) > limit {
		return b[:limit], true, err
	}
	return b, false, err
}

func truncNote(truncated bool, limit int64) string {
	if !truncated {
		return ""
	}
	return fmt.Sprintf(" (the body was cut at %s; only that much was read)", bytesText(limit))
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// excerpt is the start of a body, valid UTF-8, masked.
func excerpt(m *masker, body []byte, truncated bool) string {
	if len(body) == 0 {
		return ""
	}
	cut := body
	more := truncated
	if len(cut) > excerptBytes {
		cut, more = cut[:excerptBytes], true
		for len(cut) > 0 && !utf8.Valid(cut) {
			cut = cut[:len(cut)-1]
		}
	}
	s := strings.ToValidUTF8(string(cut), "\uFFFD")
	s = m.Mask(s)
	if more {
		s += "…"
	}
	return s
}

// describeError turns a transport error into one clear sentence.
func describeError(err error, ctx context.Context, limit time.Duration, which string) string {
	var (
		dnsErr  *net.DNSError
		opErr   *net.OpError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		verify  *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
	)
	timedOut := errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		timedOut = true
	}
	switch {
	case timedOut:
		if limit > 0 {
			return fmt.Sprintf("timed out after %s (%s): %v", limit.Round(time.Millisecond), which, err)
		}
		return fmt.Sprintf("timed out: %v", err)
	case errors.As(err, &verify), errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &invalid), errors.As(err, &recErr):
		return fmt.Sprintf("TLS error: %v", err)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot resolve host: %v", err)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Sprintf("cannot connect: %v", err)
	case strings.Contains(err.Error(), "tls:"):
		return fmt.Sprintf("TLS error: %v", err)
	}
	return err.Error()
}

// remaining is the time left before ctx's deadline (0 without one).
func remaining(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return time.Until(d)
	}
	return 0
}

func earliestExpiry(certs []*x509.Certificate) (time.Time, bool) {
	var t time.Time
	for _, c := range certs {
		if t.IsZero() || c.NotAfter.Before(t) {
			t = c.NotAfter
		}
	}
	return t, !t.IsZero()
}

func daysText(d time.Duration) string {
	if d < 0 {
		return "already expired " + (-d).Round(time.Hour).String() + " ago"
	}
	days := int(d / (24 * time.Hour))
	if days == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", days)
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// jsonEqual compares decoded JSON values.
func jsonEqual(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, v := range a {
			w, ok := bm[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		bs, ok := b.([]any)
		if !ok || len(a) != len(bs) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], bs[i]) {
				return false
			}
		}
		return true
	case float64:
		switch b := b.(type) {
		case float64:
			return a == b
		case int64:
			return a == float64(b)
		case int:
			return a == float64(b)
		}
		return false
	case int64:
		return jsonEqual(float64(a), b)
	case int:
		return jsonEqual(float64(a), b)
	}
	return a == b
}

// errorExcerptRunes bounds an error excerpt.
const errorExcerptRunes = 200

// errorExcerpt is what a failed response's body (already masked) says went
// wrong, for alerts: the error, message or detail field of a JSON object
// (nested one level, as in {"error": {"message": …}}), else the body's
// first non-empty line; cut to errorExcerptRunes.
func errorExcerpt(body string) string {
	body = strings.TrimSpace(strings.TrimSuffix(body, "…"))
	if body == "" {
		return ""
	}
	var obj map[string]any
	if json.Unmarshal([]byte(body), &obj) == nil {
		if s := messageField(obj); s != "" {
			return model.Clip(s, errorExcerptRunes)
		}
	}
	for line := range strings.Lines(body) {
		if l := strings.TrimSpace(line); l != "" {
			return model.Clip(l, errorExcerptRunes)
		}
	}
	return ""
}

// messageField finds a human message in a decoded JSON error body.
func messageField(obj map[string]any) string {
	for _, k := range []string{"error", "message", "detail", "error_description", "title"} {
		switch v := obj[k].(type) {
		case string:
			if strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v)
			}
		case map[string]any:
			if s := messageField(v); s != "" {
				return s
			}
		}
	}
	return ""
}
