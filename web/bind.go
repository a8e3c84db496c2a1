package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/internal/jsonerr"
)

// BindJSON decodes the request body into dst strictly: the Content-Type
// must be JSON (415 otherwise), the body at most limit bytes (413; limit <= 0
// keeps the route's limit), one JSON value with no unknown fields and the
// right types (400 naming the field or byte offset). On failure it has
// already answered and aborted; the handler just returns:
//
//	var req declareRequest
//	if err := web.BindJSON(c, &req, 64<<10); err != nil {
//		return
//	}
func BindJSON(c *gin.Context, dst any, limit int64) error {
	err := decodeJSON(c, dst, limit)
	if err != nil {
		bindFailed(c, err)
	}
	return err
}

// bindFailed answers a failed bind: an httpError with its status and
// message, anything else through Error.
func bindFailed(c *gin.Context, err error) {
	var he *httpError
	if errors.As(err, &he) {
		abortJSON(c, he.status, he.msg)
		return
	}
	Error(c, err)
}

// httpError is a bind failure with its status and message settled.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func decodeJSON(c *gin.Context, dst any, limit int64) error {
	ct := c.GetHeader("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !(mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))) {
		if ct == "" {
			ct = "none"
		}
		return &httpError{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type must be application/json, got %.100q", ct)}
	}
	if limit > 0 {
		if c.Request.ContentLength > limit {
			return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body too large: the limit is %d bytes", limit)}
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
	data, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return readError(err)
	}
	if err := checkJSONText(data); err != nil {
		return &httpError{http.StatusBadRequest, err.Error()}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var syn *json.SyntaxError
		if !errors.As(err, &syn) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			if t := reflect.TypeOf(dst); t != nil && t.Kind() == reflect.Pointer {
				if msg, ok := jsonerr.Locate(data, t.Elem()); ok {
					return &httpError{http.StatusBadRequest, msg}
				}
			}
		}
		return describeJSONError(err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return &httpError{http.StatusBadRequest, fmt.Sprintf("the body must hold a single JSON value; more follows at byte %d", dec.InputOffset())}
	}
	return nil
}

// readError maps a failed body read: over the limit (413) or past
// server.read_timeout (408) keep their error for Error; anything else is
// the client's broken request.
func readError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	return &httpError{http.StatusBadRequest, "the request body could not be read: " + err.Error()}
}

// describeJSONError turns encoding/json's errors into a message that names
// where the problem is.
func describeJSONError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		mbe *http.MaxBytesError
		inv *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.As(err, &inv):
		return fmt.Errorf("bind json: %w", err) // a handler bug: 500
	case errors.Is(err, io.EOF):
		return &httpError{http.StatusBadRequest, "the request body is empty; expected a JSON value"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &httpError{http.StatusBadRequest, "malformed JSON: the body ends in the middle of a value"}
	case errors.As(err, &syn):
		return &httpError{http.StatusBadRequest, fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, syn.Error())}
	case errors.As(err, &typ):
		where := "the body"
		if typ.Field != "" {
			where = fmt.Sprintf("field %q", typ.Field)
		}
		return &httpError{http.StatusBadRequest, fmt.Sprintf("%s: expected %s, got JSON %s (byte %d)", where, jsonerr.Kind(typ.Type), typ.Value, typ.Offset)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return &httpError{http.StatusBadRequest, "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")}
	}
	// Errors from a type's own UnmarshalJSON (a duration, an enum) describe
	// the bad value themselves.
	return &httpError{http.StatusBadRequest, "invalid JSON body: " + err.Error()}
}
