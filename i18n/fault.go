package i18n

import (
	"fmt"
	"strings"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
)

// Fault turns an error into a message in the locale, the one way any page
// shows a fault: a text the catalogue keeps for the fault's code
// ("fault.<code>") wins, else the fault's format is looked up and its
// arguments rendered, field names as their label, terms (statuses,
// actions) as their text and amounts the locale's way. A fault the catalogue does not know reads as
// its English message, and an error that is no fault as the generic
// "something went wrong", since its text is for the log, not the user.
func (c *Catalog) Fault(locale string, err error) string {
	fe, ok := fault.As(err)
	if !ok {
		return c.T(locale, "error.title")
	}
	if text, ok := c.lookup(locale, "fault."+fe.Code); ok && fe.Code != "" {
		return text
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
		switch v := a.(type) {
		case fault.Field:
			a = c.FieldName(locale, string(v))
		case fault.Term:
			a = c.term(locale, v)
		case money.Money:
			a = c.Money(locale, v)
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

// term is a status or an action in the locale. English, the language the
// fault formats are written in, keeps the bare name its message reads
// with; a term the catalogue has no text for stays bare too.
func (c *Catalog) term(locale string, t fault.Term) string {
	if locale == Fallback {
		return t.Name
	}
	if text, ok := c.lookup(locale, t.Group+"."+t.Name); ok {
		return text
	}
	return t.Name
}

// Sentence renders key with args for a reader, as Fault renders a fault's
// arguments, except that a term reads in every locale, English included
// (its key is Group.Name; one without a group is itself a message id, such
// as a fault's English text), and money in the locale's format.
func (c *Catalog) Sentence(locale, key string, args ...any) string {
	rendered := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case fault.Term:
			k := v.Name
			if v.Group != "" {
				k = v.Group + "." + v.Name
			}
			if text, ok := c.lookup(locale, k); ok {
				a = strings.TrimSuffix(text, ".")
			} else {
				a = v.Name
			}
		case money.Money:
			a = c.Money(locale, v)
		}
		rendered[i] = a
	}
	return c.T(locale, key, rendered...)
}
