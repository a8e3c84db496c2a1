package rum

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// specialBytesByByte is specialBytes the slow way, one byte at a time.
func specialBytesByByte(w [8]byte) uint64 {
	var m uint64
	for i, c := range w {
		if stringSpecial[c] {
			m |= 0x80 << (8 * i)
		}
	}
	return m
}

func TestSpecialBytes(t *testing.T) {
	check := func(w [8]byte) {
		t.Helper()
		if got, want := specialBytes(binary.LittleEndian.Uint64(w[:])), specialBytesByByte(w); got != want {
			t.Fatalf("specialBytes(%q) = %#x, want %#x", w, got, want)
		}
	}
	// Every pair of neighbouring bytes, at every position: a carry or a
	// borrow could only spill into the next byte.
	for i := range 7 {
		for pair := range 1 << 16 {
			w := [8]byte{'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}
			w[i], w[i+1] = byte(pair), byte(pair>>8)
			check(w)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1 << 16 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		check(w)
	}
}

func TestUnescape(t *testing.T) {
	for _, raw := range []string{``, `plain`, `\n`, `a\nb\\c\"d\/e`, `\b\f\r\t`, `\u00e9t\u00E9`,
		`caf\u00e9 \ud83d\ude00!`, `é😀 \n`, `TypeError: w is undefined\n    at render (https://a/app.js:12:9)`} {
		var want string
		if err := json.Unmarshal([]byte(`"`+raw+`"`), &want); err != nil {
			t.Fatal(err)
		}
		if got := unescape([]byte(raw)); got != want {
			t.Errorf("unescape(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestPlainRun(t *testing.T) {
	for n := range 20 {
		for at := range n + 1 {
			data := make([]byte, n)
			for i := range data {
				data[i] = 'x'
			}
			want := n
			if at < n {
				data[at], want = '"', at
			}
			for from := range at + 1 {
				if got := plainRun(data, from); got != want {
					t.Fatalf("plainRun(%q, %d) = %d, want %d", data, from, got, want)
				}
			}
		}
	}
}

// checkParseFloat fails unless parseFloat reads the JSON number n to the
// same bits, or the same error, as strconv.ParseFloat.
func checkParseFloat(t *testing.T, n string) {
	t.Helper()
	got, gotErr := parseFloat([]byte(n))
	want, wantErr := strconv.ParseFloat(n, 64)
	if math.Float64bits(got) != math.Float64bits(want) || (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("parseFloat(%q) = %v, %v; strconv: %v, %v", n, got, gotErr, want, wantErr)
	}
}

func TestParseFloat(t *testing.T) {
	for _, n := range []string{"0", "-0", "0.0", "-0.0", "12", "0.182", "1.904", "0.021", "60", "100.5",
		"999999999999999", "9999999999999999", "0.000000000000001", "0.0000000000000001", "9007199254740993",
		"123456789012345.6", "1.7976931348623157e308", "1e400", "-1e-400", "5e-324", "0.1e1", "1E+2"} {
		checkParseFloat(t, n)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 1 << 20 {
		// 1 to 18 digits, the first non-zero unless alone, a point anywhere.
		digits := []byte(strconv.FormatUint(r.Uint64N(1e18), 10))
		digits = digits[:1+r.IntN(len(digits))]
		n := string(digits)
		if at := r.IntN(len(digits) + 1); at > 0 && at < len(digits) {
			n = n[:at] + "." + n[at:]
		} else if at == 0 {
			n = "0." + n
		}
		if r.IntN(2) == 0 {
			n = "-" + n
		}
		checkParseFloat(t, n)
	}
}

func FuzzParseFloat(f *testing.F) {
	for _, n := range []string{"0", "-0.0", "0.182", "12", "999999999999999", "0.0000000000000001", "1e22", "-1.5E-3"} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n string) {
		p := beaconParser{data: []byte(n), ok: true}
		if p.number(); !p.ok || p.pos != len(n) {
			return // not a JSON number
		}
		checkParseFloat(t, n)
	})
}

// keyByRawString is key the general way, without plainKey's shortcuts.
func keyByRawString(p *beaconParser) []byte {
	raw, esc := p.rawString()
	if !p.ok {
		return nil
	}
	if esc {
		raw = []byte(unescape(raw))
	}
	p.ws()
	p.expect(':')
	p.ws()
	return raw
}

func TestKey(t *testing.T) {
	for _, in := range []string{`"type":1`, `"type" : 1`, "\"type\"\n:\t1", `"":1`, `"t\u0079pe":1`, `"t\"e":1`,
		`"é":1`, "\"a\x01\":1", `"type"1`, `"type":`, `"type`, `"`, `type":1`, ``, `"type",1`} {
		fast := beaconParser{data: []byte(in), ok: true}
		slow := beaconParser{data: []byte(in), ok: true}
		got, want := fast.key(), keyByRawString(&slow)
		if string(got) != string(want) || fast.ok != slow.ok || fast.ok && fast.pos != slow.pos {
			t.Errorf("key(%q) = %q, ok %v, at %d; want %q, ok %v, at %d", in, got, fast.ok, fast.pos, want, slow.ok, slow.pos)
		}
	}
}
