package alerting

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/sentinel-oss/sentinel/model"
)

// MatchOp is how a matcher compares a label value.
type MatchOp string

// The four matcher operators, as Alertmanager writes them.
const (
	MatchEqual     MatchOp = "="
	MatchNotEqual  MatchOp = "!="
	MatchRegexp    MatchOp = "=~"
	MatchNotRegexp MatchOp = "!~"
)

// maxMatcherLen bounds a matcher's text, so a silence cannot carry a
// pathological regular expression of unbounded size.
const maxMatcherLen = 1024

// Matcher selects alerts by one label: name, operator and value (a regular
// expression anchored at both ends for =~ and !~). A missing label reads
// as the empty string, as in Alertmanager.
type Matcher struct {
	Name  string
	Op    MatchOp
	Value string
	re    *regexp.Regexp
}

// NewMatcher checks name and compiles value for the regex operators.
func NewMatcher(name string, op MatchOp, value string) (Matcher, error) {
	if !validLabelName(name) {
		return Matcher{}, invalidf("label name %q: use letters, digits and _, not starting with a digit", name)
	}
	m := Matcher{Name: name, Op: op, Value: value}
	switch op {
	case MatchEqual, MatchNotEqual:
	case MatchRegexp, MatchNotRegexp:
		re, err := regexp.Compile("^(?:" + value + ")$")
		if err != nil {
			return Matcher{}, invalidf("matcher %s%s%q: bad regular expression: %v", name, op, value, err)
		}
		m.re = re
	default:
		return Matcher{}, invalidf("unknown matcher operator %q (want =, !=, =~ or !~)", op)
	}
	return m, nil
}

// ParseMatcher reads one matcher such as `service=checkout`,
// `alertname=~"Checkout.*"` or `env!="dev"`; a quoted value uses Go's
// string escapes.
func ParseMatcher(s string) (Matcher, error) {
	if len(s) > maxMatcherLen {
		return Matcher{}, invalidf("matcher is longer than %d bytes", maxMatcherLen)
	}
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] == '_' || t[i] >= 'a' && t[i] <= 'z' || t[i] >= 'A' && t[i] <= 'Z' || t[i] >= '0' && t[i] <= '9') {
		i++
	}
	name := t[:i]
	rest := strings.TrimLeft(t[i:], " ")
	var op MatchOp
	switch {
	case strings.HasPrefix(rest, "=~"):
		op = MatchRegexp
	case strings.HasPrefix(rest, "!~"):
		op = MatchNotRegexp
	case strings.HasPrefix(rest, "!="):
		op = MatchNotEqual
	case strings.HasPrefix(rest, "="):
		op = MatchEqual
	default:
		if name == "" {
			return Matcher{}, invalidf("matcher %q: expected a label name followed by =, !=, =~ or !~", s)
		}
		return Matcher{}, invalidf("matcher %q: expected =, !=, =~ or !~ after %q", s, name)
	}
	if name == "" {
		return Matcher{}, invalidf("matcher %q: missing label name before %s", s, op)
	}
	value := strings.TrimSpace(rest[len(op):])
	if strings.HasPrefix(value, `"`) {
		uq, err := strconv.Unquote(value)
		if err != nil {
			return Matcher{}, invalidf("matcher %q: the quoted value is not closed or has a bad escape", s)
		}
		value = uq
	}
	return NewMatcher(name, op, value)
}

// Matches reports whether the labels satisfy the matcher.
func (m Matcher) Matches(l model.Labels) bool {
	v := l[m.Name]
	switch m.Op {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	case MatchRegexp:
		return m.re != nil && m.re.MatchString(v)
	case MatchNotRegexp:
		return m.re == nil || !m.re.MatchString(v)
	}
	return false
}

// String prints the matcher so that ParseMatcher reads it back.
func (m Matcher) String() string {
	return m.Name + string(m.Op) + strconv.Quote(m.Value)
}

// MarshalJSON writes the matcher as its text.
func (m Matcher) MarshalJSON() ([]byte, error) { return json.Marshal(m.String()) }

// UnmarshalJSON reads the matcher's text.
func (m *Matcher) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a matcher must be a string such as \"service=checkout\"")
	}
	v, err := ParseMatcher(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Matchers are ANDed: all must match.
type Matchers []Matcher

// Matches reports whether every matcher matches l.
func (ms Matchers) Matches(l model.Labels) bool {
	for _, m := range ms {
		if !m.Matches(l) {
			return false
		}
	}
	return true
}

// String prints the matchers as {a="1", b=~"x"}.
func (ms Matchers) String() string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
