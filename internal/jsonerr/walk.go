package jsonerr

import (
	"bytes"
	"encoding/json"
)

// firstValue returns the first JSON value of data and its offset, or
// false when data does not start with one.
func firstValue(data []byte) ([]byte, int64, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, 0, false
	}
	return raw, dec.InputOffset() - int64(len(raw)), true
}

// eachMember calls fn for each member of the object or element of the
// array raw (at byte at of the body), with its key ("" in an array), its
// bytes and their offset in the body, until fn reports.
func eachMember(raw []byte, at int64, fn func(key string, v []byte, vat int64) (string, bool)) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return "", false
	}
	object := raw[0] == '{'
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

// memberArray returns the array that is the top-level object's member key,
// and its offset. Of repeated keys the last array counts.
func memberArray(data []byte, key string) ([]byte, int64, bool) {
	raw, at, ok := firstValue(data)
	if !ok || raw[0] != '{' {
		return nil, 0, false
	}
	var found []byte
	var foundAt int64
	eachMember(raw, at, func(k string, v []byte, vat int64) (string, bool) {
		if k == key && v[0] == '[' {
			found, foundAt = v, vat
		}
		return "", false
	})
	return found, foundAt, found != nil
}

// keyAt is the offset of the key whose value starts at vat in raw (which
// starts at byte at): the last quote-delimited string before the colon.
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
