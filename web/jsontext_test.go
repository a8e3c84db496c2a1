package web

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckJSONText(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       string // "" accepts; else a fragment of the refusal
	}{
		{"plain", `{"title":"Checkout down","labels":{"service":"checkout"},"summary":"line 1\nline 2\ttab"}`, ""},
		{"unicode text", `{"title":"Kasse ausgefallen – 結帳 🔥","labels":{"équipe":"paiements"}}`, ""},
		{"escaped pair", `{"title":"\ud83d\udd25 fire"}`, ""},
		{"numbers and nesting", `{"a":[1,2,{"b":null,"c":true}],"d":{"e":{"f":"g"}}}`, ""},
		{"same key in two objects", `{"a":{"x":1},"b":{"x":2}}`, ""},
		{"invalid UTF-8 in a value", "{\"title\":\"ok\",\"summary\":\"bad \xff byte\"}", `field "summary": invalid UTF-8`},
		{"invalid UTF-8 in a label key", "{\"labels\":{\"t\xc3eam\":\"x\"}}", `field "labels.t`},
		{"invalid UTF-8 in an array", "{\"action_items\":[{\"title\":\"ok\"},{\"title\":\"\xe2\x82\"}]}", `field "action_items[1].title": invalid UTF-8`},
		{"lone high surrogate", `{"title":"a\ud800b"}`, `field "title": invalid UTF-16`},
		{"lone low surrogate", `{"summary":"a\udc00"}`, `field "summary": invalid UTF-16`},
		{"escaped backslash before u", `{"summary":"C:\\ud800"}`, ""},
		{"NUL in free text", `{"summary":"a\u0000b"}`, `field "summary": the NUL character`},
		{"NUL in a title", "{\"title\":\"a\\u0000\"}", `field "title": the NUL character`},
		{"newline in a title", `{"title":"a\nb"}`, `field "title": the control character U+000A`},
		{"RLO in a title", "{\"title\":\"invoice \u202egpj.exe\"}", `field "title": the bidirectional control character U+202E`},
		{"isolate in a label value", `{"labels":{"service":"\u2066x\u2069"}}`, `field "labels.service": the bidirectional control character U+2066`},
		{"control in a label key", `{"labels":{"a\tb":"x"}}`, `field "labels.a\tb": the control character U+0009`},
		{"RLO in free text is allowed", `{"summary":"\u202e"}`, ""},
		{"duplicate top-level key", `{"title":"a","severity":"critical","title":"b"}`, `field (the body): the key "title" appears twice`},
		{"duplicate nested key", `{"labels":{"team":"a","team":"b"}}`, `field "labels": the key "team" appears twice`},
		{"duplicate in an array item", `{"items":[{"a":1},{"a":1,"a":2}]}`, `field "items[1]": the key "a" appears twice`},
		{"malformed is left to the decoder", `{"title":`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkJSONText([]byte(tc.body))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted, want %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

// FuzzCheckJSONText: never panics, and what it accepts decodes without
// encoding/json having to replace anything (no U+FFFD it was not sent).
func FuzzCheckJSONText(f *testing.F) {
	for _, s := range []string{`{"title":"a","labels":{"k":"v"}}`, "{\"a\":\"\xff\"}", `{"a":"\ud800"}`, `{"a":1,"a":2}`, `[{"x":[{"y":"z"}]}]`, `"str"`, `{"title":"\u202e"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if checkJSONText(data) != nil {
			return
		}
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		if !strings.Contains(string(data), "\ufffd") && !strings.Contains(strings.ToLower(string(data)), `\ufffd`) && strings.ContainsRune(dump(v), utf8.RuneError) {
			t.Fatalf("accepted %q, which decodes with a replacement character", data)
		}
	})
}

// dump flattens a decoded JSON value's strings and keys.
func dump(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				b.WriteString(k)
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}
