package web

import (
	"strings"

	"github.com/tiski/tiski/web/api"
)

// operatorPaths are the probes and metrics, served at the root and under
// the API's base, where probes of either kind look.
var operatorPaths = []string{"/healthz", "/readyz", "/metrics"}

// routes mounts the operator endpoints, the portal and the API.
func (s *Server) routes() {
	e := s.echo
	for _, prefix := range []string{"", api.Base} {
		e.GET(prefix+operatorPaths[0], s.healthz)
		e.GET(prefix+operatorPaths[1], s.readyz)
		e.GET(prefix+operatorPaths[2], s.metricsPage)
	}
	s.pages.Routes(e)
	s.api.Routes(e)
}

// answersInJSON tells a request that the API (all of /api/), the operator
// endpoints or the assets own from one the portal owns, for the errors no
// room saw: no route matched, or a middleware in front of every route
// refused it.
func answersInJSON(path string) bool {
	if strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/assets/") {
		return true
	}
	for _, p := range operatorPaths {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}
