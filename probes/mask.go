package probes

import (
	"regexp"
	"sort"
	"strings"
)

// masker hides a probe's secret values and card-number-looking digit runs
// in anything a run records or prints (errors, excerpts, extracted values).
type masker struct {
	secrets []string // longest first, so a secret containing another is masked whole
}

// minSecretLen keeps tiny values ("1", "ok") from masking half of every
// excerpt; secrets that short are not worth hiding.
const minSecretLen = 3

func newMasker(secrets map[string]string) *masker {
	m := &masker{}
	for _, v := range secrets {
		if len(v) >= minSecretLen {
			m.secrets = append(m.secrets, v)
		}
	}
	sort.Slice(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
	return m
}

// cardRE finds runs of 13 to 19 digits, optionally split by single spaces
// or dashes, as card numbers are written.
var cardRE = regexp.MustCompile(`\d(?:[ -]?\d){12,18}`)

// Mask returns s with secrets replaced by "<secret>" and Luhn-valid card
// numbers by "<card>".
func (m *masker) Mask(s string) string {
	if m != nil {
		for _, v := range m.secrets {
			if strings.Contains(s, v) {
				s = strings.ReplaceAll(s, v, "<secret>")
			}
		}
	}
	if !hasDigitRun(s) {
		return s
	}
	return cardRE.ReplaceAllStringFunc(s, func(run string) string {
		if luhn(run) {
			return "<card>"
		}
		return run
	})
}

// hasDigitRun is a cheap pre-check: 13 digits in a row (ignoring separators
// is left to the regexp) before running it on every excerpt.
func hasDigitRun(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			n++
			if n >= 13 {
				return true
			}
		case c == ' ' || c == '-':
		default:
			n = 0
		}
	}
	return false
}

// luhn reports whether the digits of s pass the Luhn check.
func luhn(s string) bool {
	sum, double, count := 0, false, 0
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
		count++
	}
	return count >= 13 && sum%10 == 0
}
