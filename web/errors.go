package web

import (
	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/web/httpx"
)

// errorAnswer is how a room answers an error: the API's envelope, the
// portal's error page.
type errorAnswer func(err error, c echo.Context)

// handleError answers an error that reaches echo in the room that owns the
// route the request matched. Each room has a catch-all route (the API under
// /api/, the portal everywhere else), so a request no other route takes is
// still the room's, and so is a refusal of a middleware in front of every
// route (a body too large, a panic, a timeout).
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	answer, ok := s.owners[c.Path()]
	if !ok { // every path matches a catch-all; the envelope is the safe answer
		answer = s.answerJSON
	}
	answer(err, c)
}

// answerJSON answers the operator endpoints' errors in the envelope.
func (s *Server) answerJSON(err error, c echo.Context) { httpx.WriteError(s.Log, err, c) }
