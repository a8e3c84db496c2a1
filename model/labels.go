package model

import (
	"sort"
	"strings"
)

// Labels are the key/value pairs that identify a signal, an alert or an
// incident (service=checkout).
type Labels map[string]string

// Clone returns a copy that the caller may change.
func (l Labels) Clone() Labels {
	out := make(Labels, len(l))
	for k, v := range l {
		out[k] = v
	}
	return out
}

// Merge returns a copy of l with other's pairs added, other winning.
func (l Labels) Merge(other Labels) Labels {
	out := l.Clone()
	for k, v := range other {
		out[k] = v
	}
	return out
}

// Keys returns the label names, sorted.
func (l Labels) Keys() []string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// String prints the labels sorted, as `a=1,b=2`; equal sets print equally,
// so the result serves as a map key.
func (l Labels) String() string {
	var b strings.Builder
	for i, k := range l.Keys() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(l[k])
	}
	return b.String()
}

// Subset returns the pairs of l whose names are in names, in the order given,
// formatted as `name=value`; missing names are printed with an empty value.
func (l Labels) Subset(names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + l[n]
	}
	return strings.Join(parts, ",")
}
