package probes

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// DialFunc opens network connections; tests and benchmarks inject fakes.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Resolver answers the lookups of dns probes; *net.Resolver implements it.
type Resolver interface {
	LookupIP(ctx context.Context, network, host string) ([]net.IP, error)
	LookupCNAME(ctx context.Context, host string) (string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupNS(ctx context.Context, name string) ([]*net.NS, error)
}

// runner executes journeys; it holds only injected dependencies and is safe
// for concurrent use.
type runner struct {
	transport http.RoundTripper            // nil: a fresh transport per run
	dial      DialFunc                     // nil: net.Dialer
	resolver  func(server string) Resolver // nil: net.Resolver
	now       func() time.Time
	ids       *idGen
	// browser is Chromium, the vitals bundle and the browser slots; a
	// reload of probe_settings.browser swaps it.
	browser atomic.Pointer[browserEnv]
}

// run executes one scheduled run of j: an attempt, and up to j.Retries more
// while attempts fail. The result is the last attempt's.
func (r *runner) run(ctx context.Context, j *Journey) Result {
	at := r.now().Round(0) // no monotonic reading: results compare and store as wall time
	res := Result{Probe: j.Name, At: at, Location: j.Location, ID: r.ids.next(at)}
	if j.Kind == config.ProbeKindBrowser {
		// Waiting for a browser slot does not count against the timeout.
		release, err := r.browser.Load().acquire(ctx)
		if err != nil {
			res.Error = "stopped while waiting for a browser slot"
			return res
		}
		defer release()
	}
	for attempt := 0; ; attempt++ {
		res.Attempts = attempt + 1
		res.Steps, res.Duration = r.attempt(ctx, j)
		res.Success, res.FailedStep, res.Error = true, "", ""
		for _, s := range res.Steps {
			if !s.Success {
				res.Success, res.FailedStep, res.Error = false, s.Name, s.Error
				break
			}
		}
		if res.Success && j.MaxDuration > 0 && res.Duration.Std() > j.MaxDuration {
			res.Success = false
			res.Error = fmt.Sprintf("journey took %s, over max_duration %s", res.Duration.Std().Round(time.Millisecond), j.MaxDuration)
		}
		if res.Success && len(res.Steps) == 0 {
			res.Success, res.Error = false, "no steps ran"
		}
		res.Screenshot = ""
		for _, s := range res.Steps {
			if s.Screenshot {
				res.Screenshot = s.Name // the failing step's, as it comes last
			}
		}
		if res.Success || attempt >= j.Retries || ctx.Err() != nil {
			return res
		}
		if j.RetryDelay > 0 {
			t := time.NewTimer(j.RetryDelay)
			select {
			case <-ctx.Done():
				t.Stop()
				return res
			case <-t.C:
			}
		}
	}
}

// attempt runs the journey once under its timeout.
func (r *runner) attempt(ctx context.Context, j *Journey) ([]StepResult, model.Duration) {
	ctx, cancel := context.WithTimeout(ctx, j.Timeout)
	defer cancel()
	start := time.Now()
	var steps []StepResult
	switch j.Kind {
	case config.ProbeKindHTTP:
		steps = r.runHTTP(ctx, j)
	case config.ProbeKindTCP:
		steps = []StepResult{r.runTCP(ctx, j)}
	case config.ProbeKindDNS:
		steps = []StepResult{r.runDNS(ctx, j)}
	case config.ProbeKindTLS:
		steps = []StepResult{r.runTLS(ctx, j)}
	case config.ProbeKindBrowser:
		steps = r.runBrowser(ctx, j)
	default:
		steps = []StepResult{{Name: string(j.Kind), Error: fmt.Sprintf("kind %q cannot run", j.Kind)}}
	}
	return steps, durationOf(time.Since(start))
}

func durationOf(d time.Duration) model.Duration { return model.Duration(d) }

func (r *runner) dialer() DialFunc {
	if r.dial != nil {
		return r.dial
	}
	return (&net.Dialer{KeepAlive: -1}).DialContext
}

// stepFailer records failures on a single-step result.
func failer(res *StepResult, m *masker) func(format string, args ...any) {
	return func(format string, args ...any) {
		msg := m.Mask(fmt.Sprintf(format, args...))
		res.Failures = append(res.Failures, msg)
		if res.Error == "" {
			res.Error = msg
		}
		res.Success = false
	}
}

// connect dials addr, measuring the connect phase, and wraps the connection
// in TLS when asked, measuring the tls phase.
func (r *runner) connect(ctx context.Context, j *Journey, addr string, useTLS bool, phases []time.Duration) (net.Conn, error) {
	t0 := time.Now()
	conn, err := r.dialer()(ctx, "tcp", addr)
	phases[1] = time.Since(t0)
	if err != nil {
		return nil, err
	}
	if !useTLS {
		return conn, nil
	}
	cfg := j.tlsConfig.Clone()
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg.ServerName = host
	}
	t1 := time.Now()
	tc := tls.Client(conn, cfg)
	err = tc.HandshakeContext(ctx)
	phases[2] = time.Since(t1)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

func phaseMap(d []time.Duration) map[string]float64 {
	out := make(map[string]float64, len(phaseOrder))
	for i, name := range phaseOrder {
		out[name] = d[i].Seconds()
	}
	return out
}

// runTCP connects, optionally sends, and waits for the expected text.
func (r *runner) runTCP(ctx context.Context, j *Journey) (res StepResult) {
	res = StepResult{Name: "connect", Success: true}
	fail := failer(&res, j.mask)
	start := time.Now()
	phases := make([]time.Duration, len(phaseOrder))
	defer func() {
		res.Duration = durationOf(time.Since(start))
		res.Phases = phaseMap(phases)
	}()
	limit := remaining(ctx)
	conn, err := r.connect(ctx, j, j.Target, j.tcp.TLS, phases)
	if err != nil {
		fail("%s", describeError(err, ctx, limit, "probe timeout"))
		return res
	}
	defer conn.Close()
	if tc, ok := conn.(*tls.Conn); ok {
		if exp, ok := earliestExpiry(tc.ConnectionState().PeerCertificates); ok {
			res.CertExpiry = &exp
		}
	}
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if j.tcp.Send != "" {
		if _, err := conn.Write([]byte(j.tcp.Send)); err != nil {
			fail("sending: %s", describeError(err, ctx, limit, "probe timeout"))
			return res
		}
	}
	if j.tcp.Expect == "" {
		return res
	}
	t0 := time.Now()
	var got []byte
	buf := make([]byte, 4096)
	want := []byte(j.tcp.Expect)
	for !bytes.Contains(got, want) {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if int64(len(got)) > j.maxBody {
			got = got[:j.maxBody]
			fail("expected %q within the first %s read, not found", j.tcp.Expect, bytesText(j.maxBody))
			break
		}
		if err != nil {
			if bytes.Contains(got, want) {
				break
			}
			fail("expected %q, got %q before %s", j.tcp.Expect, excerpt(j.mask, got, false), describeError(err, ctx, limit, "probe timeout"))
			break
		}
	}
	phases[3] = time.Since(t0)
	if !res.Success {
		res.Excerpt = excerpt(j.mask, got, false)
	}
	return res
}

// runTLS handshakes with the target and checks the certificate's expiry.
func (r *runner) runTLS(ctx context.Context, j *Journey) (res StepResult) {
	res = StepResult{Name: "handshake", Success: true}
	fail := failer(&res, j.mask)
	start := time.Now()
	phases := make([]time.Duration, len(phaseOrder))
	defer func() {
		res.Duration = durationOf(time.Since(start))
		res.Phases = phaseMap(phases)
	}()
	addr := j.Target
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "443")
	}
	limit := remaining(ctx)
	conn, err := r.connect(ctx, j, addr, true, phases)
	if err != nil {
		fail("%s", describeError(err, ctx, limit, "probe timeout"))
		return res
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	exp, ok := earliestExpiry(certs)
	if !ok {
		fail("the server sent no certificate")
		return res
	}
	res.CertExpiry = &exp
	if j.minDaysLeft >= 0 {
		if left := exp.Sub(r.now()); left < time.Duration(j.minDaysLeft)*24*time.Hour {
			fail("certificate expires in %s (%s), under the %d-day threshold", daysText(left), exp.UTC().Format(time.RFC3339), j.minDaysLeft)
		}
	}
	return res
}

// runDNS resolves the target and checks the expected answers.
func (r *runner) runDNS(ctx context.Context, j *Journey) (res StepResult) {
	res = StepResult{Name: "resolve", Success: true}
	fail := failer(&res, j.mask)
	start := time.Now()
	defer func() {
		d := time.Since(start)
		res.Duration = durationOf(d)
		res.Phases = map[string]float64{PhaseResolve: d.Seconds()}
	}()
	res2 := r.resolverFor(j.dns.Server)
	limit := remaining(ctx)
	var answers []string
	var err error
	switch strings.ToUpper(j.dns.Type) {
	case "A", "AAAA":
		network := "ip4"
		if strings.EqualFold(j.dns.Type, "AAAA") {
			network = "ip6"
		}
		var ips []net.IP
		ips, err = res2.LookupIP(ctx, network, j.Target)
		for _, ip := range ips {
			answers = append(answers, ip.String())
		}
	case "CNAME":
		var c string
		c, err = res2.LookupCNAME(ctx, j.Target)
		if c != "" {
			answers = append(answers, c)
		}
	case "MX":
		var mx []*net.MX
		mx, err = res2.LookupMX(ctx, j.Target)
		for _, m := range mx {
			answers = append(answers, m.Host)
		}
	case "TXT":
		answers, err = res2.LookupTXT(ctx, j.Target)
	case "NS":
		var ns []*net.NS
		ns, err = res2.LookupNS(ctx, j.Target)
		for _, n := range ns {
			answers = append(answers, n.Host)
		}
	}
	res.Answers = answers
	if err != nil {
		fail("%s %s lookup failed: %s", strings.ToUpper(j.dns.Type), j.Target, describeError(err, ctx, limit, "probe timeout"))
		return res
	}
	if len(answers) == 0 {
		fail("%s %s: no answers", strings.ToUpper(j.dns.Type), j.Target)
		return res
	}
	have := map[string]bool{}
	for _, a := range answers {
		have[normAnswer(a)] = true
	}
	for _, want := range j.dns.Expect {
		if !have[normAnswer(want)] {
			fail("expected answer %q, got %s", want, strings.Join(answers, ", "))
		}
	}
	return res
}

func normAnswer(s string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
}

func (r *runner) resolverFor(server string) Resolver {
	if r.resolver != nil {
		return r.resolver(server)
	}
	if server == "" {
		return &net.Resolver{}
	}
	dial := r.dialer()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dial(ctx, network, server)
	}}
}
