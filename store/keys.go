package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// Uint64Key returns n as 8 big-endian bytes, so keys sort by number.
func Uint64Key(n uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
}

// ParseUint64Key reads a key written by Uint64Key.
func ParseUint64Key(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("store: uint64 key has %d bytes, want 8", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// TimeKey returns t as 8 bytes that sort by time (nanoseconds since the
// Unix epoch, with the sign bit flipped so that times before 1970 sort
// first). The location is not kept; ParseTimeKey returns UTC.
func TimeKey(t time.Time) []byte {
	return Uint64Key(timeBits(t))
}

// ParseTimeKey reads a key written by TimeKey.
func ParseTimeKey(b []byte) (time.Time, error) {
	n, err := ParseUint64Key(b)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: time key: %w", err)
	}
	return bitsTime(n), nil
}

func timeBits(t time.Time) uint64 { return uint64(t.UnixNano()) ^ (1 << 63) }

func bitsTime(n uint64) time.Time { return time.Unix(0, int64(n^(1<<63))).UTC() }

// Key builds a composite key from typed parts whose byte order is the order
// of the parts compared one after another, e.g. (service, time, sequence).
// Strings are escaped and terminated, so "ab" sorts before "abc" and a key
// prefix built from whole parts matches only those parts (see PrefixEnd).
// Methods append to the key and return it, like append.
type Key []byte

// String appends a string part.
func (k Key) String(s string) Key {
	for i := 0; i < len(s); i++ {
		if s[i] == 0x00 {
			k = append(k, 0x00, 0xFF)
		} else {
			k = append(k, s[i])
		}
	}
	return append(k, 0x00, 0x01)
}

// Uint64 appends a fixed-width unsigned number part.
func (k Key) Uint64(n uint64) Key { return binary.BigEndian.AppendUint64(k, n) }

// Int64 appends a fixed-width signed number part.
func (k Key) Int64(n int64) Key { return k.Uint64(uint64(n) ^ (1 << 63)) }

// Time appends a time part with nanosecond precision.
func (k Key) Time(t time.Time) Key { return k.Uint64(timeBits(t)) }

// KeyReader reads the parts of a Key back in the order they were written.
type KeyReader struct {
	b   []byte
	err error
}

// ReadKey returns a reader over the parts of key.
func ReadKey(key []byte) *KeyReader { return &KeyReader{b: key} }

var errShortKey = errors.New("store: key ends before its parts do")

// String reads a string part.
func (r *KeyReader) String() (string, error) {
	if r.err != nil {
		return "", r.err
	}
	out := make([]byte, 0, len(r.b))
	for i := 0; i < len(r.b); i++ {
		c := r.b[i]
		if c != 0x00 {
			out = append(out, c)
			continue
		}
		if i+1 >= len(r.b) {
			break
		}
		switch r.b[i+1] {
		case 0x01:
			r.b = r.b[i+2:]
			return string(out), nil
		case 0xFF:
			out = append(out, 0x00)
			i++
		default:
			r.err = fmt.Errorf("store: key string part has a bad escape 0x00 0x%02x", r.b[i+1])
			return "", r.err
		}
	}
	r.err = errShortKey
	return "", r.err
}

// Uint64 reads a fixed-width unsigned number part.
func (r *KeyReader) Uint64() (uint64, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(r.b) < 8 {
		r.err = errShortKey
		return 0, r.err
	}
	n := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return n, nil
}

// Int64 reads a fixed-width signed number part.
func (r *KeyReader) Int64() (int64, error) {
	n, err := r.Uint64()
	return int64(n ^ (1 << 63)), err
}

// Time reads a time part; the result is in UTC.
func (r *KeyReader) Time() (time.Time, error) {
	n, err := r.Uint64()
	if err != nil {
		return time.Time{}, err
	}
	return bitsTime(n), nil
}

// Done returns the first error met, or an error if bytes are left over.
func (r *KeyReader) Done() error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("store: key has %d bytes left after its parts", len(r.b))
	}
	return nil
}

// PrefixEnd returns the smallest key greater than every key that starts
// with prefix, for Scan(prefix, PrefixEnd(prefix), ...). It returns nil
// (an open end) when no such key exists (prefix empty or all 0xFF).
func PrefixEnd(prefix []byte) []byte {
	end := clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < math.MaxUint8 {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
