package httpx

import (
	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/export"
	"github.com/tiski/tiski/fault"
)

// CSVDialect is the CSV dialect a download is written in: ?sep=comma or
// ?sep=semicolon when the request names one, otherwise the convention of
// the signed-in user's language (semicolons and decimal commas in Finnish).
func CSVDialect(c echo.Context) (export.Dialect, error) {
	if sep := c.QueryParam("sep"); sep != "" {
		d, ok := export.ParseSeparator(sep)
		if !ok {
			return d, fault.Invalid("sep", "%s must be one of: %s", "sep", "comma, semicolon")
		}
		return d, nil
	}
	if p := CurrentPrincipal(c); p != nil {
		return export.DialectFor(p.User.Locale), nil
	}
	return export.Comma, nil
}
