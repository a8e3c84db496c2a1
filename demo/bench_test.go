package demo

import (
	"net/http"
	"testing"
)

func BenchmarkHomePage(b *testing.B) {
	shop, _ := newTestShop(b, Options{})
	h := shop.Handler()
	b.ReportAllocs()
	for b.Loop() {
		if w := do(b, h, "GET", "/", ""); w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

func BenchmarkCartAndCheckout(b *testing.B) {
	shop, _ := newTestShop(b, Options{})
	h := shop.Handler()
	b.ReportAllocs()
	for b.Loop() {
		id := newCart(b, h, "TEST-1")
		if w := do(b, h, "POST", "/api/checkout", `{"cart_id":"`+id+`","card":"4242424242424242"}`); w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
