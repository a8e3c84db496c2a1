package config

import "testing"

func TestDidYouMean(t *testing.T) {
	known := []string{"serve", "demo", "check", "slo", "store"}
	for word, want := range map[string]string{
		"serv":       ` (did you mean "serve"?)`,
		"chekc":      ` (did you mean "check"?)`,
		"sol":        ` (did you mean "slo"?)`,
		"stroe":      ` (did you mean "store"?)`,
		"nope":       "",
		"stor":       ` (did you mean "store"?)`,
		"frobnicate": "",
		"":           "",
	} {
		if got := DidYouMean(word, known); got != want {
			t.Errorf("DidYouMean(%q) = %q, want %q", word, got, want)
		}
	}
	if got := DidYouMean("x", nil); got != "" {
		t.Errorf("no known names: %q", got)
	}
}
