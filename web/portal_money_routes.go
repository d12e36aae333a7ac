package web

// moneyRoutes declares the pages of managers and finance: charges, budgets,
// periods, disputes and adjustments. Each handler checks the same
// permissions as the JSON API; what the user may not see is a 404 page.
func (s *Server) moneyRoutes() {
	e := s.echo
	e.GET("/charges", s.chargesPage, s.signedIn)
	e.GET("/charges/:id", s.chargePage, s.signedIn)
	e.POST("/charges/:id/dispute", s.disputeForm, s.signedIn)
	e.GET("/budgets", s.budgetsPage, s.signedIn)
	e.POST("/budgets/:id/:month", s.budgetForm, s.signedIn)
	e.GET("/finance/periods", s.periodsPage, s.signedIn)
	e.POST("/finance/periods/:month", s.periodForm, s.signedIn)
	e.GET("/finance/disputes", s.disputesPage, s.signedIn)
	e.POST("/finance/disputes/:id", s.settleForm, s.signedIn)
	e.GET("/finance/adjustments", s.adjustmentsPage, s.signedIn)
	e.POST("/finance/adjustments", s.adjustmentForm, s.signedIn)
	e.POST("/finance/adjustments/:id", s.decideAdjustmentForm, s.signedIn)
}
