package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Input hygiene for JSON bodies, applied by BindJSON before decoding
// (encoding/json would otherwise replace invalid UTF-8 silently and let the
// last of two equal keys win):
//   - every string and key must be valid UTF-8, with no unpaired
//     surrogate escape and no NUL;
//   - no object may repeat a key;
//   - names, titles and labels (the keys in strictTextKeys, and every key
//     and value inside a "labels" object) hold no control character and
//     no bidirectional control (Trojan Source: text that displays
//     differently from what it says).
// Free text (summaries, notes, postmortem sections) keeps newlines and
// tabs.

// strictTextKeys are the fields whose values are one-line names.
var strictTextKeys = map[string]bool{"title": true, "name": true, "service": true, "commander": true}

// labelObjectKeys hold label maps: every key and value inside is strict.
var labelObjectKeys = map[string]bool{"labels": true}

// textError is a body refused for its text; it names the field.
type textError struct{ msg string }

func (e *textError) Error() string { return e.msg }

// jsonFrame is one open object or array while walking a body.
type jsonFrame struct {
	object bool
	key    string          // the object's current key
	index  int             // the array's next index
	keys   map[string]bool // keys seen in the object
	labels bool            // inside a labels object
}

// checkJSONText walks data's tokens and refuses bodies that break the rules
// above, naming the field (labels.team, action_items[2].title). Syntax
// errors are left to the decoder, which describes them.
func checkJSONText(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*jsonFrame
	prevEnd := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF, or a syntax error the decoder reports
		}
		end := int(dec.InputOffset())
		raw := data[prevEnd:end]
		prevEnd = end
		var top *jsonFrame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		isKey := top != nil && top.object && top.key == "" && tok != json.Delim('}')
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				f := &jsonFrame{object: v == '{', keys: map[string]bool{}}
				if top != nil {
					f.labels = top.labels || (f.object && top.object && labelObjectKeys[top.key])
				}
				stack = append(stack, f)
				continue
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
		case string:
			path := jsonPath(stack, isKey, v)
			if err := checkRawString(raw); err != nil {
				return &textError{fmt.Sprintf("field %s: %v", path, err)}
			}
			// Keys and values inside a labels object, and the values of
			// name-like keys, are one-line names.
			strict := top != nil && (top.labels || (!isKey && top.object && strictTextKeys[top.key]))
			if err := checkText(v, strict); err != nil {
				return &textError{fmt.Sprintf("field %s: %v", path, err)}
			}
			if isKey {
				if top.keys[v] {
					return &textError{fmt.Sprintf("field %s: the key %s appears twice in one object", jsonPath(stack[:len(stack)-1], false, ""), strconv.Quote(v))}
				}
				top.keys[v] = true
				top.key = v
				continue
			}
		}
		// A value ended: the enclosing object waits for its next key, the
		// enclosing array moves to its next index.
		if len(stack) > 0 {
			if top := stack[len(stack)-1]; top.object {
				top.key = ""
			} else {
				top.index++
			}
		}
	}
}

// jsonPath names the current position: the keys and indexes of the open
// frames, then key when the token is a key.
func jsonPath(stack []*jsonFrame, isKey bool, key string) string {
	var b strings.Builder
	for _, f := range stack {
		switch {
		case f.object && f.key != "":
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		case !f.object:
			fmt.Fprintf(&b, "[%d]", f.index)
		}
	}
	if isKey {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(key)
	}
	if b.Len() == 0 {
		return "(the body)"
	}
	return strconv.Quote(b.String())
}

// checkRawString checks a string token as sent: valid UTF-8, and every
// \u escape of a surrogate paired (encoding/json turns both into U+FFFD).
// raw may start with the separators before the string.
func checkRawString(raw []byte) error {
	if i := bytes.IndexByte(raw, '"'); i >= 0 {
		raw = raw[i:]
	}
	if !utf8.Valid(raw) {
		off := 0
		for off < len(raw) {
			r, n := utf8.DecodeRune(raw[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return fmt.Errorf("invalid UTF-8 (byte 0x%02x at character %d of the string)", raw[off], utf8.RuneCount(raw[1:off])+1)
	}
	for i := 0; i+1 < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if raw[i+1] != 'u' || i+6 > len(raw) {
			i++ // an escaped character: skip it (it may be a backslash)
			continue
		}
		r, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 32)
		if err != nil {
			return nil // malformed escape: the decoder reports it
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			// A high surrogate must be followed by a low one.
			if i+12 > len(raw) || raw[i+6] != '\\' || raw[i+7] != 'u' {
				return errors.New("invalid UTF-16 escape: an unpaired surrogate")
			}
			lo, err := strconv.ParseUint(string(raw[i+8:i+12]), 16, 32)
			if err != nil || lo < 0xDC00 || lo > 0xDFFF {
				return errors.New("invalid UTF-16 escape: an unpaired surrogate")
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return errors.New("invalid UTF-16 escape: an unpaired surrogate")
		default:
			i += 5
		}
	}
	return nil
}

// checkText refuses NUL anywhere, and in strict (one-line name) text any
// control character or bidirectional control.
func checkText(s string, strict bool) error {
	for i, r := range s {
		switch {
		case r == 0:
			return fmt.Errorf("the NUL character (U+0000, character %d) is not allowed", utf8.RuneCountInString(s[:i])+1)
		case !strict:
		case isBidiControl(r):
			return fmt.Errorf("the bidirectional control character U+%04X (character %d) is not allowed: it makes text display differently from what it says",
				r, utf8.RuneCountInString(s[:i])+1)
		case unicode.IsControl(r):
			return fmt.Errorf("the control character U+%04X (character %d) is not allowed in a name, title or label", r, utf8.RuneCountInString(s[:i])+1)
		}
	}
	return nil
}

// isBidiControl reports the characters that change the direction of text
// (Unicode's Bidi_Control property).
func isBidiControl(r rune) bool {
	return unicode.Is(unicode.Bidi_Control, r)
}
