package probes

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sentinel-oss/sentinel/config"
)

// FuzzCompileStrings feeds arbitrary template, JSON path and regex strings
// through Compile: it must report problems, never panic, and whatever it
// accepts must render without panicking.
func FuzzCompileStrings(f *testing.F) {
	for _, s := range []string{"{{ .cart_id }}", "$.cart.id", "$..id", "$.items[?(@.id > 1)].id", "{{", "$[", "{{ .a.b }}", "{{ range .x }}{{ end }}", "id=(\\d+)", "$['a']"} {
		f.Add(s, s, s)
	}
	f.Fuzz(func(t *testing.T, tmplText, path, re string) {
		p := config.Probe{
			Name:    "p",
			Secrets: map[string]config.Secret{"card": config.NewSecret("4242424242424242")},
			Steps: []config.ProbeStep{
				{Name: "a", Request: config.ProbeRequest{URL: "http://x/"}, Extract: map[string]config.Extraction{
					"cart_id": {JSON: path}, "r": {Regex: re},
				}, Expect: config.ProbeExpect{JSON: map[string]any{path: "x"}, JSONExists: []string{path}}},
				{Name: "b", Request: config.ProbeRequest{URL: "http://x/" + tmplText, Body: tmplText, JSON: map[string]any{"k": tmplText}}},
			},
		}
		js, ps := Compile([]config.Probe{p})
		if len(ps) > 0 {
			return
		}
		st := js[0].steps[1]
		vars := map[string]string{"cart_id": "c", "r": "r", "card": "4242424242424242"}
		_, _ = st.url.render(vars)
		_, _ = st.body.render(vars)
		_, _ = st.json.render(vars)
		doc := map[string]any{"cart": map[string]any{"id": "c"}}
		for _, x := range js[0].steps[0].extract {
			if x.json != nil {
				_ = x.json.expr.Get(doc)
			}
		}
	})
}

// FuzzMask checks that masking never panics and never leaves a secret.
func FuzzMask(f *testing.F) {
	f.Add("card 4242 4242 4242 4242 key sk_live_x")
	f.Fuzz(func(t *testing.T, s string) {
		m := newMasker(map[string]string{"k": "sk_live_x"})
		out := m.Mask(s)
		if strings.Contains(out, "sk_live_x") {
			t.Errorf("secret left in %q", out)
		}
	})
}

// FuzzErrorExcerpt checks that reading a response body for an alert never
// panics and stays short and valid.
func FuzzErrorExcerpt(f *testing.F) {
	f.Add(`{"status":"failed","error":"payment provider unavailable"}`)
	f.Add(`{"error":{"message":"nested"}}`)
	f.Add("<html>\n<body>Bad gateway</body>")
	f.Fuzz(func(t *testing.T, body string) {
		out := errorExcerpt(body)
		if utf8.RuneCountInString(out) > errorExcerptRunes {
			t.Errorf("%d characters", utf8.RuneCountInString(out))
		}
	})
}
