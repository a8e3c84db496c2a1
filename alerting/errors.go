package alerting

import (
	"errors"
	"fmt"

	"github.com/sentinel-oss/sentinel/model"
)

// Domain errors; test them with errors.Is.
var (
	// ErrNotFound names a silence or heartbeat that does not exist.
	ErrNotFound error = model.NewKindError(model.KindNotFound, "not found")
	// ErrInvalid is outside input (a webhook payload, a silence) that is
	// malformed or out of range.
	ErrInvalid error = model.NewKindError(model.KindInvalid, "invalid input")
	// ErrConflict is a change the current state does not allow.
	ErrConflict error = model.NewKindError(model.KindConflict, "conflict")
)

// invalidf returns an error wrapping ErrInvalid with a clear message.
func invalidf(format string, args ...any) error {
	return &wrapped{msg: fmt.Sprintf(format, args...), kind: ErrInvalid}
}

// notFoundf returns an error wrapping ErrNotFound with a clear message.
func notFoundf(format string, args ...any) error {
	return &wrapped{msg: fmt.Sprintf(format, args...), kind: ErrNotFound}
}

// conflictf returns an error wrapping ErrConflict with a clear message.
func conflictf(format string, args ...any) error {
	return &wrapped{msg: fmt.Sprintf(format, args...), kind: ErrConflict}
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
