package rum

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// A reload that allows another query parameter applies to the next error
// report, even to one whose raw text was scrubbed before (and cached) under
// the old list.
func TestReloadRescrubsCachedErrors(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	url := "https://shop.example.com/search?q=shoes&utm_source=news"
	send := func() {
		b := fmt.Sprintf(`{"type":"error","url":%q,"message":"Error: boom","stack":""}`, url)
		if w := f.post(beaconWith(b), "10.0.0.1", nil); w.Code != 202 {
			t.Fatal(w.Body)
		}
	}
	sampleURL := func() string {
		f.c.Flush(ctx)
		rep, err := f.c.Service().Errors(ctx, f.clock().Add(-time.Hour), 10)
		if err != nil || len(rep.Groups) != 1 {
			t.Fatalf("groups %+v, %v", rep.Groups, err)
		}
		return rep.Groups[0].SampleURL
	}
	send()
	if got, want := sampleURL(), "https://shop.example.com/search?utm_source=news"; got != want {
		t.Fatalf("before reload: sample URL %q, want %q", got, want)
	}

	cfg := testConfig()
	cfg.AllowedQueryParams = []string{"utm_source", "q"}
	commit, err := f.c.Prepare(cfg, "https://sentinel.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	commit()
	f.advance(time.Minute)
	send()
	if got, want := sampleURL(), "https://shop.example.com/search?q=shoes&utm_source=news"; got != want {
		t.Errorf("after reload allowing q: sample URL %q, want %q", got, want)
	}
}
