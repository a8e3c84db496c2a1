package demo

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// addToCartRequest is the body of POST /api/cart.
type addToCartRequest struct {
	SKU    string `json:"sku"`
	Qty    *int   `json:"qty"`
	CartID string `json:"cart_id"`
}

// checkoutRequest is the body of POST /api/checkout.
type checkoutRequest struct {
	CartID string `json:"cart_id"`
	Card   string `json:"card"`
}

// checkoutResponse is the body of every POST /api/checkout answer.
type checkoutResponse struct {
	Status   string  `json:"status"` // "paid" or "failed"
	OrderID  string  `json:"order_id,omitempty"`
	Total    float64 `json:"total,omitempty"`
	Currency string  `json:"currency,omitempty"`
	Error    string  `json:"error,omitempty"`
}

// errPaymentUnavailable is what the checkout error fault answers.
var errPaymentUnavailable = errors.New("payment provider unavailable")

// decodeAddToCart reads and checks a POST /api/cart body.
func decodeAddToCart(body []byte) (addToCartRequest, error) {
	var req addToCartRequest
	if err := decodeJSON(body, &req); err != nil {
		return req, err
	}
	req.SKU = strings.TrimSpace(req.SKU)
	if req.SKU == "" {
		return req, errors.New("sku: required")
	}
	if req.Qty == nil {
		one := 1
		req.Qty = &one
	}
	if q := *req.Qty; q < 1 || q > maxQty {
		return req, fmt.Errorf("qty: %d is not between 1 and %d", q, maxQty)
	}
	return req, nil
}

// decodeCheckout reads and checks a POST /api/checkout body; the card must
// be 12 to 19 digits (spaces and dashes allowed) passing the Luhn check.
func decodeCheckout(body []byte) (checkoutRequest, error) {
	var req checkoutRequest
	if err := decodeJSON(body, &req); err != nil {
		return req, err
	}
	req.CartID = strings.TrimSpace(req.CartID)
	if req.CartID == "" {
		return req, errors.New("cart_id: required")
	}
	if req.Card == "" {
		return req, errors.New("card: required")
	}
	digits, ok := cardDigits(req.Card)
	if !ok || !luhnValid(digits) {
		return req, errors.New("card: not a valid card number")
	}
	req.Card = digits
	return req, nil
}

// cardDigits strips spaces and dashes; false unless 12 to 19 digits remain.
func cardDigits(card string) (string, bool) {
	var b strings.Builder
	for _, r := range card {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
		default:
			return "", false
		}
		if b.Len() > 19 {
			return "", false
		}
	}
	return b.String(), b.Len() >= 12
}

// luhnValid reports whether a digit string passes the Luhn checksum.
func luhnValid(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// handleListProducts answers GET /api/products: {"products": [...]}.
func (s *Shop) handleListProducts(w http.ResponseWriter, _ *http.Request) {
	visible := s.catalog.visible()
	out := make([]productJSON, 0, len(visible))
	for _, p := range visible {
		out = append(out, p.json())
	}
	writeJSON(w, http.StatusOK, map[string]any{"products": out})
}

// handleGetProduct answers GET /api/products/{id} (numeric ID or SKU): {"product": {...}}.
func (s *Shop) handleGetProduct(w http.ResponseWriter, r *http.Request) {
	p, ok := s.catalog.lookup(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Errorf("product %q not found", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"product": p.json()})
}

// handleAddToCart answers POST /api/cart: 201 with a new cart, or 200 when
// cart_id names an existing one; {"cart": {...}} either way.
func (s *Shop) handleAddToCart(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	req, err := decodeAddToCart(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	p, ok := s.catalog.lookup(req.SKU)
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Errorf("sku: unknown product %q", req.SKU))
		return
	}
	if req.CartID != "" {
		c, ok := s.carts.add(req.CartID, p, *req.Qty)
		if !ok {
			writeError(w, http.StatusBadRequest, fmt.Errorf("cart_id: no cart %q (checked out or expired)", req.CartID))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"cart": c.json()})
		return
	}
	c := s.carts.create(newID("cart_"), s.opts.Now(), p, *req.Qty)
	w.Header().Set("Location", "/api/cart/"+c.ID)
	writeJSON(w, http.StatusCreated, map[string]any{"cart": c.json()})
}

// handleGetCart answers GET /api/cart/{id}: {"cart": {...}}.
func (s *Shop) handleGetCart(w http.ResponseWriter, r *http.Request) {
	c, ok := s.carts.get(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Errorf("cart %q not found", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"cart": c.json()})
}

// handleCheckout answers POST /api/checkout: 200 {"status":"paid",...};
// 400 {"status":"failed","error":...} for bad input; and, at the fault
// panel's checkout_error_rate, 503 "payment provider unavailable" (the cart
// is kept, so the customer can retry).
func (s *Shop) handleCheckout(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	fail := func(code int, err error) {
		writeJSON(w, code, checkoutResponse{Status: "failed", Error: err.Error()})
	}
	req, err := decodeCheckout(body)
	if err != nil {
		fail(http.StatusBadRequest, err)
		return
	}
	if _, ok := s.carts.get(req.CartID); !ok {
		fail(http.StatusBadRequest, fmt.Errorf("cart_id: no cart %q (checked out or expired)", req.CartID))
		return
	}
	if rate := s.Faults().CheckoutErrorRate; rate > 0 && s.opts.Rand() < rate {
		s.log.Debug("demo checkout failed by fault", "checkout_error_rate", rate)
		w.Header().Set("Retry-After", "1")
		fail(http.StatusServiceUnavailable, errPaymentUnavailable)
		return
	}
	c, ok := s.carts.take(req.CartID)
	if !ok { // checked out concurrently
		fail(http.StatusBadRequest, fmt.Errorf("cart_id: no cart %q (checked out or expired)", req.CartID))
		return
	}
	writeJSON(w, http.StatusOK, checkoutResponse{
		Status: "paid", OrderID: newID("ord_"), Total: centsToUnits(c.TotalCents()), Currency: currency,
	})
}
