package demo

import (
	"strconv"
	"strings"
)

// product is one item the shop sells; prices are in cents.
type product struct {
	ID          int
	SKU         string
	Name        string
	Description string
	PriceCents  int64
	Emoji       string
	// Hidden products (the synthetic test item) are sold through the API
	// but not listed on the storefront.
	Hidden bool
}

// productJSON is the API shape of a product.
type productJSON struct {
	ID          int     `json:"id"`
	SKU         string  `json:"sku"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Price       float64 `json:"price"`
	Currency    string  `json:"currency"`
	URL         string  `json:"url"`
}

// currency is the shop's one currency.
const currency = "USD"

// json returns the API shape of p.
func (p product) json() productJSON {
	return productJSON{
		ID: p.ID, SKU: p.SKU, Name: p.Name, Description: p.Description,
		Price: centsToUnits(p.PriceCents), Currency: currency, URL: p.URL(),
	}
}

// URL is the product page's path.
func (p product) URL() string { return "/product/" + strconv.Itoa(p.ID) }

// catalog is the shop's fixed, read-only product list.
type catalog struct {
	products []product
	byID     map[int]product
	bySKU    map[string]product
}

// newCatalog returns the demo's products. TEST-1 is the synthetic test SKU
// that probes put in their carts.
func newCatalog() catalog {
	products := []product{
		{ID: 42, SKU: "KET-42", Name: "Kettle", Emoji: "🫖", PriceCents: 4900,
			Description: "A 1.2 litre stovetop kettle in brushed steel, with a whistle you can hear from the garden."},
		{ID: 7, SKU: "MUG-7", Name: "Stoneware mug", Emoji: "☕", PriceCents: 1400,
			Description: "Hand-glazed, 350 ml, and heavy enough to feel like a decision."},
		{ID: 13, SKU: "TEA-13", Name: "Loose-leaf tea sampler", Emoji: "🍃", PriceCents: 2200,
			Description: "Six tins: sencha, assam, darjeeling, oolong, rooibos and a smoky lapsang."},
		{ID: 58, SKU: "PRS-58", Name: "French press", Emoji: "🧋", PriceCents: 3400,
			Description: "Borosilicate glass, a fine steel mesh, and four generous cups."},
		{ID: 77, SKU: "GRN-77", Name: "Burr grinder", Emoji: "⚙️", PriceCents: 8900,
			Description: "Forty grind settings, from espresso dust to cold-brew gravel."},
		{ID: 91, SKU: "TRY-91", Name: "Oak serving tray", Emoji: "🪵", PriceCents: 3900,
			Description: "Oiled oak with cut-out handles, big enough for a pot and four cups."},
		{ID: 1, SKU: "TEST-1", Name: "Synthetic test item", Emoji: "🧪", PriceCents: 100, Hidden: true,
			Description: "Bought by synthetic probes; never shipped."},
	}
	c := catalog{products: products, byID: map[int]product{}, bySKU: map[string]product{}}
	for _, p := range products {
		c.byID[p.ID] = p
		c.bySKU[p.SKU] = p
	}
	return c
}

// visible returns the products listed on the storefront, in catalog order.
func (c catalog) visible() []product {
	out := make([]product, 0, len(c.products))
	for _, p := range c.products {
		if !p.Hidden {
			out = append(out, p)
		}
	}
	return out
}

// lookup finds a product by numeric ID or by SKU (case-insensitive).
func (c catalog) lookup(key string) (product, bool) {
	if id, err := strconv.Atoi(key); err == nil {
		p, ok := c.byID[id]
		return p, ok
	}
	p, ok := c.bySKU[strings.ToUpper(key)]
	return p, ok
}

// centsToUnits converts cents to currency units for JSON (4900 → 49).
func centsToUnits(cents int64) float64 { return float64(cents) / 100 }

// formatMoney renders cents for people: "$49.00".
func formatMoney(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return sign + "$" + strconv.FormatInt(cents/100, 10) + "." + pad2(cents%100)
}

// pad2 formats 0..99 with two digits.
func pad2(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}
