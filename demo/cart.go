package demo

import (
	"container/list"
	"sync"
	"time"
)

// maxQty caps one cart line's quantity, and with the fixed catalog bounds a
// cart's size.
const maxQty = 99

// cartLine is one product in a cart.
type cartLine struct {
	Product product
	Qty     int
}

// cart is a snapshot of a cart, safe to read without the store's lock.
type cart struct {
	ID      string
	Created time.Time
	Lines   []cartLine
}

// TotalCents sums the lines.
func (c cart) TotalCents() int64 {
	var t int64
	for _, l := range c.Lines {
		t += l.Product.PriceCents * int64(l.Qty)
	}
	return t
}

// Count is the number of items in the cart.
func (c cart) Count() int {
	n := 0
	for _, l := range c.Lines {
		n += l.Qty
	}
	return n
}

// cartJSON is the API shape of a cart.
type cartJSON struct {
	ID        string         `json:"id"`
	Items     []cartItemJSON `json:"items"`
	Count     int            `json:"count"`
	Total     float64        `json:"total"`
	Currency  string         `json:"currency"`
	CreatedAt time.Time      `json:"created_at"`
}

// cartItemJSON is one line of cartJSON.
type cartItemJSON struct {
	SKU       string  `json:"sku"`
	ProductID int     `json:"product_id"`
	Name      string  `json:"name"`
	Qty       int     `json:"qty"`
	Price     float64 `json:"price"`
	Subtotal  float64 `json:"subtotal"`
}

// json returns the API shape of c.
func (c cart) json() cartJSON {
	items := make([]cartItemJSON, 0, len(c.Lines))
	for _, l := range c.Lines {
		items = append(items, cartItemJSON{
			SKU: l.Product.SKU, ProductID: l.Product.ID, Name: l.Product.Name, Qty: l.Qty,
			Price: centsToUnits(l.Product.PriceCents), Subtotal: centsToUnits(l.Product.PriceCents * int64(l.Qty)),
		})
	}
	return cartJSON{
		ID: c.ID, Items: items, Count: c.Count(), Total: centsToUnits(c.TotalCents()),
		Currency: currency, CreatedAt: c.Created.UTC(),
	}
}

// cartStore keeps carts in memory, at most max of them: adding one more
// evicts the oldest. Safe for concurrent use.
type cartStore struct {
	mu    sync.Mutex
	max   int
	carts map[string]*list.Element // values are *cart
	order *list.List               // oldest first
}

// newCartStore returns an empty store holding at most max carts.
func newCartStore(max int) *cartStore {
	return &cartStore{max: max, carts: map[string]*list.Element{}, order: list.New()}
}

// create stores a new cart holding qty of p and returns its snapshot.
func (cs *cartStore) create(id string, now time.Time, p product, qty int) cart {
	c := &cart{ID: id, Created: now, Lines: []cartLine{{Product: p, Qty: min(qty, maxQty)}}}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.carts[id] = cs.order.PushBack(c)
	for cs.order.Len() > cs.max {
		oldest := cs.order.Front()
		cs.order.Remove(oldest)
		delete(cs.carts, oldest.Value.(*cart).ID)
	}
	return snapshot(c)
}

// add puts qty of p into cart id (capped at maxQty per line).
func (cs *cartStore) add(id string, p product, qty int) (cart, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	e, ok := cs.carts[id]
	if !ok {
		return cart{}, false
	}
	c := e.Value.(*cart)
	for i := range c.Lines {
		if c.Lines[i].Product.ID == p.ID {
			c.Lines[i].Qty = min(c.Lines[i].Qty+qty, maxQty)
			return snapshot(c), true
		}
	}
	c.Lines = append(c.Lines, cartLine{Product: p, Qty: min(qty, maxQty)})
	return snapshot(c), true
}

// get returns a snapshot of cart id.
func (cs *cartStore) get(id string) (cart, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	e, ok := cs.carts[id]
	if !ok {
		return cart{}, false
	}
	return snapshot(e.Value.(*cart)), true
}

// take removes cart id and returns it; false if it was not there (already
// checked out, evicted, or never existed).
func (cs *cartStore) take(id string) (cart, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	e, ok := cs.carts[id]
	if !ok {
		return cart{}, false
	}
	cs.order.Remove(e)
	delete(cs.carts, id)
	return snapshot(e.Value.(*cart)), true
}

// len reports how many carts are held.
func (cs *cartStore) len() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.carts)
}

// snapshot copies c so callers can read it without the lock.
func snapshot(c *cart) cart {
	out := *c
	out.Lines = append([]cartLine(nil), c.Lines...)
	return out
}
