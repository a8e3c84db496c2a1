package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// locateJSONError finds the value of data that failed to decode into a
// value of type t and describes it with its path and byte offset:
// `field "action_items[1].due": expected a string, got JSON number (byte
// 52)`, `field "severity": unknown severity "loud" (...) (byte 12)`.
//
// encoding/json names no array index, and an error from a type's own
// UnmarshalJSON (a severity, a status) carries neither field nor offset.
// So, after a failed decode, each value is decoded again on its own into
// the Go type at its place, descending to the deepest one that fails. It
// reports false when no value fails on its own (the caller then describes
// the decoder's error as it is).
func locateJSONError(data []byte, t reflect.Type) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return "", false
	}
	return locateIn(raw, dec.InputOffset()-int64(len(raw)), t, nil, 0)
}

// maxLocateDepth bounds the descent; bodies nest far less.
const maxLocateDepth = 32

// locateIn describes the deepest value inside raw (at byte at of the
// body, at path) that fails to decode into t, or reports false when raw
// decodes.
func locateIn(raw []byte, at int64, t reflect.Type, path []string, depth int) (string, bool) {
	err := decodeStrict(raw, t)
	if err == nil {
		return "", false
	}
	if depth < maxLocateDepth {
		if msg, ok := locateChildren(raw, at, t, path, depth); ok {
			return msg, true
		}
	}
	where := "the body"
	if len(path) > 0 {
		where = "field " + strconv.Quote(strings.Join(path, ""))
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field == "" {
		return fmt.Sprintf("%s: expected %s, got JSON %s (byte %d)", where, jsonKind(t), typ.Value, at), true
	}
	if typ != nil || strings.HasPrefix(err.Error(), "json: unknown field ") {
		return "", false // below, yet no member failed alone: leave it to the decoder's message
	}
	return fmt.Sprintf("%s: %s (byte %d)", where, strings.TrimPrefix(err.Error(), "json: "), at), true
}

// decodeStrict decodes raw into a new value of type t as BindJSON does.
func decodeStrict(raw []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(reflect.New(t).Interface())
}

// locateChildren tries each member of an object or element of an array
// against its Go type. A type with its own UnmarshalJSON is a leaf.
func locateChildren(raw []byte, at int64, t reflect.Type, path []string, depth int) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()) {
		return "", false
	}
	switch {
	case raw[0] == '[' && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		i := 0
		return eachMember(raw, at, false, func(_ string, v []byte, vat int64) (string, bool) {
			defer func() { i++ }()
			return locateIn(v, vat, t.Elem(), append(path, fmt.Sprintf("[%d]", i)), depth+1)
		})
	case raw[0] == '{' && t.Kind() == reflect.Map:
		return eachMember(raw, at, true, func(key string, v []byte, vat int64) (string, bool) {
			return locateIn(v, vat, t.Elem(), append(path, dotted(path, key)), depth+1)
		})
	case raw[0] == '{' && t.Kind() == reflect.Struct:
		return eachMember(raw, at, true, func(key string, v []byte, vat int64) (string, bool) {
			ft, ok := fieldType(t, key)
			if !ok {
				msg := fmt.Sprintf("unknown field %s (byte %d)", strconv.Quote(key), keyAt(raw, at, vat))
				if len(path) > 0 {
					msg = fmt.Sprintf("field %s: %s", strconv.Quote(strings.Join(path, "")), msg)
				}
				return msg, true
			}
			return locateIn(v, vat, ft, append(path, dotted(path, key)), depth+1)
		})
	}
	return "", false
}

// keyAt is the offset of the key whose value starts at vat: the last
// quote-delimited string before the colon.
func keyAt(raw []byte, at, vat int64) int64 {
	before := raw[:vat-at]
	colon := bytes.LastIndexByte(before, ':')
	if colon < 0 {
		return vat
	}
	end := bytes.LastIndexByte(before[:colon], '"')
	for i := end - 1; i >= 0; i-- {
		if before[i] == '"' && (i == 0 || before[i-1] != '\\') {
			return at + int64(i)
		}
	}
	return vat
}

func dotted(path []string, key string) string {
	if len(path) == 0 {
		return key
	}
	return "." + key
}

// eachMember calls fn for each member (object) or element (array) of raw
// with its key, bytes and offset in the body, until fn reports.
func eachMember(raw []byte, at int64, object bool, fn func(key string, v []byte, vat int64) (string, bool)) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return "", false
	}
	for dec.More() {
		var key string
		if object {
			tok, err := dec.Token()
			if err != nil {
				return "", false
			}
			key, _ = tok.(string)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return "", false
		}
		if msg, ok := fn(key, v, at+dec.InputOffset()-int64(len(v))); ok {
			return msg, true
		}
	}
	return "", false
}

// fieldType is the type of t's field that encoding/json decodes key into:
// its JSON name, matched exactly first and then case-insensitively, in t
// or in a struct embedded in it.
func fieldType(t reflect.Type, key string) (reflect.Type, bool) {
	var fold reflect.Type
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous && f.Type.Kind() == reflect.Struct {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f.Type, true
		}
		if fold == nil && strings.EqualFold(name, key) {
			fold = f.Type
		}
	}
	return fold, fold != nil
}
