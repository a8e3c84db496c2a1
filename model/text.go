package model

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TextProblem names what is wrong with a person's text for field, or ""
// when it is fine: empty after trimming, not UTF-8, longer than max
// characters, or holding control characters (line breaks and tabs are
// allowed only where lines is set).
func TextProblem(field, text string, max int, lines bool) string {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return field + " is required"
	case !utf8.ValidString(text):
		return field + " is not valid UTF-8"
	case utf8.RuneCountInString(text) > max:
		return fmt.Sprintf("%s is longer than %d characters", field, max)
	}
	for _, r := range text {
		if unicode.IsControl(r) && !(lines && (r == '\n' || r == '\t' || r == '\r')) {
			return fmt.Sprintf("%s holds the control character %U", field, r)
		}
	}
	return ""
}
