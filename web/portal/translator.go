package portal

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/web/httpx"
)

// translator renders texts, faults, money and times for one locale
// through the one catalogue (package i18n); templates call it as .T.T "key".
type translator struct {
	cat    *i18n.Catalog
	locale string
	loc    *time.Location
}

// T returns the text for key, formatted with args.
func (tr translator) T(key string, args ...any) string { return tr.cat.T(tr.locale, key, args...) }

// Fault is err as a message in the locale, fields by their labels.
func (tr translator) Fault(err error) string { return tr.cat.Fault(tr.locale, err) }

// Money formats an amount the locale's way: €1,234.56 or 1 234,56 €.
func (tr translator) Money(m money.Money) string { return tr.cat.Money(tr.locale, m) }

// Time formats an instant in the organisation's zone.
func (tr translator) Time(t time.Time) string { return tr.cat.Time(tr.locale, tr.loc, t) }

// Date formats a calendar day: "1 Dec 2026", "1.12.2026".
func (tr translator) Date(t time.Time) string { return tr.cat.Date(tr.locale, t) }

// Format is the locale's way of writing numbers and dates, for the forms
// that read amounts typed that way.
func (tr translator) Format() i18n.Format { return tr.cat.Format(tr.locale) }

// Bytes renders a file size: 840 B, 12.5 KiB, 3.2 MiB.
func (tr translator) Bytes(n int64) string { return tr.cat.Bytes(tr.locale, n) }

// Duration renders SLA targets given in minutes.
func (tr translator) Duration(minutes int) string { return i18n.Duration(minutes) }

// In is the translator of another locale, for a text that names itself
// in its own language (the language switch).
func (tr translator) In(locale string) translator {
	tr.locale = locale
	return tr
}

// tr is the translator of the request: the signed-in user's locale, else
// the browser's.
func (s *Pages) tr(c echo.Context) translator {
	return translator{cat: s.texts, locale: s.localeFor(c), loc: s.Org.Location}
}

// localeFor picks the signed-in user's locale, else the browser's, among
// the locales the catalogue has.
func (s *Pages) localeFor(c echo.Context) string {
	setting := ""
	if p := httpx.CurrentPrincipal(c); p != nil {
		setting = p.User.Locale
	}
	return s.texts.Match(setting, c.Request().Header.Get("Accept-Language"))
}
