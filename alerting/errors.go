package alerting

import (
	"errors"
	"fmt"
)

// kindError is a domain error that says its HTTP class through a method
// (NotFound, Invalid), so web maps it without alerting knowing HTTP.
type kindError struct {
	msg      string
	notFound bool
	invalid  bool
}

func (e *kindError) Error() string { return e.msg }

// NotFound reports whether the error names something that does not exist.
func (e *kindError) NotFound() bool { return e.notFound }

// Invalid reports whether the error is input the caller must change.
func (e *kindError) Invalid() bool { return e.invalid }

// Domain errors; test them with errors.Is.
var (
	// ErrNotFound names a silence or heartbeat that does not exist.
	ErrNotFound error = &kindError{msg: "not found", notFound: true}
	// ErrInvalid is outside input (a webhook payload, a silence) that is
	// malformed or out of range.
	ErrInvalid error = &kindError{msg: "invalid input", invalid: true}
)

// invalidf returns an error wrapping ErrInvalid with a clear message.
func invalidf(format string, args ...any) error {
	return &wrapped{msg: fmt.Sprintf(format, args...), kind: ErrInvalid}
}

// notFoundf returns an error wrapping ErrNotFound with a clear message.
func notFoundf(format string, args ...any) error {
	return &wrapped{msg: fmt.Sprintf(format, args...), kind: ErrNotFound}
}

// wrapped carries its own message but unwraps to its kind.
type wrapped struct {
	msg  string
	kind error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.kind }

// IsInvalid reports whether err is invalid outside input.
func IsInvalid(err error) bool { return errors.Is(err, ErrInvalid) }
