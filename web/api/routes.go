// Package api is Tiski's JSON API (v1): its handlers, its one route table
// and its OpenAPI description.
package api

import (
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// Base is where the API is mounted.
const Base = "/api/v1"

// Handlers serves the JSON API.
type Handlers struct {
	*httpx.Kit
	Texts *i18n.Catalog // the sentences of the audit trail
}

// New builds the API's handlers over their dependencies.
func New(d *db.DB, authz *policies.Authorizer, org *units.Organisation, log *slog.Logger, cfg httpx.Config, texts *i18n.Catalog) *Handlers {
	return &Handlers{Kit: httpx.NewKit(d, authz, org, log, cfg), Texts: texts}
}

// HandleError answers an error of the API's routes in the JSON envelope.
func (s *Handlers) HandleError(err error, c echo.Context) { httpx.WriteError(s.Log, err, c) }

// Routes declares every route of the API in one table; the permission a
// route needs is on its line where it is organisation-wide, and in the
// handler where it depends on the unit the object belongs to.
func (s *Handlers) Routes(e *echo.Echo) {
	// Everything under /api/ is the API's: a path no route below matches,
	// or a method it does not take, is its 404 or 405 envelope.
	e.RouteNotFound("/api/*", httpx.NoRoute)
	api := e.Group(Base)
	api.GET("/openapi.json", s.openAPI)
	api.POST("/session", s.login)
	api.POST("/session/second-factor", s.loginSecondFactor)

	a := authed{group: api, authenticate: s.Authenticate}
	a.DELETE("/session", s.logout)
	a.GET("/me", s.me)
	a.GET("/me/tokens", s.listOwnTokens)
	a.POST("/me/tokens", s.createOwnToken)
	a.DELETE("/me/tokens/:id", s.revokeOwnToken)
	a.GET("/me/sessions", s.listOwnSessions)
	a.DELETE("/me/sessions/:id", s.endOwnSession)
	a.GET("/me/two-factor", s.twoFactor)
	a.POST("/me/two-factor", s.beginTwoFactor)
	a.POST("/me/two-factor/confirm", s.confirmTwoFactor)
	a.POST("/me/two-factor/verify", s.verifyTwoFactor)
	a.POST("/me/two-factor/recovery-codes", s.newRecoveryCodes)

	a.GET("/units", s.listUnits)
	a.POST("/units", s.createUnit, s.Need("unit", "manage"))
	a.GET("/units/:id", s.getUnit)
	a.PATCH("/units/:id", s.updateUnit, s.Need("unit", "manage"))
	a.GET("/units/:id/members", s.listMembers)
	a.POST("/units/:id/members", s.addMember)
	a.DELETE("/units/:id/members/:user_id/:role", s.removeMember)
	a.GET("/units/:id/calendar", s.getCalendar)
	a.PUT("/units/:id/calendar", s.putCalendar)

	a.GET("/users", s.listUsers)
	a.POST("/users", s.createUser, s.Need("user", "manage"))
	a.GET("/users/:id", s.getUser)
	a.PATCH("/users/:id", s.updateUser)
	a.GET("/users/:id/tokens", s.listUserTokens, s.Need("user", "manage"))
	a.DELETE("/users/:id/tokens/:token_id", s.revokeUserToken, s.Need("user", "manage"))

	a.POST("/grants", s.grantOrgRole, s.Need("grant", "manage"))
	a.DELETE("/grants", s.revokeOrgRole, s.Need("grant", "manage"))
	a.GET("/grant-proposals", s.listGrantProposals, s.Need("grant_proposal", "read"))
	a.POST("/grant-proposals/:id/actions", s.decideGrantProposal)

	a.GET("/services", s.listServices)
	a.POST("/services", s.createService)
	a.GET("/services/:id", s.getService)
	a.PATCH("/services/:id", s.updateService)
	a.POST("/services/:id/rates", s.addRate)

	a.GET("/requests", s.listRequests)
	a.POST("/requests", s.createRequest)
	a.GET("/requests/:id", s.getRequest)
	a.POST("/requests/:id/actions", s.actOnRequest)
	a.GET("/requests/:id/events", s.listRequestEvents)
	a.GET("/requests/:id/comments", s.listComments)
	a.POST("/requests/:id/comments", s.addComment)
	a.GET("/requests/:id/attachments", s.listAttachments)
	a.POST("/requests/:id/attachments", s.uploadAttachment)
	a.GET("/requests/:id/attachments/:attachment_id", s.ServeAttachment)
	a.GET("/requests/:id/time-entries", s.listTimeEntries)
	a.POST("/requests/:id/time-entries", s.logTime)
	a.GET("/requests/:id/feedback", s.getFeedback)
	a.POST("/requests/:id/feedback", s.giveFeedback)

	a.GET("/articles", s.listArticles)
	a.POST("/articles", s.createArticle)
	a.GET("/articles/search", s.searchArticles)
	a.GET("/articles/:id", s.getArticle)
	a.PATCH("/articles/:id", s.reviseArticle)
	a.DELETE("/articles/:id", s.deleteArticle)
	a.POST("/articles/:id/actions", s.actOnArticle)
	a.GET("/articles/:id/revisions", s.listArticleRevisions)
	a.POST("/articles/:id/votes", s.voteOnArticle)

	a.GET("/charges", s.listCharges)
	a.GET("/charges/:id", s.getCharge)
	a.POST("/charges/:id/disputes", s.raiseDispute)
	a.GET("/disputes", s.listDisputes)
	a.POST("/disputes/:id/actions", s.settleDispute)
	a.GET("/periods", s.listPeriods)
	a.POST("/periods/:month/actions", s.actOnPeriod)
	a.GET("/units/:id/statements/:month", s.getStatement)
	a.GET("/units/:id/recovery/:month", s.getRecovery)
	a.GET("/exports/journal/:month", s.exportJournal, s.Need("export", "read"))
	a.GET("/adjustments", s.listAdjustments)
	a.POST("/adjustments", s.createAdjustment)
	a.POST("/adjustments/:id/actions", s.decideAdjustment)
	a.GET("/units/:id/subscriptions", s.listSubscriptions)
	a.GET("/subscriptions/:id", s.getSubscription)
	a.POST("/subscriptions/:id/end", s.endSubscription)
	a.GET("/units/:id/budgets/:month", s.getBudget)
	a.PUT("/units/:id/budgets/:month", s.putBudget)
	a.GET("/reports/quality", s.getQualityReport)
	a.GET("/reports/quality.csv", s.getQualityReport)
	a.GET("/reports/spend", s.getSpendReport)
	a.GET("/reports/spend.csv", s.getSpendReport)
	a.GET("/audit", s.listAudit)
	a.GET("/audit.csv", s.exportAudit)
	a.GET("/gl-mappings", s.listGLMappings)
	a.PUT("/gl-mappings/:service", s.putGLMapping)
	a.GET("/trial-balance/:month", s.getTrialBalance)

	a.GET("/notifications", s.listNotifications)
	a.GET("/notifications/unread-count", s.unreadNotifications)
	a.POST("/notifications/read-all", s.readAllNotifications)
	a.POST("/notifications/:id/read", s.readNotification)
	a.GET("/notifications/preferences", s.getNotificationPreferences)
	a.PUT("/notifications/preferences", s.putNotificationPreferences)
	a.GET("/outbox", s.listOutbox, s.Need("outbox", "manage"))
	a.POST("/outbox/:id/resend", s.resendOutbox, s.Need("outbox", "manage"))

	a.GET("/webhooks", s.listWebhooks)
	a.POST("/webhooks", s.createWebhook)
	a.GET("/webhooks/:id", s.getWebhook)
	a.DELETE("/webhooks/:id", s.deleteWebhook)
	a.GET("/webhooks/:id/deliveries", s.listWebhookDeliveries)
	a.POST("/mail/inbound", s.inboundMail, s.Need("mail", "ingest"))
	a.GET("/mail/quarantine", s.listQuarantine)
	a.POST("/mail/quarantine/:id/file", s.fileQuarantined)
	a.POST("/mail/quarantine/:id/discard", s.discardQuarantined)
	a.GET("/units/:id/inbound-address", s.getInboundAddress)
	a.PUT("/units/:id/inbound-address", s.putInboundAddress)
}

// authed registers routes that need a signed-in caller. It adds the
// middleware per route rather than per group, because an echo group with
// middleware claims every unknown path below it, turning 405s into 404s.
type authed struct {
	group        *echo.Group
	authenticate echo.MiddlewareFunc
}

func (a authed) with(m []echo.MiddlewareFunc) []echo.MiddlewareFunc {
	return append([]echo.MiddlewareFunc{a.authenticate}, m...)
}

func (a authed) GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	a.group.GET(path, h, a.with(m)...)
}

func (a authed) POST(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	a.group.POST(path, h, a.with(m)...)
}

func (a authed) PATCH(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	a.group.PATCH(path, h, a.with(m)...)
}

func (a authed) PUT(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	a.group.PUT(path, h, a.with(m)...)
}

func (a authed) DELETE(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	a.group.DELETE(path, h, a.with(m)...)
}
