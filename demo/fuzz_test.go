package demo

import (
	"net/http"
	"strings"
	"testing"
)

// clientStatuses are the only answers outside input may get from the APIs.
var clientStatuses = map[int]bool{200: true, 201: true, 400: true, 404: true, 413: true, 503: true}

func FuzzFaultsJSON(f *testing.F) {
	for _, s := range []string{
		`{"checkout_error_rate": 0.5, "latency": "2s", "product_js_error": true}`,
		`{"latency": 1.5}`, `{"latency": ""}`, `{"latency": null}`, `{}`, `[]`, `null`, ``,
		`{"checkout_error_rate": 1e309}`, `{"latency": "9223372036854775807ns"}`, `{"latency": 1e300}`,
		`{"latency": "-0s"}`, `{"x": 1}`, `{"latency": "2s"} x`, `{"latency": "\u0032s"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeFaultsPatch(body)
		if err == nil {
			got := p.apply(Faults{})
			if verr := got.Validate(); verr != nil {
				t.Fatalf("decoded %q into invalid faults %+v: %v", body, got, verr)
			}
		} else if !strings.Contains(err.Error(), ":") {
			t.Fatalf("error %q names no field or part", err)
		}
		shop, _ := newTestShop(t, Options{})
		w := do(t, shop.Handler(), "POST", "/demo/faults", string(body))
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("POST /demo/faults %q = %d", body, w.Code)
		}
		if err := shop.Faults().Validate(); err != nil {
			t.Fatalf("shop holds invalid faults after %q: %v", body, err)
		}
	})
}

func FuzzCheckoutJSON(f *testing.F) {
	for _, s := range []string{
		`{"cart_id":"CART","card":"4242424242424242"}`, `{"cart_id":"CART","card":"4242 4242 4242 4242"}`,
		`{"cart_id":"CART","card":"0"}`, `{"cart_id":"","card":""}`, `{"cart_id":1}`, `{}`, `[`, ``,
		`{"cart_id":"CART","card":"4242424242424242","extra":true}`, `{"cart_id":"CART","card":"٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeCheckout(body)
		if err == nil {
			if req.CartID == "" || len(req.Card) < 12 || len(req.Card) > 19 || !luhnValid(req.Card) {
				t.Fatalf("accepted %q as %+v", body, req)
			}
		}
		shop, _ := newTestShop(t, Options{})
		h := shop.Handler()
		id := newCart(t, h, "TEST-1")
		w := do(t, h, "POST", "/api/checkout", strings.ReplaceAll(string(body), "CART", id))
		if !clientStatuses[w.Code] {
			t.Fatalf("POST /api/checkout %q = %d", body, w.Code)
		}
	})
}

func FuzzAddToCartJSON(f *testing.F) {
	for _, s := range []string{
		`{"sku":"TEST-1","qty":1}`, `{"sku":"ket-42","qty":99,"cart_id":"CART"}`, `{"sku":"TEST-1","qty":-1}`,
		`{"sku":"TEST-1","qty":9223372036854775807}`, `{"sku":" "}`, `{"sku":"TEST-1","cart_id":"nope"}`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeAddToCart(body)
		if err == nil && (req.SKU == "" || req.Qty == nil || *req.Qty < 1 || *req.Qty > maxQty) {
			t.Fatalf("accepted %q as %+v", body, req)
		}
		shop, _ := newTestShop(t, Options{})
		h := shop.Handler()
		id := newCart(t, h, "TEST-1")
		w := do(t, h, "POST", "/api/cart", strings.ReplaceAll(string(body), "CART", id))
		if !clientStatuses[w.Code] {
			t.Fatalf("POST /api/cart %q = %d", body, w.Code)
		}
	})
}
