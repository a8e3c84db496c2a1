package demo

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
)

// assets holds the page templates and the static files (CSS, the page script).
//
//go:embed templates/*.html static/*
var assets embed.FS

// cartCookie is the cookie the page script keeps the visitor's cart ID in.
// Only pages read it; the JSON APIs take cart IDs in their bodies.
const cartCookie = "demo_cart"

// pageSet is the parsed templates, one per page, each with the layout.
type pageSet map[string]*template.Template

// mustParsePages parses the embedded templates; they are fixed at build
// time and covered by tests, so a failure is a bug in this package.
func mustParsePages() pageSet {
	funcs := template.FuncMap{
		"money":    formatMoney,
		"mulCents": func(cents int64, qty int) int64 { return cents * int64(qty) },
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html"))
	set := pageSet{}
	for _, name := range []string{"home", "product", "cart", "checkout", "faults", "notfound"} {
		set[name] = template.Must(template.Must(layout.Clone()).ParseFS(assets, "templates/"+name+".html"))
	}
	return set
}

// pageData is what every template sees; page-specific fields stay zero
// elsewhere.
type pageData struct {
	Title     string
	Nav       string // "home", "cart", "faults": the highlighted link
	RUMSrc    string // {SentinelURL}/rum.js
	Site      string
	CartCount int

	Products []product // home; recommendations on the product page
	Product  product   // product page
	JSError  bool      // product page: include the throwing widget
	Cart     cart      // cart and checkout pages
	HasCart  bool
	Faults   Faults // fault panel
	Message  string // not-found page
	MaxLat   string // fault panel: the latency cap
	Current  string // fault panel: the faults as the API shows them
}

// render executes page into a buffer and writes it with status code.
func (s *Shop) render(w http.ResponseWriter, r *http.Request, code int, page string, d pageData) {
	d.RUMSrc = s.opts.SentinelURL + "/rum.js"
	d.Site = s.opts.Site
	if c, ok := s.visitorCart(r); ok {
		d.CartCount = c.Count()
	}
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout.html", d); err != nil {
		s.log.Error("demo page render failed", "page", page, "err", err)
		http.Error(w, "page render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// visitorCart returns the cart named by the visitor's cookie, if it exists.
func (s *Shop) visitorCart(r *http.Request) (cart, bool) {
	ck, err := r.Cookie(cartCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 64 {
		return cart{}, false
	}
	return s.carts.get(ck.Value)
}

// handleHome renders / : the product grid, each with "Add to cart".
func (s *Shop) handleHome(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "home", pageData{Title: "Teapot & Co.", Nav: "home", Products: s.catalog.visible()})
}

// handleProduct renders /product/{id}; with the product_js_error fault on,
// the page throws an uncaught TypeError after load.
func (s *Shop) handleProduct(w http.ResponseWriter, r *http.Request) {
	p, ok := s.catalog.lookup(r.PathValue("id"))
	if !ok {
		s.renderNotFound(w, r, "We could not find that product.")
		return
	}
	var recs []product
	for _, o := range s.catalog.visible() {
		if o.ID != p.ID && len(recs) < 3 {
			recs = append(recs, o)
		}
	}
	s.render(w, r, http.StatusOK, "product", pageData{
		Title: p.Name, Nav: "home", Product: p, Products: recs, JSError: s.Faults().ProductJSError,
	})
}

// handleCartPage renders /cart from the visitor's cart cookie.
func (s *Shop) handleCartPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.visitorCart(r)
	s.render(w, r, http.StatusOK, "cart", pageData{Title: "Your cart", Nav: "cart", Cart: c, HasCart: ok && len(c.Lines) > 0})
}

// handleCheckoutPage renders /checkout: the order summary and the pay form.
func (s *Shop) handleCheckoutPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.visitorCart(r)
	s.render(w, r, http.StatusOK, "checkout", pageData{Title: "Checkout", Nav: "cart", Cart: c, HasCart: ok && len(c.Lines) > 0})
}

// handleFaultsPage renders /faults: the fault panel. Never delayed.
func (s *Shop) handleFaultsPage(w http.ResponseWriter, r *http.Request) {
	f := s.Faults()
	current, _ := f.MarshalJSON() // plain fields: cannot fail
	s.render(w, r, http.StatusOK, "faults", pageData{
		Title: "Fault panel", Nav: "faults", Faults: f, MaxLat: MaxLatency.String(), Current: string(current),
	})
}

// renderNotFound renders the 404 page with msg.
func (s *Shop) renderNotFound(w http.ResponseWriter, r *http.Request, msg string) {
	s.render(w, r, http.StatusNotFound, "notfound", pageData{Title: "Not found", Message: msg})
}
