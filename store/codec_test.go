package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/store"
)

type incidentV2 struct {
	ID    uint64 `json:"id"`
	Title string `json:"title"`
}

func TestEncodeDecodeJSON(t *testing.T) {
	b, err := store.EncodeJSON(2, incidentV2{ID: 42, Title: "checkout down"})
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 2 || string(b[1:]) != `{"id":42,"title":"checkout down"}` {
		t.Fatalf("encoded %q", b)
	}
	var got incidentV2
	v, err := store.DecodeJSON(b, 2, &got)
	if err != nil || v != 2 || got.ID != 42 || got.Title != "checkout down" {
		t.Fatalf("decoded v%d %+v, %v", v, got, err)
	}
	if _, err := store.EncodeJSON(0, got); err == nil {
		t.Error("EncodeJSON accepted version 0")
	}
	if _, err := store.EncodeJSON(1, func() {}); err == nil {
		t.Error("EncodeJSON accepted a func")
	}
}

func TestDecodeJSONRefusals(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		max   byte
		want  string
		newer bool
	}{
		{"empty", nil, 1, "empty value", false},
		{"version zero", []byte("\x00{}"), 1, "version 0", false},
		{"newer", []byte("\x03{}"), 2, "value version 3 is newer than this sentinel understands (2)", true},
		{"bad json", []byte("\x01{"), 1, "decode value (version 1)", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v incidentV2
			_, err := store.DecodeJSON(tc.in, tc.max, &v)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
			if errors.Is(err, store.ErrNewerSchema) != tc.newer {
				t.Fatalf("errors.Is(ErrNewerSchema) = %v, want %v", !tc.newer, tc.newer)
			}
		})
	}
}

func TestSplitVersionForOldShapes(t *testing.T) {
	old := append([]byte{1}, `{"id":7,"name":"legacy title"}`...)
	version, body, err := store.SplitVersion(old, 2)
	if err != nil || version != 1 || string(body) != `{"id":7,"name":"legacy title"}` {
		t.Fatalf("SplitVersion = %d %q %v", version, body, err)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte("\x01{\"id\":1}"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var v incidentV2
		_, _ = store.DecodeJSON(b, 3, &v)
	})
}
