package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/fault"
)

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type sessionResponse struct {
	User      userJSON `json:"user"`
	CSRFToken string   `json:"csrf_token"`
}

// login handles POST /session.
func (s *Server) login(c echo.Context) error {
	if err := sameOrigin(c); err != nil {
		return err
	}
	var body loginBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.Email == "" || body.Password == "" {
		return fault.Invalid("email", "email and password are required")
	}
	var previous string
	if ck, err := c.Cookie(sessionCookie); err == nil {
		previous = ck.Value
	}
	token, sess, u, err := auth.Login(c.Request().Context(), s.db, body.Email, body.Password, c.RealIP(), previous)
	if err != nil {
		return err
	}
	s.setSessionCookie(c, token, int(auth.SessionTTL.Seconds()))
	return c.JSON(http.StatusOK, sessionResponse{User: toUserJSON(u), CSRFToken: sess.CSRFToken})
}

// logout handles DELETE /session.
func (s *Server) logout(c echo.Context) error {
	p := currentPrincipal(c)
	if p.SessionToken != "" {
		if err := auth.EndSession(c.Request().Context(), s.db, p.SessionToken); err != nil {
			return err
		}
	}
	s.setSessionCookie(c, "", -1)
	return c.NoContent(http.StatusNoContent)
}

// sameOrigin refuses a cross-site login (login CSRF): a browser sends Origin
// on POST, and it must name this host.
func sameOrigin(c echo.Context) error {
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
