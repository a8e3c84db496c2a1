package alerting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// LocateAlertError finds the alert that a body failed to decode on and
// says what is wrong with it, where: "alerts[2].startsAt: \"yesterday\" is
// not an RFC 3339 time (byte 311)". encoding/json names neither the array
// index nor, for errors from a type's own UnmarshalJSON (times, and every
// field of Alertmanager's generated models), the field or the offset in
// the body; so each field of each alert is decoded again on its own into
// newAlert()'s type, and the first that fails is described.
//
// The alerts are data's top-level "alerts" array when inObject (a webhook
// delivery), else data itself (the API v2 list). It runs only after the
// body failed to decode, and reports false when no single alert field
// fails (the problem is elsewhere, or data is not JSON).
func LocateAlertError(data []byte, inObject bool, newAlert func() any) (string, bool) {
	arr, base, ok := alertArray(data, inObject)
	if !ok {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(arr))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return "", false
	}
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", false
		}
		at := base + dec.InputOffset() - int64(len(raw))
		if msg, bad := locateInAlert(raw, at, fmt.Sprintf("alerts[%d]", i), newAlert); bad {
			return msg, true
		}
	}
	return "", false
}

// LocateFieldError is LocateAlertError for a body that is one object, such
// as an API v2 silence: the field at fault is named without a prefix
// ("startsAt: \"yesterday\" is not an RFC 3339 time (byte 71)").
func LocateFieldError(data []byte, newObject func() any) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return "", false
	}
	return locateInAlert(raw, dec.InputOffset()-int64(len(raw)), "", newObject)
}

// alertArray returns the bytes of the alert array and its offset in data.
// Of repeated "alerts" keys the last counts, as in encoding/json.
func alertArray(data []byte, inObject bool) ([]byte, int64, bool) {
	if !inObject {
		return data, 0, true
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, 0, false
	}
	var arr []byte
	var at int64
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			break
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			break
		}
		if key == "alerts" && raw[0] == '[' {
			arr, at = raw, dec.InputOffset()-int64(len(raw))
		}
	}
	return arr, at, arr != nil
}

// locateInAlert decodes each field of one object (raw, at byte at of the
// body; path names it) on its own and describes the first that fails.
func locateInAlert(raw []byte, at int64, path string, newAlert func() any) (string, bool) {
	if raw[0] != '{' {
		if err := json.Unmarshal(raw, newAlert()); err != nil {
			return fmt.Sprintf("%s: expected an object, got JSON %s (byte %d)", path, rawKind(raw), at), true
		}
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return "", false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return "", false
		}
		valAt := at + dec.InputOffset() - int64(len(val))
		// The field alone, as an object of its own: the decoder then
		// checks exactly this value against the field's type.
		k, _ := json.Marshal(key)
		one := make([]byte, 0, len(k)+len(val)+3)
		one = append(append(append(append(one, '{'), k...), ':'), val...)
		one = append(one, '}')
		err = json.Unmarshal(one, newAlert())
		if err == nil {
			continue
		}
		where := key
		if path != "" {
			where = path + "." + key
		}
		if key == "startsAt" || key == "endsAt" {
			if val[0] == '"' {
				var s string
				_ = json.Unmarshal(val, &s)
				return fmt.Sprintf("%s: %s is not an RFC 3339 time (byte %d)", where, strconv.Quote(truncate(s, 64)), valAt), true
			}
			return fmt.Sprintf("%s: expected an RFC 3339 time (a string), got JSON %s (byte %d)", where, rawKind(val), valAt), true
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
			return fmt.Sprintf("%s: expected %s, got JSON %s (byte %d)", where, jsonKind(typ.Type), typ.Value, off), true
		}
		return fmt.Sprintf("%s: %v (byte %d)", where, err, valAt), true
	}
	return "", false
}

// rawKind names the JSON kind of a raw value.
func rawKind(raw []byte) string {
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}
