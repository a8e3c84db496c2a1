package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a config file: where (a dotted path such as
// probes[2].steps[1].request.url, and its line and column when known) and what.
type Problem struct {
	File    string
	Line    int
	Column  int
	Path    string
	Message string
}

// String formats the problem as FILE:LINE:COL: path: message.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteByte(':')
		if p.Line > 0 {
			fmt.Fprintf(&b, "%d:%d:", p.Line, p.Column)
		}
		b.WriteByte(' ')
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in one pass; it is an error.
type Problems []Problem

// Error lists the problems one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Add appends a problem at path.
func (ps *Problems) Add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when there are no problems.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// sortByPosition orders problems as they appear in the file.
func (ps Problems) sortByPosition() {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Column < ps[j].Column
	})
}

// AsProblems extracts problems from err (a Problems, or an error wrapping
// one); any other error becomes a single problem with no path.
func AsProblems(err error) Problems {
	if err == nil {
		return nil
	}
	var ps Problems
	if errors.As(err, &ps) {
		return ps
	}
	return Problems{{Message: err.Error()}}
}

// Prefix returns the problems with prefix prepended to each path, for
// components that validate their own section.
func (ps Problems) Prefix(prefix string) Problems {
	out := make(Problems, len(ps))
	for i, p := range ps {
		p.Path = JoinPath(prefix, p.Path)
		out[i] = p
	}
	return out
}

// JoinPath joins path segments: JoinPath("probes[0]", "steps[1]") is
// "probes[0].steps[1]"; an index segment "[2]" is appended without a dot.
func JoinPath(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}
