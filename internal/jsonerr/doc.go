// Package jsonerr says where a JSON body that failed to decode is wrong:
// the value at fault, its path with array indexes, and its byte offset in
// the body. encoding/json names no array index, and an error from a type's
// own UnmarshalJSON carries neither field nor offset; so, after a failed
// decode, the values of the body are decoded again one by one to find the
// one that fails on its own.
//
// Two locators share the walk over the body: Locate descends through any
// Go type for the JSON API (`field "a.b[1]": ...`); LocateFields and
// LocateEach decode each member of an object alone, which also works for
// types that decode themselves (Alertmanager's models, times), and speak
// Alertmanager's paths (`alerts[2].startsAt: ...`).
package jsonerr
