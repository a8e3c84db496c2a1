package alerting

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/matcher/compat"
	"github.com/prometheus/alertmanager/matcher/parse"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	pmodel "github.com/prometheus/common/model"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// Matcher is Alertmanager's own label matcher (pkg/labels), so silences,
// maintenance windows and inhibition rules match exactly as Alertmanager's
// do. A missing label reads as the empty string; regular expressions are
// anchored at both ends.
type Matcher = amlabels.Matcher

// MatchType is a matcher's operator.
type MatchType = amlabels.MatchType

// The four operators: =, !=, =~ and !~.
const (
	MatchEqual     = amlabels.MatchEqual
	MatchNotEqual  = amlabels.MatchNotEqual
	MatchRegexp    = amlabels.MatchRegexp
	MatchNotRegexp = amlabels.MatchNotRegexp
)

// maxMatcherText bounds one matcher text (which may hold several matchers),
// so a request cannot carry a pathological regular expression of unbounded
// size.
const maxMatcherText = 4096

// NewMatcher builds a matcher with a classic label name (letters, digits
// and _), compiling value for the regex operators.
func NewMatcher(name string, op MatchType, value string) (*Matcher, error) {
	if !pmodel.LegacyValidation.IsValidLabelName(name) {
		return nil, invalidf("label name %q: use letters, digits and _, not starting with a digit", truncate(name, 64))
	}
	m, err := amlabels.NewMatcher(op, name, value)
	if err != nil {
		return nil, invalidf("matcher %s%s%q: bad regular expression: %v", name, op, truncate(value, 64), err)
	}
	return m, nil
}

// Matchers are ANDed: all must match.
type Matchers []*Matcher

// Matches reports whether every matcher matches l.
func (ms Matchers) Matches(l model.Labels) bool {
	for _, m := range ms {
		if !m.Matches(l[m.Name]) {
			return false
		}
	}
	return true
}

// SelectsEverything applies Alertmanager's rule for silences: a set whose
// every matcher is an = or =~ matching the empty string would select every
// alert and is refused. (A != or !~ matcher counts as selective, as there.)
func (ms Matchers) SelectsEverything() bool {
	for _, m := range ms {
		if m.Type == MatchNotEqual || m.Type == MatchNotRegexp || !m.Matches("") {
			return false
		}
	}
	return true
}

// String prints the matchers as Alertmanager does: {a="1",b=~"x"}.
func (ms Matchers) String() string { return amlabels.Matchers(ms).String() }

// Texts prints each matcher on its own, as Alertmanager does.
func (ms Matchers) Texts() []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

// MarshalJSON writes Alertmanager's matcher objects
// ({name, value, isRegex, isEqual}).
func (ms Matchers) MarshalJSON() ([]byte, error) {
	objs := make([]MatcherObject, len(ms))
	for i, m := range ms {
		objs[i] = ObjectOf(m)
	}
	return json.Marshal(objs)
}

// UnmarshalJSON reads matcher objects, or the matcher texts that stored
// silences carried before objects were used.
func (ms *Matchers) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("matchers: expected a list: %w", err)
	}
	out := make(Matchers, 0, len(raw))
	for i, r := range raw {
		var in MatcherInput
		if err := json.Unmarshal(r, &in); err != nil {
			return fmt.Errorf("matchers[%d]: %w", i, err)
		}
		if in.Object != nil {
			m, err := in.Object.matcher(utf8LabelName)
			if err != nil {
				return fmt.Errorf("matchers[%d]: %w", i, err)
			}
			out = append(out, m)
			continue
		}
		// Old stored text was written with Go's quoting, which the UTF-8
		// parser reads.
		m, err := parse.Matcher(in.Text)
		if err != nil {
			return fmt.Errorf("matchers[%d]: %w", i, err)
		}
		out = append(out, m)
	}
	*ms = out
	return nil
}

// MatcherObject is Alertmanager's matcher as its APIs carry it. IsEqual
// defaults to true when absent, as in Alertmanager.
type MatcherObject struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual *bool  `json:"isEqual,omitempty"`
}

// ObjectOf returns m as Alertmanager's matcher object.
func ObjectOf(m *Matcher) MatcherObject {
	eq := m.Type == MatchEqual || m.Type == MatchRegexp
	return MatcherObject{Name: m.Name, Value: m.Value, IsRegex: m.Type == MatchRegexp || m.Type == MatchNotRegexp, IsEqual: &eq}
}

// Type is the operator the object's flags select.
func (o MatcherObject) Type() MatchType {
	eq := o.IsEqual == nil || *o.IsEqual
	switch {
	case eq && o.IsRegex:
		return MatchRegexp
	case eq:
		return MatchEqual
	case o.IsRegex:
		return MatchNotRegexp
	}
	return MatchNotEqual
}

func (o MatcherObject) matcher(validName func(string) bool) (*Matcher, error) {
	if o.Name == "" {
		return nil, invalidf("name: required")
	}
	if !validName(o.Name) {
		return nil, invalidf("name: invalid label name %q", truncate(o.Name, 64))
	}
	if len(o.Name)+len(o.Value) > maxMatcherText {
		return nil, invalidf("matcher is longer than %d bytes", maxMatcherText)
	}
	if !utf8.ValidString(o.Value) {
		return nil, invalidf("value: not valid UTF-8")
	}
	m, err := amlabels.NewMatcher(o.Type(), o.Name, o.Value)
	if err != nil {
		return nil, invalidf("value %q: bad regular expression: %v", truncate(o.Value, 64), err)
	}
	return m, nil
}

// MatcherInput is one entry of a request's matchers: text in Alertmanager's
// syntax (`service=checkout`, `{a="1",b=~"x"}`, or a comma list such as
// `service=checkout,env=prod`, which is two matchers), or a matcher object.
type MatcherInput struct {
	Text   string
	Object *MatcherObject
}

// UnmarshalJSON reads a JSON string or a matcher object; an object's
// unknown keys are refused, so a misspelt isRegex cannot silently widen
// what a silence mutes.
func (in *MatcherInput) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &in.Text)
	}
	if len(b) == 0 || b[0] != '{' {
		return invalidf("a matcher is a string such as \"service=checkout\" or an object {\"name\", \"value\", \"isRegex\", \"isEqual\"}")
	}
	// encoding/json matches keys without regard to case; Alertmanager's
	// keys are exact, so check them first.
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return invalidf("matcher object: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	for k := range keys {
		switch k {
		case "name", "value", "isRegex", "isEqual":
		default:
			return invalidf("matcher object: unknown field %q (want name, value, isRegex, isEqual)", truncate(k, 64))
		}
	}
	var o MatcherObject
	if err := json.Unmarshal(b, &o); err != nil {
		return invalidf("matcher object: %v (want name, value, isRegex, isEqual)", strings.TrimPrefix(err.Error(), "json: "))
	}
	in.Object = &o
	return nil
}

// MarshalJSON writes the text or the object.
func (in MatcherInput) MarshalJSON() ([]byte, error) {
	if in.Object != nil {
		return json.Marshal(in.Object)
	}
	return json.Marshal(in.Text)
}

// TextInputs wraps matcher texts as inputs.
func TextInputs(texts ...string) []MatcherInput {
	out := make([]MatcherInput, len(texts))
	for i, t := range texts {
		out[i] = MatcherInput{Text: t}
	}
	return out
}

// MatcherParser reads matcher text with the Alertmanager parser the
// configured syntax selects. It holds no state of its own beyond that
// choice, so it is safe for concurrent use.
type MatcherParser struct {
	syntax    config.MatcherSyntax
	one       compat.ParseMatcher
	many      compat.ParseMatchers
	validName func(string) bool
}

// NewMatcherParser returns the parser for syntax; log receives
// Alertmanager's warnings about inputs the fallback mode reads only with
// the classic parser.
func NewMatcherParser(syntax config.MatcherSyntax, log *slog.Logger) MatcherParser {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch syntax {
	case config.MatcherSyntaxClassic:
		return MatcherParser{syntax: syntax, one: compat.ClassicMatcherParser(log), many: compat.ClassicMatchersParser(log), validName: classicLabelName}
	case config.MatcherSyntaxUTF8Strict:
		return MatcherParser{syntax: syntax, one: compat.UTF8MatcherParser(log), many: compat.UTF8MatchersParser(log), validName: utf8LabelName}
	}
	return MatcherParser{syntax: config.MatcherSyntaxFallback, one: compat.FallbackMatcherParser(log), many: compat.FallbackMatchersParser(log), validName: utf8LabelName}
}

// Syntax names the parser's mode.
func (p MatcherParser) Syntax() config.MatcherSyntax { return p.syntax }

func (p MatcherParser) ready() MatcherParser {
	if p.many == nil {
		return NewMatcherParser(config.MatcherSyntaxFallback, nil)
	}
	return p
}

// Parse reads zero or more matchers, with or without braces:
// `service=checkout`, `{service="checkout", env!="dev"}`.
func (p MatcherParser) Parse(text string) (Matchers, error) {
	p = p.ready()
	if len(text) > maxMatcherText {
		return nil, invalidf("matcher text is longer than %d bytes", maxMatcherText)
	}
	ms, err := p.many(text, "api")
	if err != nil {
		return nil, invalidf("%q: %v", truncate(text, 128), p.explain(text, err))
	}
	return Matchers(ms), nil
}

// ParseOne reads exactly one matcher, as Alertmanager reads an API filter.
func (p MatcherParser) ParseOne(text string) (*Matcher, error) {
	p = p.ready()
	if len(text) > maxMatcherText {
		return nil, invalidf("matcher text is longer than %d bytes", maxMatcherText)
	}
	m, err := p.one(text, "api")
	if err != nil {
		return nil, invalidf("%q: %v", truncate(text, 128), p.explain(text, err))
	}
	return m, nil
}

// explain picks the clearer of the two parsers' errors when the fallback
// mode refuses text. Its classic parser's answer is kept when it says what
// is wrong ("matcher value contains unescaped double quote"); its generic
// "bad matcher format" gives way to the UTF-8 parser's, which names the
// position and what was expected ("1:2: ~: expected an operator such as
// '=', ...").
func (p MatcherParser) explain(text string, err error) error {
	if p.syntax != config.MatcherSyntaxFallback || !strings.HasPrefix(err.Error(), "bad matcher format") {
		return err
	}
	if _, uerr := parse.Matchers(text); uerr != nil {
		return uerr
	}
	return err
}

// ValidLabelName reports whether name is a label name in this syntax:
// classic names in classic mode, any non-empty UTF-8 otherwise.
func (p MatcherParser) ValidLabelName(name string) bool { return p.ready().validName(name) }

// Build turns request inputs into matchers: texts are parsed (each may
// yield several), objects checked. Problems name the entry
// (`matchers[1]: ...`).
func (p MatcherParser) Build(inputs []MatcherInput) (Matchers, error) {
	p = p.ready()
	var out Matchers
	for i, in := range inputs {
		if in.Object != nil {
			m, err := in.Object.matcher(p.validName)
			if err != nil {
				return nil, invalidf("matchers[%d]: %v", i, err)
			}
			out = append(out, m)
			continue
		}
		ms, err := p.Parse(in.Text)
		if err != nil {
			return nil, invalidf("matchers[%d]: %v", i, err)
		}
		if err := p.Check(ms); err != nil {
			return nil, invalidf("matchers[%d]: %v", i, err)
		}
		out = append(out, ms...)
	}
	return out, nil
}

// Check applies what Alertmanager checks of a silence's matchers beyond
// parsing: label names valid in this syntax, values valid UTF-8.
func (p MatcherParser) Check(ms Matchers) error {
	p = p.ready()
	for _, m := range ms {
		if !p.validName(m.Name) {
			return invalidf("invalid label name %q", truncate(m.Name, 64))
		}
		if !utf8.ValidString(m.Value) {
			return invalidf("label %q: value is not valid UTF-8", truncate(m.Name, 64))
		}
	}
	return nil
}

func classicLabelName(s string) bool { return pmodel.LegacyValidation.IsValidLabelName(s) }

func utf8LabelName(s string) bool { return s != "" && utf8.ValidString(s) }

// ParseMatchers reads matcher text in the default (fallback) syntax, for
// callers without a configured service (tests, fixtures).
func ParseMatchers(text string) (Matchers, error) {
	return NewMatcherParser(config.MatcherSyntaxFallback, nil).Parse(text)
}
