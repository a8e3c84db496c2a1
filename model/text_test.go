package model

import (
	"strings"
	"testing"
)

func TestTextProblem(t *testing.T) {
	for _, tc := range []struct {
		text  string
		lines bool
		want  string
	}{
		{"rolled v42", false, ""},
		{" two\nlines ", true, ""},
		{"two\nlines", false, "note holds the control character U+000A"},
		{"  ", true, "note is required"},
		{"bad \xff", true, "note is not valid UTF-8"},
		{strings.Repeat("é", 11), true, "note is longer than 10 characters"},
		{strings.Repeat("é", 10), true, ""},
		{"esc \x1b[31m", true, "note holds the control character U+001B"},
	} {
		if got := TextProblem("note", tc.text, 10, tc.lines); got != tc.want {
			t.Errorf("TextProblem(%q, lines=%v) = %q, want %q", tc.text, tc.lines, got, tc.want)
		}
	}
}
