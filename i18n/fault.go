package i18n

import (
	"fmt"

	"github.com/tiski/tiski/fault"
)

// Fault turns an error into a message in the locale: a fault's format
// is looked up and its arguments rendered, field names as their label.
// A fault the catalogue does not know reads as its English message, and
// an error that is no fault as the generic "something went wrong", since
// its text is for the log, not for the user.
func (c *Catalog) Fault(locale string, err error) string {
	fe, ok := fault.As(err)
	if !ok {
		return c.T(locale, "error.title")
	}
	id := fe.Format
	if id == "" { // built as a literal: its message is its id
		id = fe.Message
	}
	text, ok := c.lookup(locale, id)
	if !ok {
		return fe.Message
	}
	if len(fe.Args) == 0 {
		return text
	}
	args := make([]any, len(fe.Args))
	for i, a := range fe.Args {
		if f, ok := a.(fault.Field); ok {
			a = c.FieldName(locale, string(f))
		}
		args[i] = a
	}
	return fmt.Sprintf(text, args...)
}

// FieldName is the label of an input field in the locale, or the bare
// name when the catalogue has none.
func (c *Catalog) FieldName(locale, field string) string {
	if text, ok := c.lookup(locale, "field."+field); ok {
		return text
	}
	return field
}
