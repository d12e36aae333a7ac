package httpx

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// routeMethods are the methods NoRoute asks the router about.
var routeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

// NoRoute is the handler of a room's catch-all route (echo's RouteNotFound),
// which takes every request under the room's prefix that no other route of
// it matches: 405 with an Allow header when the path is routed for other
// methods, else 404. The room's own error answer renders either.
func NoRoute(c echo.Context) error {
	e, req := c.Echo(), c.Request()
	var allow []string
	for _, m := range routeMethods {
		if m == req.Method {
			continue
		}
		probe := e.NewContext(req, nil)
		e.Router().Find(m, echo.GetPath(req), probe)
		if p := probe.Path(); p != "" && p != c.Path() {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
		return echo.ErrMethodNotAllowed
	}
	return echo.ErrNotFound
}
