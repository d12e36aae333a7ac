package web

// portalRoutes declares the pages. Every page needs a signed-in user except
// the login form; unsafe forms carry the session's CSRF token.
func (s *Server) portalRoutes() {
	e := s.echo
	e.GET("/assets/*", s.assets())
	e.GET("/login", s.loginPage)
	e.POST("/login", s.loginForm)

	e.POST("/logout", s.logoutForm, s.signedIn)
	e.POST("/language", s.switchLanguage, s.signedIn)
	e.GET("/", s.homePage, s.signedIn)
	e.GET("/catalog", s.catalogPage, s.signedIn)
	e.GET("/catalog/:id", s.servicePage, s.signedIn)
	e.POST("/catalog/:id", s.orderForm, s.signedIn)
	e.GET("/requests", s.requestsPage, s.signedIn)
	e.GET("/requests/:id", s.requestPage, s.signedIn)
	e.POST("/requests/:id/act", s.actForm, s.signedIn)
	e.POST("/requests/:id/comments", s.commentForm, s.signedIn)
	e.POST("/requests/:id/rate", s.rateForm, s.signedIn)
	e.POST("/requests/:id/attachments", s.attachmentForm, s.signedIn)
	e.GET("/requests/:id/attachments/:attachment_id", s.ServeAttachment, s.signedIn)
	e.POST("/requests/:id/time", s.timeForm, s.signedIn)
	e.GET("/queue", s.queuePage, s.signedIn)
	e.GET("/approvals", s.approvalsPage, s.signedIn)
	s.moneyRoutes()
	s.adminRoutes()
}
