package web

import (
	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/web/httpx"
)

// handleError answers the errors that reach echo: those of the API and the
// operator endpoints, in the JSON envelope, and those no room saw (no route
// matched, or a middleware in front of every route refused), in the
// envelope or as the portal's error page by who owns the path. The portal
// renders the errors of its own pages itself.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if !answersInJSON(c.Request().URL.Path) {
		if perr := s.pages.ErrorPage(c, err); perr != nil {
			s.Log.Error("render error page", "err", perr)
		}
		return
	}
	httpx.WriteError(s.Log, err, c)
}
