package web

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

const (
	sessionCookie = "tiski_session"
	csrfHeader    = "X-CSRF-Token"
	principalKey  = "tiski.principal"
)

// principal is the signed-in user behind a request.
type principal struct {
	User *units.User
	// CSRFToken is set for cookie sessions; empty for bearer tokens.
	CSRFToken    string
	SessionToken string
}

func currentPrincipal(c echo.Context) *principal {
	p, _ := c.Get(principalKey).(*principal)
	return p
}

func (p *principal) id() int64 { return p.User.ID }

// authenticate admits a request with a live API token (Authorization:
// Bearer) or session cookie, checks the CSRF token on cookie-authenticated
// unsafe requests, and brings the access rules up to date.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.admit(c); err != nil {
			return err
		}
		return next(c)
	}
}

// errSignIn is the answer to a request without valid credentials.
var errSignIn = fault.Unauthorized("sign in, or send an API token as Authorization: Bearer")

// admit identifies the caller, checks the CSRF token of a cookie session's
// unsafe request, brings the access rules up to date and records the
// principal on the context.
func (s *Server) admit(c echo.Context) error {
	p, err := s.identify(c)
	if err != nil {
		return err
	}
	if p == nil {
		return errSignIn
	}
	if p.CSRFToken != "" && !safeMethod(c.Request().Method) {
		sent := c.Request().Header.Get(csrfHeader)
		if sent == "" {
			sent = c.FormValue("csrf_token")
		}
		if subtle.ConstantTimeCompare([]byte(sent), []byte(p.CSRFToken)) != 1 {
			return &fault.Error{Kind: fault.KindForbidden, Code: "csrf_failed",
				Message: "missing or wrong CSRF token; send the token from GET /me as the X-CSRF-Token header"}
		}
	}
	if err := s.authz.Refresh(c.Request().Context()); err != nil {
		return err
	}
	c.Set(principalKey, p)
	return nil
}

// identify returns the principal of the request's credentials, nil if none
// are valid.
func (s *Server) identify(c echo.Context) (*principal, error) {
	ctx := c.Request().Context()
	if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return nil, nil
		}
		u, ok, err := auth.TokenUser(ctx, s.db, strings.TrimSpace(token))
		if err != nil || !ok {
			return nil, err
		}
		return &principal{User: u}, nil
	}
	cookie, err := c.Cookie(sessionCookie)
	if err != nil || cookie.Value == "" {
		return nil, nil
	}
	u, sess, ok, err := auth.SessionUser(ctx, s.db, cookie.Value)
	if err != nil || !ok {
		return nil, err
	}
	return &principal{User: u, CSRFToken: sess.CSRFToken, SessionToken: cookie.Value}, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// need guards a route with an organisation-wide permission.
func (s *Server) need(obj, act string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !s.authz.Can(currentPrincipal(c).id(), 0, obj, act) {
				return fault.Forbidden("your roles do not allow %s:%s", obj, act)
			}
			return next(c)
		}
	}
}

// allowed reports whether the caller may act on obj in unitID.
func (s *Server) allowed(c echo.Context, unitID int64, obj, act string) bool {
	return s.authz.Can(currentPrincipal(c).id(), unitID, obj, act)
}

func (s *Server) setSessionCookie(c echo.Context, token string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.viaTLS(c.Request()),
	})
}
