package store

import (
	"slices"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/rum"
)

// A store of schema version 1 kept the same inline-script error on two
// pages as two groups (the page URL was part of the old fingerprint).
// Opening it with the built-in migrations merges them into one group under
// the new fingerprint, with the index rebuilt, and keeps other groups.
func TestMigrationRegroupsRUMErrors(t *testing.T) {
	cfg := schemaConfig(t)
	v1, err := openWith(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	msg := "TypeError: Cannot read properties of null (reading 'boom')"
	old := []rum.ErrorGroup{
		{Fingerprint: "00000000000000a1", Kind: "error", Message: msg, SampleStack: msg + "\n    at https://shop.example.com/:12:6",
			SampleURL: "https://shop.example.com/", Count: 3, FirstSeen: t0, LastSeen: t0.Add(time.Minute), Routes: []string{"/"}, Sites: []string{"shop"}},
		{Fingerprint: "00000000000000b2", Kind: "error", Message: msg, SampleStack: msg + "\n    at https://shop.example.com/product/1:12:6",
			SampleURL: "https://shop.example.com/product/1", Count: 2, FirstSeen: t0.Add(-time.Hour), LastSeen: t0.Add(2 * time.Minute), Routes: []string{"/product/:id"}, Sites: []string{"shop"}},
		{Fingerprint: "00000000000000c3", Kind: "rejection", Message: "Error: network down", SampleURL: "https://shop.example.com/cart",
			Count: 1, FirstSeen: t0, LastSeen: t0, Routes: []string{"/cart"}, Sites: []string{"shop"}},
	}
	err = v1.Update(t.Context(), func(tx Tx) error {
		byFP, bySeen, err := rumErrorBuckets(tx)
		if err != nil {
			return err
		}
		for _, g := range old {
			v, err := EncodeJSON(1, g)
			if err != nil {
				return err
			}
			if err := byFP.Put(Key{}.String(g.Fingerprint), v); err != nil {
				return err
			}
			if err := bySeen.Put(rumSeenKey(g), []byte{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = v1.Close()

	b, err := openWith(t, cfg, builtinMigrations())
	if err != nil {
		t.Fatal(err)
	}
	if b.SchemaVersion() < 2 {
		t.Fatalf("schema version %d after migrating", b.SchemaVersion())
	}
	gs, err := NewRUM(b, RUMOptions{}).ErrorGroups(t.Context(), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 2 {
		t.Fatalf("%d groups after migrating, want 2: %+v", len(gs), gs)
	}
	g := gs[0]
	want := rum.Fingerprint("error", msg, msg+"\n    at https://shop.example.com/product/1:12:6", "https://shop.example.com/product/1")
	if g.Fingerprint != want || g.Count != 5 || !g.FirstSeen.Equal(t0.Add(-time.Hour)) || !g.LastSeen.Equal(t0.Add(2*time.Minute)) ||
		!slices.Equal(slices.Sorted(slices.Values(g.Routes)), []string{"/", "/product/:id"}) || g.SampleURL != "https://shop.example.com/product/1" || g.Culprit != "anonymous function (inline script)" {
		t.Errorf("merged group %+v", g)
	}
	// The index was rebuilt: a "seen since" read finds the merged group by
	// its newest time only.
	recent, err := NewRUM(b, RUMOptions{}).ErrorGroups(t.Context(), t0.Add(90*time.Second), 0)
	if err != nil || len(recent) != 1 || recent[0].Fingerprint != want {
		t.Errorf("seen since: %+v %v", recent, err)
	}
	if gs[1].Kind != "rejection" || gs[1].Count != 1 {
		t.Errorf("other group %+v", gs[1])
	}
}
