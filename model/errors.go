package model

// ErrorKind classifies a domain error, so adapters map it (web to an HTTP
// status, Slack to words) through its NotFound, Conflict and Invalid
// methods without importing each domain package.
type ErrorKind int

// The kinds of domain errors.
const (
	KindNotFound ErrorKind = iota + 1 // 404: the thing named does not exist
	KindConflict                      // 409: the change clashes with the current state
	KindInvalid                       // 400: the request must change
)

// KindError is a sentinel domain error of one kind; wrap it with %w to add
// what is wrong.
type KindError struct {
	msg  string
	kind ErrorKind
}

// NewKindError returns a sentinel error of kind with message msg.
func NewKindError(kind ErrorKind, msg string) *KindError { return &KindError{msg: msg, kind: kind} }

func (e *KindError) Error() string { return e.msg }

// NotFound reports whether the error means 404.
func (e *KindError) NotFound() bool { return e.kind == KindNotFound }

// Conflict reports whether the error means 409.
func (e *KindError) Conflict() bool { return e.kind == KindConflict }

// Invalid reports whether the error means 400.
func (e *KindError) Invalid() bool { return e.kind == KindInvalid }
