package jsonerr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Locate finds the value of data that failed to decode strictly (unknown
// fields refused) into a value of type t and describes it with its path
// and byte offset: `field "action_items[1].due": expected a string, got
// JSON number (byte 52)`, `field "severity": unknown severity "loud" (...)
// (byte 12)`.
//
// It descends through objects, maps and arrays to the deepest value that
// fails on its own; a type with its own UnmarshalJSON is a leaf. It
// reports false when no value fails on its own (the caller then describes
// the decoder's error as it is).
func Locate(data []byte, t reflect.Type) (string, bool) {
	raw, at, ok := firstValue(data)
	if !ok {
		return "", false
	}
	return locateIn(raw, at, t, nil, 0)
}

// maxLocateDepth bounds the descent; bodies nest far less.
const maxLocateDepth = 32

var unmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

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
		return fmt.Sprintf("%s: expected %s, got JSON %s (byte %d)", where, Kind(t), typ.Value, at), true
	}
	if typ != nil || strings.HasPrefix(err.Error(), "json: unknown field ") {
		return "", false // below, yet no member failed alone: leave it to the decoder's message
	}
	return fmt.Sprintf("%s: %s (byte %d)", where, strings.TrimPrefix(err.Error(), "json: "), at), true
}

// decodeStrict decodes raw into a new value of type t, refusing unknown
// fields.
func decodeStrict(raw []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(reflect.New(t).Interface())
}

// locateChildren tries each member of an object or element of an array
// against its Go type.
func locateChildren(raw []byte, at int64, t reflect.Type, path []string, depth int) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return "", false
	}
	switch {
	case raw[0] == '[' && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		i := 0
		return eachMember(raw, at, func(_ string, v []byte, vat int64) (string, bool) {
			defer func() { i++ }()
			return locateIn(v, vat, t.Elem(), append(path, fmt.Sprintf("[%d]", i)), depth+1)
		})
	case raw[0] == '{' && t.Kind() == reflect.Map:
		return eachMember(raw, at, func(key string, v []byte, vat int64) (string, bool) {
			return locateIn(v, vat, t.Elem(), append(path, dotted(path, key)), depth+1)
		})
	case raw[0] == '{' && t.Kind() == reflect.Struct:
		return eachMember(raw, at, func(key string, v []byte, vat int64) (string, bool) {
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

func dotted(path []string, key string) string {
	if len(path) == 0 {
		return key
	}
	return "." + key
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
