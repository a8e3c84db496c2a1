package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// MaxLatency caps the latency fault, so a typo cannot hang the shop for hours.
const MaxLatency = 30 * time.Second

// Faults are the failures the fault panel injects into the shop. The zero
// value is a healthy shop.
type Faults struct {
	// CheckoutErrorRate is the probability in [0, 1] that a valid checkout
	// answers 503 "payment provider unavailable".
	CheckoutErrorRate float64
	// Latency delays every page and API response (not the fault panel), at
	// most MaxLatency.
	Latency time.Duration
	// ProductJSError makes the product page throw an uncaught TypeError
	// after load, from a broken recommendations widget.
	ProductJSError bool
}

// Validate reports the first field out of range, naming it.
func (f Faults) Validate() error {
	if math.IsNaN(f.CheckoutErrorRate) || f.CheckoutErrorRate < 0 || f.CheckoutErrorRate > 1 {
		return fmt.Errorf("checkout_error_rate: %v is not between 0 and 1", f.CheckoutErrorRate)
	}
	if f.Latency < 0 {
		return fmt.Errorf("latency: %s is negative", f.Latency)
	}
	if f.Latency > MaxLatency {
		return fmt.Errorf("latency: %s is more than the maximum of %s", f.Latency, MaxLatency)
	}
	return nil
}

// faultsJSON is the wire form of Faults: latency as a Go duration string.
type faultsJSON struct {
	CheckoutErrorRate float64 `json:"checkout_error_rate"`
	Latency           string  `json:"latency"`
	ProductJSError    bool    `json:"product_js_error"`
}

// MarshalJSON writes {"checkout_error_rate":0.5,"latency":"2s","product_js_error":true}.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{
		CheckoutErrorRate: f.CheckoutErrorRate,
		Latency:           f.Latency.String(),
		ProductJSError:    f.ProductJSError,
	})
}

// faultsPatch is a partial update: a field that is absent (or null) leaves
// the current value unchanged.
type faultsPatch struct {
	CheckoutErrorRate *float64
	Latency           *time.Duration
	ProductJSError    *bool
}

// apply returns f with the patch's fields set.
func (p faultsPatch) apply(f Faults) Faults {
	if p.CheckoutErrorRate != nil {
		f.CheckoutErrorRate = *p.CheckoutErrorRate
	}
	if p.Latency != nil {
		f.Latency = *p.Latency
	}
	if p.ProductJSError != nil {
		f.ProductJSError = *p.ProductJSError
	}
	return f
}

// decodeFaultsPatch reads a fault update from a JSON object. Latency is a
// Go duration string ("2s", "500ms"; "" means none) or a number of seconds.
// Unknown fields and out-of-range values are errors naming the field.
func decodeFaultsPatch(body []byte) (faultsPatch, error) {
	var wire struct {
		CheckoutErrorRate *float64        `json:"checkout_error_rate"`
		Latency           json.RawMessage `json:"latency"`
		ProductJSError    *bool           `json:"product_js_error"`
	}
	if err := decodeJSON(body, &wire); err != nil {
		return faultsPatch{}, err
	}
	p := faultsPatch{CheckoutErrorRate: wire.CheckoutErrorRate, ProductJSError: wire.ProductJSError}
	if p.CheckoutErrorRate != nil {
		if r := *p.CheckoutErrorRate; r < 0 || r > 1 {
			return faultsPatch{}, fmt.Errorf("checkout_error_rate: %v is not between 0 and 1", r)
		}
	}
	if raw := bytes.TrimSpace(wire.Latency); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		d, err := parseLatency(raw)
		if err != nil {
			return faultsPatch{}, err
		}
		p.Latency = &d
	}
	return p, nil
}

// parseLatency reads a JSON string duration or a JSON number of seconds.
func parseLatency(raw json.RawMessage) (time.Duration, error) {
	var d time.Duration
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("latency: want a duration string like \"2s\" or \"500ms\"")
		}
		if s == "" {
			return 0, nil
		}
		parsed, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("latency: %s is not a duration like \"2s\" or \"500ms\"", strconv.Quote(s))
		}
		d = parsed
	} else {
		var secs float64
		if err := json.Unmarshal(raw, &secs); err != nil {
			return 0, fmt.Errorf("latency: want a duration string like \"2s\" or a number of seconds")
		}
		if secs < 0 || secs > MaxLatency.Seconds() {
			return 0, fmt.Errorf("latency: %v seconds is not between 0 and %v", secs, MaxLatency.Seconds())
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < 0 {
		return 0, fmt.Errorf("latency: %s is negative", d)
	}
	if d > MaxLatency {
		return 0, fmt.Errorf("latency: %s is more than the maximum of %s", d, MaxLatency)
	}
	return d, nil
}

// handleGetFaults answers GET /demo/faults with the current faults.
func (s *Shop) handleGetFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Faults())
}

// handleSetFaults answers POST /demo/faults: merge the update, answer the result.
func (s *Shop) handleSetFaults(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	p, err := decodeFaultsPatch(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	f, err := s.updateFaults(p)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// handleClearFaults answers DELETE /demo/faults: a healthy shop again.
func (s *Shop) handleClearFaults(w http.ResponseWriter, _ *http.Request) {
	s.faultsMu.Lock()
	s.faults = Faults{}
	s.faultsMu.Unlock()
	s.logFaults(Faults{})
	writeJSON(w, http.StatusOK, Faults{})
}
