// Package web is Tiski's only HTTP layer: the echo server, its middleware,
// the JSON API handlers and the error mapping.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/units"
)

// Config holds the web layer's settings.
type Config struct {
	// TrustedProxies are the networks whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed; empty trusts nobody.
	TrustedProxies []*net.IPNet
	// BodyLimit caps request bodies, as echo's size strings ("1M"), except
	// attachment uploads.
	BodyLimit string
	// AttachmentLimit caps one uploaded file, in bytes.
	AttachmentLimit int64
	// RequestTimeout bounds the work of one request.
	RequestTimeout time.Duration
	// PasswordHash are the argon2id costs for passwords set through the API.
	PasswordHash auth.HashParams
	// AdjustmentApprovalLimitMinor is the largest manual adjustment, in minor
	// units, that posts without a second finance user's approval.
	AdjustmentApprovalLimitMinor int64
}

// DefaultConfig returns the settings `tiski serve` starts with.
func DefaultConfig() Config {
	return Config{BodyLimit: "1M", AttachmentLimit: DefaultAttachmentLimit, RequestTimeout: 30 * time.Second, PasswordHash: auth.DefaultHashParams,
		AdjustmentApprovalLimitMinor: 100000}
}

// Server serves the API over one database.
type Server struct {
	echo    *echo.Echo
	db      *db.DB
	authz   *policies.Authorizer
	org     *units.Organisation
	log     *slog.Logger
	cfg     Config
	metrics *metrics
	pages   pageSet
}

var errTimeout = errors.New("request timed out")

// New builds the server and its routes.
func New(d *db.DB, authz *policies.Authorizer, org *units.Organisation, log *slog.Logger, cfg Config) *Server {
	if cfg.AttachmentLimit <= 0 {
		cfg.AttachmentLimit = DefaultAttachmentLimit
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	pages, err := parsePages()
	if err != nil {
		// The templates are embedded in the binary: this is a build defect.
		panic(err)
	}
	s := &Server{echo: e, db: d, authz: authz, org: org, log: log, cfg: cfg, metrics: newMetrics(d), pages: pages}
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = s.clientIP
	e.Use(middleware.RequestID())
	e.Use(s.recoverPanics)
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
			(c.Path() == "/api/v1/requests/:id/attachments" || c.Path() == "/requests/:id/attachments")
	}
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: cfg.BodyLimit, Skipper: isUpload}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   strconv.FormatInt(cfg.AttachmentLimit+multipartOverhead, 10),
		Skipper: func(c echo.Context) bool { return !isUpload(c) },
	}))
	e.Use(middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{
		Timeout: cfg.RequestTimeout,
		ErrorHandler: func(err error, c echo.Context) error {
			if errors.Is(err, context.DeadlineExceeded) {
				return errTimeout
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

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("panic in handler", "panic", r, "path", c.Path(),
					"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
				err = echo.NewHTTPError(http.StatusInternalServerError)
			}
		}()
		return next(c)
	}
}

func (s *Server) accessLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogMethod: true, LogURIPath: true, LogStatus: true, LogLatency: true, LogRequestID: true,
		LogRemoteIP: true, LogRoutePath: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			s.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("method", v.Method), slog.String("path", v.URIPath), slog.String("route", v.RoutePath),
				slog.Int("status", v.Status), slog.Duration("latency", v.Latency),
				slog.String("request_id", v.RequestID), slog.String("client_ip", v.RemoteIP))
			return nil
		},
	})
}

// clientIP takes the client address from X-Forwarded-For only when the
// direct peer is a trusted proxy; otherwise it is the peer itself.
func (s *Server) clientIP(r *http.Request) string {
	if len(s.cfg.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()(r)
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range s.cfg.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)(r)
}

// viaTLS reports whether the client reached us over TLS, directly or through
// a trusted proxy that says so.
func (s *Server) viaTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if r.Header.Get("X-Forwarded-Proto") != "https" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	for _, n := range s.cfg.TrustedProxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}
