package web

import "github.com/tiski/tiski/web/api"

// routes mounts the operator endpoints (at the root and under the API's
// base, where probes of either kind look), the portal and the API.
func (s *Server) routes() {
	e := s.echo
	for _, prefix := range []string{"", api.Base} {
		e.GET(prefix+"/healthz", s.healthz)
		e.GET(prefix+"/readyz", s.readyz)
		e.GET(prefix+"/metrics", s.metricsPage)
	}
	s.portalRoutes()
	s.api.Routes(e)
}
