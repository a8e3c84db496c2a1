package demo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// routes builds the shop's mux. Every path answers wrong methods with a
// 405 and unknown paths with a 404 (JSON under /api/ and /demo/).
func (s *Shop) routes() http.Handler {
	mux := http.NewServeMux()
	slow := s.withLatency

	// Pages.
	handle(mux, "/{$}", map[string]http.HandlerFunc{"GET": slow(s.handleHome)})
	handle(mux, "/product/{id}", map[string]http.HandlerFunc{"GET": slow(s.handleProduct)})
	handle(mux, "/cart", map[string]http.HandlerFunc{"GET": slow(s.handleCartPage)})
	handle(mux, "/checkout", map[string]http.HandlerFunc{"GET": slow(s.handleCheckoutPage)})
	handle(mux, "/faults", map[string]http.HandlerFunc{"GET": s.handleFaultsPage})

	// JSON APIs.
	handle(mux, "/api/products", map[string]http.HandlerFunc{"GET": slow(s.handleListProducts)})
	handle(mux, "/api/products/{id}", map[string]http.HandlerFunc{"GET": slow(s.handleGetProduct)})
	handle(mux, "/api/cart", map[string]http.HandlerFunc{"POST": slow(s.handleAddToCart)})
	handle(mux, "/api/cart/{id}", map[string]http.HandlerFunc{"GET": slow(s.handleGetCart)})
	handle(mux, "/api/checkout", map[string]http.HandlerFunc{"POST": slow(s.handleCheckout)})

	// The fault panel's API, never delayed so it can always undo a fault.
	handle(mux, "/demo/faults", map[string]http.HandlerFunc{
		"GET":    s.handleGetFaults,
		"POST":   s.handleSetFaults,
		"DELETE": s.handleClearFaults,
	})

	handle(mux, "/healthz", map[string]http.HandlerFunc{"GET": func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	}})
	files := http.FileServerFS(assets) // /static/shop.css is static/shop.css in the embedded files
	handle(mux, "/static/", map[string]http.HandlerFunc{"GET": func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	}})

	mux.HandleFunc("/", s.handleNotFound)
	return commonHeaders(mux)
}

// handle registers one handler per method for path, plus a catch-all for
// the path that answers 405 with an Allow header. GET also serves HEAD.
func handle(mux *http.ServeMux, path string, byMethod map[string]http.HandlerFunc) {
	allowed := make([]string, 0, len(byMethod)+1)
	for method, h := range byMethod {
		mux.HandleFunc(method+" "+path, h)
		allowed = append(allowed, method)
		if method == http.MethodGet {
			allowed = append(allowed, http.MethodHead)
		}
	}
	sort.Strings(allowed)
	allow := strings.Join(allowed, ", ")
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed on %s; use %s", r.Method, r.URL.Path, allow))
	})
}

// commonHeaders sets the headers every response carries.
func commonHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// withLatency delays a shop response by the latency fault. The wait ends
// early when the request's context does (client gone, shop shutting down).
func (s *Shop) withLatency(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if d := s.Faults().Latency; d > 0 {
			if err := s.opts.Sleep(r.Context(), d); err != nil {
				writeError(w, http.StatusServiceUnavailable, errors.New("shop is shutting down or the request was canceled"))
				return
			}
		}
		next(w, r)
	}
}

// handleNotFound answers unknown paths: JSON for API clients, a page for people.
func (s *Shop) handleNotFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/demo/") {
		writeError(w, http.StatusNotFound, fmt.Errorf("no route %s", r.URL.Path))
		return
	}
	s.renderNotFound(w, r, "This page does not exist.")
}

// errorBody is the shape of every JSON error: {"error": "..."}.
type errorBody struct {
	Error string `json:"error"`
}

// writeJSON writes v as JSON with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		body = []byte(`{"error":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}

// writeError writes {"error": err} with status code.
func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, errorBody{Error: err.Error()})
}

// readBody reads a request body of at most maxBodyBytes; on failure it has
// already answered (413 too large, 400 unreadable) and returns false.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("body: larger than %d bytes", maxBodyBytes))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, fmt.Errorf("body: %w", err))
		return nil, false
	}
	return body, true
}

// decodeJSON decodes one JSON object into v strictly (unknown fields and
// trailing data are errors), with messages that name the offending field.
func decodeJSON(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return errors.New("body: empty; want a JSON object")
	}
	if trimmed[0] != '{' {
		return errors.New("body: want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("body: unexpected data after the JSON object")
	}
	return nil
}

// jsonError turns encoding/json's errors into "field: problem" messages.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("body: invalid JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return fmt.Errorf("%s: want %s, got JSON %s", field, jsonTypeName(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("body: truncated JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("body: unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return fmt.Errorf("body: %w", err)
	}
}

// jsonTypeName names a Go kind the way a JSON author thinks of it.
func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "uint", "uint64", "uint32":
		return "an integer"
	case "float64", "float32":
		return "a number"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	default:
		return kind
	}
}
