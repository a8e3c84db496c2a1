package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// sleepRecorder stands in for the latency sleep: it records durations and
// returns err without waiting.
type sleepRecorder struct {
	mu    sync.Mutex
	calls []time.Duration
	err   error
}

func (s *sleepRecorder) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, d)
	return s.err
}

func (s *sleepRecorder) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.calls...)
}

var testNow = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// newTestShop returns a shop with a fixed clock, a recorded sleep and a
// deterministic random source.
func newTestShop(t testing.TB, opts Options) (*Shop, *sleepRecorder) {
	t.Helper()
	rec := &sleepRecorder{}
	if opts.SentinelURL == "" {
		opts.SentinelURL = "http://127.0.0.1:8080/"
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.Sleep == nil {
		opts.Sleep = rec.sleep
	}
	if opts.Rand == nil {
		var mu sync.Mutex
		r := rand.New(rand.NewPCG(1, 2))
		opts.Rand = func() float64 { mu.Lock(); defer mu.Unlock(); return r.Float64() }
	}
	return New(opts), rec
}

// do sends one request to the shop's handler.
func do(t testing.TB, h http.Handler, method, path, body string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// decode unmarshals a JSON response body.
func decode[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("response %d is not JSON: %v\n%s", w.Code, err, w.Body)
	}
	return v
}

type cartResp struct {
	Cart cartJSON `json:"cart"`
}

// newCart creates a cart through the API and returns its ID.
func newCart(t testing.TB, h http.Handler, sku string) string {
	t.Helper()
	w := do(t, h, "POST", "/api/cart", `{"sku":"`+sku+`","qty":1}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("POST /api/cart = %d %s", w.Code, w.Body)
	}
	return decode[cartResp](t, w).Cart.ID
}

const rumTag = `<script src="http://127.0.0.1:8080/rum.js" data-site="demo-shop" async></script>`

func TestPagesRenderWithRUMSnippet(t *testing.T) {
	shop, _ := newTestShop(t, Options{})
	h := shop.Handler()
	cartID := newCart(t, h, "KET-42")
	withCart := &http.Cookie{Name: cartCookie, Value: cartID}

	tests := []struct {
		name   string
		path   string
		cookie *http.Cookie
		code   int
		want   []string
		absent []string
	}{
		{"home", "/", nil, 200, []string{"Add to cart", `data-sku="KET-42"`, "Kettle", "$49.00", `href="/product/42"`}, []string{"TEST-1"}},
		{"product", "/product/42", nil, 200, []string{"<h1>Kettle</h1>", `<button id="add"`, "Add to cart", `id="recs"`}, []string{"widget.render"}},
		{"product by sku", "/product/ket-42", nil, 200, []string{"<h1>Kettle</h1>"}, nil},
		{"hidden test product", "/product/1", nil, 200, []string{"Synthetic test item"}, nil},
		{"unknown product", "/product/999", nil, 404, []string{"We could not find that product."}, nil},
		{"empty cart", "/cart", nil, 200, []string{"Your cart is empty."}, []string{`id="checkout"`}},
		{"cart", "/cart", withCart, 200, []string{"Kettle", `id="checkout"`, `<td class="num" id="total">$49.00</td>`, `<span class="badge">1</span>`}, nil},
		{"stale cart cookie", "/cart", &http.Cookie{Name: cartCookie, Value: "cart_gone"}, 200, []string{"Your cart is empty."}, nil},
		{"checkout", "/checkout", withCart, 200, []string{`id="pay-form"`, `data-cart="` + cartID + `"`, `id="card"`, `id="pay"`, "Pay $49.00"}, nil},
		{"checkout without cart", "/checkout", nil, 200, []string{"Your cart is empty."}, []string{`id="pay-form"`}},
		{"fault panel", "/faults", nil, 200, []string{`id="faults-form"`, `id="checkout_error_rate"`, `{&#34;checkout_error_rate&#34;:0,&#34;latency&#34;:&#34;0s&#34;,&#34;product_js_error&#34;:false}`}, nil},
		{"unknown page", "/nope", nil, 404, []string{"This page does not exist."}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cookies []*http.Cookie
			if tt.cookie != nil {
				cookies = append(cookies, tt.cookie)
			}
			w := do(t, h, "GET", tt.path, "", cookies...)
			if w.Code != tt.code {
				t.Fatalf("GET %s = %d, want %d", tt.path, w.Code, tt.code)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			body := w.Body.String()
			for _, s := range append([]string{rumTag, `<script src="/static/shop.js" defer></script>`}, tt.want...) {
				if !strings.Contains(body, s) {
					t.Errorf("GET %s: body lacks %q", tt.path, s)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(body, s) {
					t.Errorf("GET %s: body has %q", tt.path, s)
				}
			}
		})
	}
}

func TestRUMSnippetOptions(t *testing.T) {
	shop, _ := newTestShop(t, Options{SentinelURL: "https://sentinel.example.com", Site: "my-shop"})
	body := do(t, shop.Handler(), "GET", "/", "").Body.String()
	want := `<script src="https://sentinel.example.com/rum.js" data-site="my-shop" async></script>`
	if !strings.Contains(body, want) {
		t.Errorf("home page lacks %s", want)
	}
}

func TestStaticAssets(t *testing.T) {
	shop, _ := newTestShop(t, Options{})
	for path, ct := range map[string]string{"/static/shop.css": "text/css", "/static/shop.js": "text/javascript"} {
		w := do(t, shop.Handler(), "GET", path, "")
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), ct) || w.Body.Len() == 0 {
			t.Errorf("GET %s = %d %q (%d bytes)", path, w.Code, w.Header().Get("Content-Type"), w.Body.Len())
		}
	}
}

func TestProductJSErrorFault(t *testing.T) {
	shop, _ := newTestShop(t, Options{})
	h := shop.Handler()
	if body := do(t, h, "GET", "/product/42", "").Body.String(); strings.Contains(body, "widget.render") {
		t.Fatal("throwing widget present with the fault off")
	}
	if w := do(t, h, "POST", "/demo/faults", `{"product_js_error": true}`); w.Code != 200 {
		t.Fatalf("set fault = %d %s", w.Code, w.Body)
	}
	body := do(t, h, "GET", "/product/42", "").Body.String()
	for _, s := range []string{"var widget = window.recommendationsWidget;", `widget.render(document.getElementById("recs"));`, `addEventListener("load"`} {
		if !strings.Contains(body, s) {
			t.Errorf("product page lacks %q with the fault on", s)
		}
	}
	if body := do(t, h, "GET", "/", "").Body.String(); strings.Contains(body, "widget.render") {
		t.Error("the JS error leaked onto the home page")
	}
}

func TestCartAndCheckoutFlow(t *testing.T) {
	shop, _ := newTestShop(t, Options{})
	h := shop.Handler()

	w := do(t, h, "POST", "/api/cart", `{"sku":"TEST-1","qty":1}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("create cart = %d %s", w.Code, w.Body)
	}
	c := decode[cartResp](t, w).Cart
	if !strings.HasPrefix(c.ID, "cart_") || w.Header().Get("Location") != "/api/cart/"+c.ID {
		t.Errorf("cart id %q, Location %q", c.ID, w.Header().Get("Location"))
	}
	if len(c.Items) != 1 || c.Items[0].SKU != "TEST-1" || c.Total != 1 || c.Currency != "USD" || !c.CreatedAt.Equal(testNow) {
		t.Errorf("new cart = %+v", c)
	}

	w = do(t, h, "POST", "/api/cart", `{"sku":"KET-42","qty":2,"cart_id":"`+c.ID+`"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("add to existing cart = %d %s", w.Code, w.Body)
	}
	w = do(t, h, "POST", "/api/cart", `{"sku":"TEST-1","cart_id":"`+c.ID+`"}`) // qty defaults to 1
	if w.Code != http.StatusOK {
		t.Fatalf("add again = %d %s", w.Code, w.Body)
	}

	w = do(t, h, "GET", "/api/cart/"+c.ID, "")
	if w.Code != http.StatusOK {
		t.Fatalf("get cart = %d %s", w.Code, w.Body)
	}
	c = decode[cartResp](t, w).Cart
	if c.Count != 4 || c.Total != 100 || len(c.Items) != 2 || c.Items[0].Qty != 2 || c.Items[1].Subtotal != 98 {
		t.Errorf("cart after adds = %+v", c)
	}

	w = do(t, h, "POST", "/api/checkout", `{"cart_id":"`+c.ID+`","card":"4242 4242 4242 4242"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("checkout = %d %s", w.Code, w.Body)
	}
	paid := decode[checkoutResponse](t, w)
	if paid.Status != "paid" || !strings.HasPrefix(paid.OrderID, "ord_") || paid.Total != 100 {
		t.Errorf("checkout = %+v", paid)
	}

	// The cart became an order: it is gone, and paying twice fails.
	if w := do(t, h, "GET", "/api/cart/"+c.ID, ""); w.Code != http.StatusNotFound {
		t.Errorf("cart after checkout = %d", w.Code)
	}
	w = do(t, h, "POST", "/api/checkout", `{"cart_id":"`+c.ID+`","card":"4242424242424242"}`)
	if w.Code != http.StatusBadRequest || decode[checkoutResponse](t, w).Status != "failed" {
		t.Errorf("second checkout = %d %s", w.Code, w.Body)
	}
}

func TestProductsAPI(t *testing.T) {
	shop, _ := newTestShop(t, Options{})
	h := shop.Handler()
	w := do(t, h, "GET", "/api/products", "")
	list := decode[struct{ Products []productJSON }](t, w)
	if w.Code != 200 || len(list.Products) != 6 {
		t.Fatalf("GET /api/products = %d, %d products", w.Code, len(list.Products))
	}
	for _, p := range list.Products {
		if p.SKU == "TEST-1" {
			t.Error("the synthetic test item is listed")
		}
	}
	for _, key := range []string{"42", "KET-42", "ket-42"} {
		w := do(t, h, "GET", "/api/products/"+key, "")
		p := decode[struct{ Product productJSON }](t, w).Product
		if w.Code != 200 || p.Name != "Kettle" || p.Price != 49 || p.URL != "/product/42" {
			t.Errorf("GET /api/products/%s = %d %+v", key, w.Code, p)
		}
	}
	if w := do(t, h, "GET", "/api/products/nope", ""); w.Code != 404 {
		t.Errorf("unknown product = %d", w.Code)
	}
}

func TestBadInputIsAClientError(t *testing.T) {
	shop, _ := newTestShop(t, Options{})
	h := shop.Handler()
	cartID := newCart(t, h, "TEST-1")
	big := `{"sku":"` + strings.Repeat("x", maxBodyBytes) + `"}`

	tests := []struct {
		method, path, body string
		code               int
		errHas             string
	}{
		{"POST", "/api/cart", ``, 400, "body: empty"},
		{"POST", "/api/cart", `not json`, 400, "want a JSON object"},
		{"POST", "/api/cart", `[1,2]`, 400, "want a JSON object"},
		{"POST", "/api/cart", `null`, 400, "want a JSON object"},
		{"POST", "/api/cart", `{"sku":`, 400, "body:"},
		{"POST", "/api/cart", `{"sku":"TEST-1"} {}`, 400, "unexpected data"},
		{"POST", "/api/cart", `{"sku":"TEST-1","colour":"red"}`, 400, `unknown field "colour"`},
		{"POST", "/api/cart", `{"sku":42}`, 400, "sku: want a string"},
		{"POST", "/api/cart", `{"sku":"TEST-1","qty":1.5}`, 400, "qty: want an integer"},
		{"POST", "/api/cart", `{"sku":"TEST-1","qty":1e40}`, 400, "qty:"},
		{"POST", "/api/cart", `{"sku":"TEST-1","qty":0}`, 400, "qty: 0 is not between 1 and 99"},
		{"POST", "/api/cart", `{"sku":"TEST-1","qty":100}`, 400, "qty:"},
		{"POST", "/api/cart", `{"qty":1}`, 400, "sku: required"},
		{"POST", "/api/cart", `{"sku":"NOPE-1"}`, 400, `sku: unknown product "NOPE-1"`},
		{"POST", "/api/cart", `{"sku":"TEST-1","cart_id":"cart_missing"}`, 400, `cart_id: no cart "cart_missing"`},
		{"POST", "/api/cart", big, 413, "larger than 65536 bytes"},
		{"POST", "/api/checkout", `{}`, 400, "cart_id: required"},
		{"POST", "/api/checkout", `{"cart_id":"` + cartID + `"}`, 400, "card: required"},
		{"POST", "/api/checkout", `{"cart_id":"` + cartID + `","card":"4242424242424241"}`, 400, "card: not a valid card number"},
		{"POST", "/api/checkout", `{"cart_id":"` + cartID + `","card":"4242-abcd"}`, 400, "card: not a valid card number"},
		{"POST", "/api/checkout", `{"cart_id":"` + cartID + `","card":"42"}`, 400, "card: not a valid card number"},
		{"POST", "/api/checkout", `{"cart_id":"cart_missing","card":"4242424242424242"}`, 400, `cart_id: no cart "cart_missing"`},
		{"POST", "/api/checkout", `{"cart_id":7,"card":"4242424242424242"}`, 400, "cart_id: want a string"},
		{"POST", "/api/checkout", `{"cart_id":"x","card":"4242424242424242","cvv":"123"}`, 400, `unknown field "cvv"`},
		{"GET", "/api/checkout", ``, 405, "method GET not allowed on /api/checkout; use POST"},
		{"PUT", "/demo/faults", `{}`, 405, "use DELETE, GET, HEAD, POST"},
		{"DELETE", "/cart", ``, 405, "use GET, HEAD"},
		{"POST", "/", `{}`, 405, "method POST not allowed on /; use GET, HEAD"},
		{"GET", "/api/cart/", ``, 404, "no route /api/cart/"},
		{"GET", "/api/cart/cart_missing", ``, 404, `cart "cart_missing" not found`},
		{"GET", "/api/nope", ``, 404, "no route /api/nope"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+truncate(tt.body), func(t *testing.T) {
			w := do(t, h, tt.method, tt.path, tt.body)
			if w.Code != tt.code {
				t.Fatalf("= %d, want %d: %s", w.Code, tt.code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			e := decode[errorBody](t, w)
			if !strings.Contains(e.Error, tt.errHas) {
				t.Errorf("error = %q, want it to contain %q", e.Error, tt.errHas)
			}
		})
	}
	// The cart survived all of that.
	if w := do(t, h, "GET", "/api/cart/"+cartID, ""); w.Code != 200 {
		t.Errorf("cart after bad checkouts = %d", w.Code)
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func TestCheckoutErrorRate(t *testing.T) {
	tests := []struct {
		name       string
		rate       float64
		rand       func() float64 // nil: the seeded PCG
		n          int
		minF, maxF int
	}{
		{"rate 0 never fails", 0, func() float64 { return 0 }, 50, 0, 0},
		{"rate 1 always fails", 1, func() float64 { return 0.999999 }, 50, 50, 50},
		{"rate 0.5 seeded", 0.5, nil, 400, 160, 240},
		{"rate 0.1 seeded", 0.1, nil, 400, 20, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shop, _ := newTestShop(t, Options{Rand: tt.rand})
			if err := shop.SetFaults(Faults{CheckoutErrorRate: tt.rate}); err != nil {
				t.Fatal(err)
			}
			h := shop.Handler()
			failed := 0
			for range tt.n {
				id := newCart(t, h, "TEST-1")
				w := do(t, h, "POST", "/api/checkout", `{"cart_id":"`+id+`","card":"4242424242424242"}`)
				switch w.Code {
				case http.StatusOK:
				case http.StatusServiceUnavailable:
					failed++
					r := decode[checkoutResponse](t, w)
					if r.Status != "failed" || r.Error != "payment provider unavailable" {
						t.Fatalf("503 body = %s", w.Body)
					}
					// The customer may retry: the cart is still there.
					if w := do(t, h, "GET", "/api/cart/"+id, ""); w.Code != 200 {
						t.Fatalf("cart after a failed payment = %d", w.Code)
					}
				default:
					t.Fatalf("checkout = %d %s", w.Code, w.Body)
				}
			}
			if failed < tt.minF || failed > tt.maxF {
				t.Errorf("%d of %d checkouts failed, want %d..%d", failed, tt.n, tt.minF, tt.maxF)
			}
		})
	}
}

func TestCheckoutFaultSparesBadRequests(t *testing.T) {
	shop, _ := newTestShop(t, Options{Rand: func() float64 { return 0 }})
	if err := shop.SetFaults(Faults{CheckoutErrorRate: 1}); err != nil {
		t.Fatal(err)
	}
	w := do(t, shop.Handler(), "POST", "/api/checkout", `{"cart_id":"cart_missing","card":"4242424242424242"}`)
	if w.Code != http.StatusBadRequest {
		t.Errorf("bad checkout under the fault = %d, want 400", w.Code)
	}
}

func TestLatencyFault(t *testing.T) {
	shop, rec := newTestShop(t, Options{})
	h := shop.Handler()
	if w := do(t, h, "POST", "/demo/faults", `{"latency":"2s"}`); w.Code != 200 {
		t.Fatalf("set latency = %d %s", w.Code, w.Body)
	}
	delayed := []struct{ method, path, body string }{
		{"GET", "/", ""}, {"GET", "/product/42", ""}, {"GET", "/cart", ""}, {"GET", "/checkout", ""},
		{"GET", "/api/products", ""}, {"GET", "/api/products/42", ""},
		{"POST", "/api/cart", `{"sku":"TEST-1"}`}, {"GET", "/api/cart/x", ""}, {"POST", "/api/checkout", `{}`},
	}
	for _, r := range delayed {
		do(t, h, r.method, r.path, r.body)
	}
	calls := rec.got()
	if len(calls) != len(delayed) {
		t.Fatalf("sleep called %d times for %d shop requests", len(calls), len(delayed))
	}
	for i, d := range calls {
		if d != 2*time.Second {
			t.Errorf("%s %s slept %s, want 2s", delayed[i].method, delayed[i].path, d)
		}
	}
	// The panel and its API, static files and the health check are never delayed.
	for _, path := range []string{"/demo/faults", "/faults", "/static/shop.css", "/healthz"} {
		do(t, h, "GET", path, "")
	}
	if n := len(rec.got()); n != len(delayed) {
		t.Errorf("sleep called for the fault panel, static files or healthz (%d calls)", n)
	}

	// A wait cut short (shutdown, client gone) answers 503, not the page.
	rec.mu.Lock()
	rec.err = context.Canceled
	rec.mu.Unlock()
	if w := do(t, h, "GET", "/", ""); w.Code != http.StatusServiceUnavailable {
		t.Errorf("canceled wait = %d, want 503", w.Code)
	}

	// Cleared latency means no sleep at all.
	do(t, h, "DELETE", "/demo/faults", "")
	before := len(rec.got())
	do(t, h, "GET", "/", "")
	if len(rec.got()) != before {
		t.Error("sleep called with no latency fault")
	}
}

func TestSleepContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if err := sleepContext(t.Context(), 2*time.Second); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("slept %s, want 2s", got)
		}

		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(300*time.Millisecond, cancel)
		start = time.Now()
		if err := sleepContext(ctx, 30*time.Second); !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled sleep = %v", err)
		}
		if got := time.Since(start); got != 300*time.Millisecond {
			t.Errorf("canceled sleep returned after %s, want 300ms", got)
		}
	})
}

func TestFaultsAPI(t *testing.T) {
	shop, _ := newTestShop(t, Options{})
	h := shop.Handler()
	steps := []struct {
		method, body string
		code         int
		want         string // the faults JSON after the step, or an error substring
	}{
		{"GET", "", 200, `{"checkout_error_rate":0,"latency":"0s","product_js_error":false}`},
		{"POST", `{"checkout_error_rate": 0.5, "latency": "2s", "product_js_error": true}`, 200, `{"checkout_error_rate":0.5,"latency":"2s","product_js_error":true}`},
		{"POST", `{"latency": "500ms"}`, 200, `{"checkout_error_rate":0.5,"latency":"500ms","product_js_error":true}`},
		{"POST", `{"latency": 1.5}`, 200, `{"checkout_error_rate":0.5,"latency":"1.5s","product_js_error":true}`},
		{"POST", `{"checkout_error_rate": null, "product_js_error": false}`, 200, `{"checkout_error_rate":0.5,"latency":"1.5s","product_js_error":false}`},
		{"POST", `{}`, 200, `{"checkout_error_rate":0.5,"latency":"1.5s","product_js_error":false}`},
		{"POST", `{"latency": ""}`, 200, `{"checkout_error_rate":0.5,"latency":"0s","product_js_error":false}`},
		{"POST", `{"checkout_error_rate": 1.5}`, 400, "checkout_error_rate: 1.5 is not between 0 and 1"},
		{"POST", `{"checkout_error_rate": -0.1}`, 400, "checkout_error_rate: -0.1 is not between 0 and 1"},
		{"POST", `{"checkout_error_rate": "half"}`, 400, "checkout_error_rate: want a number"},
		{"POST", `{"latency": "31s"}`, 400, "latency: 31s is more than the maximum of 30s"},
		{"POST", `{"latency": "-1s"}`, 400, "latency: -1s is negative"},
		{"POST", `{"latency": "soon"}`, 400, `latency: "soon" is not a duration`},
		{"POST", `{"latency": 99}`, 400, "latency: 99 seconds is not between 0 and 30"},
		{"POST", `{"latency": true}`, 400, "latency: want a duration string"},
		{"POST", `{"product_js_error": "yes"}`, 400, "product_js_error: want true or false"},
		{"POST", `{"checkout_error_rate": 0.2, "latencyy": "1s"}`, 400, `unknown field "latencyy"`},
		{"POST", ``, 400, "body: empty"},
		{"POST", `{"checkout_error_rate": 1, "latency": "1m"}`, 400, "latency:"},
		// Nothing above changed the faults: a bad update is all-or-nothing.
		{"GET", "", 200, `{"checkout_error_rate":0.5,"latency":"0s","product_js_error":false}`},
		{"DELETE", "", 200, `{"checkout_error_rate":0,"latency":"0s","product_js_error":false}`},
		{"GET", "", 200, `{"checkout_error_rate":0,"latency":"0s","product_js_error":false}`},
	}
	for i, st := range steps {
		w := do(t, h, st.method, "/demo/faults", st.body)
		if w.Code != st.code {
			t.Fatalf("step %d: %s %s = %d, want %d: %s", i, st.method, st.body, w.Code, st.code, w.Body)
		}
		got := strings.TrimSpace(w.Body.String())
		if st.code == 200 && got != st.want {
			t.Errorf("step %d: %s %s = %s, want %s", i, st.method, st.body, got, st.want)
		}
		if st.code != 200 && !strings.Contains(decode[errorBody](t, w).Error, st.want) {
			t.Errorf("step %d: %s %s = %s, want error containing %q", i, st.method, st.body, got, st.want)
		}
	}
	if got := shop.Faults(); got != (Faults{}) {
		t.Errorf("Faults() = %+v after DELETE", got)
	}
}

func TestSetFaultsValidates(t *testing.T) {
	shop, _ := newTestShop(t, Options{})
	for _, f := range []Faults{{CheckoutErrorRate: 2}, {CheckoutErrorRate: -1}, {Latency: time.Hour}, {Latency: -time.Second}} {
		if err := shop.SetFaults(f); err == nil {
			t.Errorf("SetFaults(%+v) accepted", f)
		}
	}
	want := Faults{CheckoutErrorRate: 0.25, Latency: 3 * time.Second, ProductJSError: true}
	if err := shop.SetFaults(want); err != nil || shop.Faults() != want {
		t.Errorf("SetFaults(%+v) = %v, Faults() = %+v", want, err, shop.Faults())
	}
}

func TestCartsAreBounded(t *testing.T) {
	shop, _ := newTestShop(t, Options{MaxCarts: 3})
	h := shop.Handler()
	var ids []string
	for range 5 {
		ids = append(ids, newCart(t, h, "TEST-1"))
	}
	if n := shop.carts.len(); n != 3 {
		t.Errorf("%d carts held, want 3", n)
	}
	for i, id := range ids {
		want := http.StatusOK
		if i < 2 {
			want = http.StatusNotFound // the two oldest were evicted
		}
		if w := do(t, h, "GET", "/api/cart/"+id, ""); w.Code != want {
			t.Errorf("cart %d = %d, want %d", i, w.Code, want)
		}
	}
	// Checked-out carts leave the store and its eviction order too, so
	// probes cannot grow it: the first round evicts one more old cart, and
	// every checkout takes its own cart out again.
	for range 20 {
		id := newCart(t, h, "TEST-1")
		do(t, h, "POST", "/api/checkout", `{"cart_id":"`+id+`","card":"4242424242424242"}`)
	}
	if n, l := shop.carts.len(), shop.carts.order.Len(); n != 2 || l != 2 {
		t.Errorf("after checkouts: %d carts, %d in eviction order, want 2 and 2", n, l)
	}
}

func TestLineQuantityIsCapped(t *testing.T) {
	shop, _ := newTestShop(t, Options{})
	h := shop.Handler()
	id := newCart(t, h, "TEST-1")
	for range 3 {
		do(t, h, "POST", "/api/cart", `{"sku":"TEST-1","qty":50,"cart_id":"`+id+`"}`)
	}
	c := decode[cartResp](t, do(t, h, "GET", "/api/cart/"+id, "")).Cart
	if c.Items[0].Qty != maxQty {
		t.Errorf("qty = %d, want %d", c.Items[0].Qty, maxQty)
	}
}

func TestLuhn(t *testing.T) {
	tests := []struct {
		card string
		ok   bool
	}{
		{"4242424242424242", true},
		{"4242 4242 4242 4242", true},
		{"5555-5555-5555-4444", true},
		{"378282246310005", true},
		{"4242424242424241", false},
		{"4242", false},
		{"42424242424242424242", false},
		{"4242x42424242424", false},
		{"", false},
	}
	for _, tt := range tests {
		digits, ok := cardDigits(tt.card)
		if got := ok && luhnValid(digits); got != tt.ok {
			t.Errorf("card %q valid = %v, want %v", tt.card, got, tt.ok)
		}
	}
}

func TestConcurrentShoppers(t *testing.T) {
	shop, _ := newTestShop(t, Options{MaxCarts: 50})
	h := shop.Handler()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 30 {
				id := newCart(t, h, "TEST-1")
				do(t, h, "POST", "/api/cart", `{"sku":"KET-42","cart_id":"`+id+`"}`)
				do(t, h, "GET", "/cart", "", &http.Cookie{Name: cartCookie, Value: id})
				w := do(t, h, "POST", "/api/checkout", `{"cart_id":"`+id+`","card":"4242424242424242"}`)
				if w.Code != 200 && w.Code != 503 && w.Code != 400 {
					t.Errorf("checkout = %d %s", w.Code, w.Body)
				}
				if g == 0 {
					do(t, h, "POST", "/demo/faults", `{"checkout_error_rate":`+[]string{"0", "0.5"}[i%2]+`}`)
				}
			}
		})
	}
	wg.Wait()
}

func TestRunServesAndShutsDown(t *testing.T) {
	gate := make(chan struct{})
	var once sync.Once
	shop := New(Options{
		Listen: "127.0.0.1:0",
		Sleep: func(ctx context.Context, d time.Duration) error {
			once.Do(func() { close(gate) })
			return sleepContext(ctx, d)
		},
	})
	if _, err := shop.Listen(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(shop.URL(), "http://127.0.0.1:") || strings.HasSuffix(shop.URL(), ":0") {
		t.Fatalf("URL() = %q", shop.URL())
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- shop.Run(ctx) }()

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(shop.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz = %d", resp.StatusCode)
	}
	if err := shop.Run(ctx); err == nil {
		t.Error("second Run succeeded")
	}

	// A request waiting out the maximum latency must not hold shutdown up.
	resp, err = client.Post(shop.URL()+"/demo/faults", "application/json", bytes.NewReader([]byte(`{"latency":"30s"}`)))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	slow := make(chan int, 1)
	go func() {
		resp, err := client.Get(shop.URL() + "/")
		if err != nil {
			slow <- 0
			return
		}
		_ = resp.Body.Close()
		slow <- resp.StatusCode
	}()
	<-gate
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel (stuck on the latency wait?)")
	}
	if code := <-slow; code != http.StatusServiceUnavailable && code != 0 {
		t.Errorf("request cut by shutdown = %d", code)
	}
}

func TestListenError(t *testing.T) {
	shop := New(Options{Listen: "127.0.0.1:notaport"})
	if _, err := shop.Listen(); err == nil || !strings.Contains(err.Error(), "127.0.0.1:notaport") {
		t.Errorf("Listen = %v", err)
	}
	if err := shop.Run(t.Context()); err == nil {
		t.Error("Run on a bad address succeeded")
	}
}
