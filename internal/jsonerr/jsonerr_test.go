package jsonerr

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

type item struct {
	Title string `json:"title"`
	Due   string `json:"due"`
}

type level string

func (l *level) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("level must be a string")
	}
	if s != "low" && s != "high" {
		return fmt.Errorf("unknown level %q", s)
	}
	*l = level(s)
	return nil
}

type body struct {
	Title  string            `json:"title"`
	Count  int               `json:"count"`
	Labels map[string]string `json:"labels"`
	Items  []item            `json:"items"`
	Level  level             `json:"level"`
}

// Each value is named by its path and the offset where it starts (the
// position of at in the body; "" for none).
func TestLocate(t *testing.T) {
	tests := []struct{ data, want, at string }{
		{`{"title": 5}`, `field "title": expected a string, got JSON number (byte %d)`, `5}`},
		{`{"count": "2"}`, `field "count": expected an integer, got JSON string (byte %d)`, `"2"`},
		{`{"labels": ["a"]}`, `field "labels": expected an object, got JSON array (byte %d)`, `["a"]`},
		{`{"labels": {"a": "b", "c": 5}}`, `field "labels.c": expected a string, got JSON number (byte %d)`, `5}`},
		{`{"items": [{"title": "a"}, {"title": "b", "due": 5}]}`, `field "items[1].due": expected a string, got JSON number (byte %d)`, `5}`},
		{`{"items": [{"title": "a", "titel": "b"}]}`, `field "items[0]": unknown field "titel" (byte %d)`, `"titel"`},
		{`{"titel": "x"}`, `unknown field "titel" (byte %d)`, `"titel"`},
		{`{"level": "loud"}`, `field "level": unknown level "loud" (byte %d)`, `"loud"`},
		{`  [1]`, `the body: expected an object, got JSON array (byte %d)`, `[1]`},
	}
	for _, tt := range tests {
		got, ok := Locate([]byte(tt.data), reflect.TypeOf(body{}))
		if want := fmt.Sprintf(tt.want, strings.Index(tt.data, tt.at)); !ok || got != want {
			t.Errorf("%s: %q %v, want %q", tt.data, got, ok, want)
		}
	}
	if got, ok := Locate([]byte(`{"title": "x"}`), reflect.TypeOf(body{})); ok {
		t.Errorf("a body that decodes: %q", got)
	}
}

// event decodes itself, as go-swagger's models do, so encoding/json's
// errors from inside it name no field.
type event struct {
	At     time.Time         `json:"at"`
	Labels map[string]string `json:"labels"`
	Status string            `json:"status"`
}

func (e *event) UnmarshalJSON(b []byte) error {
	type plain event
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*e = event(p)
	return nil
}

type notice struct {
	At     time.Time         `json:"at"`
	Labels map[string]string `json:"labels"`
	Status string            `json:"status"`
}

func TestLocateFields(t *testing.T) {
	for name, newValue := range map[string]func() any{
		"plain":             func() any { return new(notice) },
		"own UnmarshalJSON": func() any { return new(event) },
	} {
		tests := []struct{ data, want, at string }{
			{`{"x": 1, "at": "yesterday"}`, `at: "yesterday" is not an RFC 3339 time (byte %d)`, `"yesterday"`},
			{`{"at": 5}`, `at: expected an RFC 3339 time (a string), got JSON number (byte %d)`, `5}`},
			{`{"labels": ["a"]}`, `labels: expected an object, got JSON array (byte %d)`, `"a"]`},
			{`{"at": "` + strings.Repeat("x", 70) + `"}`, `at: "` + strings.Repeat("x", 64) + `…" is not an RFC 3339 time (byte %d)`, `"xx`},
		}
		for _, tt := range tests {
			got, ok := LocateFields([]byte(tt.data), newValue)
			if want := fmt.Sprintf(tt.want, strings.Index(tt.data, tt.at)); !ok || got != want {
				t.Errorf("%s %s: %q %v, want %q", name, tt.data, got, ok, want)
			}
		}
	}
}

func TestLocateEach(t *testing.T) {
	newNotice := func() any { return new(notice) }
	data := `{"items": [], "items": [{"status": "ok"}, 7, {"at": "x"}], "more": 1}`
	want := fmt.Sprintf("items[1]: expected an object, got JSON number (byte %d)", strings.Index(data, "7"))
	if got, ok := LocateEach([]byte(data), "items", true, newNotice); !ok || got != want {
		t.Errorf("in an object: %q %v, want %q", got, ok, want)
	}
	list := `[{"status": "ok"}, {"status": 5}]`
	want = fmt.Sprintf("items[1].status: expected a string, got JSON number (byte %d)", strings.Index(list, "}]"))
	if got, ok := LocateEach([]byte(list), "items", false, newNotice); !ok || got != want {
		t.Errorf("a list: %q %v, want %q", got, ok, want)
	}
	if got, ok := LocateEach([]byte(`[{"status": "ok"}]`), "items", false, newNotice); ok {
		t.Errorf("a list that decodes: %q", got)
	}
}

func TestKind(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want string
	}{
		{new(int), "an integer"}, {uint64(1), "an integer"}, {1.5, "a number"}, {"", "a string"}, {true, "a boolean"},
		{[]int{}, "an array"}, {map[string]int{}, "an object"}, {item{}, "an object"}, {time.Time{}, "an RFC 3339 time"},
	} {
		if got := Kind(reflect.TypeOf(tt.v)); got != tt.want {
			t.Errorf("%T: %q, want %q", tt.v, got, tt.want)
		}
	}
	if got := Kind(nil); got != "a value" {
		t.Errorf("nil: %q", got)
	}
}

// FuzzLocate: any body is either located, with an offset inside it, or
// left to the decoder; nothing panics.
func FuzzLocate(f *testing.F) {
	for _, s := range []string{`{"title": 5}`, `{"items": [{"due": 1}]}`, `{"at": "x"}`, `[{"labels": [1]}]`, `{"items": [7]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		check := func(msg string, ok bool) {
			if !ok {
				return
			}
			i := strings.LastIndex(msg, "(byte ")
			var at int
			if i < 0 || !strings.HasSuffix(msg, ")") {
				t.Fatalf("%q: %q names no byte", data, msg)
			}
			if _, err := fmt.Sscanf(msg[i:], "(byte %d)", &at); err != nil || at < 0 || at > len(data) {
				t.Fatalf("%q: %q: offset outside the body", data, msg)
			}
		}
		check(Locate([]byte(data), reflect.TypeOf(body{})))
		check(LocateFields([]byte(data), func() any { return new(event) }))
		check(LocateEach([]byte(data), "items", true, func() any { return new(notice) }))
		check(LocateEach([]byte(data), "items", false, func() any { return new(event) }))
	})
}
