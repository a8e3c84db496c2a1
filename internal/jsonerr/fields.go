package jsonerr

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
)

// LocateEach is LocateFields for each object of an array, named
// name[i] ("alerts[2].startsAt: ..."): the array is data's top-level
// member name when inObject (of repeated ones the last array), else data
// itself. It describes the first element that fails.
func LocateEach(data []byte, name string, inObject bool, newElem func() any) (string, bool) {
	arr, at, ok := firstValue(data)
	if inObject {
		arr, at, ok = memberArray(data, name)
	}
	if !ok || arr[0] != '[' {
		return "", false
	}
	i := 0
	return eachMember(arr, at, func(_ string, v []byte, vat int64) (string, bool) {
		defer func() { i++ }()
		return locateFields(v, vat, fmt.Sprintf("%s[%d]", name, i), newElem)
	})
}

// LocateFields finds the member of the object data that newValue()'s
// type refuses, and says what is wrong with it, where: `startsAt:
// "yesterday" is not an RFC 3339 time (byte 71)`. Each member is decoded
// alone, as the object {key: value}, into a new value, so types that
// decode themselves (times, Alertmanager's generated models) are checked
// member by member too; unknown members are let through. A member that
// holds a time and does not decode is "not an RFC 3339 time". It runs after
// data failed to decode, and reports false when no single member fails.
func LocateFields(data []byte, newValue func() any) (string, bool) {
	raw, at, ok := firstValue(data)
	if !ok {
		return "", false
	}
	return locateFields(raw, at, "", newValue)
}

// locateFields describes the first member of the object raw (at byte at
// of the body, named path) that fails alone.
func locateFields(raw []byte, at int64, path string, newValue func() any) (string, bool) {
	if raw[0] != '{' {
		if err := json.Unmarshal(raw, newValue()); err != nil {
			return fmt.Sprintf("%s: expected an object, got JSON %s (byte %d)", path, rawKind(raw), at), true
		}
		return "", false
	}
	t := reflect.TypeOf(newValue())
	return eachMember(raw, at, func(key string, val []byte, valAt int64) (string, bool) {
		k, _ := json.Marshal(key)
		one := make([]byte, 0, len(k)+len(val)+3)
		one = append(append(append(append(one, '{'), k...), ':'), val...)
		one = append(one, '}')
		err := json.Unmarshal(one, newValue())
		if err == nil {
			return "", false
		}
		where := key
		if path != "" {
			where = path + "." + key
		}
		if isTime(t, key) {
			return badTime(where, val, valAt), true
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			// The offset is in one when the decoder saw the value itself;
			// from a type's own UnmarshalJSON it is not, so the value's
			// start is the honest answer.
			off := valAt
			if prefix := int64(len(k) + 2); typ.Offset > prefix && typ.Offset <= prefix+int64(len(val)) {
				off = valAt + typ.Offset - prefix
			}
			return fmt.Sprintf("%s: expected %s, got JSON %s (byte %d)", where, Kind(typ.Type), typ.Value, off), true
		}
		return fmt.Sprintf("%s: %v (byte %d)", where, err, valAt), true
	})
}

// isTime reports whether t's field key holds a time: a time.Time or a type
// defined on it, such as go-openapi's strfmt.DateTime.
func isTime(t reflect.Type, key string) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return false
	}
	ft, ok := fieldType(t, key)
	if !ok {
		return false
	}
	for ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	return ft.ConvertibleTo(timeType)
}

// badTime describes a time that did not decode.
func badTime(where string, val []byte, at int64) string {
	if val[0] != '"' {
		return fmt.Sprintf("%s: expected an RFC 3339 time (a string), got JSON %s (byte %d)", where, rawKind(val), at)
	}
	var s string
	_ = json.Unmarshal(val, &s)
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Sprintf("%s: %s is not an RFC 3339 time (byte %d)", where, strconv.Quote(s), at)
}
