// Package web assembles Tiski's HTTP server: echo, its middleware, the
// operator endpoints, and the two rooms, the JSON API (web/api) and the
// portal (web/portal), which share the kit in web/httpx.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/api"
	"github.com/tiski/tiski/web/httpx"
	"github.com/tiski/tiski/web/portal"
)

// Config holds the web layer's settings.
type Config = httpx.Config

// DefaultAttachmentLimit is the largest file one upload may carry.
const DefaultAttachmentLimit = httpx.DefaultAttachmentLimit

// DefaultConfig returns the settings `tiski serve` starts with.
func DefaultConfig() Config {
	return Config{BodyLimit: "1M", AttachmentLimit: DefaultAttachmentLimit, RequestTimeout: 30 * time.Second, PasswordHash: auth.DefaultHashParams,
		AdjustmentApprovalLimitMinor: 100000}
}

// Timeouts bound how long one connection may hold the server: a client that
// sends its headers or body slowly (slow loris), reads the answer slowly, or
// idles between requests is cut off.
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// DefaultTimeouts leave a 10 MiB upload a minute to arrive and a streamed
// export five minutes to leave.
func DefaultTimeouts() Timeouts {
	return Timeouts{ReadHeader: 10 * time.Second, Read: time.Minute, Write: 5 * time.Minute, Idle: 2 * time.Minute}
}

// HTTPServer is an http.Server for h on addr with the timeouts t.
func HTTPServer(addr string, h http.Handler, t Timeouts) *http.Server {
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read,
		WriteTimeout: t.Write, IdleTimeout: t.Idle}
}

// Server serves the API and the portal over one database.
type Server struct {
	*httpx.Kit
	echo    *echo.Echo
	metrics *metrics
	api     *api.Handlers
	pages   *portal.Pages
	owners  map[string]errorAnswer // route path → the room that answers its errors
}

// New builds the server and its routes.
func New(d *db.DB, authz *policies.Authorizer, org *units.Organisation, log *slog.Logger, cfg Config) *Server {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	texts, err := i18n.New()
	if err != nil {
		// The message files are embedded in the binary: this is a build defect.
		panic(err)
	}
	pages, err := portal.New(d, authz, org, log, cfg, texts)
	if err != nil {
		// The templates are embedded in the binary: this is a build defect.
		panic(err)
	}
	s := &Server{Kit: httpx.NewKit(d, authz, org, log, cfg), echo: e, metrics: newMetrics(d),
		api: api.New(d, authz, org, log, cfg, texts), pages: pages}
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = s.ClientIP
	e.Use(middleware.RequestID())
	e.Use(httpx.Recover(log))
	e.Use(s.accessLog())
	e.Use(s.metrics.middleware)
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "same-origin",
		ContentSecurityPolicy: "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
		HSTSMaxAge:            31536000,
	}))
	// Uploads get their own, larger limit; every other body the general one.
	isUpload := func(c echo.Context) bool {
		return c.Request().Method == http.MethodPost &&
			(c.Path() == api.Base+"/requests/:id/attachments" || c.Path() == "/requests/:id/attachments")
	}
	// Raw e-mail from relays gets the message limit of mailin (twice it, so
	// an oversized message is still quarantined with its header).
	isInboundMail := func(c echo.Context) bool {
		return c.Request().Method == http.MethodPost && c.Path() == httpx.InboundMailPath
	}
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: cfg.BodyLimit,
		Skipper: func(c echo.Context) bool { return isUpload(c) || isInboundMail(c) }}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   strconv.FormatInt(s.Cfg.AttachmentLimit+httpx.MultipartOverhead, 10),
		Skipper: func(c echo.Context) bool { return !isUpload(c) },
	}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   strconv.FormatInt(s.Cfg.MailBodyLimit(), 10),
		Skipper: func(c echo.Context) bool { return !isInboundMail(c) },
	}))
	e.Use(middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{
		Timeout: cfg.RequestTimeout,
		ErrorHandler: func(err error, c echo.Context) error {
			if errors.Is(err, context.DeadlineExceeded) {
				return httpx.ErrTimeout
			}
			return err
		},
	}))
	s.routes()
	return s
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Routes lists method and path of every registered route.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

func (s *Server) accessLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogMethod: true, LogURIPath: true, LogStatus: true, LogLatency: true, LogRequestID: true,
		LogRemoteIP: true, LogRoutePath: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			s.Log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("method", v.Method), slog.String("path", v.URIPath), slog.String("route", v.RoutePath),
				slog.Int("status", v.Status), slog.Duration("latency", v.Latency),
				slog.String("request_id", v.RequestID), slog.String("client_ip", v.RemoteIP))
			return nil
		},
	})
}
