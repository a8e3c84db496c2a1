package config

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// docs/configuration.md lists every key with its default; this keeps the
// table and Default() in step for every row whose default is a literal.
func TestDocumentedDefaultsMatch(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := yaml.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([a-z0-9_.]+)` \\| `([^`]*)` \\|")
	checked := 0
	for _, line := range strings.Split(string(doc), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key, want := m[1], m[2]
		got, ok := lookup(tree, strings.Split(key, "."))
		if !ok {
			continue // derived or per-item defaults are described in words
		}
		checked++
		if normalise(got) != normalise(want) {
			t.Errorf("docs/configuration.md says %s defaults to %q, Default() has %q", key, want, normalise(got))
		}
	}
	if checked < 10 {
		t.Fatalf("checked only %d rows; has the table's format changed?", checked)
	}
}

func lookup(tree map[string]any, path []string) (any, bool) {
	var cur any = tree
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func normalise(v any) string {
	switch x := v.(type) {
	case nil:
		return `""`
	case string:
		if x == "" {
			return `""`
		}
		return x
	case []any:
		if len(x) == 0 {
			return "[]"
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = normalise(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		if len(x) == 0 {
			return "{}"
		}
	}
	s := fmt.Sprint(v)
	if s == "" {
		return `""`
	}
	return s
}
