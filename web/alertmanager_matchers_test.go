package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/matcher/compat"
	"github.com/prometheus/common/promslog"

	"github.com/sentinel-oss/sentinel/alerting"
	"github.com/sentinel-oss/sentinel/config"
)

// m is one expected matcher: name, operator, value.
type m [3]string

// matcherCase is an input from Alertmanager's own parser tests with the
// result those tests expect: the matchers, or a refusal (refused true).
type matcherCase struct {
	in      string
	want    []m
	refused bool
}

// classicCases are the inputs of Alertmanager's pkg/labels TestMatchers
// (v0.35), with the matchers that test expects from the classic parser.
var classicCases = []matcherCase{
	{in: `{}`},
	{in: `,`, refused: true},
	{in: `{,}`, refused: true},
	{in: `{foo='}`, want: []m{{"foo", "=", "'"}}},
	{in: "{foo=`}", want: []m{{"foo", "=", "`"}}},
	{in: `{foo=\"}`, want: []m{{"foo", "=", `"`}}},
	{in: `{foo=bar}`, want: []m{{"foo", "=", "bar"}}},
	{in: `{foo="bar"}`, want: []m{{"foo", "=", "bar"}}},
	{in: `{foo=~bar.*}`, want: []m{{"foo", "=~", "bar.*"}}},
	{in: `{foo=~"bar.*"}`, want: []m{{"foo", "=~", "bar.*"}}},
	{in: `{foo!=bar}`, want: []m{{"foo", "!=", "bar"}}},
	{in: `{foo!="bar"}`, want: []m{{"foo", "!=", "bar"}}},
	{in: `{foo!~bar.*}`, want: []m{{"foo", "!~", "bar.*"}}},
	{in: `{foo!~"bar.*"}`, want: []m{{"foo", "!~", "bar.*"}}},
	{in: `{foo="bar", baz!="quux"}`, want: []m{{"foo", "=", "bar"}, {"baz", "!=", "quux"}}},
	{in: `{foo="bar", baz!~"quux.*"}`, want: []m{{"foo", "=", "bar"}, {"baz", "!~", "quux.*"}}},
	{in: `{foo="bar",baz!~".*quux", derp="wat"}`, want: []m{{"foo", "=", "bar"}, {"baz", "!~", ".*quux"}, {"derp", "=", "wat"}}},
	{in: `{foo="bar", baz!="quux", derp="wat"}`, want: []m{{"foo", "=", "bar"}, {"baz", "!=", "quux"}, {"derp", "=", "wat"}}},
	{in: `{foo="bar", baz!~".*quux.*", derp="wat"}`, want: []m{{"foo", "=", "bar"}, {"baz", "!~", ".*quux.*"}, {"derp", "=", "wat"}}},
	{in: `{foo="bar", instance=~"some-api.*"}`, want: []m{{"foo", "=", "bar"}, {"instance", "=~", "some-api.*"}}},
	{in: `{foo=""}`, want: []m{{"foo", "=", ""}}},
	{in: `{foo="bar,quux", job="job1"}`, want: []m{{"foo", "=", "bar,quux"}, {"job", "=", "job1"}}},
	{in: `{foo = "bar", dings != "bums", }`, want: []m{{"foo", "=", "bar"}, {"dings", "!=", "bums"}}},
	{in: `foo=bar,dings!=bums`, want: []m{{"foo", "=", "bar"}, {"dings", "!=", "bums"}}},
	{in: `{quote="She said: \"Hi, ladies! That's gender-neutral…\""}`, want: []m{{"quote", "=", `She said: "Hi, ladies! That's gender-neutral…"`}}},
	{in: `statuscode=~"5.."`, want: []m{{"statuscode", "=~", "5.."}}},
	{in: `tricky=~~~`, want: []m{{"tricky", "=~", "~~"}}},
	{in: `trickier==\\=\=\"`, want: []m{{"trickier", "=", `=\=\="`}}},
	{in: `contains_quote != "\"" , contains_comma !~ "foo,bar" , `, want: []m{{"contains_quote", "!=", `"`}, {"contains_comma", "!~", "foo,bar"}}},
	{in: `{foo=bar}}`, want: []m{{"foo", "=", "bar}"}}},
	{in: `{foo=bar}},}`, want: []m{{"foo", "=", "bar}}"}}},
	{in: `{foo=,bar=}}`, want: []m{{"foo", "=", ""}, {"bar", "=", "}"}}},
	{in: `{foo=bar\t}`, want: []m{{"foo", "=", `bar\t`}}},
	{in: `{foo=bar\n}`, want: []m{{"foo", "=", "bar\n"}}},
	{in: `{foo=bar\}`, want: []m{{"foo", "=", `bar\`}}},
	{in: `{foo=bar\\}`, want: []m{{"foo", "=", `bar\`}}},
	{in: `{foo=bar\"}`, want: []m{{"foo", "=", `bar"`}}},
	{in: `job=`, want: []m{{"job", "=", ""}}},
	{in: `job="value`, refused: true},
	{in: `job=value"`, refused: true},
	{in: `trickier==\\=\=\""`, refused: true},
	{in: `contains_unescaped_quote = foo"bar`, refused: true},
	{in: `{invalid-name = "valid label"}`, refused: true},
	{in: `{foo=~"invalid[regexp"}`, refused: true},
	{in: `"{foo=\"bar"}`, refused: true},
	{in: `"foo=\"bar"`, refused: true},
	{in: `"foo=\"bar\""`, refused: true},
	{in: `"foo=\"bar\"`, refused: true},
	{in: `"{foo=\"bar\"}"`, refused: true},
	{in: `"foo="bar""`, refused: true},
	{in: `{{foo=`, refused: true},
	{in: `{foo=`, want: []m{{"foo", "=", ""}}},
	{in: `{foo=}b`, want: []m{{"foo", "=", "}b"}}},
}

// utf8Cases are the inputs of Alertmanager's matcher/parse TestMatchers
// and TestMatcher (v0.35), with what those tests expect from the UTF-8
// parser.
var utf8Cases = []matcherCase{
	{in: ""},
	{in: "{}"},
	{in: "{foo=bar}", want: []m{{"foo", "=", "bar"}}},
	{in: "{foo=bar,}", want: []m{{"foo", "=", "bar"}}},
	{in: "{foo!=bar}", want: []m{{"foo", "!=", "bar"}}},
	{in: "{foo=~[a-z]+}", want: []m{{"foo", "=~", "[a-z]+"}}},
	{in: "{foo!~[a-z]+}", want: []m{{"foo", "!~", "[a-z]+"}}},
	{in: "{foo=🙂}", want: []m{{"foo", "=", "🙂"}}},
	{in: "{foo=🙂bar}", want: []m{{"foo", "=", "🙂bar"}}},
	{in: "foo=bar", want: []m{{"foo", "=", "bar"}}},
	{in: "foo=bar,", want: []m{{"foo", "=", "bar"}}},
	{in: "foo!=bar", want: []m{{"foo", "!=", "bar"}}},
	{in: "foo=~[a-z]+", want: []m{{"foo", "=~", "[a-z]+"}}},
	{in: "foo!~[a-z]+", want: []m{{"foo", "!~", "[a-z]+"}}},
	{in: `{"foo"="bar"}`, want: []m{{"foo", "=", "bar"}}},
	{in: `{"foo"="bar",}`, want: []m{{"foo", "=", "bar"}}},
	{in: `{"foo"!="bar"}`, want: []m{{"foo", "!=", "bar"}}},
	{in: `{"foo"=~"[a-z]+"}`, want: []m{{"foo", "=~", "[a-z]+"}}},
	{in: `{"foo"=~"\\d+"}`, want: []m{{"foo", "=~", `\d+`}}},
	{in: `{"foo"!~"[a-z]+"}`, want: []m{{"foo", "!~", "[a-z]+"}}},
	{in: `{"foo"="🙂"}`, want: []m{{"foo", "=", "🙂"}}},
	{in: `{"foo"="\xf0\x9f\x99\x82"}`, want: []m{{"foo", "=", "🙂"}}},
	{in: `{"foo"="\U0001f642"}`, want: []m{{"foo", "=", "🙂"}}},
	{in: `{"foo"="🙂bar"}`, want: []m{{"foo", "=", "🙂bar"}}},
	{in: `{"foo"="bar\n"}`, want: []m{{"foo", "=", "bar\n"}}},
	{in: `{"foo"="bar\t"}`, want: []m{{"foo", "=", "bar\t"}}},
	{in: `{"foo"="\"bar\""}`, want: []m{{"foo", "=", `"bar"`}}},
	{in: `{"foo"="bar\\"}`, want: []m{{"foo", "=", `bar\`}}},
	{in: `"foo"="bar"`, want: []m{{"foo", "=", "bar"}}},
	{in: `"foo"="bar",`, want: []m{{"foo", "=", "bar"}}},
	{in: "{foo=bar,bar!=baz}", want: []m{{"foo", "=", "bar"}, {"bar", "!=", "baz"}}},
	{in: `{foo="bar",bar!="baz"}`, want: []m{{"foo", "=", "bar"}, {"bar", "!=", "baz"}}},
	{in: "foo=bar,bar!=baz", want: []m{{"foo", "=", "bar"}, {"bar", "!=", "baz"}}},
	{in: `foo="bar",bar!="baz"`, want: []m{{"foo", "=", "bar"}, {"bar", "!=", "baz"}}},
	{in: ",", refused: true},
	{in: "{,}", refused: true},
	{in: "{", refused: true},
	{in: "}", refused: true},
	{in: "foo=bar}", refused: true},
	{in: "{foo=bar", refused: true},
	{in: `{foo=:"bar"}`, refused: true},
	{in: `{foo="bar\w"}`, refused: true},
	{in: `{"foo"=~"\d+"}`, refused: true},
	{in: `{foo=bar\n}`, refused: true},
	{in: `{"foo"="\xf0\x9f"}`, refused: true},
	{in: `foo="\xf0\x9f"`, refused: true},
}

// guard is added to every silence so that inputs whose matchers would
// select every alert (foo="", {}) are still accepted as silences and the
// parse itself is what is compared.
const guard = `sentinel_conformance="x"`

// amSilenceMatchers creates a silence through POST /api/v1/silences with
// input (and the guard) and reads its matchers back through GET
// /api/v2/silence/{id}; refused reports a 400, with its message.
func amSilenceMatchers(t *testing.T, f *fixture, input string) (got []m, refused string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"matchers": []string{input, guard}, "ends_at": "2026-03-01T13:00:00Z"})
	rec := f.do(t, "POST", "/api/v1/silences", tokResponder, strings.NewReader(string(body)), "Content-Type", "application/json")
	if rec.Code == http.StatusBadRequest {
		return nil, errorOf(t, rec).Error
	}
	if rec.Code != http.StatusCreated {
		t.Fatalf("%q: %d %s", input, rec.Code, rec.Body)
	}
	var created struct{ ID string }
	_ = json.Unmarshal(rec.Body.Bytes(), &created)
	rec = f.do(t, "GET", "/api/v2/silence/"+created.ID, tokViewer, nil)
	var sil struct {
		Matchers []struct {
			Name, Value      string
			IsRegex, IsEqual bool
		}
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &sil) != nil {
		t.Fatalf("read back %s: %d %s", created.ID, rec.Code, rec.Body)
	}
	for _, o := range sil.Matchers {
		op := map[[2]bool]string{{false, true}: "=", {false, false}: "!=", {true, true}: "=~", {true, false}: "!~"}[[2]bool{o.IsRegex, o.IsEqual}]
		got = append(got, m{o.Name, op, o.Value})
	}
	if n := len(got); n == 0 || got[n-1] != (m{"sentinel_conformance", "=", "x"}) {
		t.Fatalf("%q: guard missing from %v", input, got)
	}
	return got[:len(got)-1], ""
}

func matcherFixture(t *testing.T, syntax config.MatcherSyntax) *fixture {
	t.Helper()
	f := newFixture(t, func(o *Options) { o.Server.MaxBodyBytes = 1 << 20 })
	svc, err := alerting.New(alerting.Options{Config: config.Alerting{MatcherSyntax: syntax}, Store: alerting.NewMemoryStore(),
		Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	lim := AlertingLimits{WebhookMaxBytes: 1 << 20, WebhookMaxAlerts: 100}
	MountAlerting(f.srv.Routes(), svc, lim)
	MountAlertmanagerAPI(f.srv.Routes(), svc, lim, AlertmanagerAPIInfo{})
	return f
}

func sameMatchers(a, b []m) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestAlertmanagerMatcherInputsThroughTheAPI runs Alertmanager's own parser
// test inputs through Sentinel's silence API: classic inputs with
// matcher_syntax classic, UTF-8 inputs with utf8-strict. Each must be
// accepted or refused as Alertmanager's tests expect, with the same parsed
// matchers. Then every input, in every syntax (fallback, Alertmanager's
// default, included), must agree with Alertmanager's parser in that mode
// called directly.
func TestAlertmanagerMatcherInputsThroughTheAPI(t *testing.T) {
	suites := []struct {
		syntax config.MatcherSyntax
		cases  []matcherCase
	}{
		{config.MatcherSyntaxClassic, classicCases},
		{config.MatcherSyntaxUTF8Strict, utf8Cases},
	}
	checked := 0
	for _, s := range suites {
		f := matcherFixture(t, s.syntax)
		for _, c := range s.cases {
			got, refused := amSilenceMatchers(t, f, c.in)
			switch {
			case c.refused && refused == "":
				t.Errorf("%s %q: accepted as %v, Alertmanager refuses it", s.syntax, c.in, got)
			case !c.refused && refused != "":
				t.Errorf("%s %q: refused (%s), Alertmanager reads %v", s.syntax, c.in, refused, c.want)
			case !c.refused && !sameMatchers(got, c.want):
				t.Errorf("%s %q: %q, Alertmanager reads %q", s.syntax, c.in, got, c.want)
			}
			checked++
		}
	}
	if checked != len(classicCases)+len(utf8Cases) || len(classicCases) != 53 || len(utf8Cases) != 46 {
		t.Fatalf("checked %d inputs (%d classic, %d UTF-8)", checked, len(classicCases), len(utf8Cases))
	}

	// Every input in every syntax: the same answer as Alertmanager's
	// parser in that mode, called directly.
	log := promslog.NewNopLogger()
	oracles := map[config.MatcherSyntax]compat.ParseMatchers{
		config.MatcherSyntaxClassic:    compat.ClassicMatchersParser(log),
		config.MatcherSyntaxFallback:   compat.FallbackMatchersParser(log),
		config.MatcherSyntaxUTF8Strict: compat.UTF8MatchersParser(log),
	}
	all := append(append([]matcherCase(nil), classicCases...), utf8Cases...)
	for syn, parse := range oracles {
		f := matcherFixture(t, syn)
		for _, c := range all {
			got, refused := amSilenceMatchers(t, f, c.in)
			ms, err := parse(c.in, "test")
			if err == nil {
				err = alerting.NewMatcherParser(syn, nil).Check(alerting.Matchers(ms))
			}
			if (err != nil) != (refused != "") {
				t.Errorf("%s %q: Sentinel refused=%q, Alertmanager err=%v", syn, c.in, refused, err)
				continue
			}
			var want []m
			for _, x := range ms {
				want = append(want, m{x.Name, x.Type.String(), x.Value})
			}
			if err == nil && !sameMatchers(got, want) {
				t.Errorf("%s %q: %q, Alertmanager %q", syn, c.in, got, want)
			}
		}
	}
}

// TestSilenceMatchersCommaListsAndObjects: a comma list is two matchers,
// and Alertmanager's matcher objects are taken, through the v1 API.
func TestSilenceMatchersCommaListsAndObjects(t *testing.T) {
	f := matcherFixture(t, config.MatcherSyntaxFallback)
	got, refused := amSilenceMatchers(t, f, "service=checkout,env=prod")
	if refused != "" || !sameMatchers(got, []m{{"service", "=", "checkout"}, {"env", "=", "prod"}}) {
		t.Fatalf("comma list: %v %s", got, refused)
	}
	body := `{"matchers": [{"name": "service", "value": "checkout"}, {"name": "alertname", "value": "Checkout.*", "isRegex": true},
		{"name": "env", "value": "dev", "isEqual": false}], "duration": "1h"}`
	rec := f.do(t, "POST", "/api/v1/silences", tokResponder, strings.NewReader(body), "Content-Type", "application/json")
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"matchers":["service=\"checkout\"","alertname=~\"Checkout.*\"","env!=\"dev\""]`) {
		t.Fatalf("objects: %d %s", rec.Code, rec.Body)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"matchers": ["job=value\""], "duration": "1h"}`, `matchers[0]: "job=value\"": matcher value contains unescaped double quote: value"`},
		{`{"matchers": [{"name": "a", "value": "b", "isregex": true}], "duration": "1h"}`, `unknown field "isregex"`},
		{`{"matchers": ["a~b"], "duration": "1h"}`, `matchers[0]: "a~b": 1:2: ~: invalid input: expected an operator such as '=', '!=', '=~' or '!~'`},
		{`{"matchers": [{"name": "a", "value": ".*", "isRegex": true}], "duration": "1h"}`, "would match every alert"},
	} {
		rec := f.do(t, "POST", "/api/v1/silences", tokResponder, strings.NewReader(tc.body), "Content-Type", "application/json")
		if rec.Code != http.StatusBadRequest || !strings.Contains(errorOf(t, rec).Error, tc.want) {
			t.Errorf("%s: %d %s, want 400 with %q", tc.body, rec.Code, rec.Body, tc.want)
		}
	}
}
