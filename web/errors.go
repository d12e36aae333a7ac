package web

import (
	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/web/httpx"
)

// handleError is the single place where errors become HTTP responses.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if isPortalPath(c.Request().URL.Path) {
		status, body := httpx.Describe(s.Log, err, c)
		if perr := s.renderErrorPage(c, status, body.Error.Message); perr != nil {
			s.Log.Error("render error page", "err", perr)
		}
		return
	}
	httpx.WriteError(s.Log, err, c)
}
