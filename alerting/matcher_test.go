package alerting

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/matcher/compat"
	"github.com/prometheus/common/promslog"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

var allSyntaxes = []config.MatcherSyntax{config.MatcherSyntaxFallback, config.MatcherSyntaxClassic, config.MatcherSyntaxUTF8Strict}

func TestMatcherParserReadsListsAndModes(t *testing.T) {
	tests := []struct {
		syntax config.MatcherSyntax
		in     string
		want   []string // Alertmanager's printing of each matcher
		err    string
	}{
		// A comma list is several matchers, in every mode.
		{config.MatcherSyntaxFallback, "service=checkout,env=prod", []string{`service="checkout"`, `env="prod"`}, ""},
		{config.MatcherSyntaxClassic, "service=checkout,env=prod", []string{`service="checkout"`, `env="prod"`}, ""},
		{config.MatcherSyntaxUTF8Strict, "service=checkout,env=prod", []string{`service="checkout"`, `env="prod"`}, ""},
		{config.MatcherSyntaxFallback, `{service="checkout", alertname=~"Checkout.*"}`, []string{`service="checkout"`, `alertname=~"Checkout.*"`}, ""},
		// A quoted comma stays in the value.
		{config.MatcherSyntaxFallback, `service="a,b"`, []string{`service="a,b"`}, ""},
		// Inputs Alertmanager refuses are refused.
		{config.MatcherSyntaxUTF8Strict, "foo=bar}", nil, "expected opening brace"},
		{config.MatcherSyntaxClassic, `job=value"`, nil, "unescaped double quote"},
		{config.MatcherSyntaxUTF8Strict, "tricky=~~~", nil, "invalid input"},
		// The classic parser reads what the fallback reads with it.
		{config.MatcherSyntaxClassic, "tricky=~~~", []string{`tricky=~"~~"`}, ""},
		{config.MatcherSyntaxFallback, "tricky=~~~", []string{`tricky=~"~~"`}, ""},
		// UTF-8 label names only outside classic mode.
		{config.MatcherSyntaxUTF8Strict, `"service name"="checkout"`, []string{`"service name"="checkout"`}, ""},
		{config.MatcherSyntaxClassic, `"service name"="checkout"`, nil, "bad matcher format"},
		{config.MatcherSyntaxFallback, `a=~"("`, nil, "missing closing )"},
	}
	for _, tt := range tests {
		p := NewMatcherParser(tt.syntax, nil)
		ms, err := p.Parse(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrInvalid) {
				t.Errorf("%s %q: err %v, want invalid containing %q", tt.syntax, tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", tt.syntax, tt.in, err)
			continue
		}
		if got := ms.Texts(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %q: %q, want %q", tt.syntax, tt.in, got, tt.want)
		}
	}
}

func TestMatchersMatchLikeAlertmanager(t *testing.T) {
	ms, err := ParseMatchers(`service=checkout, alertname=~"Checkout.*", env!="dev", team!~"a|b", missing=""`)
	if err != nil {
		t.Fatal(err)
	}
	if !ms.Matches(model.Labels{"service": "checkout", "alertname": "CheckoutDown", "env": "prod", "team": "c"}) {
		t.Error("should match")
	}
	for _, l := range []model.Labels{
		{"service": "cart", "alertname": "CheckoutDown"},
		{"service": "checkout", "alertname": "XCheckoutDown"}, // anchored
		{"service": "checkout", "alertname": "CheckoutDown", "env": "dev"},
		{"service": "checkout", "alertname": "CheckoutDown", "team": "a"},
		{"service": "checkout", "alertname": "CheckoutDown", "missing": "x"},
	} {
		if ms.Matches(l) {
			t.Errorf("should not match %v", l)
		}
	}
	if ms.SelectsEverything() {
		t.Error("SelectsEverything")
	}
	if all, _ := ParseMatchers(`a=~".*", b=""`); !all.SelectsEverything() {
		t.Error("a=~.* and b= select every alert")
	}
	if neg, _ := ParseMatchers(`env!="prod"`); neg.SelectsEverything() {
		t.Error("a != matcher is selective, as in Alertmanager")
	}
}

func TestMatcherInputsAndObjects(t *testing.T) {
	var req struct {
		Matchers []MatcherInput `json:"matchers"`
	}
	body := `{"matchers": ["service=checkout,env=prod", {"name": "alertname", "value": "Checkout.*", "isRegex": true},
		{"name": "team", "value": "a", "isEqual": false}, {"name": "zone", "value": "eu|us", "isRegex": true, "isEqual": false}]}`
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	ms, err := MatcherParser{}.Build(req.Matchers)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`service="checkout"`, `env="prod"`, `alertname=~"Checkout.*"`, `team!="a"`, `zone!~"eu|us"`}
	if got := ms.Texts(); !reflect.DeepEqual(got, want) {
		t.Fatalf("%q, want %q", got, want)
	}
	bad := []struct{ body, want string }{
		{`{"matchers": [{"name": "a", "value": "b", "isregex": true}]}`, "unknown field"},
		{`{"matchers": [42]}`, "a matcher is a string"},
		{`{"matchers": [{"value": "b"}]}`, "name: required"},
		{`{"matchers": [{"name": "a", "value": "(", "isRegex": true}]}`, "bad regular expression"},
		{`{"matchers": ["a b"]}`, "matchers[0]"},
	}
	for _, tt := range bad {
		req.Matchers = nil
		err := json.Unmarshal([]byte(tt.body), &req)
		if err == nil {
			_, err = MatcherParser{}.Build(req.Matchers)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.body, err, tt.want)
		}
	}
}

func TestMatchersJSONRoundTripAndLegacyText(t *testing.T) {
	ms, err := NewMatcherParser(config.MatcherSyntaxUTF8Strict, nil).Parse(`{"service name"="a\"b", x!~"y|z", n="line\n"}`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ms)
	if err != nil {
		t.Fatal(err)
	}
	var back Matchers
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, ms) {
		t.Fatalf("round trip %s: %v, want %v", b, back, ms)
	}
	// Silences stored before matchers were objects carry Go-quoted text.
	var legacy Matchers
	if err := json.Unmarshal([]byte(`["service=\"checkout\"", "alertname=~\"Checkout.*\"", "x=\"a\\tb\""]`), &legacy); err != nil {
		t.Fatal(err)
	}
	if got := legacy.String(); got != `{service="checkout",alertname=~"Checkout.*",x="a	b"}` {
		t.Fatalf("legacy %s", got)
	}
}

// FuzzParseMatchers checks that Sentinel's parser is Alertmanager's in
// every mode (same accept or refuse, same matchers), that refusals are
// ErrInvalid and that what is accepted survives storage as JSON.
func FuzzParseMatchers(f *testing.F) {
	for _, s := range []string{"a=b", `a!="x"`, `{a=~"x.*", b!~"(a|b)"}`, "service=checkout,env=prod", `=`, `a="\x00"`, `{"a b"="c"}`, "foo=bar}", "tricky=~~~"} {
		f.Add(s)
	}
	log := promslog.NewNopLogger()
	oracles := map[config.MatcherSyntax]compat.ParseMatchers{
		config.MatcherSyntaxFallback:   compat.FallbackMatchersParser(log),
		config.MatcherSyntaxClassic:    compat.ClassicMatchersParser(log),
		config.MatcherSyntaxUTF8Strict: compat.UTF8MatchersParser(log),
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > maxMatcherText {
			return
		}
		for _, syn := range allSyntaxes {
			ms, err := NewMatcherParser(syn, nil).Parse(s)
			want, werr := oracles[syn](s, "fuzz")
			if (err == nil) != (werr == nil) {
				t.Fatalf("%s %q: Sentinel err %v, Alertmanager err %v", syn, s, err, werr)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error %v does not wrap ErrInvalid", err)
				}
				continue
			}
			if ms.String() != Matchers(want).String() {
				t.Fatalf("%s %q: %s, Alertmanager %s", syn, s, ms, Matchers(want))
			}
			if NewMatcherParser(syn, nil).Check(ms) != nil {
				continue // refused as a silence's matchers, as Alertmanager does
			}
			b, err := json.Marshal(ms)
			if err != nil {
				t.Fatal(err)
			}
			var back Matchers
			if err := json.Unmarshal(b, &back); err != nil || back.String() != ms.String() {
				t.Fatalf("%s %q: JSON round trip %s: %v %v", syn, s, b, back, err)
			}
			_ = ms.Matches(model.Labels{"a": "b"})
		}
	})
}
