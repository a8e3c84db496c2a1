package config

import (
	"fmt"
	"strings"
)

// DidYouMean offers the known name closest to a mistyped one, as
// ` (did you mean "serve"?)`, or "" when none is close: one edit for words
// of up to five letters, two for longer ones (a swap of neighbours is one
// edit; a word that begins a name, "val" for "value", is close), so a word
// that is merely unknown is not answered with a guess.
func DidYouMean(word string, known []string) string {
	best, bestDist := "", 2
	if len(word) > 5 {
		bestDist = 3
	}
	for _, name := range known {
		d := editDistance(word, name)
		if len(word) >= 3 && strings.HasPrefix(name, word) {
			d = min(d, 1) // a shortened name ("val" for "value")
		}
		if d < bestDist || (d == bestDist && best != "" && name < best) {
			best, bestDist = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbouring bytes.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
