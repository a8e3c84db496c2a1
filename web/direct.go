package web

import (
	"encoding/json"
	"net/http"
)

// Direct mounts h at exactly path, for every method, without a token;
// methods are those h serves (it answers the others itself, 405), for
// RouteList. It is for the few public endpoints that every page view of
// every storefront calls (the RUM beacon): they are served before gin's
// router and without a gin context, but with what every route gets (the
// request ID, the security headers, the client IP, the access log and HTTP
// metrics, recovery from a panic, the body read deadline), except the
// server's body cap: h must cap what it reads itself, and answer methods it
// does not serve. Call it before Run.
func (r *Routes) Direct(path string, h http.Handler, methods ...string) {
	srv := r.srv
	if srv.direct == nil {
		srv.direct = map[string]http.Handler{}
	}
	srv.direct[path] = h
	for _, m := range methods {
		srv.directRoutes = append(srv.directRoutes, Route{Method: m, Path: path})
	}
}

// ServeHTTP serves a direct route or hands the request to gin.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := s.direct[r.URL.Path]; ok {
		s.serveDirect(r.URL.Path, h, w, r)
		return
	}
	s.engine.ServeHTTP(w, r)
}

// directRequest is one request on a direct route: its context and its
// answer's recorder in one allocation.
type directRequest struct {
	ctx requestContext
	w   statusWriter
}

// serveDirect is the middleware chain (server.go) for a direct route.
func (s *Server) serveDirect(route string, h http.Handler, w http.ResponseWriter, r *http.Request) {
	start := s.now()
	d := &directRequest{w: statusWriter{ResponseWriter: w}}
	hdr := w.Header()
	r = s.startRequest(&d.ctx, hdr, r)
	s.setClientIP(r)
	r.Body = withReadDeadline(w, r.Body, s.set.Load().readTimeout)
	defer func() {
		rec := recover()
		if rec != nil && rec != http.ErrAbortHandler {
			s.logPanic(d.ctx.info.log.With("request_id", d.ctx.info.id), rec, r.Method, route)
			if d.w.status == 0 {
				writeJSONError(&d.w, http.StatusInternalServerError, "internal error", d.ctx.info.id)
				rec = nil
			} else {
				// Headers are out; the only honest thing left is to cut it.
				rec = http.ErrAbortHandler
			}
		}
		s.logRequest(r, route, d.w.Status(), d.w.size, start, rec != nil)
		if rec != nil {
			panic(rec)
		}
	}()
	h.ServeHTTP(&d.w, r)
	if d.w.status == 0 {
		d.w.WriteHeader(http.StatusOK) // what net/http would send, with the headers
	}
}

// writeJSONError answers like abortJSON, for a request served without gin.
func writeJSONError(w http.ResponseWriter, status int, msg, requestID string) {
	body, _ := json.Marshal(ErrorBody{Error: msg, RequestID: requestID})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// statusWriter records the status and size of an answer for the access
// log, and adds the security headers when the final status is written,
// unless the answer has no body: a direct route's answers are mostly a
// beacon's empty 202, sent for every page view, where the headers protect
// nothing (no body to sniff, frame or follow a link from) and cost bytes
// and time on every one. A handler declares an empty answer with
// Content-Length: 0 (or a 204 or 304). It must write through this writer,
// not an unwrapped one.
type statusWriter struct {
	http.ResponseWriter
	status, size int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 { // 1xx answers are not the final one
		w.status = status
		if h := w.Header(); hasBody(status, h) {
			setSecurityHeaders(h)
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.size += n
	return n, err
}

// hasBody reports whether an answer with this status and these headers
// may carry a body.
func hasBody(status int, h http.Header) bool {
	if status == http.StatusNoContent || status == http.StatusNotModified {
		return false
	}
	cl := h["Content-Length"]
	return len(cl) != 1 || cl[0] != "0"
}

// Status is the answer's status code: 200 when the handler wrote nothing.
func (w *statusWriter) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController (and readDeadliner) reach the
// connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
