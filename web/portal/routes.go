// Package portal is Tiski's web portal: its pages, their one route table,
// the templates (layout, partials, pages) and the assets; its texts are
// package i18n's, spoken through one catalogue (translator.go).
package portal

import (
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/sso"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// Pages serves the portal.
type Pages struct {
	*httpx.Kit
	templates pageSet
	texts     *i18n.Catalog
	sso       *sso.Provider // nil without single sign-on
}

// New builds the portal's pages over their dependencies, parsing the
// embedded templates; texts is the one catalogue every page speaks through.
func New(d *db.DB, authz *policies.Authorizer, org *units.Organisation, log *slog.Logger, cfg httpx.Config, texts *i18n.Catalog) (*Pages, error) {
	templates, err := parsePages()
	if err != nil {
		return nil, err
	}
	p := &Pages{Kit: httpx.NewKit(d, authz, org, log, cfg), templates: templates, texts: texts}
	if cfg.SSO.Enabled() {
		p.sso = sso.New(d, cfg.SSO, cfg.SSOClient)
	}
	return p, nil
}

// Routes declares every page in one table. Every page needs a signed-in
// user except the login form; unsafe forms carry the session's CSRF token.
// The money and admin pages check the same permissions as the JSON API in
// their handlers; what the user may not see is the 404 page. A page's
// error is rendered as a page (see errorPages).
func (s *Pages) Routes(e *echo.Echo) {
	e.GET("/assets/*", s.assets())
	open := pageRoutes{e: e, m: []echo.MiddlewareFunc{s.errorPages}}
	open.GET("/login", s.loginPage)
	open.POST("/login", s.loginForm)
	open.POST("/login/code", s.loginCodeForm)
	open.GET(ssoStartPath, s.ssoStart)
	open.GET(ssoCallbackPath, s.ssoCallback)
	open.GET(auth.ResetPath+":token", s.resetPage)
	open.POST(auth.ResetPath+":token", s.resetForm)
	open.GET(requests.RatingPath+":token", s.ratingLinkPage)
	open.POST(requests.RatingPath+":token", s.ratingLinkForm)

	r := pageRoutes{e: e, m: []echo.MiddlewareFunc{s.errorPages, s.signedIn}}
	r.POST("/logout", s.logoutForm)
	r.POST("/language", s.switchLanguage)
	r.GET(signInSettingsPath, s.signInSettingsPage)
	r.POST(signInSettingsPath+"/tokens", s.createTokenForm)
	r.POST(signInSettingsPath+"/tokens/:id/revoke", s.revokeTokenForm)
	r.POST(signInSettingsPath+"/sessions/:id/end", s.endSessionForm)
	r.GET(httpx.TwoFactorPath, s.twoFactorPage)
	r.POST(httpx.TwoFactorPath+"/begin", s.beginTwoFactorForm)
	r.POST(httpx.TwoFactorPath+"/confirm", s.confirmTwoFactorForm)
	r.POST(httpx.TwoFactorPath+"/verify", s.verifyTwoFactorForm)
	r.POST(httpx.TwoFactorPath+"/recovery-codes", s.recoveryCodesForm)
	r.GET("/", s.homePage)
	r.GET("/catalog", s.catalogPage)
	r.GET("/catalog/:id", s.servicePage)
	r.POST("/catalog/:id", s.orderForm)
	r.GET("/knowledge", s.knowledgePage)
	r.GET("/knowledge/suggest", s.knowledgeSuggestions)
	r.GET("/knowledge/new", s.newArticlePage)
	r.POST("/knowledge/new", s.newArticleForm)
	r.POST("/knowledge/:id/act", s.articleActForm)
	r.GET("/knowledge/:id", s.articlePage)
	r.POST("/knowledge/:id/vote", s.voteForm)
	r.GET("/requests", s.requestsPage)
	r.GET("/requests/:id", s.requestPage)
	r.POST("/requests/:id/act", s.actForm)
	r.POST("/requests/:id/comments", s.commentForm)
	r.POST("/requests/:id/rate", s.rateForm)
	r.POST("/requests/:id/attachments", s.attachmentForm)
	r.GET("/requests/:id/attachments/:attachment_id", s.ServeAttachment)
	r.POST("/requests/:id/time", s.timeForm)
	r.GET("/queue", s.queuePage)
	r.GET("/approvals", s.approvalsPage)

	// Charges, budgets, periods, disputes and adjustments.
	r.GET("/charges", s.chargesPage)
	r.GET("/charges/:id", s.chargePage)
	r.POST("/charges/:id/dispute", s.disputeForm)
	r.GET("/subscriptions", s.subscriptionsPage)
	r.POST("/subscriptions/:id/end", s.endSubscriptionForm)
	r.GET("/budgets", s.budgetsPage)
	r.POST("/budgets/:id/:month", s.budgetForm)
	r.GET("/finance/periods", s.periodsPage)
	r.POST("/finance/periods/:month", s.periodForm)
	r.GET("/finance/trial-balance", s.trialBalancePage)
	r.GET("/units/:id/statements/:month", s.statementPage)
	r.GET("/finance/gl-accounts", s.glPage)
	r.POST("/finance/gl-accounts", s.glForm)
	r.GET("/finance/disputes", s.disputesPage)
	r.POST("/finance/disputes/:id", s.settleForm)
	r.GET("/finance/adjustments", s.adjustmentsPage)
	r.POST("/finance/adjustments", s.adjustmentForm)
	r.POST("/finance/adjustments/:id", s.decideAdjustmentForm)
	r.GET("/finance/grants", s.grantsPage)
	r.POST("/finance/grants/:id", s.decideGrantForm)

	// Units, users, grants, services, and the reports page.
	r.GET("/admin/units", s.adminUnitsPage)
	r.POST("/admin/units", s.adminCreateUnit)
	r.GET("/admin/units/:id", s.adminUnitPage)
	r.POST("/admin/units/:id", s.adminUpdateUnit)
	r.POST("/admin/units/:id/archive", s.adminArchiveUnit)
	r.POST("/admin/units/:id/restore", s.adminRestoreUnit)
	r.POST("/admin/units/:id/members", s.adminAddMember)
	r.POST("/admin/units/:id/members/remove", s.adminRemoveMember)
	r.GET("/admin/users", s.adminUsersPage)
	r.POST("/admin/users", s.adminCreateUser)
	r.POST("/admin/users/:id/disable", s.adminDisableUser)
	r.POST("/admin/users/:id/enable", s.adminEnableUser)
	r.POST("/admin/users/:id/roles", s.adminGrantOrgRole)
	r.POST("/admin/users/:id/roles/revoke", s.adminRevokeOrgRole)
	r.GET("/admin/services", s.adminServicesPage)
	r.POST("/admin/services", s.adminCreateService)
	r.GET("/admin/services/:id", s.adminServicePage)
	r.POST("/admin/services/:id", s.adminUpdateService)
	r.POST("/admin/services/:id/rates", s.adminAddRate)
	r.GET("/reports", s.reportsPage)
	r.GET("/audit", s.auditPage)

	// Notifications, e-mail choices, and the outbox for admins.
	r.GET("/notifications", s.notificationsPage)
	r.POST("/notifications/read-all", s.readAllNotificationsForm)
	r.POST("/notifications/:id/read", s.readNotificationForm)
	r.GET("/notifications/settings", s.notificationSettingsPage)
	r.POST("/notifications/settings", s.notificationSettingsForm)
	r.GET("/admin/outbox", s.adminOutboxPage)
	r.POST("/admin/outbox/:id/resend", s.adminResendForm)

	// Webhooks, the e-mail quarantine and a unit's inbound address.
	r.GET("/webhooks", s.webhooksPage)
	r.POST("/webhooks", s.createWebhookForm)
	r.GET("/webhooks/:id", s.webhookPage)
	r.POST("/webhooks/:id/delete", s.deleteWebhookForm)
	r.GET("/mail/quarantine", s.quarantinePage)
	r.POST("/mail/quarantine/:id/file", s.fileQuarantinedForm)
	r.POST("/mail/quarantine/:id/discard", s.discardQuarantinedForm)
	r.POST("/admin/units/:id/inbound-address", s.inboundAddressForm)

	// Every other path is the portal's: its 404 page (405 for a method a
	// page does not take), in the language of the user if signed in.
	e.RouteNotFound("/*", httpx.NoRoute, s.errorPages, s.Recognize)
}

// pageRoutes registers pages with the middleware every one of them needs.
type pageRoutes struct {
	e *echo.Echo
	m []echo.MiddlewareFunc
}

func (r pageRoutes) GET(path string, h echo.HandlerFunc) { r.e.GET(path, h, r.m...) }

func (r pageRoutes) POST(path string, h echo.HandlerFunc) { r.e.POST(path, h, r.m...) }
