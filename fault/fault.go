// Package fault holds the typed errors every domain package returns. Each
// kind maps to one HTTP status in the web layer and nowhere else.
//
// A fault carries its message gettext style: Format is the English printf
// format and doubles as the message id a translator looks up, Args are its
// arguments, and Message is the English rendering the API shows. The
// constructors fill all three, so no call site names a message key.
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
	Message string // English, as the API envelope shows it
	Format  string // the English format of Message and its message id
	Args    []any  // the arguments of Format
	Details map[string]any
}

// Field is an argument that names an input field. It prints as the bare
// name, so Message reads as before; a translator renders it as the
// field's label in the user's language.
type Field string

// Term is an argument that names a value with a text of its own, such as
// a status or an action: Group.Name is its key in the catalogue
// ("period.status.open"). It prints as the bare name, so Message reads as
// before; a translator renders it as the key's text.
type Term struct{ Group, Name string }

func (t Term) String() string { return t.Name }

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

// New returns a fault whose message is format rendered with args.
func New(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...), Format: format, Args: args}
}

// Invalid reports a rule broken by one input field. An argument equal to
// the field's name is that name, so "%s is required" with the field
// becomes "Viesti on pakollinen" in Finnish rather than "body on pakollinen".
func Invalid(field, format string, args ...any) *Error {
	named := make([]any, len(args)) // the caller's slice stays as it was
	for i, a := range args {
		if s, ok := a.(string); ok && s == field {
			a = Field(field)
		}
		named[i] = a
	}
	e := New(KindInvalid, "invalid", format, named...)
	e.Details = map[string]any{"field": field}
	return e
}

// NotFound reports an object that does not exist or that the caller may
// not see. Its message id names the object ("request not found"), since
// a language may inflect the object's name in the sentence.
func NotFound(object string) *Error {
	id := object + " not found"
	return &Error{Kind: KindNotFound, Code: "not_found", Message: id, Format: id}
}

// Forbidden reports an action the caller may not take.
func Forbidden(format string, args ...any) *Error {
	return New(KindForbidden, "forbidden", format, args...)
}

// Conflict reports an action the current state does not allow.
func Conflict(code, format string, args ...any) *Error {
	return New(KindConflict, code, format, args...)
}

// Unauthorized reports missing or bad credentials.
func Unauthorized(format string, args ...any) *Error {
	return New(KindUnauthorized, "unauthorized", format, args...)
}
