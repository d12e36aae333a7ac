package httpx

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

const (
	// SessionCookie carries the session token of a signed-in browser.
	SessionCookie = "tiski_session"
	csrfHeader    = "X-CSRF-Token"
	principalKey  = "tiski.principal"
)

// Principal is the signed-in user behind a request.
type Principal struct {
	User *units.User
	// CSRFToken is set for cookie sessions; empty for bearer tokens.
	CSRFToken    string
	SessionToken string
}

// CurrentPrincipal is the request's signed-in user, nil before Admit.
func CurrentPrincipal(c echo.Context) *Principal {
	p, _ := c.Get(principalKey).(*Principal)
	return p
}

// ID is the signed-in user's id.
func (p *Principal) ID() int64 { return p.User.ID }

// Authenticate admits a request with a live API token (Authorization:
// Bearer) or session cookie, checks the CSRF token on cookie-authenticated
// unsafe requests, and brings the access rules up to date.
func (k *Kit) Authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := k.Admit(c); err != nil {
			return err
		}
		return next(c)
	}
}

// ErrSignIn is the answer to a request without valid credentials.
var ErrSignIn = fault.Unauthorized("sign in, or send an API token as Authorization: Bearer")

// Admit identifies the caller, checks the CSRF token of a cookie session's
// unsafe request, brings the access rules up to date and records the
// principal on the context.
func (k *Kit) Admit(c echo.Context) error {
	p, err := k.Identify(c)
	if err != nil {
		return err
	}
	if p == nil {
		return ErrSignIn
	}
	// What a signed-in user is shown is theirs alone: no browser, proxy or
	// shared cache may keep it (a back button after sign-out, a kiosk).
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
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
	if err := k.Authz.Refresh(c.Request().Context()); err != nil {
		return err
	}
	c.Set(principalKey, p)
	return nil
}

// Recognize sets the principal of the request's credentials when they are
// valid, and asks nothing otherwise: for an answer that needs no sign-in
// but speaks the user's language (the portal's not-found page).
func (k *Kit) Recognize(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p, err := k.Identify(c); err == nil && p != nil {
			c.Set(principalKey, p)
		}
		return next(c)
	}
}

// Identify returns the principal of the request's credentials, nil if none
// are valid.
func (k *Kit) Identify(c echo.Context) (*Principal, error) {
	ctx := c.Request().Context()
	if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return nil, nil
		}
		u, ok, err := auth.TokenUser(ctx, k.DB, strings.TrimSpace(token))
		if err != nil || !ok {
			return nil, err
		}
		return &Principal{User: u}, nil
	}
	cookie, err := c.Cookie(SessionCookie)
	if err != nil || cookie.Value == "" {
		return nil, nil
	}
	u, sess, ok, err := auth.SessionUser(ctx, k.DB, cookie.Value)
	if err != nil || !ok {
		return nil, err
	}
	return &Principal{User: u, CSRFToken: sess.CSRFToken, SessionToken: cookie.Value}, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// Need guards a route with an organisation-wide permission.
func (k *Kit) Need(obj, act string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !k.Allowed(c, OrgWide, obj, act) {
				return fault.Forbidden("your roles do not allow %s:%s", obj, act)
			}
			return next(c)
		}
	}
}

// OrgWide is the unit id that asks Allowed about the whole organisation
// (finance, auditor, admin) rather than one unit.
const OrgWide int64 = 0

// Allowed reports whether the caller may act on obj in unitID, or
// organisation-wide for OrgWide.
func (k *Kit) Allowed(c echo.Context, unitID int64, obj, act string) bool {
	return k.Authz.Can(CurrentPrincipal(c).ID(), unitID, obj, act)
}

// SetSessionCookie sets (or, with a negative maxAge, clears) the session
// cookie, Secure whenever the client came over TLS, on an answer no cache
// keeps.
func (k *Kit) SetSessionCookie(c echo.Context, token string, maxAge int) {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store") // the answer carries a session
	c.SetCookie(&http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: k.ViaTLS(c.Request()),
	})
}

// ClientOf is what a sign-in records of the caller: its address (through
// trusted proxies only) and User-Agent.
func ClientOf(c echo.Context) auth.Client {
	return auth.Client{IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

// PreviousSession is the session token the browser still holds, which a new
// sign-in replaces.
func PreviousSession(c echo.Context) string {
	if ck, err := c.Cookie(SessionCookie); err == nil {
		return ck.Value
	}
	return ""
}

// SameOrigin refuses a cross-site login (login CSRF): a browser sends Origin
// on POST, and it must name this host.
func SameOrigin(c echo.Context) error {
	origin := c.Request().Header.Get(echo.HeaderOrigin)
	if origin == "" {
		return nil // not a browser, or a same-origin navigation that omits it
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host != c.Request().Host {
		return fault.Forbidden("cross-site sign-in refused")
	}
	return nil
}
