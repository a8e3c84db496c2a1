package rum

import (
	"fmt"
	"testing"
)

func TestRouterFold(t *testing.T) {
	r := NewRouter([]string{"/product/:id", "/cart", "/checkout", "/docs/*", "/product/:id/reviews"})
	cases := map[string]string{
		"/":                           "/",
		"":                            "/",
		"https://shop.example.com":    "/",
		"https://shop.example.com/":   "/",
		"https://shop.example.com/?x": "/",
		"/product/42":                 "/product/:id",
		"/product/42/":                "/product/:id",
		"https://shop.example.com/product/42?utm_source=x#top": "/product/:id",
		"/product/42/reviews":    "/product/:id/reviews",
		"/product":               "other",
		"/cart":                  "/cart",
		"/cart/":                 "/cart",
		"//cart":                 "/cart",
		"/cart/items":            "other",
		"/checkout":              "/checkout",
		"/docs":                  "/docs/*",
		"/docs/a/b/c":            "/docs/*",
		"/admin":                 "other",
		"/users/bob@example.com": "other",
	}
	for in, want := range cases {
		if got := r.Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
	if got := r.Routes(); len(got) != 7 || got[5] != "/" || got[6] != RouteOther {
		t.Errorf("Routes() = %v", got)
	}
}

func TestRouterExplicitRootFirstMatchWins(t *testing.T) {
	r := NewRouter([]string{"/", "/:page", "/about"})
	if got := r.Fold("/about"); got != "/:page" {
		t.Errorf("first match should win, got %q", got)
	}
	if got := r.Routes(); len(got) != 4 {
		t.Errorf("Routes() = %v (root listed once)", got)
	}
}

func TestRouterBoundedLabels(t *testing.T) {
	r := NewRouter([]string{"/product/:id"})
	seen := map[string]bool{}
	for i := range 10000 {
		seen[r.Fold(fmt.Sprintf("/x%d/y/%d", i, i))] = true
		seen[r.Fold(fmt.Sprintf("/product/%d", i))] = true
	}
	if len(seen) != 2 {
		t.Errorf("labels: %v", seen)
	}
}
