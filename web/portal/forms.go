package portal

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/web/httpx"
)

// formTexts says what an area's forms show beside themselves beyond
// refused input; the texts themselves all come from Catalog.Fault.
type formTexts struct {
	// forbiddenOnForm shows a refusal of the user's roles beside the form
	// (with its 403) instead of as the 403 page.
	forbiddenOnForm bool
}

var (
	requestTexts = formTexts{}
	moneyTexts   = formTexts{forbiddenOnForm: true}
	adminTexts   = formTexts{}
)

// formRefusal is a form the domain refused: the status of the one status table,
// messages beside the fields the fault names ("a.b" is the form's "a_b"),
// and Problem for the whole form when it names none.
type formRefusal struct {
	Status  int
	Errors  map[string]string
	Problem string
}

// at puts a message for the whole form beside the fallback field instead.
func (r formRefusal) at(fallback string) map[string]string {
	if r.Problem != "" {
		return map[string]string{fallback: r.Problem}
	}
	return r.Errors
}

// message is the refused form's one message, wherever it stands.
func (r formRefusal) message() string {
	if r.Problem != "" {
		return r.Problem
	}
	for _, msg := range r.Errors {
		return msg
	}
	return ""
}

// formFault is the one way a fault becomes a form's messages, in the user's
// language through Catalog.Fault. ok is false for what is no form's
// business: not a fault, not found (the 404 page) or, unless the area
// shows it on the form, forbidden (the 403 page with its reason).
func formFault(tr translator, texts formTexts, err error) (formRefusal, bool) {
	fe, ok := fault.As(err)
	if !ok || fe.Kind == fault.KindNotFound || (fe.Kind == fault.KindForbidden && !texts.forbiddenOnForm) {
		return formRefusal{}, false
	}
	status, _ := httpx.FaultStatus(err)
	r := formRefusal{Status: status, Errors: map[string]string{}}
	field, _ := fe.Details["field"].(string)
	msg := tr.Fault(err)
	if field == "" {
		r.Problem = msg
	} else {
		r.Errors[strings.ReplaceAll(field, ".", "_")] = msg
	}
	return r, true
}

// needConfirm asks before a form that moves money or cannot be undone
// posts, when the portal's script did not (data-confirm adds confirm=yes):
// the confirmation page repeats the form's fields. asked says it was shown.
func (s *Pages) needConfirm(c echo.Context, form url.Values, question, back string) (asked bool, err error) {
	if form.Get("confirm") == "yes" {
		return false, nil
	}
	data := confirmPage{Action: c.Request().URL.Path, Back: safeNext(back)}
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "csrf_token" && k != "confirm" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range form[k] {
			data.Fields = append(data.Fields, confirmField{k, v})
		}
	}
	v := s.newView(c, "", data)
	v.Title = v.T.T("confirm.title")
	data.Question = v.T.T(question)
	v.Data = data
	return true, s.render(c, http.StatusOK, "confirm", v)
}

// confirmPage is what the confirmation page shows and posts again.
type confirmPage struct {
	Action   string
	Question string
	Back     string
	Fields   []confirmField
}

type confirmField struct{ Name, Value string }

// notFoundPage is the answer for a page or object the user may not see or
// use: the 404 page, never data.
func notFoundPage() error { return fault.NotFound("page") }
