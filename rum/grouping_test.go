package rum

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFingerprintGroupsLikeSentry(t *testing.T) {
	const msg = "TypeError: Cannot read properties of null (reading 'boom')"
	type report struct{ kind, msg, stack, url string }
	same := []struct {
		name string
		a, b report
	}{
		{"inline script on two pages (the page URL is never part of it)",
			report{"error", msg, msg + "\n    at https://shop.example.com/:12:6", "https://shop.example.com/"},
			report{"error", msg, msg + "\n    at https://shop.example.com/product/1:12:6", "https://shop.example.com/product/1"}},
		{"inline function after a client-side route change",
			report{"error", msg, msg + "\n    at boom (https://shop.example.com/product/1:30:2)", "https://shop.example.com/cart"},
			report{"error", msg, msg + "\n    at boom (https://shop.example.com/:12:6)", "https://shop.example.com/"}},
		{"new line and column, query and host after a deploy",
			report{"error", msg, msg + "\n    at render (https://shop.example.com/static/app.js?v=1:10:5)\n    at main (https://shop.example.com/static/app.js?v=1:99:1)", "/"},
			report{"error", msg, msg + "\n    at render (https://cdn.shop.example.com/static/app.js?v=2:11:9)\n    at main (https://cdn.shop.example.com/static/app.js?v=2:120:3)", "/cart"}},
		{"content hash in the bundle's name",
			report{"error", msg, msg + "\n    at render (https://shop.example.com/static/app.3f9a2b1c.js:1:2045)", "/"},
			report{"error", msg, msg + "\n    at render (https://shop.example.com/static/app.77aa11bb.js:1:2311)", "/"}},
		{"Chrome and Firefox stack formats",
			report{"error", "TypeError: w is undefined", "TypeError: w is undefined\n    at render (https://shop.example.com/app.js:10:5)\n    at async load (https://shop.example.com/app.js:40:1)", "/"},
			report{"error", "TypeError: w is undefined", "render@https://shop.example.com/app.js:10:5\nload@https://shop.example.com/app.js:40:1\n", "/"}},
		{"extension and native frames are not in-app",
			report{"error", msg, msg + "\n    at chrome-extension://abcdef/content.js:1:1\n    at Array.forEach (<anonymous>)\n    at render (https://shop.example.com/app.js:10:5)", "/"},
			report{"error", msg, msg + "\n    at render (https://shop.example.com/app.js:10:5)", "/"}},
		{"Chrome's Uncaught prefix, numbers and spaces in the message",
			report{"error", "Uncaught Error: order 1234 failed  after 3 tries", "", "/checkout"},
			report{"error", "Error: order 98 failed after 12 tries", "", "/cart"}},
		{"frames below the top three do not count",
			report{"error", msg, msg + "\n at a (/app.js:1:1)\n at b (/app.js:2:1)\n at c (/app.js:3:1)\n at d (/app.js:4:1)", "/"},
			report{"error", msg, msg + "\n at a (/app.js:1:1)\n at b (/app.js:2:1)\n at c (/app.js:3:1)\n at e (/app.js:9:1)", "/"}},
		{"a library under a path with @ and a closure's SpiderMonkey name",
			report{"error", msg, "outer/<@https://cdn.example.com/npm/lodash@4.17.21/lodash.min.js:1:200", "/"},
			report{"error", msg, "outer@https://cdn.example.com/npm/lodash@4.17.21/lodash.min.js:1:900", "/"}},
	}
	for _, c := range same {
		fa, fb := Fingerprint(c.a.kind, c.a.msg, c.a.stack, c.a.url), Fingerprint(c.b.kind, c.b.msg, c.b.stack, c.b.url)
		if fa != fb {
			t.Errorf("%s: two groups %s and %s", c.name, fa, fb)
		}
	}
	base := report{"error", msg, msg + "\n    at render (https://shop.example.com/app.js:10:5)", "/"}
	different := []struct {
		name string
		b    report
	}{
		{"another function", report{"error", msg, msg + "\n    at checkout (https://shop.example.com/app.js:10:5)", "/"}},
		{"another script", report{"error", msg, msg + "\n    at render (https://shop.example.com/cart.js:10:5)", "/"}},
		{"another message", report{"error", "TypeError: Cannot read properties of null (reading 'price')", "TypeError: x\n    at render (https://shop.example.com/app.js:10:5)", "/"}},
		{"a rejection", report{"rejection", msg, msg + "\n    at render (https://shop.example.com/app.js:10:5)", "/"}},
		{"no stack", report{"error", msg, "", "/"}},
	}
	fa := Fingerprint(base.kind, base.msg, base.stack, base.url)
	for _, c := range different {
		if fb := Fingerprint(c.b.kind, c.b.msg, c.b.stack, c.b.url); fa == fb {
			t.Errorf("%s: grouped with the base error (%s)", c.name, fa)
		}
	}
}

func TestParseFrame(t *testing.T) {
	for _, c := range []struct {
		line, page string
		want       frame
		ok         bool
	}{
		{"    at render (https://shop.example.com/static/app.js?v=3:10:5)", "/", frame{"render", "/static/app.js"}, true},
		{"    at https://shop.example.com/app.js:10:5", "/", frame{"", "/app.js"}, true},
		{"    at new Cart (https://shop.example.com/app.js:1:1)", "/", frame{"new Cart", "/app.js"}, true},
		{"    at Object.buy [as onclick] (https://shop.example.com/app.js:1:1)", "/", frame{"Object.buy", "/app.js"}, true},
		{"    at async pay (/static/pay.js:1:1)", "/", frame{"pay", "/static/pay.js"}, true},
		{"    at https://shop.example.com/product/1:12:6", "/product/1", frame{"", ""}, true},
		{"    at eval (eval at run (https://shop.example.com/app.js:1:1), <anonymous>:1:1)", "/", frame{}, false},
		{"    at chrome-extension://abc/x.js:1:1", "/", frame{}, false},
		{"    at Array.map (<anonymous>)", "/", frame{}, false},
		{"render@https://shop.example.com/app.chunk-7d2e4a6b8c0d.js:1:1", "/", frame{"render", "/app.chunk-[hash].js"}, true},
		{"global code@https://shop.example.com/:3:9", "/", frame{"", ""}, true},
		{"forEach@[native code]", "/", frame{}, false},
		{"TypeError: x is undefined", "/", frame{}, false},
		{"Error: failed at foo@example.com", "/", frame{}, false},
	} {
		got, ok := parseFrame(c.line, c.page)
		if ok != c.ok || got != c.want {
			t.Errorf("parseFrame(%q) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}

func TestBrowserOf(t *testing.T) {
	for ua, want := range map[string]string{
		testUA:   "Chrome 130",
		mobileUA: "Safari 17",
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0":                                                            "Firefox 128",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 Edg/129.0.2792.52": "Edge 129",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148": "Chrome 126",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36":                     "Chrome 131",
		"": "Other",
	} {
		if got := BrowserOf(ua); got != want {
			t.Errorf("BrowserOf(%q) = %q, want %q", ua, got, want)
		}
	}
}

// The case through the collector: the same null.boom() on / and on
// /product/1, from Chrome and Firefox, is one group that lists both
// routes and both browsers with their counts, first and last seen.
func TestErrorGroupAcrossPagesAndBrowsers(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	firefox := "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	msg := "TypeError: Cannot read properties of null (reading 'boom')"
	send := func(page, ua string, count int) {
		stack := msg + "\n    at https://shop.example.com" + page + ":12:6"
		b := fmt.Sprintf(`{"type":"error","url":"https://shop.example.com%s","message":%q,"stack":%q,"count":%d}`, page, msg, stack, count)
		if w := f.post(beaconWith(b), "10.0.0.1", map[string]string{"User-Agent": ua}); w.Code != 202 {
			t.Fatal(w.Body)
		}
	}
	first := f.clock()
	send("/", testUA, 1)
	f.advance(time.Minute)
	send("/product/1", testUA, 2)
	f.advance(time.Minute)
	send("/product/2", firefox, 1)
	if err := f.c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := f.c.Service().Errors(ctx, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Groups) != 1 {
		t.Fatalf("%d groups, want 1: %+v", len(rep.Groups), rep.Groups)
	}
	g := rep.Groups[0]
	if g.Count != 4 || !g.FirstSeen.Equal(first) || !g.LastSeen.Equal(first.Add(2*time.Minute)) {
		t.Errorf("count %v, first %v, last %v", g.Count, g.FirstSeen, g.LastSeen)
	}
	if !slices.Equal(g.Routes, []string{"/", "/product/:id"}) || !maps.Equal(g.RouteCounts, map[string]float64{"/": 1, "/product/:id": 3}) {
		t.Errorf("routes %v %v", g.Routes, g.RouteCounts)
	}
	if !slices.Equal(g.Browsers, []string{"Chrome 130", "Firefox 128"}) || !maps.Equal(g.BrowserCounts, map[string]float64{"Chrome 130": 3, "Firefox 128": 1}) {
		t.Errorf("browsers %v %v", g.Browsers, g.BrowserCounts)
	}
	if g.Culprit != "anonymous function (inline script)" || g.SampleURL != "https://shop.example.com/product/2" {
		t.Errorf("culprit %q, sample url %q", g.Culprit, g.SampleURL)
	}
}

// FuzzFingerprint: any report fingerprints without a panic, the same way
// twice, and never by the page's own path: moving an inline script's
// error to another page of the site keeps its group.
func FuzzFingerprint(f *testing.F) {
	f.Add("error", "TypeError: x is undefined", "TypeError: x\n    at render (https://shop.example.com/app.js:10:5)", "https://shop.example.com/p/1")
	f.Add("rejection", "Uncaught 12", "render@https://a/b@c/d.js:1:2\n@https://a/:1:1", "/")
	f.Add("error", "x", "    at eval (eval at a (https://x/y.js:1:1), <anonymous>:1:1)", "")
	f.Fuzz(func(t *testing.T, kind, msg, stack, page string) {
		fp, culprit := fingerprint(kind, msg, stack, page)
		if len(fp) != 16 {
			t.Fatalf("fingerprint %q", fp)
		}
		if again, c2 := fingerprint(kind, msg, stack, page); again != fp || c2 != culprit {
			t.Fatalf("not deterministic: %s %s", fp, again)
		}
		inline := msg + "\n    at https://shop.example.com/p/1:3:4"
		a := Fingerprint(kind, msg, inline, "https://shop.example.com/p/1")
		b := Fingerprint(kind, msg, strings.ReplaceAll(inline, "/p/1", "/q/2"), "https://shop.example.com/q/2")
		if a != b && !strings.Contains(msg, "/p/1") {
			t.Fatalf("the page's path split an inline error: %q", msg)
		}
	})
}
