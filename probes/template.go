package probes

import (
	"fmt"
	"sort"
	"strings"
	"text/template"
	"text/template/parse"
)

// tmpl is a string that may hold {{ .name }} references to values extracted
// by earlier steps and to the probe's secrets. Static strings skip
// text/template entirely.
type tmpl struct {
	raw string
	t   *template.Template
}

// compileTemplate parses s; the names it refers to are returned so the
// caller can check that they are defined before the step runs.
func compileTemplate(s string) (tmpl, []string, error) {
	if !strings.Contains(s, "{{") {
		return tmpl{raw: s}, nil, nil
	}
	t, err := template.New("").Option("missingkey=error").Parse(s)
	if err != nil {
		msg := err.Error()
		if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "template: ") && i >= 0 {
			msg = strings.TrimPrefix(msg, "template: ")
			if j := strings.LastIndex(msg, ": "); j >= 0 {
				msg = msg[j+2:]
			}
		}
		return tmpl{}, nil, fmt.Errorf("invalid template %q: %s", s, msg)
	}
	names := map[string]bool{}
	if t.Tree != nil && t.Tree.Root != nil {
		collectFields(t.Tree.Root, names)
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return tmpl{raw: s, t: t}, out, nil
}

// collectFields finds the .name references in a template tree.
func collectFields(n parse.Node, names map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			collectFields(c, names)
		}
	case *parse.ActionNode:
		collectFields(n.Pipe, names)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			collectFields(c, names)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			collectFields(a, names)
		}
	case *parse.FieldNode:
		if len(n.Ident) > 0 {
			names[n.Ident[0]] = true
		}
	case *parse.ChainNode:
		collectFields(n.Node, names)
	case *parse.IfNode:
		collectFields(n.Pipe, names)
		collectFields(n.List, names)
		collectFields(n.ElseList, names)
	case *parse.RangeNode:
		collectFields(n.Pipe, names)
		collectFields(n.List, names)
		collectFields(n.ElseList, names)
	case *parse.WithNode:
		collectFields(n.Pipe, names)
		collectFields(n.List, names)
		collectFields(n.ElseList, names)
	}
}

// render fills in the template from vars.
func (t tmpl) render(vars map[string]string) (string, error) {
	if t.t == nil {
		return t.raw, nil
	}
	var b strings.Builder
	if err := t.t.Execute(&b, vars); err != nil {
		return "", fmt.Errorf("template %q: %w", t.raw, err)
	}
	return b.String(), nil
}
