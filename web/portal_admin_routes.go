package web

// adminRoutes declares the admin pages (units, users, grants, services) and
// the reports page.
func (s *Server) adminRoutes() {
}
