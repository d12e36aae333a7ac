package web

// moneyRoutes declares the pages of managers and finance: charges, budgets,
// periods, disputes and adjustments.
func (s *Server) moneyRoutes() {
}
