// Package fault holds the typed errors every domain package returns. Each
// kind maps to one HTTP status in the web layer and nowhere else.
package fault

import (
	"errors"
	"fmt"
)

// Kind classifies what went wrong from the caller's point of view.
type Kind int

const (
	KindInvalid         Kind = iota + 1 // the input breaks a rule (422)
	KindNotFound                        // absent, or not visible to the caller (404)
	KindForbidden                       // visible, but the caller may not do this (403)
	KindConflict                        // the current state forbids it, or a stale version (409)
	KindUnauthorized                    // no valid credentials (401)
	KindTooManyRequests                 // throttled (429)
	KindMalformed                       // the input cannot be parsed at all (400)
)

// Error is a domain error with a stable machine-readable code.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Details map[string]any
}

func (e *Error) Error() string { return e.Message }

// With returns a copy of e carrying one more detail.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Details = make(map[string]any, len(e.Details)+1)
	for k, v := range e.Details {
		c.Details[k] = v
	}
	c.Details[key] = value
	return &c
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var fe *Error
	ok := errors.As(err, &fe)
	return fe, ok
}

// Is reports whether err is a fault of the given kind.
func Is(err error, kind Kind) bool {
	fe, ok := As(err)
	return ok && fe.Kind == kind
}

// Invalid reports a rule broken by one input field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: "invalid", Message: fmt.Sprintf(format, args...),
		Details: map[string]any{"field": field}}
}

// NotFound reports an object that does not exist or that the caller may not see.
func NotFound(object string) *Error {
	return &Error{Kind: KindNotFound, Code: "not_found", Message: object + " not found"}
}

// Forbidden reports an action the caller may not take.
func Forbidden(format string, args ...any) *Error {
	return &Error{Kind: KindForbidden, Code: "forbidden", Message: fmt.Sprintf(format, args...)}
}

// Conflict reports an action the current state does not allow.
func Conflict(code, format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Unauthorized reports missing or bad credentials.
func Unauthorized(format string, args ...any) *Error {
	return &Error{Kind: KindUnauthorized, Code: "unauthorized", Message: fmt.Sprintf(format, args...)}
}
