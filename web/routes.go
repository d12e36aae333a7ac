package web

import (
	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/web/api"
)

// operatorPaths are the probes, served at the root and under the API's
// base, where probes of either kind look. The metrics are not among them:
// they name routes, error rates and the runtime, and are served on their own
// listener (MetricsHandler, tiski serve --metrics-addr), loopback by default.
var operatorPaths = []string{"/healthz", "/readyz"}

// routes mounts the operator endpoints, the portal and the API, and notes
// which room owns each route, so an error is answered by its room.
func (s *Server) routes() {
	e := s.echo
	s.owners = map[string]errorAnswer{}
	mount := func(answer errorAnswer, routes func(*echo.Echo)) {
		e.OnAddRouteHandler = func(_ string, r echo.Route, _ echo.HandlerFunc, _ []echo.MiddlewareFunc) {
			s.owners[r.Path] = answer
		}
		routes(e)
	}
	mount(s.answerJSON, s.operatorRoutes)
	mount(s.pages.HandleError, s.pages.Routes)
	mount(s.api.HandleError, s.api.Routes)
	e.OnAddRouteHandler = nil
}

// operatorRoutes are the probes.
func (s *Server) operatorRoutes(e *echo.Echo) {
	for _, prefix := range []string{"", api.Base} {
		e.GET(prefix+operatorPaths[0], s.healthz)
		e.GET(prefix+operatorPaths[1], s.readyz)
	}
}
