package probes

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ohler55/ojg/jp"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Journey is one compiled probe: everything parsed and checked at load, so a
// run only renders templates and sends requests. A Journey is immutable and
// safe for concurrent use.
type Journey struct {
	Name             string
	Kind             config.ProbeKind
	Location         string
	Labels           model.Labels
	Interval         time.Duration
	Timeout          time.Duration
	MaxDuration      time.Duration
	Retries          int
	RetryDelay       time.Duration
	FailureThreshold int
	SuccessThreshold int
	// Target is what tcp, dns and tls probes check; for HTTP journeys, the
	// first step's URL as written.
	Target string

	steps       []*step
	secrets     map[string]string
	mask        *masker
	tlsConfig   *tls.Config
	minDaysLeft int // -1: no expiry check
	maxBody     int64
	tcp         config.ProbeTCP
	dns         config.ProbeDNS
	browser     *browserJourney // kind browser
	fingerprint string          // equal fingerprints: the same probe after a reload
}

// step is one compiled HTTP request with its assertions and extractions.
type step struct {
	name            string
	timeout         time.Duration
	method          string
	url             tmpl
	headers         []header
	bodyKind        bodyKind
	body            tmpl
	json            jsonTree
	form            []header
	followRedirects bool

	status      config.StatusSpec
	contains    string
	matches     *regexp.Regexp
	jsonEquals  []jsonEquals
	jsonExists  []jsonPath
	wantHeaders []header // value is a static substring
	maxDuration time.Duration
	extract     []extractor
	needsJSON   bool
}

type bodyKind int

const (
	bodyNone bodyKind = iota
	bodyRaw
	bodyJSON
	bodyForm
)

type header struct {
	name  string
	value tmpl
}

type jsonPath struct {
	raw  string
	expr jp.Expr
}

type jsonEquals struct {
	jsonPath
	want any // normalised as encoding/json would decode it
}

type extractor struct {
	name   string
	json   *jsonPath
	regex  *regexp.Regexp
	header string
	cookie string
}

// jsonTree is a JSON request body whose strings may be templates.
type jsonTree struct {
	value any // map[string]any, []any, tmpl or a plain scalar
}

// Compile checks and compiles the probes section. Problems carry paths such
// as probes[0].steps[2].extract.cart_id; when there are any, no journeys are
// returned. Files named in tls settings are read here.
func Compile(cfgs []config.Probe) ([]*Journey, config.Problems) {
	var ps config.Problems
	out := make([]*Journey, 0, len(cfgs))
	names := map[string]int{}
	for i := range cfgs {
		p := cfgs[i]
		config.ApplyProbeDefaults(&p, "")
		path := fmt.Sprintf("probes[%d]", i)
		if prev, dup := names[p.Name]; dup && p.Name != "" {
			ps.Add(config.JoinPath(path, "name"), "duplicate probe name %q (also probes[%d])", p.Name, prev)
		}
		names[p.Name] = i
		j := compileProbe(&ps, path, p)
		if j != nil {
			out = append(out, j)
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return out, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func compileProbe(ps *config.Problems, path string, p config.Probe) *Journey {
	before := len(*ps)
	at := func(k string) string { return config.JoinPath(path, k) }
	switch {
	case p.Name == "":
		ps.Add(at("name"), "missing name")
	case !nameRE.MatchString(p.Name) || len(p.Name) > 100:
		ps.Add(at("name"), "invalid name %q: use letters, digits, '-', '_' and '.' (at most 100)", p.Name)
	}
	j := &Journey{
		Name: p.Name, Kind: p.Kind, Location: p.Location, Labels: model.Labels(p.Labels).Clone(),
		Interval: p.Interval.Std(), Timeout: p.Timeout.Std(), MaxDuration: p.MaxDuration.Std(),
		Retries: p.Retries, RetryDelay: p.RetryDelay.Std(),
		FailureThreshold: p.FailureThreshold, SuccessThreshold: p.SuccessThreshold,
		Target: p.Target, secrets: map[string]string{}, maxBody: p.MaxBodyBytes,
		tcp: p.TCP, dns: p.DNS, minDaysLeft: -1,
	}
	if p.Interval.Std() < time.Second {
		ps.Add(at("interval"), "must be at least 1s")
	}
	if p.Timeout.Std() <= 0 {
		ps.Add(at("timeout"), "must be greater than 0")
	} else if p.Timeout.Std()*time.Duration(p.Retries+1)+p.RetryDelay.Std()*time.Duration(p.Retries) > p.Interval.Std() && p.Interval.Std() >= time.Second {
		ps.Add(at("timeout"), "timeout %s with %d retries does not fit in the interval %s", p.Timeout, p.Retries, p.Interval)
	}
	if p.Retries < 0 || p.Retries > 10 {
		ps.Add(at("retries"), "must be from 0 to 10")
	}
	if p.FailureThreshold < 1 {
		ps.Add(at("failure_threshold"), "must be at least 1")
	}
	if p.SuccessThreshold < 1 {
		ps.Add(at("success_threshold"), "must be at least 1")
	}
	if p.MaxBodyBytes < 1 || p.MaxBodyBytes > 64<<20 {
		ps.Add(at("max_body_bytes"), "must be from 1 to 67108864")
	}
	if p.Location == "" || !nameRE.MatchString(p.Location) {
		ps.Add(at("location"), "invalid location %q: use letters, digits, '-', '_' and '.'", p.Location)
	}
	for _, k := range p.Labels.Keys() {
		if !labelNameRE.MatchString(k) || k == "probe" || k == "location" || strings.HasPrefix(k, "__") {
			ps.Add(at("labels."+k), "invalid label name %q (probe and location are set by Sentinel)", k)
		}
	}
	for k, s := range p.Secrets {
		if !identRE.MatchString(k) {
			ps.Add(at("secrets."+k), "invalid secret name %q: use letters, digits and '_', not starting with a digit", k)
		}
		if !s.IsSet() {
			ps.Add(at("secrets."+k), "empty secret")
		}
		j.secrets[k] = s.Reveal()
	}
	j.mask = newMasker(j.secrets)
	j.tlsConfig, j.minDaysLeft = compileTLS(ps, at("tls"), p.TLS)

	switch p.Kind {
	case config.ProbeKindHTTP:
		if len(p.Steps) == 0 {
			ps.Add(at("steps"), "an http probe needs at least one step")
		}
		if p.Target != "" {
			ps.Add(at("target"), "not used by http probes: put the URL in steps[].request.url")
		}
		defined := map[string]string{}
		for k := range j.secrets {
			defined[k] = "secret"
		}
		stepNames := map[string]int{}
		for si, sc := range p.Steps {
			sp := fmt.Sprintf("%s.steps[%d]", path, si)
			if prev, dup := stepNames[sc.Name]; dup && sc.Name != "" {
				ps.Add(config.JoinPath(sp, "name"), "duplicate step name %q (also steps[%d])", sc.Name, prev)
			}
			stepNames[sc.Name] = si
			rejectBrowserKeys(ps, sp, sc)
			st := compileStep(ps, sp, sc, defined, p.Timeout.Std())
			j.steps = append(j.steps, st)
			for _, e := range st.extract {
				if defined[e.name] == "secret" {
					ps.Add(config.JoinPath(sp, "extract", e.name), "%q is also a secret's name", e.name)
				}
				defined[e.name] = "extract"
			}
		}
		if len(p.Steps) > 0 {
			j.Target = p.Steps[0].Request.URL
		}
	case config.ProbeKindTCP, config.ProbeKindDNS, config.ProbeKindTLS:
		if len(p.Steps) > 0 {
			ps.Add(at("steps"), "steps are for http probes; a %s probe checks its target", p.Kind)
		}
		compileTarget(ps, path, p)
	case config.ProbeKindBrowser:
		j.browser = compileBrowser(ps, path, p, j.secrets)
		if len(p.Steps) > 0 {
			j.Target = p.Steps[0].Navigate
		}
	default:
		ps.Add(at("kind"), "unknown kind %q (want http, tcp, dns, tls or browser)", p.Kind)
	}
	if p.Kind != config.ProbeKindTCP && p.TCP != (config.ProbeTCP{}) {
		ps.Add(at("tcp"), "only used by tcp probes")
	}
	if p.Kind != config.ProbeKindDNS && (p.DNS.Server != "" || len(p.DNS.Expect) > 0 || p.DNS.Type != "") {
		ps.Add(at("dns"), "only used by dns probes")
	}
	if len(*ps) > before {
		return nil
	}
	j.fingerprint = fingerprint(p)
	return j
}

var (
	labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	identRE     = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// fingerprint identifies a probe's configuration, secrets included, without
// printing them.
func fingerprint(p config.Probe) string {
	secrets := make([]string, 0, len(p.Secrets))
	for k, v := range p.Secrets {
		secrets = append(secrets, k+"="+v.Reveal())
	}
	sort.Strings(secrets)
	p.Secrets = nil
	b, _ := json.Marshal(struct {
		P config.Probe
		S []string
	}{p, secrets})
	return string(b)
}

func compileTLS(ps *config.Problems, path string, t config.ProbeTLS) (*tls.Config, int) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // only when the operator asks for it
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			ps.Add(config.JoinPath(path, "ca_file"), "cannot read CA file: %v", err)
		} else {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				ps.Add(config.JoinPath(path, "ca_file"), "no PEM certificates found in %s", t.CAFile)
			}
			cfg.RootCAs = pool
		}
	}
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		ps.Add(config.JoinPath(path, "key_file"), "required when cert_file is set")
	case t.KeyFile != "" && t.CertFile == "":
		ps.Add(config.JoinPath(path, "cert_file"), "required when key_file is set")
	case t.CertFile != "":
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			ps.Add(config.JoinPath(path, "cert_file"), "cannot load client certificate: %v", err)
		} else {
			cfg.Certificates = []tls.Certificate{cert}
		}
	}
	days := -1
	if t.MinDaysLeft != nil {
		days = *t.MinDaysLeft
		if days < 0 || days > 3650 {
			ps.Add(config.JoinPath(path, "min_days_left"), "must be from 0 to 3650")
		}
	}
	return cfg, days
}

func compileTarget(ps *config.Problems, path string, p config.Probe) {
	at := config.JoinPath(path, "target")
	if p.Target == "" {
		ps.Add(at, "missing target (%s)", map[config.ProbeKind]string{
			config.ProbeKindTCP: "host:port", config.ProbeKindDNS: "a name to resolve", config.ProbeKindTLS: "host or host:port",
		}[p.Kind])
		return
	}
	switch p.Kind {
	case config.ProbeKindTCP:
		if _, port, err := net.SplitHostPort(p.Target); err != nil || port == "" {
			ps.Add(at, "must be host:port, such as redis:6379")
		}
		if len(p.TCP.Expect) > 64<<10 {
			ps.Add(config.JoinPath(path, "tcp.expect"), "longer than 64 KiB")
		}
	case config.ProbeKindTLS:
		host := p.Target
		if h, _, err := net.SplitHostPort(p.Target); err == nil {
			host = h
		}
		if host == "" || strings.ContainsAny(host, "/ ") {
			ps.Add(at, "must be a host or host:port, such as shop.example.com:443")
		}
	case config.ProbeKindDNS:
		if strings.ContainsAny(p.Target, "/: ") {
			ps.Add(at, "must be a DNS name, such as shop.example.com")
		}
		switch strings.ToUpper(p.DNS.Type) {
		case "A", "AAAA", "CNAME", "MX", "TXT", "NS":
		default:
			ps.Add(config.JoinPath(path, "dns.type"), "unknown record type %q (want A, AAAA, CNAME, MX, TXT or NS)", p.DNS.Type)
		}
		if p.DNS.Server != "" {
			if _, _, err := net.SplitHostPort(p.DNS.Server); err != nil {
				ps.Add(config.JoinPath(path, "dns.server"), "must be host:port, such as 1.1.1.1:53")
			}
		}
	}
}

func compileStep(ps *config.Problems, path string, sc config.ProbeStep, defined map[string]string, journeyTimeout time.Duration) *step {
	at := func(k ...string) string { return config.JoinPath(append([]string{path}, k...)...) }
	st := &step{name: sc.Name, timeout: sc.Timeout.Std(), status: sc.Expect.Status, maxDuration: sc.Expect.MaxDuration.Std(), followRedirects: true}
	if sc.Request.FollowRedirects != nil {
		st.followRedirects = *sc.Request.FollowRedirects
	}
	switch {
	case sc.Name == "":
		ps.Add(at("name"), "missing name")
	case !nameRE.MatchString(sc.Name) || len(sc.Name) > 100:
		ps.Add(at("name"), "invalid step name %q: use letters, digits, '-', '_' and '.'", sc.Name)
	}
	if st.timeout > journeyTimeout {
		ps.Add(at("timeout"), "step timeout %s is longer than the probe's timeout %s", sc.Timeout, journeyTimeout)
	}
	// templ compiles s and checks that every name it uses is defined by an
	// earlier step's extract or by a secret.
	templ := func(p, s string) tmpl {
		t, names, err := compileTemplate(s)
		if err != nil {
			ps.Add(p, "%v", err)
			return tmpl{raw: s}
		}
		for _, n := range names {
			if _, ok := defined[n]; !ok {
				ps.Add(p, "template uses .%s, which no earlier step extracts and no secret defines", n)
			}
		}
		return t
	}
	rq := sc.Request
	st.method = strings.ToUpper(rq.Method)
	if !methodRE.MatchString(st.method) {
		ps.Add(at("request", "method"), "invalid method %q", rq.Method)
	}
	st.url = templ(at("request", "url"), rq.URL)
	checkTemplatedURL(ps, at("request", "url"), st.url, defined)
	for _, k := range sortedKeys(rq.Headers) {
		if !headerRE.MatchString(k) {
			ps.Add(at("request", "headers", k), "invalid header name %q", k)
		}
		st.headers = append(st.headers, header{name: k, value: templ(at("request", "headers", k), rq.Headers[k])})
	}
	bodies := 0
	if rq.JSON != nil {
		bodies++
		st.bodyKind = bodyJSON
		st.json = jsonTree{value: compileJSONBody(at("request", "json"), rq.JSON, templ)}
	}
	if rq.Form != nil {
		bodies++
		st.bodyKind = bodyForm
		for _, k := range sortedKeys(rq.Form) {
			st.form = append(st.form, header{name: k, value: templ(at("request", "form", k), rq.Form[k])})
		}
	}
	if rq.Body != "" {
		bodies++
		st.bodyKind = bodyRaw
		st.body = templ(at("request", "body"), rq.Body)
	}
	if bodies > 1 {
		ps.Add(at("request"), "set only one of json, form and body")
	}

	ex := sc.Expect
	st.contains = ex.BodyContains
	if ex.BodyMatches != "" {
		re, err := regexp.Compile(ex.BodyMatches)
		if err != nil {
			ps.Add(at("expect", "body_matches"), "invalid regular expression: %v", err)
		}
		st.matches = re
	}
	for _, k := range sortedKeys(ex.JSON) {
		p, ok := compileJSONPath(ps, at("expect", "json", k), k)
		if ok {
			want, err := normaliseJSON(ex.JSON[k])
			if err != nil {
				ps.Add(at("expect", "json", k), "%v", err)
			}
			st.jsonEquals = append(st.jsonEquals, jsonEquals{jsonPath: p, want: want})
		}
	}
	for i, k := range ex.JSONExists {
		if p, ok := compileJSONPath(ps, fmt.Sprintf("%s[%d]", at("expect", "json_exists"), i), k); ok {
			st.jsonExists = append(st.jsonExists, p)
		}
	}
	for _, k := range sortedKeys(ex.Headers) {
		if !headerRE.MatchString(k) {
			ps.Add(at("expect", "headers", k), "invalid header name %q", k)
		}
		st.wantHeaders = append(st.wantHeaders, header{name: k, value: tmpl{raw: ex.Headers[k]}})
	}
	for _, k := range sortedKeys(sc.Extract) {
		e := sc.Extract[k]
		p := at("extract", k)
		if !identRE.MatchString(k) {
			ps.Add(p, "invalid name %q: use letters, digits and '_', not starting with a digit (templates refer to it as {{ .%s }})", k, k)
		}
		x := extractor{name: k, header: e.Header, cookie: e.Cookie}
		switch {
		case e.JSON != "":
			if jpth, ok := compileJSONPath(ps, p, e.JSON); ok {
				x.json = &jpth
			}
		case e.Regex != "":
			re, err := regexp.Compile(e.Regex)
			if err != nil {
				ps.Add(p, "invalid regular expression: %v", err)
			} else if re.NumSubexp() > 1 {
				ps.Add(p, "the regular expression may have at most one capture group")
			}
			x.regex = re
		case e.Header != "":
			if !headerRE.MatchString(e.Header) {
				ps.Add(p, "invalid header name %q", e.Header)
			}
		case e.Cookie == "":
			ps.Add(p, "empty extraction")
		}
		st.extract = append(st.extract, x)
	}
	st.needsJSON = len(st.jsonEquals) > 0 || len(st.jsonExists) > 0
	for _, x := range st.extract {
		if x.json != nil {
			st.needsJSON = true
		}
	}
	return st
}

var (
	methodRE = regexp.MustCompile(`^[A-Z]+$`)
	headerRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// checkTemplatedURL validates the URL with every template filled by a
// placeholder, so a templated host or path is still checked at load.
func checkTemplatedURL(ps *config.Problems, path string, t tmpl, defined map[string]string) {
	vars := map[string]string{}
	for k := range defined {
		vars[k] = "placeholder"
	}
	s, err := t.render(vars)
	if err != nil {
		return // reported by the template check
	}
	before := len(*ps)
	config.CheckURL(ps, path, s, "http", "https")
	if len(*ps) == before && t.t != nil {
		if _, err := url.Parse(s); err != nil {
			ps.Add(path, "invalid URL %q", t.raw)
		}
	}
}

// compileJSONPath parses an RFC 9535-style path; it must start with $.
func compileJSONPath(ps *config.Problems, path, s string) (jsonPath, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "$") {
		ps.Add(path, "JSON path %q must start with $, as in $.cart.id", s)
		return jsonPath{}, false
	}
	x, err := parseJSONPath(s)
	if err != nil {
		ps.Add(path, "invalid JSON path %q: %v", s, err)
		return jsonPath{}, false
	}
	return jsonPath{raw: s, expr: x}, true
}

// parseJSONPath wraps jp.ParseString, turning any panic on odd input into
// an error.
func parseJSONPath(s string) (x jp.Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			x, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return jp.ParseString(s)
}

func compileJSONBody(path string, v any, templ func(p, s string) tmpl) any {
	switch v := v.(type) {
	case string:
		t := templ(path, v)
		if t.t == nil {
			return v
		}
		return t
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = compileJSONBody(config.JoinPath(path, k), e, templ)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			ks := fmt.Sprint(k)
			out[ks] = compileJSONBody(config.JoinPath(path, ks), e, templ)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = compileJSONBody(path+"["+strconv.Itoa(i)+"]", e, templ)
		}
		return out
	}
	return v
}

// render produces the request body bytes.
func (t jsonTree) render(vars map[string]string) ([]byte, error) {
	v, err := renderJSON(t.value, vars)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func renderJSON(v any, vars map[string]string) (any, error) {
	switch v := v.(type) {
	case tmpl:
		return v.render(vars)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			r, err := renderJSON(e, vars)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := renderJSON(e, vars)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// normaliseJSON turns a YAML value into what encoding/json would decode from
// the same JSON, so expectations compare with decoded responses.
func normaliseJSON(v any) (any, error) {
	v = stringKeys(v)
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("expected value cannot be written as JSON: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("expected value cannot be read as JSON: %v", err)
	}
	return out, nil
}

func stringKeys(v any) any {
	switch v := v.(type) {
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[fmt.Sprint(k)] = stringKeys(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = stringKeys(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = stringKeys(e)
		}
		return out
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
