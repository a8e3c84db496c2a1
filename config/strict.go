package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// position is a line and column in the source file (1-based).
type position struct{ line, col int }

// checker walks a YAML node tree against the Go type it will decode into.
// It reports unknown keys and mistyped scalars at their exact positions,
// removes them so the final decode cannot fail half-way, expands ${VAR} in
// scalar values, and records the position of every path for later problems.
//
// yaml.v3's own KnownFields check is not used: it is lost inside custom
// unmarshalers and stops at the first bad scalar.
type checker struct {
	lookupEnv func(string) (string, bool)
	positions map[string]position
	problems  Problems
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
var obsoleteUnmarshalerType = reflect.TypeOf((*interface {
	UnmarshalYAML(func(any) error) error
})(nil)).Elem()

func (c *checker) add(n *yaml.Node, path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Line: n.Line, Column: n.Column, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) record(path string, n *yaml.Node) {
	if _, ok := c.positions[path]; !ok {
		c.positions[path] = position{n.Line, n.Column}
	}
}

func nullify(n *yaml.Node) {
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("the value %q", n.Value)
}

// walk checks node n, which will be decoded into a value of type t.
func (c *checker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		c.add(n, path, "YAML aliases are not supported in the config")
		nullify(n)
		return
	}
	if n.Kind == yaml.ScalarNode {
		c.expand(n, path)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if isNull(n) {
		return
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(unmarshalerType) || pt.Implements(obsoleteUnmarshalerType) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			c.add(n, path, "%s", cleanYAMLError(err))
			nullify(n)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.add(n, path, "expected a mapping of keys, got %s", kindName(n))
			nullify(n)
			return
		}
		fields := yamlFields(t)
		kept := n.Content[:0]
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			if !ok {
				c.add(k, JoinPath(path, k.Value), "unknown key %q%s", k.Value, DidYouMean(k.Value, slices.Collect(maps.Keys(fields))))
				continue
			}
			if seen[k.Value] {
				c.add(k, JoinPath(path, k.Value), "key %q appears twice", k.Value)
				continue
			}
			seen[k.Value] = true
			p := JoinPath(path, k.Value)
			c.record(p, pick(k, v))
			c.walk(v, f, p)
			kept = append(kept, k, v)
		}
		n.Content = kept
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.add(n, path, "expected a mapping, got %s", kindName(n))
			nullify(n)
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				c.add(k, path, "map keys must be plain strings")
				continue
			}
			p := JoinPath(path, k.Value)
			c.record(p, pick(k, v))
			c.walk(v, t.Elem(), p)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			c.add(n, path, "expected a list, got %s", kindName(n))
			nullify(n)
			return
		}
		for i, item := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			c.record(p, item)
			c.walk(item, t.Elem(), p)
		}
	case reflect.Interface:
		c.expandAll(n, path)
	default:
		if n.Kind != yaml.ScalarNode {
			c.add(n, path, "expected a single value, got %s", kindName(n))
			nullify(n)
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			c.add(n, path, "%s", scalarError(n, t))
			nullify(n)
		}
	}
}

// pick chooses the node whose position best names a key's value: the value
// itself for scalars, the key for nested sections.
func pick(k, v *yaml.Node) *yaml.Node {
	if v.Kind == yaml.ScalarNode {
		return v
	}
	return k
}

func (c *checker) expand(n *yaml.Node, path string) {
	if !strings.Contains(n.Value, "$") {
		return
	}
	v, err := expandEnv(n.Value, c.lookupEnv)
	if err != nil {
		c.add(n, path, "%v", err)
		nullify(n)
		return
	}
	if v != n.Value {
		n.Value = v
		if n.Style == 0 && n.Tag == "!!str" {
			n.Tag = "" // let the expanded text resolve as a number or bool
		}
	}
}

func (c *checker) expandAll(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.ScalarNode:
		c.expand(n, path)
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			c.expandAll(n.Content[i], JoinPath(path, n.Content[i-1].Value))
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			c.expandAll(item, path+"["+strconv.Itoa(i)+"]")
		}
	}
}

// yamlFields maps YAML keys to field types, following inline structs.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range yamlFields(ft) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func scalarError(n *yaml.Node, t reflect.Type) string {
	want := t.Kind().String()
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		want = "a whole number"
	case reflect.Float32, reflect.Float64:
		want = "a number"
	case reflect.Bool:
		want = "true or false"
	case reflect.String:
		want = "a string"
	}
	return fmt.Sprintf("expected %s, got %q", want, n.Value)
}

// cleanYAMLError strips yaml.v3's "yaml: unmarshal errors:\n  line N: " prefix;
// the position is reported separately.
func cleanYAMLError(err error) string {
	s := err.Error()
	if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
		s = te.Errors[0]
	}
	s = strings.TrimPrefix(s, "yaml: ")
	if strings.HasPrefix(s, "line ") {
		if _, rest, ok := strings.Cut(s, ": "); ok {
			s = rest
		}
	}
	return s
}
