package store_test

import (
	"bytes"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/store"
)

func TestUint64AndTimeKeysSort(t *testing.T) {
	nums := []uint64{0, 1, 255, 256, 1 << 32, math.MaxUint64 - 1, math.MaxUint64}
	for i := 1; i < len(nums); i++ {
		if bytes.Compare(store.Uint64Key(nums[i-1]), store.Uint64Key(nums[i])) >= 0 {
			t.Errorf("Uint64Key(%d) does not sort before Uint64Key(%d)", nums[i-1], nums[i])
		}
	}
	for _, n := range nums {
		if got, err := store.ParseUint64Key(store.Uint64Key(n)); err != nil || got != n {
			t.Errorf("round trip %d = %d, %v", n, got, err)
		}
	}
	base := time.Date(2025, 3, 30, 1, 59, 59, 999, time.FixedZone("X", 3600))
	times := []time.Time{
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(-1, 0),
		time.Unix(0, 0),
		time.Unix(0, 1),
		base,
		base.Add(time.Nanosecond),
		time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i := 1; i < len(times); i++ {
		if bytes.Compare(store.TimeKey(times[i-1]), store.TimeKey(times[i])) >= 0 {
			t.Errorf("TimeKey(%v) does not sort before TimeKey(%v)", times[i-1], times[i])
		}
	}
	for _, tm := range times {
		got, err := store.ParseTimeKey(store.TimeKey(tm))
		if err != nil || !got.Equal(tm) || got.Location() != time.UTC {
			t.Errorf("round trip %v = %v, %v", tm, got, err)
		}
	}
	if _, err := store.ParseUint64Key([]byte{1, 2, 3}); err == nil {
		t.Error("ParseUint64Key accepted 3 bytes")
	}
}

// part is one element of a composite key in the tests.
type part struct {
	s  *string
	u  *uint64
	i  *int64
	tm *time.Time
}

func str(s string) part    { return part{s: &s} }
func u64(n uint64) part    { return part{u: &n} }
func i64(n int64) part     { return part{i: &n} }
func at(tm time.Time) part { return part{tm: &tm} }
func build(parts ...part) store.Key {
	var k store.Key
	for _, p := range parts {
		switch {
		case p.s != nil:
			k = k.String(*p.s)
		case p.u != nil:
			k = k.Uint64(*p.u)
		case p.i != nil:
			k = k.Int64(*p.i)
		default:
			k = k.Time(*p.tm)
		}
	}
	return k
}

func TestCompositeKeysSortByParts(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// Each key must sort strictly before the next.
	ordered := [][]part{
		{str("")},
		{str(""), u64(0)},
		{str("\x00")},
		{str("\x00\x00")},
		{str("\x00\x01")},
		{str("a")},
		{str("a"), at(t0)},
		{str("a"), at(t0.Add(time.Nanosecond))},
		{str("a"), at(t0.Add(time.Hour)), u64(0)},
		{str("a"), at(t0.Add(time.Hour)), u64(1)},
		{str("a\x00")},
		{str("a\x00b")},
		{str("a\x01")},
		{str("ab")},
		{str("b"), i64(math.MinInt64)},
		{str("b"), i64(-1)},
		{str("b"), i64(0)},
		{str("b"), i64(math.MaxInt64)},
		{str("\xff")},
	}
	keys := make([]store.Key, len(ordered))
	for i, parts := range ordered {
		keys[i] = build(parts...)
		if i > 0 && bytes.Compare(keys[i-1], keys[i]) >= 0 {
			t.Errorf("key %d (%x) does not sort before key %d (%x)", i-1, keys[i-1], i, keys[i])
		}
	}
	// A prefix of whole parts covers exactly the keys that start with them.
	prefix := build(str("a"))
	var inRange []int
	for i, k := range keys {
		if bytes.Compare(k, prefix) >= 0 && bytes.Compare(k, store.PrefixEnd(prefix)) < 0 {
			inRange = append(inRange, i)
		}
	}
	if !slices.Equal(inRange, []int{5, 6, 7, 8, 9}) {
		t.Errorf("keys in [prefix(\"a\"), PrefixEnd) = %v, want [5 6 7 8 9]", inRange)
	}
}

func TestKeyReaderRoundTrip(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 42, time.UTC)
	k := store.Key(nil).String("check\x00out").Time(t0).Uint64(7).Int64(-3).String("")
	r := store.ReadKey(k)
	s, err1 := r.String()
	tm, err2 := r.Time()
	u, err3 := r.Uint64()
	i, err4 := r.Int64()
	e, err5 := r.String()
	for _, err := range []error{err1, err2, err3, err4, err5, r.Done()} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s != "check\x00out" || !tm.Equal(t0) || u != 7 || i != -3 || e != "" {
		t.Fatalf("read back %q %v %d %d %q", s, tm, u, i, e)
	}
}

func TestKeyReaderErrors(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		read func(r *store.KeyReader) error
	}{
		{"unterminated string", []byte("abc"), func(r *store.KeyReader) error { _, err := r.String(); return err }},
		{"bad escape", []byte("a\x00\x02"), func(r *store.KeyReader) error { _, err := r.String(); return err }},
		{"lone zero", []byte("a\x00"), func(r *store.KeyReader) error { _, err := r.String(); return err }},
		{"short number", []byte{1, 2}, func(r *store.KeyReader) error { _, err := r.Uint64(); return err }},
		{"short time", []byte{1, 2}, func(r *store.KeyReader) error { _, err := r.Time(); return err }},
		{"left over", append(store.Uint64Key(1), 9), func(r *store.KeyReader) error {
			if _, err := r.Uint64(); err != nil {
				return nil
			}
			return r.Done()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := store.ReadKey(tc.key)
			if err := tc.read(r); err == nil {
				t.Fatal("no error")
			}
			if r.Done() == nil {
				t.Fatal("Done did not report the error")
			}
		})
	}
}

func TestPrefixEnd(t *testing.T) {
	tests := []struct {
		in, want []byte
	}{
		{nil, nil},
		{[]byte{}, nil},
		{[]byte{0xff, 0xff}, nil},
		{[]byte("a"), []byte("b")},
		{[]byte{'a', 0xff}, []byte("b")},
		{[]byte{'a', 0x00, 0x01}, []byte{'a', 0x00, 0x02}},
	}
	for _, tc := range tests {
		in := slices.Clone(tc.in)
		if got := store.PrefixEnd(in); !bytes.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("PrefixEnd(%x) = %x, want %x", tc.in, got, tc.want)
		}
		if !bytes.Equal(in, tc.in) {
			t.Errorf("PrefixEnd modified its argument")
		}
	}
}

func FuzzCompositeKeyOrder(f *testing.F) {
	f.Add("a", uint64(1), "b", uint64(2))
	f.Add("a\x00", uint64(0), "a", uint64(math.MaxUint64))
	f.Add("", uint64(5), "\x00\x01", uint64(5))
	f.Fuzz(func(t *testing.T, s1 string, n1 uint64, s2 string, n2 uint64) {
		k1 := store.Key(nil).String(s1).Uint64(n1)
		k2 := store.Key(nil).String(s2).Uint64(n2)
		want := cmpTuple(s1, n1, s2, n2)
		if got := bytes.Compare(k1, k2); got != want {
			t.Fatalf("(%q,%d) vs (%q,%d): byte order %d, tuple order %d", s1, n1, s2, n2, got, want)
		}
		r := store.ReadKey(k1)
		gs, err := r.String()
		if err != nil || gs != s1 {
			t.Fatalf("read string %q, %v; want %q", gs, err, s1)
		}
		gn, err := r.Uint64()
		if err != nil || gn != n1 || r.Done() != nil {
			t.Fatalf("read number %d, %v, %v; want %d", gn, err, r.Done(), n1)
		}
	})
}

func FuzzReadKey(f *testing.F) {
	f.Add([]byte("a\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01"))
	f.Add([]byte("\x00\xff\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := store.ReadKey(b)
		// Reading arbitrary bytes must fail cleanly, never panic.
		for range 4 {
			_, _ = r.String()
			_, _ = r.Uint64()
		}
		_ = r.Done()
	})
}

func cmpTuple(s1 string, n1 uint64, s2 string, n2 uint64) int {
	switch {
	case s1 < s2:
		return -1
	case s1 > s2:
		return 1
	case n1 < n2:
		return -1
	case n1 > n2:
		return 1
	}
	return 0
}
