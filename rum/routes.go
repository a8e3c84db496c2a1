package rum

import "strings"

// RouteOther is the route of every path that matches no configured template.
const RouteOther = "other"

// Router folds URL paths into a bounded set of route templates, so metric
// labels and stored summaries stay bounded however many distinct URLs
// pages report. Templates are /literal segments, :name segments matching any
// one segment, and a final * matching the rest (including nothing). "/" is
// always a route. The first matching template, in configured order, wins.
// A Router is immutable and safe for concurrent use.
type Router struct {
	routes [][]string // segments of each template
	names  []string
}

// NewRouter compiles the templates (already validated by config).
func NewRouter(templates []string) *Router {
	r := &Router{}
	hasRoot := false
	for _, t := range templates {
		if t == "/" {
			hasRoot = true
		}
		r.names = append(r.names, t)
		r.routes = append(r.routes, splitPath(t))
	}
	if !hasRoot {
		r.names = append(r.names, "/")
		r.routes = append(r.routes, nil)
	}
	return r
}

// Routes lists every route label Fold can return, "other" last.
func (r *Router) Routes() []string {
	return append(append([]string(nil), r.names...), RouteOther)
}

// Fold returns the template that path (a URL path or a whole URL) falls into,
// or "other".
func (r *Router) Fold(path string) string {
	path = pathOf(path)
	for i, t := range r.routes {
		if match(t, path) {
			return r.names[i]
		}
	}
	return RouteOther
}

// match reports whether a path's segments fit a template's, walking the
// path in place (Fold runs for every beacon).
func match(tmpl []string, path string) bool {
	for _, t := range tmpl {
		if t == "*" {
			return true
		}
		var seg string
		if seg, path = nextSegment(path); seg == "" {
			return false
		}
		if t[0] != ':' && t != seg {
			return false
		}
	}
	seg, _ := nextSegment(path)
	return seg == ""
}

// nextSegment returns the first non-empty segment of p and what follows
// it, or "" when none is left.
func nextSegment(p string) (seg, rest string) {
	for p != "" {
		seg, p, _ = strings.Cut(p, "/")
		if seg != "" {
			return seg, p
		}
	}
	return "", ""
}

// pathOf returns the path of a URL or path, without query or fragment.
func pathOf(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
		if j := strings.IndexByte(s, '/'); j >= 0 {
			s = s[j:]
		} else {
			s = "/"
		}
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	return s
}

// splitPath splits /a/b/ into [a b]; empty segments are dropped so /a//b and
// /a/b/ fold like /a/b.
func splitPath(p string) []string {
	var segs []string
	for p != "" {
		var s string
		s, p, _ = strings.Cut(p, "/")
		if s != "" {
			segs = append(segs, s)
		}
	}
	return segs
}
