package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"syscall"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/probes"
	"github.com/sentinel-oss/sentinel/rum"
)

// Error kinds for handlers in this package and for errors that have no
// domain home. Wrap them to pick a status:
// fmt.Errorf("%w: limit must be between 1 and 500", web.ErrInvalid).
var (
	// ErrInvalid is a request the caller must change: 400.
	ErrInvalid = errors.New("invalid request")
	// ErrNotFound names something that does not exist: 404.
	ErrNotFound = errors.New("not found")
	// ErrConflict is a request that clashes with the current state: 409.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable is a temporary inability to serve (store read-only,
	// component not running): 503.
	ErrUnavailable = errors.New("unavailable")
)

// ErrorBody is the JSON every error answer carries. The contract fixes
// "error"; request_id lets an operator find the matching log line; problems
// lists config problems one per entry when there are several.
type ErrorBody struct {
	Error     string   `json:"error"`
	RequestID string   `json:"request_id,omitempty"`
	Problems  []string `json:"problems,omitempty"`
}

// Error answers the request with the status err maps to and aborts the
// chain. Client errors (4xx) and 503 show err's text, which must therefore
// say clearly what was wrong; any other 5xx shows only "internal error" and
// logs err with the request ID.
//
// How errors map, first match wins (see statusOf):
//   - the package's kinds (ErrInvalid, ErrNotFound, ErrConflict,
//     ErrUnavailable) and domain sentinel errors, by errors.Is;
//   - errors with a NotFound(), Conflict() or Invalid() bool method that
//     returns true, by errors.As (for domain error types carrying data);
//   - config.Problems: 400 with every problem listed;
//   - a body read past server.read_timeout: 408;
//   - *http.MaxBytesError: 413; context deadline: 504;
//   - anything else: 500.
//
// A domain package that exports ErrNotFound, ErrConflict or
// ErrInvalidTransition plugs in with one case in statusOf.
func Error(c *gin.Context, err error) {
	status, msg := statusOf(err)
	body := ErrorBody{Error: msg, RequestID: RequestID(c)}
	var ps config.Problems
	if errors.As(err, &ps) && len(ps) > 0 {
		body.Problems = make([]string, len(ps))
		for i, p := range ps {
			body.Problems[i] = p.String()
		}
	}
	if status >= 500 && status != http.StatusServiceUnavailable {
		loggerFrom(c).Error("request failed", "err", err, "status", status)
	}
	c.AbortWithStatusJSON(status, body)
}

// kind interfaces let a domain error type (one carrying data, such as a
// field path) choose its class without knowing HTTP.
type (
	notFounder interface{ NotFound() bool }
	conflicter interface{ Conflict() bool }
	invalider  interface{ Invalid() bool }
)

// statusOf maps err to a status and the message to show.
func statusOf(err error) (int, string) {
	if err == nil {
		return http.StatusInternalServerError, "internal error"
	}
	var (
		mbe *http.MaxBytesError
		nf  notFounder
		cf  conflicter
		iv  invalider
		ps  config.Problems
	)
	status := http.StatusInternalServerError
	switch {
	// Domain sentinel errors go here as their packages land, e.g.
	// case errors.Is(err, incidents.ErrNotFound): status = http.StatusNotFound
	// case errors.Is(err, incidents.ErrInvalidTransition): status = http.StatusConflict
	case errors.Is(err, probes.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, rum.ErrInvalidQuery):
		status = http.StatusBadRequest
	case errors.Is(err, ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, ErrUnavailable):
		status = http.StatusServiceUnavailable
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EROFS):
		// The disk refuses writes (full, over quota, read-only): temporary
		// for the caller, who may retry; /readyz says the same.
		return http.StatusServiceUnavailable, "the store cannot write right now: " + err.Error()
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The body did not arrive within server.read_timeout (readDeadline).
		return http.StatusRequestTimeout, "request body not received in time (server.read_timeout)"
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("request body too large: the limit is %d bytes", mbe.Limit)
	case errors.As(err, &nf) && nf.NotFound():
		status = http.StatusNotFound
	case errors.As(err, &cf) && cf.Conflict():
		status = http.StatusConflict
	case errors.As(err, &iv) && iv.Invalid():
		status = http.StatusBadRequest
	case errors.As(err, &ps):
		status = http.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "request timed out"
	}
	if status >= 500 && status != http.StatusServiceUnavailable {
		return status, "internal error"
	}
	return status, err.Error()
}

// abortJSON answers with {"error": msg, "request_id": ...} and stops the
// chain.
func abortJSON(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, ErrorBody{Error: msg, RequestID: RequestID(c)})
}

// loggerFrom returns the server's logger for this request (with its
// request ID), or a discarding one outside a Server.
func loggerFrom(c *gin.Context) *slog.Logger {
	if c.Request != nil {
		if ri := requestInfoFrom(c.Request.Context()); ri != nil {
			return ri.log.With("request_id", ri.id)
		}
	}
	return slog.New(slog.DiscardHandler)
}

// Logger returns the request's logger: the server's logger with
// request_id attached, for handlers that log.
func Logger(c *gin.Context) *slog.Logger { return loggerFrom(c) }
