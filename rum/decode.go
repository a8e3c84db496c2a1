package rum

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// beaconParser reads a beacon in one pass over its bytes, with no
// reflection: it is the collector's hot path. It accepts only what
// encoding/json's strict decoding (decodeSlow) accepts and reads it the
// same way; anything else it is unsure of (unknown or differently cased
// keys, repeated keys, null, escapes that decode to invalid UTF-16, numbers
// out of range) makes it give up, and decodeSlow then decides and names the
// problem. FuzzDecodeBeacon checks the two agree.
type beaconParser struct {
	data []byte
	pos  int
	ok   bool
	// lastURL lets the events of one page share one url string.
	lastURL string
}

// parseBeacon fills b from data and reports whether it could; b.Events is
// reused when its capacity allows. Nothing is validated beyond JSON types.
func parseBeacon(data []byte, b *Beacon) bool {
	p := beaconParser{data: data, ok: true}
	*b = Beacon{Events: b.Events[:0]}
	var seen uint8
	var hasV, hasRate bool
	p.ws()
	for more := p.open('{', '}'); more; more = p.more('}') {
		key := p.key()
		if !p.ok {
			break
		}
		bit := uint8(0)
		switch string(key) {
		case "v":
			bit = 1
			b.V, hasV = p.int(), true
		case "site":
			bit = 2
			b.Site = p.str()
		case "session":
			bit = 4
			b.Session = p.str()
		case "sample_rate":
			bit = 8
			b.SampleRate, hasRate = p.float(), true
		case "device":
			bit = 16
			b.Device = p.enum(DeviceMobile, DeviceTablet, DeviceDesktop)
		case "events":
			bit = 32
			p.events(b)
		default:
			p.ok = false
		}
		if seen&bit != 0 {
			p.ok = false
		}
		seen |= bit
	}
	p.ws()
	if !hasRate {
		b.SampleRate = 1
	}
	return p.ok && hasV && seen&32 != 0 && p.pos == len(p.data)
}

func (p *beaconParser) events(b *Beacon) {
	for more := p.open('[', ']'); more; more = p.more(']') {
		if len(b.Events) == MaxEvents+1 {
			// More than any valid beacon holds: decodeSlow names it.
			p.ok = false
			return
		}
		b.Events = append(b.Events, Event{})
		p.event(&b.Events[len(b.Events)-1])
	}
}

// open reads an array's or object's opening bracket and reports whether an
// element follows (false for an empty one, or on an error).
func (p *beaconParser) open(opening, closing byte) bool {
	if !p.expect(opening) {
		return false
	}
	p.ws()
	if p.peek() == closing {
		p.pos++
		return false
	}
	return true
}

// more reads what follows an element: a comma (another element follows)
// or the closing bracket.
func (p *beaconParser) more(closing byte) bool {
	p.ws()
	switch p.next() {
	case ',':
		p.ws()
		return p.ok
	case closing:
		return false
	}
	p.ok = false
	return false
}

func (p *beaconParser) event(e *Event) {
	var seen uint16
	for more := p.open('{', '}'); more; more = p.more('}') {
		key := p.key()
		if !p.ok {
			return
		}
		bit := uint16(0)
		switch string(key) {
		case "type":
			bit = 1
			e.Type = p.enum(EventPageView, EventVital, EventError)
		case "url":
			bit = 2
			e.URL = p.url()
		case "nav":
			bit = 4
			e.Nav = p.enum("load", "route", "bfcache")
		case "errors":
			bit = 8
			e.Errors = p.int()
		case "name":
			bit = 16
			e.Name = p.enum(vitalNames[:]...)
		case "value":
			bit = 32
			e.Value = p.float()
		case "target":
			bit = 64
			e.Target = p.str()
		case "kind":
			bit = 128
			e.Kind = p.enum("error", "rejection")
		case "message":
			bit = 256
			e.Message = p.str()
		case "stack":
			bit = 512
			e.Stack = p.str()
		case "count":
			bit = 1024
			e.Count = p.int()
		default:
			p.ok = false
		}
		if seen&bit != 0 {
			p.ok = false
		}
		seen |= bit
	}
}

// key reads an object's key and the colon after it; the key is valid
// until the next string is read.
func (p *beaconParser) key() []byte {
	raw, plain := p.plainKey()
	if !plain {
		var esc bool
		raw, esc = p.rawString()
		if !p.ok {
			return nil
		}
		if esc {
			raw = []byte(unescape(raw))
		}
	}
	if p.peek() == ':' { // the usual "key":value
		p.pos++
	} else {
		p.ws()
		p.expect(':')
	}
	p.ws()
	return raw
}

// plainKey reads a key of plain ASCII, as every known key is, a byte at a
// time: keys are too short for plainRun's 8 at a time to pay. At anything
// else it reports false without moving.
func (p *beaconParser) plainKey() ([]byte, bool) {
	if p.peek() != '"' {
		return nil, false
	}
	for i := p.pos + 1; i < len(p.data); i++ {
		switch c := p.data[i]; {
		case c == '"':
			raw := p.data[p.pos+1 : i]
			p.pos = i + 1
			return raw, true
		case stringSpecial[c]:
			return nil, false
		}
	}
	return nil, false
}

func (p *beaconParser) ws() {
	// Beacons are mostly sent without whitespace: say so in one compare.
	if p.pos < len(p.data) && p.data[p.pos] > ' ' {
		return
	}
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *beaconParser) peek() byte {
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

func (p *beaconParser) next() byte {
	if p.pos < len(p.data) {
		p.pos++
		return p.data[p.pos-1]
	}
	p.ok = false
	return 0
}

func (p *beaconParser) expect(c byte) bool {
	if p.next() != c {
		p.ok = false
	}
	return p.ok
}

// stringSpecial marks the bytes that end a plain run inside a JSON string:
// the quote, the backslash, control characters and non-ASCII bytes.
var stringSpecial = func() (t [256]bool) {
	for c := range t {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf
	}
	return t
}()

// rawString reads a JSON string and returns its raw bytes between the
// quotes (aliasing the input) and whether they hold escapes or non-ASCII
// text, checking both are well-formed as it goes.
func (p *beaconParser) rawString() (raw []byte, esc bool) {
	if p.next() != '"' {
		p.ok = false
		return nil, false
	}
	start := p.pos
	for {
		p.pos = plainRun(p.data, p.pos)
		if p.pos == len(p.data) {
			p.ok = false
			return nil, false
		}
		switch c := p.data[p.pos]; {
		case c == '"':
			p.pos++
			return p.data[start : p.pos-1], esc
		case c < 0x20:
			p.ok = false
			return nil, false
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(p.data[p.pos:])
			if r == utf8.RuneError && n == 1 {
				p.ok = false // invalid UTF-8: decodeSlow refuses it
				return nil, false
			}
			p.pos += n
			esc = true
		default: // '\\'
			esc = true
			if !p.escape() {
				p.ok = false
				return nil, false
			}
		}
	}
}

// plainRun returns the index of the first byte from i on that
// stringSpecial marks, or len(data). Strings are mostly plain ASCII, so it
// looks at 8 bytes at a time.
func plainRun(data []byte, i int) int {
	for ; i+8 <= len(data); i += 8 {
		if m := specialBytes(binary.LittleEndian.Uint64(data[i : i+8])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(data) && !stringSpecial[data[i]] {
		i++
	}
	return i
}

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// specialBytes sets the high bit of each byte of x that stringSpecial
// marks, and no other bit. It is exact, with no false positives: once the
// high bits are cleared, adding at most 0x7f to a byte never carries into
// the next, and the sum's high bit tells whether the byte reached a bound.
func specialBytes(x uint64) uint64 {
	y := x &^ highBits
	notQuote := (y ^ '"'*lowBits) + 0x7f*lowBits      // high bit set unless the byte is '"'
	notBackslash := (y ^ '\\'*lowBits) + 0x7f*lowBits // ... unless it is '\\'
	notControl := y + (0x80-0x20)*lowBits             // ... unless it is below 0x20
	return (x | ^(notQuote & notBackslash & notControl)) & highBits
}

// escape checks one escape sequence at p.pos and moves past it. A \u
// escape of a UTF-16 surrogate must be half of a well-formed pair:
// encoding/json turns a lone one into U+FFFD, which decodeSlow handles.
func (p *beaconParser) escape() bool {
	if p.pos+1 >= len(p.data) {
		return false
	}
	e := p.data[p.pos+1]
	p.pos += 2
	switch e {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return true
	case 'u':
		r, ok := hex4(p.data[p.pos:])
		if !ok {
			return false
		}
		p.pos += 4
		if !utf16.IsSurrogate(r) {
			return true
		}
		if p.pos+6 > len(p.data) || p.data[p.pos] != '\\' || p.data[p.pos+1] != 'u' {
			return false
		}
		r2, ok := hex4(p.data[p.pos+2:])
		if !ok || utf16.DecodeRune(r, r2) == utf8.RuneError {
			return false
		}
		p.pos += 6
		return true
	}
	return false
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// unescape decodes the raw bytes of a string rawString has checked, in
// one allocation, copying the runs between escapes whole.
func unescape(raw []byte) string {
	var b strings.Builder
	b.Grow(len(raw)) // decoding never lengthens
	for {
		i := bytes.IndexByte(raw, '\\')
		if i < 0 {
			b.Write(raw)
			return b.String()
		}
		b.Write(raw[:i])
		e := raw[i+1]
		raw = raw[i+2:]
		switch e {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, _ := hex4(raw)
			raw = raw[4:]
			if utf16.IsSurrogate(r) {
				r2, _ := hex4(raw[2:]) // after the pair's second \u
				r = utf16.DecodeRune(r, r2)
				raw = raw[6:]
			}
			b.WriteRune(r)
		default: // " \ /
			b.WriteByte(e)
		}
	}
}

// str reads a string value into a new string.
func (p *beaconParser) str() string {
	raw, esc := p.rawString()
	if !p.ok {
		return ""
	}
	if esc {
		return unescape(raw)
	}
	return string(raw)
}

// url reads a string value, reusing the previous url's string when equal.
func (p *beaconParser) url() string {
	raw, esc := p.rawString()
	if !p.ok {
		return ""
	}
	if esc {
		p.lastURL = unescape(raw)
	} else if string(raw) != p.lastURL {
		p.lastURL = string(raw)
	}
	return p.lastURL
}

// enum reads a string value, returning the matching constant (no
// allocation) or a new string for anything else, which validation refuses.
func (p *beaconParser) enum(values ...string) string {
	raw, esc := p.rawString()
	if !p.ok {
		return ""
	}
	if esc {
		raw = []byte(unescape(raw))
	}
	for _, v := range values {
		if string(raw) == v {
			return v
		}
	}
	return string(raw)
}

// number returns the bytes of a JSON number (RFC 8259 grammar).
func (p *beaconParser) number() []byte {
	start := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	switch c := p.peek(); {
	case c == '0':
		p.pos++
	case c >= '1' && c <= '9':
		p.digits()
	default:
		p.ok = false
		return nil
	}
	if p.peek() == '.' {
		p.pos++
		if !p.digits() {
			p.ok = false
			return nil
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.pos++
		if c := p.peek(); c == '+' || c == '-' {
			p.pos++
		}
		if !p.digits() {
			p.ok = false
			return nil
		}
	}
	return p.data[start:p.pos]
}

func (p *beaconParser) digits() bool {
	start := p.pos
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
	}
	return p.pos > start
}

// int reads a whole number as encoding/json does for an int field: the
// literal must parse as a base-10 int64 (so 1.0 and 1e2 are refused).
func (p *beaconParser) int() int {
	n := p.number()
	if !p.ok {
		return 0
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		p.ok = false
	}
	return int(v)
}

func (p *beaconParser) float() float64 {
	n := p.number()
	if !p.ok {
		return 0
	}
	v, err := parseFloat(n)
	if err != nil {
		p.ok = false
	}
	return v
}

// parseFloat is strconv.ParseFloat for a JSON number, with a shortcut for
// the plain decimals beacons carry (0.182, 12). With at most 15 digits and
// no exponent, the digits read as an integer and the power of ten to
// divide by are both exact float64s, so the one division is correctly
// rounded, as strconv's result is (Clinger's fast path).
func parseFloat(n []byte) (float64, error) {
	digits, neg := n, n[0] == '-'
	if neg {
		digits = n[1:]
	}
	var m uint64
	nd, frac := 0, 0
	for i, c := range digits {
		switch {
		case c == '.':
			frac = len(digits) - i - 1
		case c < '0' || c > '9' || nd == maxExactDigits: // exponent, or too long
			return strconv.ParseFloat(string(n), 64)
		default:
			m = m*10 + uint64(c-'0')
			nd++
		}
	}
	f := float64(m) / exactPow10[frac]
	if neg {
		f = -f
	}
	return f, nil
}

// maxExactDigits keeps the integer made of a number's digits below 2^53,
// where every integer is an exact float64.
const maxExactDigits = 15

// exactPow10 holds the powers of ten a fraction of maxExactDigits digits
// may need, all exact float64s.
var exactPow10 = [maxExactDigits + 1]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}
